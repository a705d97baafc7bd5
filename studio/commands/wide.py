"""`studio wide TAKE [--candidate N] [--out DIR]`: a wide (pseudo-stereo) version of one candidate, headless."""

from __future__ import annotations

import argparse

from studio.commands.edit import free_folder, make_and_drive
from studio.commands.running import add_running_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("take", help="take folder whose candidate gets a wide version (its top level finished)")
    p.add_argument("--candidate", type=int, default=1, help="the candidate, counting from 1 (default: 1)")
    p.add_argument("--out", help="new take folder (default: TAKE-wide-cN beside the take; -2, -3... if taken)")
    add_running_arguments(p)


def run(args) -> int:
    from studio.engine.wide import wide_take

    return make_and_drive(args, args.take, lambda p: free_folder(p, f"wide-c{args.candidate}"),
                          lambda parent, models, out: wide_take(parent, args.candidate - 1, out, models),
                          lambda take: f"wide take {take.record.id} in {take.path} (left: candidate {args.candidate}, "
                                       f"right: a second upsampling of it)")
