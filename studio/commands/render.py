"""`studio render SPEC --out TAKE_DIR`: render a song spec headless, with progress and an ETA on the terminal."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from studio.commands.running import TerminalReporter, add_running_arguments, drive, load_models
from studio.engine.atomic_files import DiskWriteError
from studio.engine.checkpoints import CheckpointError
from studio.engine.labels import LabelTablesNotFound
from studio.engine.spec import PRECISIONS, SongSpec, SpecError
from studio.engine.takes import TakeFolderError, check_new_take_folder


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="song spec, .toml or .json (every key but 'seconds' optional)")
    p.add_argument("--out", required=True, help="new take folder to write (absent or empty)")
    p.add_argument("--precision", choices=PRECISIONS,
                   help="the sampler's dtype, as the spec's 'precision' (default: the spec's, else auto: bf16 on GPUs, "
                        "int8 weights for wide priors on CPUs with native bf16, else fp32)")
    add_running_arguments(p)


def open_new_take(args):
    """The spec read, the folder checked, the models loaded and the take made: ``(take, models)``, or None after one
    message on stderr. `studio render` and its farm route (--ray) both start here."""
    from studio.engine.jobs import new_take

    try:
        spec = SongSpec.from_file(args.spec)
        if args.precision is not None:  # the command line over the spec file
            spec = replace(spec, precision=args.precision)
        check_new_take_folder(args.out)  # before the minutes a model takes to load
        models = load_models(spec.model, args.models_dir)
        take = new_take(spec, args.out, models)
    except (SpecError, CheckpointError, LabelTablesNotFound, TakeFolderError, DiskWriteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    print(f"take {take.record.id} in {take.path} (seed {take.record.seed})", file=sys.stderr)
    return take, models


def run(args) -> int:
    made = open_new_take(args)
    if made is None:
        return 2
    take, models = made
    return drive(take, models, TerminalReporter(quiet=args.quiet), args.no_compile)
