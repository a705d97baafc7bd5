"""`studio regenerate` and `studio join`: edit takes at the code level, headless, then render the new take.

    studio regenerate TAKE --at SECONDS [--candidate N] [--count N] [--levels top|all] [--out DIR]
    studio join TAKE_A TAKE_B --at SECONDS [--from SECONDS] [--candidate N] [--other-candidate N] [--out DIR]

Candidates are numbered from 1, as the studio shows them. Bad input is one line on stderr and exit status 2, before
any folder is made; the run then reports like `studio render`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.commands.running import TerminalReporter, add_running_arguments, drive, load_models
from studio.engine.atomic_files import DiskWriteError
from studio.engine.checkpoints import CheckpointError
from studio.engine.labels import LabelTablesNotFound
from studio.engine.spec import SpecError
from studio.engine.takes import TakeFolderError, check_new_take_folder


def add_regenerate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("take", help="the take folder to regenerate from")
    p.add_argument("--at", type=float, required=True, help="keep the take up to here (seconds); sample the rest")
    p.add_argument("--candidate", type=int, default=1, help="the take's candidate to keep (from 1; default 1)")
    p.add_argument("--count", type=int, help="candidates to sample (default: as many as the take's spec)")
    p.add_argument("--levels", choices=("top", "all"), default="top",
                   help="sample only the top level after the point (default), or every level")
    p.add_argument("--out", help="new take folder (default: beside TAKE, named after it)")
    add_running_arguments(p)


def add_join_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("first", help="the take that plays first")
    p.add_argument("second", help="the take that comes in at the seam (it may be the same take)")
    p.add_argument("--at", type=float, required=True, help="the seam: where the first take ends (seconds)")
    p.add_argument("--from", dest="from_seconds", type=float,
                   help="the time in the second take that follows the seam (default: the same as --at)")
    p.add_argument("--candidate", type=int, default=1, help="the first take's candidate (from 1; default 1)")
    p.add_argument("--other-candidate", type=int, default=1, help="the second take's candidate (from 1; default 1)")
    p.add_argument("--out", help="new take folder (default: beside the first take, named after it)")
    add_running_arguments(p)


def run_regenerate(args) -> int:
    from studio.engine.take_edits import regenerate_take

    return make_and_drive(args, args.take, lambda p: free_folder(p, "regenerated"),
                          lambda parent, models, out: regenerate_take(parent, args.at, out, models,
                                                                      [args.candidate - 1], count=args.count,
                                                                      levels=args.levels))


def run_join(args) -> int:
    from studio.engine.take_edits import join_takes
    from studio.engine.takes import Take

    def make(first, models, out):
        at = args.at if args.from_seconds is None else args.from_seconds
        return join_takes(first, args.candidate - 1, args.at, Take.load(args.second), args.other_candidate - 1, at,
                          out, models)
    return make_and_drive(args, args.first, lambda p: free_folder(p, "joined"), make)


def make_and_drive(args, parent_dir: str, default_out, make, announce=None) -> int:
    """Load the parent take, check the new folder (``args.out``, or ``default_out(parent folder)``), load its model,
    ``make(parent, models, out)`` the new take, say so (``announce(take)``, or its id, folder and seed) and run it to
    the end; the exit status (2 with one line for bad input, before any folder is made)."""
    from studio.engine.takes import Take

    try:
        parent = Take.load(parent_dir)
        out = Path(args.out) if args.out else default_out(parent.path)
        check_new_take_folder(out)  # before the minutes a model takes to load
        models = load_models(parent.spec.model, args.models_dir)
        take = make(parent, models, out)
    except (FileNotFoundError, ValueError, SpecError, CheckpointError, LabelTablesNotFound, TakeFolderError,
            DiskWriteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(announce(take) if announce else f"take {take.record.id} in {take.path} (seed {take.record.seed})",
          file=sys.stderr)
    return drive(take, models, TerminalReporter(quiet=args.quiet), args.no_compile)


def free_folder(beside: Path, suffix: str) -> Path:
    """``<take>-<suffix>``, or with ``-2``, ``-3``... where that is taken."""
    n, folder = 1, beside.with_name(f"{beside.name}-{suffix}")
    while folder.exists():
        n += 1
        folder = beside.with_name(f"{beside.name}-{suffix}-{n}")
    return folder
