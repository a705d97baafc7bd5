"""The sampler off the GUI thread: one long-lived QThread and one worker object that steps through the engine's events.

The GUI talks to :class:`SamplerThread`; it queues requests (load a model set, start a job) to the
:class:`SamplingWorker` living in the thread, and the worker forwards every engine event as a signal carrying a
frozen dataclass of numpy copies. Cancel is cooperative: a ``threading.Event`` the engine polls at every token.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

# Imported here, not inside a job: importing a module holds the GIL while it compiles, which would stall the GUI.
from studio.engine.cascade import decode_codes, run_take
from studio.engine.events import AlignmentReady, JobDone, JobPlanned, LevelDone, Progress, Warning_, WindowDone
from studio.engine.jobs import continue_take, new_take, upsample_take
from studio.engine.modelset import ModelSet
from studio.engine.spec import SongSpec
from studio.engine.takes import Take
from studio.workers.model_info import describe


# The GUI thread re-takes the GIL on every return from Qt into Python (dozens of times per repaint) and each time
# may wait up to this long for the sampler thread to let go of it; 0.25 ms keeps a repaint's total wait small.
SWITCH_INTERVAL = float(os.environ.get("STUDIO_GIL_SWITCH_S", "0.00025"))


@dataclass(frozen=True)
class JobRequest:
    """One job for the worker.

    Attributes:
        kind: "generate" (spec -> new take), "continue", "upsample" (of ``parent``), or "resume" (``folder``).
        folder: the take folder to create, or to resume.
        spec: SongSpec fields (generate).
        parent: the parent take folder (continue, upsample).
        seconds: new total length (continue).
        candidates: the parent's candidates to continue or upsample (None: all).
        range_seconds: (start, end) to upsample only that range, or None.
    """

    kind: str
    folder: str
    spec: Optional[dict] = None
    parent: Optional[str] = None
    seconds: Optional[float] = None
    candidates: Optional[tuple] = None
    range_seconds: Optional[tuple] = None


@dataclass(frozen=True)
class PreviewAudio:
    """Audio decoded from the codes sampled so far, so new windows can be heard before the level finishes."""

    take_dir: str
    level: int
    audio: np.ndarray  # (N, samples) float32, silent where no codes exist yet
    sr: int
    upto: float  # seconds of the song sampled so far at this level


class SamplingWorker(QObject):
    """Lives in the sampler thread. Slots run there; signals reach the GUI through queued connections."""

    models_ready = Signal(object)  # ModelInfo
    models_failed = Signal(str)
    take_created = Signal(str, str)  # take folder, kind
    job_failed = Signal(str)  # the job could not start (bad spec, missing parent...); no take was run
    planned = Signal(object)  # JobPlanned
    progress = Signal(object)  # Progress (at most every progress_interval seconds per window, and its last step)
    window_done = Signal(object)  # WindowDone
    level_done = Signal(object)  # LevelDone
    alignment_ready = Signal(object)  # AlignmentReady
    warning = Signal(str)
    preview = Signal(object)  # PreviewAudio
    job_finished = Signal(object)  # JobDone
    busy_changed = Signal(bool)

    def __init__(self, progress_interval: float = 0.05, preview_interval: float = 1.0):
        super().__init__()
        self.models = None
        self.info = None
        self.cancel_event = threading.Event()
        self.progress_interval = progress_interval
        self.preview_interval = preview_interval

    # -- models -------------------------------------------------------------------------------------------------
    @Slot(object)
    def load_models(self, source) -> None:
        """``source``: a model name ("demo"), a folder path, or a ModelSet already built (tests)."""
        self.busy_changed.emit(True)
        try:
            if isinstance(source, ModelSet):
                models, label = source, source.name
            elif Path(str(source)).is_dir():
                models, label = ModelSet.from_folder(source), str(source)
            else:
                models, label = ModelSet.named(str(source)), str(source)
            info = describe(models, label)
            _ = models.vqvae  # load every network now: unpickling holds the GIL, so never in the middle of a job
            for level in range(models.levels):
                models.prior(level)
            _warm_imports()
        except Exception as exc:  # CheckpointError, label tables missing, damaged file: all shown to the user
            self.models_failed.emit(_model_message(source, exc))
        else:
            self.models, self.info = models, info
            self.models_ready.emit(info)
        finally:
            self.busy_changed.emit(False)

    # -- jobs ---------------------------------------------------------------------------------------------------
    @Slot(object)
    def run_job(self, request: JobRequest) -> None:
        self.busy_changed.emit(True)
        try:
            self._run(request)
        finally:
            self.busy_changed.emit(False)

    def _create(self, request: JobRequest):
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
        raise ValueError(f"unknown job kind {request.kind!r}")

    def _run(self, request: JobRequest) -> None:
        if self.models is None:
            self.job_failed.emit("No model is loaded: choose a model (Models > Choose model folder...) first.")
            return
        try:
            take = self._create(request)
        except Exception as exc:  # SpecError, AudioLoadError, FileExistsError...: one message, nothing lost
            self.job_failed.emit(f"Could not start the {request.kind}: {exc}")
            return
        self.take_created.emit(str(take.path), request.kind)
        last_progress: dict = {}
        last_preview = {"t": time.monotonic(), "cost": 0.0}
        for event in run_take(take, self.models, cancel=self.cancel_event.is_set):
            if isinstance(event, Progress):
                key = (event.level, event.window)
                now = time.monotonic()
                if event.step < event.n_steps and now - last_progress.get(key, 0.0) < self.progress_interval:
                    continue
                last_progress[key] = now
                self.progress.emit(event)
            elif isinstance(event, JobPlanned):
                self.planned.emit(event)
            elif isinstance(event, WindowDone):
                self.window_done.emit(event)
                self._maybe_preview(take, event, last_preview)
            elif isinstance(event, LevelDone):
                self.level_done.emit(event)
            elif isinstance(event, AlignmentReady):
                self.alignment_ready.emit(event)
            elif isinstance(event, Warning_):
                self.warning.emit(event.message)
            elif isinstance(event, JobDone):
                self.job_finished.emit(event)

    def _maybe_preview(self, take, event: WindowDone, last: dict) -> None:
        """Decode the level's codes so far, at most every ``preview_interval`` s (and never more than 10% of time)."""
        now = time.monotonic()
        if event.window + 1 >= event.n_windows:
            return  # LevelDone brings the whole level's audio next
        if now - last["t"] < max(self.preview_interval, 10 * last["cost"]):
            return
        audio = decode_codes(self.models, event.codes, event.level)
        upto = event.end * self.models.hop_lengths[event.level] / self.models.sr
        last["cost"] = time.monotonic() - now
        last["t"] = time.monotonic()
        self.preview.emit(PreviewAudio(str(take.path), event.level, audio, int(self.models.sr), float(upto)))


# Modules the engine imports lazily inside a job. Importing (compiling) a module holds the GIL for its whole length,
# which would freeze the interface for a moment mid-job, so the worker imports them while the model loads instead.
LAZY_ENGINE_IMPORTS = ("studio.engine.priming", "studio.engine.alignment", "studio.engine.static_step",
                       "studio.modelstore.hardware", "studio.audio.io", "soundfile", "safetensors.torch")


def _warm_imports() -> None:
    import importlib

    for name in LAZY_ENGINE_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional piece this build lacks: the engine reports it when it needs it
            continue


def _model_message(source, exc: Exception) -> str:
    name = getattr(source, "name", source)
    text = str(exc).strip() or type(exc).__name__
    if str(name) == "demo" and "not found" in text:
        return ("The bundled demo model is not installed yet (models/demo is empty). Choose a model folder "
                "(Models > Choose model folder...) holding vqvae and prior_level_0/1/2 files, or download one "
                "with 'studio models download'.")
    return f"Could not load the model {name!r}: {text}"


class SamplerThread(QObject):
    """Owns the sampler thread and its worker; the GUI's handle on both. Call :meth:`shutdown` before exit."""

    _load = Signal(object)
    _job = Signal(object)

    def __init__(self, parent=None, progress_interval: float = 0.05, preview_interval: float = 1.0):
        super().__init__(parent)
        # Hand the GIL over more often than Python's default 5 ms, so the GUI thread waits little while sampling.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self.thread = QThread()
        self.thread.setObjectName("sampler")
        self.worker = SamplingWorker(progress_interval, preview_interval)
        self.worker.moveToThread(self.thread)
        self._load.connect(self.worker.load_models)
        self._job.connect(self.worker.run_job)
        self.busy = False
        self.worker.busy_changed.connect(self._set_busy)
        self.thread.start()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy

    def load_models(self, source) -> None:
        self._load.emit(source)

    def start(self, request: JobRequest) -> None:
        self.worker.cancel_event.clear()  # here, not in the thread: a Cancel pressed before the job starts counts
        self.busy = True
        self._job.emit(request)

    def cancel(self) -> None:
        """Ask the running job to stop at its next token; the take stays on disk, resumable."""
        self.worker.cancel_event.set()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel, stop the thread and wait for it; True when it stopped in time."""
        self.cancel()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
