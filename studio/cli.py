"""The `studio` command: one entry point that only dispatches to a sub-command's module.

Every sub-command lives in its own module, which exposes ``add_arguments(parser)`` and ``run(args) -> int``: the
headless runs in ``studio.commands``, the rest in their subsystem (``studio.modelstore.cli``, ``studio.data.cli``,
``studio.train.cli``). With no sub-command the desktop studio opens.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help). Modules are imported lazily so `studio render` never imports Qt. A module holding
# several commands is named "module:role" and exposes add_<role>_arguments(parser) and run_<role>(args).
COMMANDS: dict[str, tuple[str, str]] = {
    "gui": ("studio.ui.app", "open the desktop studio (the default)"),
    "render": ("studio.commands.render", "render a song spec (TOML or JSON) into a take folder, headless"),
    "resume": ("studio.commands.resume", "finish a take that was cancelled or interrupted"),
    "models": ("studio.modelstore.cli", "list, verify and download model folders"),
    "data": ("studio.data.cli", "build the openly licensed demo training set"),
    "train": ("studio.train.cli", "train or fine-tune the VQ-VAE and the priors"),
    "regenerate": ("studio.commands.edit:regenerate", "a new take: a take kept up to a time, the rest sampled anew"),
    "join": ("studio.commands.edit:join", "a new take: one take up to a seam, then another, heard as one take"),
    "wide": ("studio.commands.wide", "a new take: a take's candidate upsampled twice, left and right (pseudo-stereo)"),
    "bench": ("studio.commands.bench", "time the sampler on this machine"),
    "batch": ("studio.commands.batch", "render many song specs (JSON Lines), here or on a Ray cluster (--ray)"),
    "farm": ("studio.commands.farm", "the Ray render farm: 'studio farm status' shows its workers and GPUs"),
}
# Commands that also run on a Ray cluster when given --ray: name -> (module, function). Without --ray they run as
# above and never import Ray.
FARM_ROUTES: dict[str, tuple[str, str]] = {"render": ("studio.commands.batch", "render_on_farm")}


def _build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio", description="Jukebox Studio")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=help_text, add_help=False)
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        module_name, _, role = module_name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:  # a subsystem whose optional dependency is missing
            p.set_defaults(_missing=f"'studio {name}' is unavailable: {exc}")
            continue
        getattr(module, f"add_{role}_arguments" if role else "add_arguments")(p)
        p.set_defaults(_run=getattr(module, f"run_{role}" if role else "run"))
        if name in FARM_ROUTES:
            from studio.commands.batch import add_farm_arguments

            add_farm_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["gui", *argv]
    only = argv[0] if argv and argv[0] in COMMANDS else None
    parser = _build_parser(only)
    args = parser.parse_args(argv)
    if getattr(args, "_missing", None):
        print(args._missing, file=sys.stderr)
        return 2
    run = getattr(args, "_run", None)
    if args.command in FARM_ROUTES and getattr(args, "ray", None) is not None:
        module_name, function = FARM_ROUTES[args.command]
        run = getattr(importlib.import_module(module_name), function)
    if run is None:
        parser.print_help()
        return 2
    return int(run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
