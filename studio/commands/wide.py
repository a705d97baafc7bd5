"""`studio wide TAKE [--candidate N] [--out DIR]`: a wide (pseudo-stereo) version of one candidate, headless."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.commands.running import TerminalReporter, add_running_arguments, drive, load_models
from studio.engine.atomic_files import DiskWriteError
from studio.engine.checkpoints import CheckpointError
from studio.engine.takes import Take, TakeFolderError, check_new_take_folder


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("take", help="take folder whose candidate gets a wide version (its top level finished)")
    p.add_argument("--candidate", type=int, default=1, help="the candidate, counting from 1 (default: 1)")
    p.add_argument("--out", help="new take folder (default: TAKE-wide-cN beside the take)")
    add_running_arguments(p)


def run(args) -> int:
    from studio.engine.wide import wide_take

    try:
        parent = Take.load(args.take)
        out = Path(args.out or parent.path.with_name(f"{parent.path.name}-wide-c{args.candidate}"))
        check_new_take_folder(out)  # before the minutes a model takes to load
        models = load_models(parent.spec.model, args.models_dir)
        take = wide_take(parent, args.candidate - 1, out, models)
    except (FileNotFoundError, ValueError, CheckpointError, TakeFolderError, DiskWriteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wide take {take.record.id} in {take.path} (left: candidate {args.candidate}, right: a second "
          f"upsampling of it)", file=sys.stderr)
    return drive(take, models, TerminalReporter(quiet=args.quiet), args.no_compile)
