"""The sampler off the GUI: a worker object in a long-lived QThread, relaying a sampler process's events as signals.

The GUI talks to :class:`SamplerThread`. It sends requests (load a model set, start a job) to the sampler process
(:mod:`studio.workers.sampler_process`), which owns the networks and runs the engine. The :class:`SamplingWorker`
lives in a QThread that waits on the process's event queue and re-emits each event as a signal carrying a frozen
dataclass of numpy arrays; receivers in the GUI thread get them through queued connections. Cancel is cooperative:
a shared event the engine polls at every token, so the take stays on disk, resumable.

If the process dies (killed for memory, a crash in a native library) the running job ends with a message saying so,
and the next request starts a fresh process that reloads the last model set.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from typing import Optional

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.engine.events import JobDone
from studio.workers.sampler_process import JobRequest, PreviewAudio, model_message, serve

__all__ = ["JobRequest", "PreviewAudio", "SamplerThread", "SamplingWorker", "model_message"]


class SamplingWorker(QObject):
    """Lives in the relay thread. Its signals reach the GUI through queued connections."""

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
    preparing = Signal(object)  # Preparing: the sampler compiles its step before a level starts
    preview = Signal(object)  # PreviewAudio
    job_finished = Signal(object)  # JobDone
    busy_changed = Signal(bool)

    def __init__(self, owner: "SamplerThread"):
        super().__init__()
        self.owner = owner
        self.stopping = threading.Event()

    @Slot()
    def pump(self) -> None:
        """Relay events until asked to stop; notice a process that died without saying goodbye."""
        while not self.stopping.is_set():
            events, process = self.owner.events, self.owner.process
            if events is None:
                self.stopping.wait(0.05)
                continue
            try:
                name, payload = events.get(timeout=0.1)
            except queue.Empty:
                if process is not None and not process.is_alive() and self.owner.process is process:
                    self._died(process)
                continue
            except (EOFError, OSError):
                continue
            self._relay(name, payload)

    def _relay(self, name: str, payload) -> None:
        owner = self.owner
        if name == "started":
            return
        if name == "take_created":
            owner.running_take = payload[0]
            self.take_created.emit(*payload)
        elif name == "job_finished":
            owner.running_take = None
            self.job_finished.emit(payload)
        elif name == "crashed":
            self._failed(f"The sampler stopped with an error ({payload}). The take is kept on disk: select it and "
                         f"press Resume to go on; if it happens again, lower the length or the candidates.")
        else:
            getattr(self, name).emit(payload)

    def _failed(self, text: str) -> None:
        owner = self.owner
        if owner.running_take:
            take, owner.running_take = owner.running_take, None
            self.job_finished.emit(JobDone(take, cancelled=False, error=text))
        elif owner.loading:
            self.models_failed.emit(text)
        else:
            self.job_failed.emit(text)

    def _died(self, process) -> None:
        code = process.exitcode
        self.owner.process_died()
        why = " (killed, most often for lack of memory)" if code is not None and code < 0 else ""
        self._failed(f"The sampler process stopped unexpectedly, exit code {code}{why}. Nothing you made is lost: "
                     f"takes are on disk and a stopped one resumes with Resume. The model is reloaded on the next job.")
        self.busy_changed.emit(False)


class SamplerThread(QObject):
    """Owns the sampler process, the relay thread and its worker; the GUI's handle on all three.

    Call :meth:`shutdown` before exit.
    """

    def __init__(self, parent=None, progress_interval: float = 0.05, preview_interval: float = 1.0):
        super().__init__(parent)
        self.progress_interval, self.preview_interval = progress_interval, preview_interval
        self.ctx = mp.get_context("spawn")  # never fork a process that runs Qt and torch threads
        self.cancel_event = self.ctx.Event()
        self.process = None
        self.commands = None
        self.events = None
        self.running_take: Optional[str] = None
        self.loading = False
        self.model_source = None  # what the process should load again after a restart
        self.thread = QThread()
        self.thread.setObjectName("sampler-relay")
        self.worker = SamplingWorker(self)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.pump)
        self.worker.models_ready.connect(self._loaded)
        self.worker.models_failed.connect(self._loaded)
        self.thread.start()

    def _loaded(self, *_args) -> None:
        self.loading = False

    def _ensure_process(self) -> bool:
        """Start the sampler process if none runs; True when it was (re)started now."""
        if self.process is not None and self.process.is_alive():
            return False
        self.commands, events = self.ctx.Queue(), self.ctx.Queue()
        self.process = self.ctx.Process(target=serve, name="jukebox-sampler", daemon=True,
                                        args=(self.commands, events, self.cancel_event,
                                              self.progress_interval, self.preview_interval))
        self.process.start()
        self.events = events
        return True

    def process_died(self) -> None:
        self.process, self.events, self.commands = None, None, None

    def load_models(self, source) -> None:
        """A model name, a folder, or an unloaded ModelSet (tests); the answer comes as models_ready/failed."""
        self.model_source = source
        self.loading = True
        self._ensure_process()
        self.commands.put(("load", source, False))

    def start(self, request: JobRequest) -> None:
        self.cancel_event.clear()  # here, not in the process: a Cancel pressed before the job starts counts
        if self._ensure_process() and self.model_source is not None:
            self.commands.put(("load", self.model_source, True))  # a restarted process reloads, quietly
        self.commands.put(("job", request))

    def cancel(self) -> None:
        """Ask the running job to stop at its next token; the take stays on disk, resumable."""
        self.cancel_event.set()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel, stop the process and the relay thread and wait for both; True when they stopped in time."""
        self.cancel()
        stopped = True
        process = self.process
        if process is not None:
            try:
                self.commands.put(("quit",))
            except (OSError, ValueError):
                pass
            process.join(timeout_ms / 1000.0)
            if process.is_alive():
                process.terminate()
                process.join(5)
                stopped = False
        self.worker.stopping.set()
        self.thread.quit()
        stopped = self.thread.wait(timeout_ms) and stopped
        for q in (self.commands, self.events):
            if q is not None:
                q.close()
                q.join_thread()
        self.process_died()
        return stopped
