"""`studio resume TAKE_DIR`: finish a take that was cancelled, crashed or failed, from its last window."""

from __future__ import annotations

import argparse
import sys

from studio.commands.running import TerminalReporter, add_running_arguments, drive, load_models
from studio.engine.checkpoints import CheckpointError
from studio.engine.spec import SpecError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("take", help="take folder written by 'studio render' or the studio")
    add_running_arguments(p)


def run(args) -> int:
    from studio.engine.takes import Take

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
