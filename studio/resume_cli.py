"""`studio resume TAKE_DIR`: finish a take that was cancelled, crashed or failed, from its last window."""

from __future__ import annotations

import argparse
import sys

from .engine.checkpoints import CheckpointError
from .engine.spec import SpecError
from .render_cli import TerminalReporter, add_compile_argument, drive, load_models


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("take", help="take folder written by 'studio render' or the studio")
    p.add_argument("--models-dir", help="folder holding model folders")
    p.add_argument("--quiet", action="store_true")
    add_compile_argument(p)


def run(args) -> int:
    from .engine.takes import Take

    try:
        take = Take.load(args.take)
        if take.finished:
            print(f"{take.path} is already finished.")
            return 0
        models = load_models(take.spec.model, args.models_dir)
    except (FileNotFoundError, ValueError, SpecError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return drive(take, models, TerminalReporter(quiet=args.quiet), args.no_compile)
