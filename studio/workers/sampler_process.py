"""The sampler's own process: loads the model set once and runs jobs, sending every engine event back over a queue.

Sampling runs here, not in a thread of the GUI process, because a Python thread shares the interpreter lock with the
GUI thread: while the sampler steps a small model (thousands of tiny tensor ops a second) every repaint waits for
the lock at each return from Qt into Python, and a garbage collection in the sampler froze the window for up to
0.3 s. A process has its own interpreter, so the window's event loop never waits on sampling.

Protocol (all values picklable, no Qt here):
    commands -> ("load", source, quiet) | ("job", JobRequest) | ("farm_check", address) | ("label_map",) | ("quit",)
    events   <- one frozen event at a time, in the order it happened: the engine's (:mod:`studio.engine.events`)
                and the sampler's own (:mod:`studio.workers.events`).
Cancel is a shared event the engine polls at every token. The process dies with the studio: a thread blocks on the
read end of a pipe whose only write end the studio holds, and the read ends when the studio's process is gone, however
it ended (a quit, SIGTERM, SIGKILL, a crash), so no sampler outlives its window to finish a take nobody watches.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from studio.workers.events import (JobFailed, LabelMap, ModelsFailed, ModelsReady, PreviewAudio, TakeCreated,
                                   crashed)


@dataclass(frozen=True)
class JobRequest:
    """One job for the sampler.

    Attributes:
        kind: "generate" (spec -> new take), "continue", "upsample", "regenerate", "wide" (of ``parent``),
            "join" (``parent`` then ``other``), or "resume" (``folder``).
        folder: the take folder to create, or to resume.
        spec: SongSpec fields (generate).
        parent: the parent take folder (continue, upsample).
        seconds: new total length (continue).
        candidates: the parent's candidates to continue or upsample (None: all).
        range_seconds: (start, end) to upsample only that range, or None.
        at_seconds: regenerate: keep the parent up to here; join: where the parent ends and ``other`` comes in.
        other: join: the second take's folder.
        other_candidate: join: the second take's candidate.
        other_seconds: join: the time in ``other`` that follows ``at_seconds`` of the parent.
    """

    kind: str
    folder: str
    spec: Optional[dict] = None
    parent: Optional[str] = None
    seconds: Optional[float] = None
    candidates: Optional[tuple] = None
    range_seconds: Optional[tuple] = None
    at_seconds: Optional[float] = None
    other: Optional[str] = None
    other_candidate: Optional[int] = None
    other_seconds: Optional[float] = None
    compile: Optional[bool] = None  # compile the sampler's step where it pays (None: the default, on)
    farm: Optional[str] = None  # run on the Ray cluster at this address (docs/FARM.md); None: in this process


def model_message(source, exc: Exception) -> str:
    """One message for a model set that could not be loaded, naming the cause and the fix."""
    name = getattr(source, "name", source)
    text = str(exc).strip() or type(exc).__name__
    if str(name) == "demo" and "not found" in text:
        return ("The bundled demo model is not installed yet (models/demo is empty). Choose a model folder "
                "(Models > Choose model folder...) holding vqvae and prior_level_0/1/2 files, or download one "
                "with 'studio models download'.")
    return f"Could not load the model {name!r}: {text}"


class SamplerServer:
    """The child's state: the loaded model set, and how it turns one request into a stream of events."""

    def __init__(self, send, cancel, progress_interval: float, preview_interval: float):
        self.send, self.cancel = send, cancel
        self.progress_interval, self.preview_interval = progress_interval, preview_interval
        self.models = None
        self.warming = None  # the process compiling a finished job's steps in the background (warm_up.py)

    def load(self, source, quiet: bool = False) -> None:
        """``source``: a model name ("demo"), a folder path, or a ModelSet recipe (unloaded ModelSet, tests)."""
        from studio.engine.modelset import ModelSet
        from studio.workers.model_info import describe

        try:
            if isinstance(source, ModelSet):
                models, label = source, source.name
            elif Path(str(source)).is_dir():
                models, label = ModelSet.from_folder(source), str(source)
            else:
                models, label = ModelSet.named(str(source)), str(source)
            info = describe(models, label)
            for level in range(models.levels):  # every network now, so a job never waits on loading
                models.prior(level)
        except Exception as exc:  # CheckpointError, label tables missing, damaged file: all shown to the user
            self.models = None
            self.send(ModelsFailed(model_message(source, exc)))
        else:
            self.models = models
            if not quiet:
                self.send(ModelsReady(info))

    def run(self, request: JobRequest) -> None:
        from studio.engine import step_compile
        from studio.engine.cascade import run_take
        from studio.engine.events import JobDone, Progress, WindowDone

        if self.models is None:
            self.send(JobFailed("No model is loaded: choose a model (Models > Choose model folder...) first."))
            return
        if request.farm is not None:
            from studio.farm.cluster import FarmUnavailable
            from studio.workers.farm_link import join

            try:
                join(request.farm)  # before the take is made: a cluster that is not there makes nothing
            except FarmUnavailable as exc:
                self.send(JobFailed(f"Could not start the {request.kind} on the render farm: {exc} Or set "
                                    f"Generate > Run Jobs On... to this computer."))
                return
        try:
            take = self._create(request)
        except Exception as exc:  # SpecError, AudioLoadError, FileExistsError...: one message, nothing lost
            self.send(JobFailed(f"Could not start the {request.kind}: {exc}"))
            return
        self.send(TakeCreated(str(take.path), request.kind))
        last_progress: dict = {}
        last_preview = {"t": time.monotonic(), "cost": 0.0}
        step_compile.set_enabled(request.compile)
        if request.farm is None:
            events = run_take(take, self.models, cancel=self.cancel.is_set)
        else:
            from studio.workers.farm_link import farm_events

            events = farm_events(take, self.models, request.farm, self.cancel.is_set)
        for event in events:
            if isinstance(event, Progress):
                key = (event.level, event.window)
                now = time.monotonic()
                if event.step < event.n_steps and now - last_progress.get(key, 0.0) < self.progress_interval:
                    continue
                last_progress[key] = now
                self.send(event)
            elif isinstance(event, WindowDone):
                self.send(event)  # the window's own codes (N, end - start): a long level is not copied per window
                self._maybe_preview(take, event, last_preview)
            else:
                self.send(event)
                if isinstance(event, JobDone) and event.compile_deferred and request.farm is None \
                        and not step_compile.off_here():  # deferred levels: the step was wanted, compiling on
                    self._warm_later(take)

    def _warm_later(self, take) -> None:
        """Compile the steps the job ran uncompiled in a background process (``warm_up``), one at a time."""
        from studio.engine import warm_up

        if self.warming is not None and self.warming.poll() is None:
            return  # still warming an earlier job's steps: this job's are compiled after its next run
        try:
            self.warming = warm_up.start(self.models, take.spec, len(take.plan.candidates))
        except OSError:
            self.warming = None  # no process to spare: the next job decides again, as this one did

    def label_map(self) -> None:
        """Send the loaded model's artist and genre map (computed the first time, then read from the cache)."""
        from studio.engine.label_map import model_layouts

        if self.models is None:
            self.send(LabelMap("", message="No model is loaded: choose a model first, then open the map."))
            return
        try:
            artists, genres = model_layouts(self.models.prior(self.models.levels - 1))
        except (ValueError, LookupError, OSError) as exc:  # no label tables, no label embeddings: say which
            self.send(LabelMap(self.models.name, message=f"Model {self.models.name} has no artist and genre map: "
                                                         f"{exc}"))
            return
        self.send(LabelMap(self.models.name, artists, genres))

    def _create(self, request: JobRequest):
        from studio.engine.jobs import continue_take, new_take, upsample_take
        from studio.engine.spec import SongSpec
        from studio.engine.takes import Take

        if request.kind == "resume":
            return Take.load(request.folder)
        if request.kind == "generate":
            return new_take(SongSpec.from_dict(dict(request.spec)), request.folder, self.models)
        parent = Take.load(request.parent)
        cands = list(request.candidates) if request.candidates is not None else None
        if request.kind == "continue":
            return continue_take(parent, float(request.seconds), request.folder, self.models, candidates=cands)
        if request.kind == "upsample":
            if cands is None:
                cands = list(range(len(parent.plan.candidates)))
            return upsample_take(parent, request.folder, self.models, cands, request.range_seconds)
        if request.kind == "wide":
            from studio.engine.wide import wide_take

            return wide_take(parent, cands[0] if cands else 0, request.folder, self.models)
        if request.kind == "regenerate":
            from studio.engine.take_edits import regenerate_take

            return regenerate_take(parent, float(request.at_seconds), request.folder, self.models, cands or [0])
        if request.kind == "join":
            from studio.engine.take_edits import join_takes

            return join_takes(parent, cands[0] if cands else 0, float(request.at_seconds), Take.load(request.other),
                              int(request.other_candidate or 0), float(request.other_seconds), request.folder,
                              self.models)
        raise ValueError(f"unknown job kind {request.kind!r}")

    def _maybe_preview(self, take, event, last: dict) -> None:
        """Decode the level's codes so far, at most every ``preview_interval`` s (and never more than 10% of time)."""
        from studio.engine.cascade import decode_codes

        now = time.monotonic()
        if event.window + 1 >= event.n_windows:
            return  # LevelDone brings the whole level's audio next
        if now - last["t"] < max(self.preview_interval, 10 * last["cost"]):
            return
        if self.cancel.is_set():
            return  # Cancel pressed: the job stops at its next token, not after decoding a preview nobody will hear
        audio = decode_codes(self.models, take.codes(event.level), event.level)  # the level so far, on disk
        upto = event.end * self.models.hop_lengths[event.level] / self.models.sr
        last["cost"] = time.monotonic() - now
        last["t"] = time.monotonic()
        self.send(PreviewAudio(str(take.path), event.level, audio, int(self.models.sr), float(upto)))


def die_with_parent(lifeline) -> None:
    """Block until the studio's end of ``lifeline`` (a one-way Connection) is closed, then end this process at once."""
    try:
        while True:
            lifeline.recv_bytes()  # the studio never writes: this returns only at end of file
    except (EOFError, OSError):
        pass
    os._exit(0)  # noqa: SLF001 - mid-token: nothing to flush, every finished window is already on disk


def serve(commands, events, cancel, lifeline, progress_interval: float = 0.05, preview_interval: float = 1.0) -> None:
    """The child process's main loop: one command at a time until "quit" (or the parent's queue closes).

    ``lifeline``: the read end of a pipe only the studio writes to; its end of file ends this process.
    """
    threading.Thread(target=die_with_parent, args=(lifeline,), name="lifeline", daemon=True).start()
    if hasattr(os, "nice"):
        try:
            os.nice(4)  # the interface wins when both want the same core
        except OSError:
            pass
    server = SamplerServer(events.put, cancel, progress_interval, preview_interval)
    while True:
        try:
            command = commands.get()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if command[0] == "quit":
            return
        try:
            if command[0] == "load":
                server.load(command[1], quiet=bool(command[2]))
            elif command[0] == "job":
                server.run(command[1])
            elif command[0] == "label_map":
                server.label_map()
            elif command[0] == "farm_check":
                from studio.workers.farm_link import check

                events.put(check(command[1]))
        except Exception as exc:  # a bug or an out-of-memory the engine did not catch: report it, keep serving
            events.put(crashed(exc))
