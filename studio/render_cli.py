"""`studio render SPEC --out TAKE_DIR`: render a song spec headless, with progress and an ETA on the terminal."""

from __future__ import annotations

import argparse
import sys
import threading
import time

from .engine.checkpoints import CheckpointError
from .engine.events import (AlignmentReady, JobDone, JobPlanned, LevelDone, Preparing, Progress, Warning_,
                            WindowDone)
from .engine.labels import LabelTablesNotFound
from .engine.spec import SongSpec, SpecError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="song spec, .toml or .json (every key but 'seconds' optional)")
    p.add_argument("--out", required=True, help="new take folder to write")
    p.add_argument("--models-dir", help="folder holding model folders (default: $JUKEBOX_MODELS_DIR, models/)")
    p.add_argument("--quiet", action="store_true", help="print only warnings and the result")
    add_compile_argument(p)


def add_compile_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-compile", action="store_true",
                   help="never compile the sampler's step (it is compiled only where that pays; see README)")


def fmt_time(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):  # nan
        return "--:--"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class TerminalReporter:
    """Turns sampler events into one updating progress line plus messages."""

    def __init__(self, stream=None, quiet: bool = False):
        self.stream, self.quiet = stream or sys.stderr, quiet
        self.last = 0.0
        self.tty = self.stream.isatty()

    def __call__(self, ev) -> None:
        if isinstance(ev, Warning_):
            self._line(f"warning: {ev.message}", final=True)
        elif self.quiet:
            return
        elif isinstance(ev, JobPlanned):
            n = sum(len(w) for w in ev.windows.values())
            self._line(f"levels {', '.join(map(str, ev.levels))}: {n} windows, {ev.n_candidates} candidate(s), "
                       f"estimated {fmt_time(ev.eta)} on this machine", final=True)
        elif isinstance(ev, Progress):
            now = time.monotonic()
            if now - self.last < (0.2 if self.tty else 5.0) and ev.step != ev.n_steps:
                return
            self.last = now
            self._line(f"level {ev.level} window {ev.window + 1}/{ev.n_windows} step {ev.step}/{ev.n_steps} "
                       f"elapsed {fmt_time(ev.elapsed)} ETA {fmt_time(ev.eta)}")
        elif isinstance(ev, Preparing):
            self._line(ev.message, final=True)
        elif isinstance(ev, WindowDone):
            pass
        elif isinstance(ev, LevelDone):
            self._line(f"level {ev.level} done: {ev.audio.shape[1] / ev.sr:.1f} s of audio written", final=True)
        elif isinstance(ev, AlignmentReady):
            self._line("lyric alignment written", final=True)

    def _line(self, text: str, final: bool = False) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def drive(take, models, reporter, no_compile: bool = False) -> int:
    """Run the take's job to the end; Ctrl+C cancels cleanly (the take stays resumable)."""
    from .engine import step_compile
    from .engine.cascade import run_take

    if no_compile:
        step_compile.set_enabled(False)
    stop = threading.Event()
    result = None
    try:
        for ev in run_take(take, models, cancel=stop.is_set):
            reporter(ev)
            if isinstance(ev, JobDone):
                result = ev
    except KeyboardInterrupt:
        stop.set()
        print(f"\ninterrupted; resume with: studio resume {take.path}", file=sys.stderr)
        take.set_status("cancelled")
        return 130
    if result is None or result.cancelled:
        print(f"cancelled; resume with: studio resume {take.path}", file=sys.stderr)
        return 130
    if result.error:
        print(f"error: {result.error}\nThe take is kept at {take.path}; fix the cause and run "
              f"'studio resume {take.path}'.", file=sys.stderr)
        return 1
    print(f"done: {take.path}")
    return 0


def load_models(name: str, models_dir: str | None = None):
    import os

    from .engine.modelset import ModelSet

    if models_dir:
        os.environ["JUKEBOX_MODELS_DIR"] = models_dir
    return ModelSet.named(name)


def run(args) -> int:
    from .engine.jobs import new_take

    try:
        spec = SongSpec.from_file(args.spec)
        models = load_models(spec.model, args.models_dir)
        take = new_take(spec, args.out, models)
    except (SpecError, CheckpointError, LabelTablesNotFound, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"take {take.record.id} in {take.path} (seed {take.record.seed})", file=sys.stderr)
    return drive(take, models, TerminalReporter(quiet=args.quiet), args.no_compile)
