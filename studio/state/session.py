"""The studio session: the glue between the sampler thread, the open project, the selected take and the player.

Widgets call its methods (generate, continue, upsample, resume, cancel, pick a candidate) and bind to its signals; it
never blocks the GUI thread on sampling. Every user-caused problem comes back as one ``error`` message.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, QSettings, Signal

from studio.engine.events import JobDone
from studio.state.job_queue import JobQueue, PendingJob
from studio.state.playback import Playback
from studio.state.project import ProjectError
from studio.state.project_state import ProjectState
from studio.state.take_data import TakeData, load_take_data
from studio.workers.sampling_worker import JobRequest, SamplerThread


class StudioSession(QObject):
    model_ready = Signal(object)  # ModelInfo
    model_failed = Signal(str)
    take_loaded = Signal(object)  # TakeData of the selected take (or None)
    candidate_changed = Signal(int)
    job_started = Signal(str, str)  # kind, take folder
    job_ended = Signal(object)  # JobDone
    busy_changed = Signal(bool)
    queue_changed = Signal(list)  # labels of the jobs waiting, first to start first
    queue_finished = Signal(str)  # the last job of a run (queue now empty) ended: a summary for a notification
    error = Signal(str)  # one message naming the cause and the fix
    message = Signal(str)  # status-bar information

    def __init__(self, settings: QSettings, playback: Optional[Playback] = None, parent=None,
                 progress_interval: float = 0.05, preview_interval: float = 1.0, autosave_ms: int = 30000):
        super().__init__(parent)
        self.settings = settings
        self.sampler = SamplerThread(self, progress_interval, preview_interval)
        self.worker = self.sampler.worker
        self.project = ProjectState(settings, autosave_ms, self)
        self.playback = playback if playback is not None else Playback(parent=self)
        self.info = None
        self.model_source: Optional[str] = None
        self.take: Optional[TakeData] = None
        self.candidate = 0
        self.running_take = ""
        self.running_kind = ""
        self.busy = False
        self.queue = JobQueue()
        self._run_results: list[str] = []  # how each job of the current run ended, for the notification
        self.project.busy_take = lambda: self.running_take
        self.project.model_provider = lambda: self.info.source if self.info is not None else None
        self.project.current_changed.connect(self._current_changed)
        self.project.project_changed.connect(lambda _folder: self.clear_queue())  # queued jobs were for the old one
        self.project.candidate_chosen.connect(self._chosen_elsewhere)
        w = self.worker
        w.models_ready.connect(self._models_ready)
        w.models_failed.connect(self._models_failed)
        w.take_created.connect(self._take_created)
        w.job_failed.connect(self._job_failed)
        w.job_finished.connect(self._job_finished)
        w.level_done.connect(self._level_done)
        w.preview.connect(self._preview)
        w.warning.connect(self.message)

    # -- models -----------------------------------------------------------------------------------------------------
    def load_model(self, source) -> None:
        """A model name, a folder, or a ModelSet object (tests); the answer comes as model_ready / model_failed."""
        self.model_source = source if isinstance(source, str) else getattr(source, "name", "custom")
        self.message.emit(f"Loading model {self.model_source}...")
        self.sampler.load_models(source)

    def _models_ready(self, info) -> None:
        self.info = info
        if isinstance(self.model_source, str) and Path(self.model_source).is_dir():
            self.settings.setValue("last_model", self.model_source)
        self.message.emit(f"Model {info.name} loaded.")
        self.model_ready.emit(info)

    def _models_failed(self, text: str) -> None:
        self.model_failed.emit(text)

    # -- jobs ----------------------------------------------------------------------------------------------------------
    def _ensure_project(self) -> bool:
        if self.project.project is None:
            self.error.emit("No project is open: use File > New Project (or Open Project) first.")
            return False
        return True

    def _submit(self, kind: str, label: str, build) -> bool:
        """Start the job now, or queue it behind the running one; ``build`` makes its JobRequest when it starts."""
        if self.busy:
            n = self.queue.add(PendingJob(kind, label, build))
            self.queue_changed.emit(self.queue.labels())
            self.message.emit(f"Queued: {label} ({n} waiting). It starts when the running job ends.")
            return True
        self._start(build())
        return True

    @property
    def compile_step(self) -> bool:
        """The setting "Compile the sampler's step" (on by default; the engine compiles only where it pays)."""
        return str(self.settings.value("sampler/compile", "true")).lower() in ("true", "1")

    def set_compile_step(self, on: bool) -> None:
        self.settings.setValue("sampler/compile", "true" if on else "false")

    def _start(self, request: JobRequest) -> None:
        request = replace(request, compile=self.compile_step)
        self._set_busy(True)
        self.running_take, self.running_kind = request.folder, request.kind
        self.job_started.emit(request.kind, request.folder)
        self.sampler.start(request)

    def _start_next(self) -> None:
        job = self.queue.pop()
        if job is None:
            if self._run_results:
                results, self._run_results = self._run_results, []
                self.queue_finished.emit("; ".join(results))
            return
        self.queue_changed.emit(self.queue.labels())
        try:
            request = job.build()
        except (OSError, ProjectError) as exc:  # the project folder went away or cannot be written
            self.error.emit(f"Could not start the queued job '{job.label}': {exc}. Check the project folder; the "
                            f"rest of the queue goes on.")
            self._run_results.append(f"{job.kind} could not start")
            self._start_next()
            return
        self._start(request)

    def remove_queued(self, index: int) -> None:
        if self.queue.remove(index) is not None:
            self.queue_changed.emit(self.queue.labels())

    def clear_queue(self) -> None:
        if len(self.queue):
            self.queue.clear()
            self.queue_changed.emit([])
            self.message.emit("Queue cleared; the running job goes on.")

    def generate(self, spec: dict) -> bool:
        if not self._ensure_project():
            return False
        if self.info is None:
            self.error.emit("No model is loaded: pick one in the Model list (or Models > Choose model folder...).")
            return False
        project, spec = self.project.project, dict(spec)
        label = (f"Generate: {spec.get('artist') or 'unknown'}, {spec.get('genre') or 'unknown'}, "
                 f"{float(spec.get('seconds', 0)):g} s")
        return self._submit("generate", label, lambda: JobRequest(
            "generate", str(project.new_take_folder("generate")), spec=spec))

    def _parent_and_candidates(self, action: str):
        take = self.take
        if take is None:
            self.error.emit(f"Select a take in the takes browser to {action} it.")
            return None
        if 2 not in take.summary.levels_done:
            self.error.emit(f"Take {take.summary.name} has no finished top level yet: resume it before you {action} it.")
            return None
        return take, [self.candidate]

    def continue_selected(self, seconds: float) -> bool:
        if not self._ensure_project() or (found := self._parent_and_candidates("continue")) is None:
            return False
        take, cands = found
        if seconds <= take.summary.seconds:
            self.error.emit(f"A continuation must be longer than its take ({take.summary.seconds:.2f} s): "
                            f"raise the length next to Continue.")
            return False
        project, parent = self.project.project, take.summary.path
        return self._submit("continue", f"Continue {take.summary.name} to {seconds:g} s", lambda: JobRequest(
            "continue", str(project.new_take_folder("continue")), parent=parent, seconds=float(seconds),
            candidates=tuple(cands)))

    def upsample_selected(self, range_seconds: Optional[tuple] = None) -> bool:
        if not self._ensure_project() or (found := self._parent_and_candidates("upsample")) is None:
            return False
        take, cands = found
        project, parent = self.project.project, take.summary.path
        rng = tuple(range_seconds) if range_seconds else None
        where = f" {rng[0]:.1f}-{rng[1]:.1f} s" if rng else ""
        return self._submit("upsample", f"Upsample {take.summary.name}{where}", lambda: JobRequest(
            "upsample", str(project.new_take_folder("upsample")), parent=parent, candidates=tuple(cands),
            range_seconds=rng))

    def resume(self, take_dir: str) -> bool:
        if not self._ensure_project():
            return False
        if self.info is None:
            self.error.emit("Load the take's model first (Model list), then resume.")
            return False
        if str(take_dir) == self.running_take:
            self.error.emit(f"{Path(take_dir).name} is being sampled right now: nothing to resume.")
            return False
        return self._submit("resume", f"Resume {Path(take_dir).name}", lambda: JobRequest("resume", str(take_dir)))

    def cancel(self) -> None:
        if self.busy:
            self.sampler.cancel()
            waiting = len(self.queue)
            then = (f" {waiting} queued job{'s' if waiting > 1 else ''} will still run: Clear queue to drop "
                    f"{'them' if waiting > 1 else 'it'}." if waiting else "")
            self.message.emit(f"Cancelling after the current token; the take stays resumable.{then}")

    def _set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)

    def _take_created(self, take_dir: str, kind: str) -> None:
        self.running_take = take_dir
        if kind == "resume":
            self.project.reload_takes(select=take_dir)
        else:
            self.project.add_take(take_dir, kind)

    def _job_failed(self, text: str) -> None:
        self.running_take = ""
        self._set_busy(False)
        self.error.emit(text)
        self._run_results.append(f"{self.running_kind} could not start")
        self._start_next()

    def _job_finished(self, done: JobDone) -> None:
        self.running_take = ""
        self._set_busy(False)
        self.project.reload_takes()
        if self.project.current == done.take_dir:
            self.reload_current()
        if done.error:
            self.error.emit(f"The job stopped: {done.error} The take is saved up to its last window: fix the cause, "
                            f"then Resume it.")
        elif done.cancelled:
            self.message.emit(f"Cancelled {Path(done.take_dir).name}; select it and press Resume to finish it.")
        else:
            self.message.emit(f"Finished {Path(done.take_dir).name}.")
        self.project.autosave()
        state = "failed" if done.error else "cancelled" if done.cancelled else "done"
        self._run_results.append(f"{Path(done.take_dir).name} {state}")
        self.job_ended.emit(done)
        self._start_next()

    def _level_done(self, event) -> None:
        self.project.reload_takes()  # the tree shows the levels done so far
        if self.project.current == self.running_take:
            self.reload_current(keep_position=True)

    def _preview(self, preview) -> None:
        if preview.take_dir != self.project.current or self.take is None:
            return
        if self.take.best_level is not None and self.take.best_level <= preview.level:
            return  # a finer level is already audible
        cand = min(self.candidate, preview.audio.shape[0] - 1)
        self.playback.load(preview.audio[cand], preview.sr, key=(preview.take_dir, preview.level, cand),
                           keep_position=True)

    # -- selection and candidates ----------------------------------------------------------------------------------------
    def _current_changed(self, take_dir: str) -> None:
        summary = self.project.summary(take_dir) if take_dir else None
        self.candidate = summary.chosen if summary is not None and summary.chosen is not None else 0
        self.reload_current()

    def reload_current(self, keep_position: bool = False) -> None:
        path = self.project.current
        self.take = None
        if path and Path(path).is_dir():
            try:
                self.take = load_take_data(path)
            except (OSError, ValueError, RuntimeError) as exc:
                self.error.emit(f"Could not read take {Path(path).name}: {exc}. The folder is left untouched; "
                                f"delete the take or restore it from a backup.")
        self.take_loaded.emit(self.take)
        self._load_audio(keep_position)

    def _load_audio(self, keep_position: bool) -> None:
        take = self.take
        audio = take.candidate_audio(self.candidate) if take is not None else None
        if audio is None:
            return
        self.playback.load(audio, take.sr, key=(take.summary.path, take.best_level, self.candidate),
                           keep_position=keep_position)

    def pick_candidate(self, candidate: int, remember: bool = True) -> None:
        """Audition candidate ``candidate`` (0-based) at the same position and loop; record it as the choice."""
        take = self.take
        if take is None or not 0 <= candidate < take.summary.n_candidates:
            return
        self.candidate = candidate
        self._load_audio(keep_position=True)
        self.candidate_changed.emit(candidate)
        if remember:
            self.project.choose_candidate(take.summary.path, candidate)

    def _chosen_elsewhere(self, take_dir: str, candidate: int) -> None:
        if take_dir == self.project.current and candidate >= 0 and candidate != self.candidate:
            self.candidate = candidate
            self._load_audio(keep_position=True)
            self.candidate_changed.emit(candidate)

    # -- take operations -------------------------------------------------------------------------------------------------
    def delete_current(self) -> None:
        if not self.project.current:
            return
        try:
            self.project.delete_take(self.project.current)
        except ProjectError as exc:
            self.error.emit(str(exc))

    def shutdown(self) -> None:
        """Closing: cancel the job and wait for it, stop audio, save the project."""
        self.sampler.shutdown()
        self.playback.close()
        self.project.autosave()
        self.project.stop_autosave()  # the editor that provides the spec is going away
