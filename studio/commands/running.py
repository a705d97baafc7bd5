"""What every command that runs a take shares: its options, model lookup, the terminal progress line, and the loop
that drives the take to its end."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

from studio.engine.events import (AlignmentReady, JobDone, JobPlanned, LevelDone, Preparing, Progress, Warning_,
                                  WindowDone, clock_text)
from studio.engine.takes import TakeStatus


def add_running_arguments(p: argparse.ArgumentParser) -> None:
    """The options of a command that runs a take: where the models are, how much to print, whether to compile."""
    p.add_argument("--models-dir", help="folder holding model folders (looked in before "
                   "~/.local/share/jukebox-studio/models and the bundled models/; default: $JUKEBOX_MODELS_DIR)")
    p.add_argument("--quiet", action="store_true", help="print only warnings and the result")
    p.add_argument("--no-compile", action="store_true",
                   help="never compile the sampler's step (it is compiled only where that pays; see README)")


def load_models(name: str, models_dir: str | None = None):
    """The model set ``name`` (a name or a folder), looked up first in ``models_dir`` when given."""
    from studio.engine.modelset import ModelSet

    if models_dir:
        os.environ["JUKEBOX_MODELS_DIR"] = models_dir
    return ModelSet.named(name)


class TerminalReporter:
    """Turns sampler events into one updating progress line plus messages."""

    def __init__(self, stream=None, quiet: bool = False):
        self.stream, self.quiet = stream or sys.stderr, quiet
        self.last = 0.0
        self.tty = self.stream.isatty()

    def __call__(self, ev) -> None:
        if isinstance(ev, Warning_):
            self.line(f"warning: {ev.message}", final=True)
        elif self.quiet:
            return
        elif isinstance(ev, JobPlanned):
            n = sum(len(w) for w in ev.windows.values())
            self.line(f"levels {', '.join(map(str, ev.levels))}: {n} windows, {ev.n_candidates} candidate(s), "
                       f"estimated {clock_text(ev.eta)} on this machine", final=True)
        elif isinstance(ev, Progress):
            now = time.monotonic()
            if now - self.last < (0.2 if self.tty else 5.0) and ev.step != ev.n_steps:
                return
            self.last = now
            self.line(f"level {ev.level} window {ev.window + 1}/{ev.n_windows} step {ev.step}/{ev.n_steps} "
                       f"elapsed {clock_text(ev.elapsed)} ETA {clock_text(ev.eta)}")
        elif isinstance(ev, Preparing):
            self.line(ev.message, final=True)
        elif isinstance(ev, WindowDone):
            pass
        elif isinstance(ev, LevelDone):
            self.line(f"level {ev.level} done: {ev.audio.shape[1] / ev.sr:.1f} s of audio written", final=True)
        elif isinstance(ev, AlignmentReady):
            self.line("lyric alignment written", final=True)

    def line(self, text: str, final: bool = False) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def drive(take, models, reporter, no_compile: bool = False) -> int:
    """Run the take's job to the end; Ctrl+C cancels cleanly (the take stays resumable). Returns the exit status."""
    from studio.engine import step_compile
    from studio.engine.cascade import run_take

    if no_compile:
        step_compile.set_enabled(False)
    stop = threading.Event()
    result = None
    events = run_take(take, models, cancel=stop.is_set)
    try:
        for ev in events:
            reporter(ev)
            if isinstance(ev, JobDone):
                result = ev
    except KeyboardInterrupt:
        stop.set()
        events.close()  # ends the run: its lock on the take is released
        print(f"\ninterrupted; resume with: studio resume {take.path}", file=sys.stderr)
        try:
            take.set_status(TakeStatus.CANCELLED)
        except OSError:
            pass  # the record still says "running": it resumes all the same
        return 130
    return report_end(take, result)


def report_end(take, end) -> int:
    """The last words of a command that ran ``take`` to ``end`` (its JobDone, or None if it never came): how it ended
    and what to do next. Returns the exit status."""
    if end is None or end.cancelled:
        print(f"cancelled; resume with: studio resume {take.path}", file=sys.stderr)
        return 130
    if end.error:
        print(f"error: {end.error}\nThe take is kept at {take.path}; fix the cause and run "
              f"'studio resume {take.path}'.", file=sys.stderr)
        return 1
    print(f"done: {take.path}")
    if end.compile_deferred:
        levels = ", ".join(str(lv) for lv in end.compile_deferred)
        plural = "s" if len(end.compile_deferred) > 1 else ""
        print(f"note: level{plural} {levels} sampled with the uncompiled step: compiling it the first time would "
              f"have cost this render more than it saved. Run one render with JUKEBOX_COMPILE=always to compile it "
              f"(later renders of this model and candidate count then load it); the studio does this in the "
              f"background.",
              file=sys.stderr)
    return 0
