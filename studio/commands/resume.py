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
    from studio.engine.atomic_files import DiskWriteError
    from studio.engine.take_check import check_take, raise_lost
    from studio.engine.take_lock import TakeLocked, holder_of
    from studio.engine.takes import Take

    try:
        take = Take.load(args.take)
        holder = holder_of(take.path)
        if holder is not None:  # before the minutes a model takes to load
            raise TakeLocked(take.path, holder)
        models = load_models(take.spec.model, args.models_dir)
        faults = check_take(take, models)
        raise_lost(faults)  # what resuming cannot re-make, before anything is touched
        if take.finished and not faults:  # a "done" take with damaged files is repaired by the run
            print(f"{take.path} is already finished.")
            return 0
    except (FileNotFoundError, ValueError, SpecError, CheckpointError, TakeLocked, DiskWriteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return drive(take, models, TerminalReporter(quiet=args.quiet), args.no_compile)
