"""The sampler off the GUI: a worker object in a long-lived QThread, relaying a sampler process's events as one signal.

The GUI talks to :class:`SamplerThread`. It sends requests (load a model set, start a job) to the sampler process
(:mod:`studio.workers.sampler_process`), which owns the networks and runs the engine. The :class:`SamplingWorker`
lives in a QThread that waits on the process's event queue and re-emits each event, in order, on its one ``event``
signal: a frozen dataclass of numpy arrays (the engine's events and :mod:`studio.workers.events`). The session is its
one subscriber, through a queued connection. Cancel is cooperative: a shared event the engine polls at every token,
so the take stays on disk, resumable.

Only the GUI thread changes which process runs: the relay thread reads the current :class:`Channel` (one attribute,
replaced whole) and never writes it. When the process dies (killed for memory, a crash in a native library) the relay
reports :class:`~studio.workers.events.SamplerStopped` with its pid; the next request starts a fresh process that
reloads the last model set. A process that :meth:`SamplerThread.shutdown` asked to quit is not reported: its exit is
the one expected. The process holds the read end of a lifeline pipe whose write end only this process holds, so it
ends with the studio however the studio ends (see :func:`studio.workers.sampler_process.die_with_parent`).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from dataclasses import dataclass
from typing import Any, Optional

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.workers.events import died
from studio.workers.sampler_process import JobRequest, serve

__all__ = ["Channel", "JobRequest", "SamplerThread", "SamplingWorker"]


@dataclass(frozen=True)
class Channel:
    """One sampler process and its two queues; replaced whole (never changed) when a fresh process starts."""

    process: Any  # multiprocessing Process
    commands: Any  # Queue of commands to the process
    events: Any  # Queue of events from it
    lifeline: Any  # the write end of the pipe whose end of file ends the process (never written)


class SamplingWorker(QObject):
    """Lives in the relay thread. ``event`` reaches the session through a queued connection."""

    event = Signal(object)  # every event of the sampler process, in order; see studio.workers.events

    def __init__(self, owner: "SamplerThread"):
        super().__init__()
        self.owner = owner
        self.stopping = threading.Event()

    @Slot()
    def pump(self) -> None:
        """Relay events until asked to stop; report once a process that died without saying goodbye."""
        reported = None  # the dead process already reported
        while not self.stopping.is_set():
            channel = self.owner.channel
            if channel is None:
                self.stopping.wait(0.05)
                continue
            try:
                event = channel.events.get(timeout=0.1)
            except queue.Empty:
                process = channel.process
                if process is not reported and not self.owner.quitting and not self.owner.alive(process):
                    reported = process
                    self.event.emit(died(process.pid, process.exitcode))
                continue
            except (EOFError, OSError):
                continue
            self.event.emit(event)


class SamplerThread(QObject):
    """Owns the sampler process, the relay thread and its worker; the GUI's handle on all three.

    Every method runs on the GUI thread. Call :meth:`shutdown` before exit.
    """

    def __init__(self, parent=None, progress_interval: float = 0.05, preview_interval: float = 1.0):
        super().__init__(parent)
        self.progress_interval, self.preview_interval = progress_interval, preview_interval
        self.ctx = mp.get_context("spawn")  # never fork a process that runs Qt and torch threads
        self.cancel_event = self.ctx.Event()
        self.channel: Optional[Channel] = None
        self._reaping = threading.Lock()  # see alive()
        self.quitting = False  # shutdown() asked the process to quit: its exit is expected, not reported
        self.model_source = None  # what the process should load again after a restart
        self.thread = QThread()
        self.thread.setObjectName("sampler-relay")
        self.worker = SamplingWorker(self)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.pump)
        self.thread.start()

    @property
    def pid(self) -> Optional[int]:
        """The running sampler process's id (None before the first request)."""
        return self.channel.process.pid if self.channel is not None else None

    def alive(self, process) -> bool:
        """``process.is_alive()`` for both threads, one at a time: it reaps the process, and of two threads asking at
        once the one that did not reap it would read a dead process as alive."""
        with self._reaping:
            return process.is_alive()

    def _ensure_process(self) -> bool:
        """Start the sampler process if none runs; True when it was (re)started now."""
        if self.channel is not None and self.alive(self.channel.process):
            return False
        if self.channel is not None:
            self.channel.lifeline.close()
        commands, events = self.ctx.Queue(), self.ctx.Queue()
        reader, lifeline = self.ctx.Pipe(duplex=False)
        process = self.ctx.Process(target=serve, name="jukebox-sampler", daemon=True,
                                   args=(commands, events, self.cancel_event, reader, self.progress_interval,
                                         self.preview_interval))
        process.start()
        reader.close()  # the process has its own copy; the write end stays here alone
        self.channel = Channel(process, commands, events, lifeline)
        return True

    def load_models(self, source) -> None:
        """A model name, a folder, or an unloaded ModelSet (tests); the answer comes as ModelsReady / ModelsFailed."""
        self.model_source = source
        self._ensure_process()
        self.channel.commands.put(("load", source, False))

    def start(self, request: JobRequest) -> None:
        """Run ``request`` once the process is free; a dead process is replaced first (and reloads, quietly)."""
        self.cancel_event.clear()  # here, not in the process: a Cancel pressed before the job starts counts
        self._send(("job", request))

    def check_farm(self, address: str) -> None:
        """Ask the process to join the Ray cluster at ``address``; the answer comes as a FarmChecked event (after the
        running job, if any: the process does one thing at a time)."""
        self._send(("farm_check", address))

    def _send(self, command: tuple) -> None:
        """Put ``command`` to the process; a dead process is replaced first (and reloads the model, quietly)."""
        if self._ensure_process() and self.model_source is not None:
            self.channel.commands.put(("load", self.model_source, True))
        self.channel.commands.put(command)

    def label_map(self) -> None:
        """Ask the process for the loaded model's artist and genre map (a LabelMap event, after the running job)."""
        self._send(("label_map",))

    def cancel(self) -> None:
        """Ask the running job to stop at its next token; the take stays on disk, resumable."""
        self.cancel_event.set()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel, stop the process and the relay thread and wait for both; True when they stopped in time."""
        self.quitting = True
        self.cancel()
        stopped = True
        channel = self.channel
        if channel is not None:
            try:
                channel.commands.put(("quit",))
            except (OSError, ValueError):
                pass
            channel.process.join(timeout_ms / 1000.0)  # the relay drains its events meanwhile, so it can exit
            if self.alive(channel.process):
                channel.process.terminate()
                channel.process.join(5)
                stopped = False
        self.worker.stopping.set()
        self.thread.quit()
        stopped = self.thread.wait(timeout_ms) and stopped
        self.channel = None
        if channel is not None:
            channel.lifeline.close()
            for q in (channel.commands, channel.events):
                q.close()
                q.join_thread()
        return stopped
