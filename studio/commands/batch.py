"""`studio batch SPECS.jsonl --out DIR [--ray [auto|ADDRESS]]`: many songs in one run, one progress display and a
summary at the end; and `studio render SPEC --out TAKE --ray ...`, one song on the farm.

Each line of SPECS.jsonl is one song spec (a JSON object, as `studio render` reads). Line n's take is DIR/NNN; running
the same batch again resumes what is unfinished and skips what is done. Without --ray the songs run here, one after
another; with it they run side by side on a Ray cluster (docs/FARM.md). Ctrl+C stops cleanly: every take resumes.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from studio.commands.running import TerminalReporter, add_running_arguments, load_models, report_end
from studio.engine.checkpoints import CheckpointError
from studio.engine.events import JobDone, JobPlanned, LevelDone, Warning_, WindowDone
from studio.engine.labels import LabelTablesNotFound
from studio.engine.spec import SongSpec, SpecError
from studio.engine.takes import TakeFolderError


def add_farm_arguments(p: argparse.ArgumentParser) -> None:
    """--ray and --workers: where a job runs when it runs on a Ray cluster."""
    p.add_argument("--ray", nargs="?", const="auto", metavar="auto|ADDRESS",
                   help="run on a Ray cluster: 'auto' (the default when given alone) joins this machine's cluster or "
                        "starts one here; ADDRESS is the head's host:port (see docs/FARM.md)")
    p.add_argument("--workers", type=int, help="with --ray: at most this many workers (default: one per GPU, or per "
                                               "CPU slot on a cluster without GPUs)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("specs", help="JSON Lines file: one song spec (a JSON object) per line")
    p.add_argument("--out", required=True, help="folder of the takes, one per line (001, 002, ...); run the same "
                                                "batch again to resume it")
    add_farm_arguments(p)
    add_running_arguments(p)


def read_specs(path: str) -> list[SongSpec]:
    """The specs of a JSON Lines file (blank lines skipped); SpecError naming the line at fault."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the batch ({getattr(exc, 'strerror', None) or exc}).") from None
    specs = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            specs.append(SongSpec.from_dict(json.loads(line)))
        except (ValueError, RecursionError) as exc:  # SpecError and json's errors are ValueErrors
            raise SpecError(f"{path}, line {n}: {exc}") from None
    if not specs:
        raise SpecError(f"{path}: the batch holds no spec (one JSON object per line).")
    models = sorted({s.model for s in specs})
    if len(models) > 1:
        raise SpecError(f"{path}: a batch runs one model, but its specs name {', '.join(models)}; split the batch.")
    return specs


def batch_takes(specs: list, out: Path, models) -> list:
    """The take of each spec: DIR/NNN, made new, or the take already there (to resume or skip when done)."""
    from studio.engine.jobs import new_take
    from studio.engine.takes import TAKE_FILE, Take

    takes = []
    for i, spec in enumerate(specs, 1):
        folder = out / f"{i:03d}"
        takes.append(Take.load(folder) if (folder / TAKE_FILE).is_file() else new_take(spec, folder, models))
    return takes


@contextmanager
def stop_on_ctrl_c():
    """A flag Ctrl+C sets (the job then stops cleanly at its next step); a second Ctrl+C interrupts at once."""
    stop = threading.Event()

    def first(signum, frame):
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    before = signal.signal(signal.SIGINT, first)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, before)


def events_of(takes: list, models, args, cancel):
    """``(take, event)`` of every take: on the farm with --ray, else here, one take after another."""
    if args.ray is not None:
        from studio.farm.job import run_on_farm

        yield from run_on_farm(takes, models, args.ray, args.workers, cancel)
        return
    from studio.engine.cascade import run_take

    for take in takes:
        if cancel():
            break
        for ev in run_take(take, models, cancel):
            yield take, ev


class BatchDisplay:
    """One progress line for the whole batch (windows written of all takes, takes done), warnings as they come."""

    def __init__(self, takes: list, stream=None, quiet: bool = False):
        self.names = {str(t.path): t.path.name for t in takes}
        self.windows = {}  # take -> windows planned
        self.written = {}  # take -> windows written
        self.ends: dict = {}  # take -> JobDone
        self.line = TerminalReporter(stream, quiet)
        self.last = 0.0

    def __call__(self, take, ev) -> None:
        key = str(take.path)
        if isinstance(ev, Warning_):
            self.line(Warning_(f"{self.names[key]}: {ev.message}"))
        elif isinstance(ev, JobPlanned):
            self.windows[key] = sum(len(w) for w in ev.windows.values())
            self.written[key] = 0
        elif isinstance(ev, WindowDone):
            self.written[key] = self.written.get(key, 0) + 1
        elif isinstance(ev, JobDone):
            self.ends[key] = ev
        if self.line.quiet or not isinstance(ev, (WindowDone, LevelDone, JobDone)):
            return
        now = time.monotonic()
        if now - self.last < (0.2 if self.line.tty else 5.0) and not isinstance(ev, JobDone):
            return
        self.last = now
        self.line.line(f"{len(self.ends)}/{len(self.names)} takes ended; windows "
                        f"{sum(self.written.values())}/{sum(self.windows.values())}")

    def summary(self, stream=None) -> int:
        """One line per take (its folder and how it ended); the exit status: 0 all done, 130 some stopped, 1 some
        failed."""
        stream = stream or sys.stdout
        stopped = failed = 0
        for key, name in self.names.items():
            end = self.ends.get(key)
            if end is None or end.cancelled:
                stopped += 1
                state = f"stopped; resume with: studio resume {key}"
            elif end.error:
                failed += 1
                state = f"failed: {end.error}"
            else:
                state = "done"
            print(f"{key}: {state}", file=stream)
        print(f"{len(self.names) - stopped - failed} done, {failed} failed, {stopped} stopped", file=stream)
        return 1 if failed else 130 if stopped else 0


def _farm_missing(args) -> bool:
    """With --ray and no Ray installed: say how to install it (before any take is made)."""
    if args.ray is None:
        return False
    from studio.farm.cluster import FarmUnavailable, require_ray

    try:
        require_ray()
    except FarmUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return True
    return False


def run(args) -> int:
    from studio.engine.takes import DamagedTake

    if _farm_missing(args):
        return 2
    try:
        specs = read_specs(args.specs)
        models = load_models(specs[0].model, args.models_dir)
        takes = batch_takes(specs, Path(args.out), models)
    except (SpecError, CheckpointError, LabelTablesNotFound, TakeFolderError, DamagedTake) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    display = BatchDisplay(takes, quiet=args.quiet)
    code = _run(takes, models, args, display)
    return code if code is not None else display.summary()


def render_on_farm(args) -> int:
    """`studio render SPEC --out TAKE --ray ...`: the take `studio render` makes, sampled on the farm."""
    from studio.commands.render import open_new_take

    if _farm_missing(args):
        return 2
    made = open_new_take(args)
    if made is None:
        return 2
    take, models = made
    reporter, ends = TerminalReporter(quiet=args.quiet), []

    def on_event(_take, ev) -> None:
        reporter(ev)
        if isinstance(ev, JobDone):
            ends.append(ev)

    code = _run([take], models, args, on_event)
    return code if code is not None else report_end(take, ends[-1] if ends else None)


def _run(takes, models, args, on_event):
    """Run the takes, handing each ``(take, event)`` to ``on_event``; an exit status if the farm is unavailable."""
    from studio.engine import step_compile
    from studio.farm.cluster import FarmUnavailable

    if args.no_compile:
        step_compile.set_enabled(False)
    with stop_on_ctrl_c() as stop:
        try:
            for take, ev in events_of(takes, models, args, stop.is_set):
                on_event(take, ev)
        except FarmUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return None
