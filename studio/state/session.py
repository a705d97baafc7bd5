"""The studio session: the one subscriber of the sampler's event stream, and the state the views bind to.

Widgets call its methods (generate, continue, upsample, resume, cancel, pick a candidate) and bind to its signals; it
never blocks the GUI thread on sampling. The sampler's events (:mod:`studio.engine.events`,
:mod:`studio.workers.events`) arrive on one signal and are dispatched by type; the running job (its take, its plan)
is tracked here and nowhere else. Every user-caused problem comes back as one ``error`` message.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, QSettings, Signal

from studio.engine.events import clock_text  # noqa: F401  (the views' one time format, re-exported)
from studio.engine.events import (AlignmentReady, JobDone, JobPlanned, LevelDone, Preparing, Progress, UnitStarted,
                                  Warning_, WindowDone)
from studio.state.job_queue import JobQueue, PendingJob, load_jobs
from studio.state.job_requests import JobRequests
from studio.state.playback import Playback
from studio.state.project import ProjectError
from studio.state.project_state import ProjectState
from studio.state.take_data import TakeData, load_codes, load_take_data
from studio.workers.events import (FarmChecked, JobFailed, LabelMap, ModelsFailed, ModelsReady, PreviewAudio,
                                   SamplerStopped, TakeCreated)
from studio.workers.sampling_worker import JobRequest, SamplerThread


class StudioSession(JobRequests, QObject):
    model_ready = Signal(object)  # ModelInfo
    model_failed = Signal(str)
    take_loaded = Signal(object)  # TakeData of the selected take (or None): everything shown of it changed
    codes_changed = Signal(int, object)  # level, (N, T_L) codes: a window of the selected take landed
    preview_changed = Signal(object, int, float)  # (samples,) audio sampled so far of the selected take, sr, seconds
    candidate_changed = Signal(int)
    job_started = Signal(str, str)  # kind, take folder
    job_planned = Signal(object)  # JobPlanned of the running job
    job_preparing = Signal(object)  # Preparing
    job_progress = Signal(object)  # Progress
    window_done = Signal(object)  # WindowDone (its codes: the window's own, (N, end - start))
    level_done = Signal(int)  # a level of the running job is sampled and decoded
    job_ended = Signal(object)  # JobDone
    job_not_started = Signal(str)  # the kind of a started job that failed before it made its take (why: ``error``)
    busy_changed = Signal(bool)
    queue_changed = Signal(list)  # labels of the jobs waiting, first to start first
    units_changed = Signal(list)  # what each farm worker samples for the running job, e.g. "level 1 window 3 - worker 2"
    farm_checked = Signal(bool, str)  # the answer to a connection test: reached, and one line saying what
    label_map_ready = Signal(object)  # LabelMap: the loaded model's artist and genre map, or why it has none
    queue_finished = Signal(str)  # the last job of a run (queue now empty) ended: a summary for a notification
    error = Signal(str)  # one message naming the cause and the fix
    message = Signal(str)  # status-bar information

    def __init__(self, settings: QSettings, playback: Optional[Playback] = None, parent=None,
                 progress_interval: float = 0.05, preview_interval: float = 1.0, autosave_ms: int = 30000):
        super().__init__(parent)
        self.settings = settings
        self.sampler = SamplerThread(self, progress_interval, preview_interval)
        self.project = ProjectState(settings, autosave_ms, self)
        self.playback = playback if playback is not None else Playback(parent=self)
        self.info = None
        self.model_source: Optional[str] = None
        self.loading = False  # a model set is being loaded
        self.take: Optional[TakeData] = None
        self.candidate = 0
        self.busy = False
        self.running_take = ""  # the take folder the running job writes ('' when idle)
        self.running_kind = ""
        self.take_made = False  # the sampler made (or opened) the running take: a failure now ends it as a take
        self.plan: Optional[JobPlanned] = None  # the running job's windows
        self.units: dict = {}  # worker -> the UnitStarted it runs for the running farm job
        self.queue = JobQueue()
        self.label_map: Optional[LabelMap] = None  # the loaded model's map, once the sampler sent it
        self._map_asked = False  # a map was asked for and has not come
        self.closing = False  # shutdown() began: the sampler's last events are not acted on
        self._run_results: list[str] = []  # how each job of the current run ended, for the notification
        self.project.busy_take = lambda: self.running_take
        self.project.model_provider = lambda: self.info.source if self.info is not None else None
        self.project.current_changed.connect(self._current_changed)
        self.project.project_changed.connect(self._project_changed)
        self.project.candidate_chosen.connect(self._chosen_elsewhere)
        self._handlers = {
            ModelsReady: self._models_ready, ModelsFailed: self._models_failed, TakeCreated: self._take_created,
            JobFailed: self._job_failed, JobPlanned: self._planned, Preparing: self.job_preparing.emit,
            Progress: self.job_progress.emit, WindowDone: self._window_done, PreviewAudio: self._preview,
            LevelDone: self._level_done, AlignmentReady: self._alignment_ready,
            Warning_: lambda event: self.message.emit(event.message), JobDone: self._job_finished,
            SamplerStopped: self._sampler_stopped, UnitStarted: self._unit_started,
            FarmChecked: lambda event: self.farm_checked.emit(event.ok, event.message),
            LabelMap: self._label_map_ready,
        }
        self.sampler.worker.event.connect(self._dispatch)

    def _dispatch(self, event) -> None:
        """Every event of the sampler, on the GUI thread, in the order it happened (none once closing: the job a
        quit cancelled ends unseen, and nothing queued starts after it)."""
        if not self.closing:
            self._handlers[type(event)](event)

    # -- models -----------------------------------------------------------------------------------------------------
    def load_model(self, source) -> None:
        """A model name, a folder, or a ModelSet object (tests); the answer comes as model_ready / model_failed."""
        self.model_source = source if isinstance(source, str) else getattr(source, "name", "custom")
        self.loading = True
        self.message.emit(f"Loading model {self.model_source}...")
        self.sampler.load_models(source)

    def _models_ready(self, event: ModelsReady) -> None:
        self.loading = False
        self.info = event.info
        self.label_map = None  # another model: its own map
        if isinstance(self.model_source, str) and Path(self.model_source).is_dir():
            self.settings.setValue("last_model", self.model_source)
        self.message.emit(f"Model {event.info.name} loaded.")
        self.model_ready.emit(event.info)

    def request_label_map(self) -> None:
        """Ask for the loaded model's artist and genre map; it comes as ``label_map_ready`` (at once when it came
        before; computed by the sampler, after the running job, the first time a model is opened)."""
        if self.label_map is not None:
            self.label_map_ready.emit(self.label_map)
            return
        if self.busy:
            self.message.emit("The artist and genre map is made when the running job ends.")
        self._map_asked = True
        self.sampler.label_map()

    def _label_map_ready(self, event: LabelMap) -> None:
        self._map_asked = False
        if event.artists is not None:
            self.label_map = event
        self.label_map_ready.emit(event)

    def _models_failed(self, event: ModelsFailed) -> None:
        self.loading = False
        self.model_failed.emit(event.message)

    # -- jobs ----------------------------------------------------------------------------------------------------------
    def _ensure_project(self) -> bool:
        if self.project.project is None:
            self.error.emit("No project is open: use File > New Project (or Open Project) first.")
            return False
        return True

    def _submit(self, job: PendingJob) -> bool:
        """Start the job now, or queue it behind the running one (its request is made when it starts)."""
        if self.busy:
            n = self.queue.add(job)
            self._queue_changed()
            self.message.emit(f"Queued: {job.label} ({n} waiting). It starts when the running job ends.")
            return True
        return self._start_job(job)

    def _queue_changed(self) -> None:
        """Show the queue and save it with the project, so a crash does not lose it."""
        self.queue_changed.emit(self.queue.labels())
        self.project.save_queue(self.queue.to_json())

    def _project_changed(self, _folder: str) -> None:
        """Queued jobs belong to the project they were made in, which keeps them saved: drop them here only."""
        if len(self.queue):
            self.queue.clear()
            self.queue_changed.emit([])

    @property
    def compile_step(self) -> bool:
        """The setting "Compile the sampler's step" (on by default; the engine compiles only where it pays)."""
        return str(self.settings.value("sampler/compile", "true")).lower() in ("true", "1")

    def set_compile_step(self, on: bool) -> None:
        self.settings.setValue("sampler/compile", "true" if on else "false")

    @property
    def run_target(self) -> str:
        """The setting "Run jobs on": the Ray cluster's address, or '' for this computer (the default)."""
        return str(self.settings.value("farm/address", "") or "").strip()

    def set_run_target(self, address: str) -> None:
        """Run the jobs that start from now on at the Ray cluster ``address`` ('' for this computer)."""
        self.settings.setValue("farm/address", address.strip())
        where = f"the Ray cluster at {address.strip()}" if address.strip() else "this computer"
        self.message.emit(f"Jobs run on {where} from the next one on.")

    def check_farm(self, address: str) -> None:
        """Test the connection to the Ray cluster at ``address``; the answer comes as ``farm_checked``."""
        if self.busy:
            self.message.emit("The connection test runs when the running job ends (the sampler does one thing at "
                              "a time).")
        self.sampler.check_farm(address.strip())

    def _start(self, request: JobRequest) -> None:
        request = replace(request, compile=self.compile_step, farm=self.run_target or None)
        self.running_take, self.running_kind, self.take_made, self.plan = request.folder, request.kind, False, None
        self._set_busy(True)
        self.job_started.emit(request.kind, request.folder)
        self.sampler.start(request)

    def _start_job(self, job: PendingJob, queued: bool = False) -> bool:
        try:
            request = job.request(self.project.project)
        except (OSError, ProjectError) as exc:  # the project folder went away or cannot be written
            then = " the rest of the queue goes on." if queued else ""
            self.error.emit(f"Could not start the {'queued ' if queued else ''}job '{job.label}': {exc}. Check the "
                            f"project folder;{then or ' nothing was made.'}")
            if queued:
                self._run_results.append(f"{job.kind} could not start")
            return False
        self._start(request)
        return True

    def _start_next(self) -> None:
        while (job := self.queue.pop()) is not None:
            self._queue_changed()
            if self._start_job(job, queued=True):
                return
        if self._run_results:
            results, self._run_results = self._run_results, []
            self.queue_finished.emit("; ".join(results))

    def recover(self, take_dir: str, jobs: list) -> None:
        """The recovery prompt's Yes: resume ``take_dir`` ('' for none), then run the saved ``jobs`` in their order,
        as soon as a model is loaded (at startup it is usually still loading)."""
        self.forget_recovery()

        def run() -> None:
            if take_dir:
                self.resume(take_dir)
            for job in jobs:
                self._submit(job)
        self._when_model_ready(run)

    def forget_recovery(self) -> None:
        """The recovery prompt was answered (or declined): its takes and saved jobs are not offered again."""
        self.project.forget_recovery(self.queue.to_json())

    def _when_model_ready(self, action) -> None:
        if self.info is not None and not self.loading:
            action()
            return
        if not self.loading:
            self.error.emit("Load the takes' model first (Model list); then resume them from the takes browser.")
            return

        def once(outcome) -> None:  # ModelInfo, or the message of a model that failed to load
            self.model_ready.disconnect(once)
            self.model_failed.disconnect(once)
            if not isinstance(outcome, str):
                action()
        self.model_ready.connect(once)
        self.model_failed.connect(once)

    def saved_jobs(self) -> list[PendingJob]:
        """The queue saved with the open project (what was waiting when the studio last stopped)."""
        return load_jobs(self.project.saved_queue())

    def remove_queued(self, index: int) -> None:
        if self.queue.remove(index) is not None:
            self._queue_changed()

    def clear_queue(self) -> None:
        if len(self.queue):
            self.queue.clear()
            self._queue_changed()
            self.message.emit("Queue cleared; the running job goes on.")

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

    def _end_job(self) -> None:
        self.running_take, self.running_kind, self.take_made, self.plan = "", "", False, None
        self._set_units({})
        self._set_busy(False)

    def _set_units(self, units: dict) -> None:
        if units != self.units:
            self.units = units
            self.units_changed.emit([event.text() for _, event in sorted(units.items())])

    def _unit_started(self, event: UnitStarted) -> None:
        self._set_units({**self.units, event.worker: event})

    @property
    def running_is_current(self) -> bool:
        """The running job's take is the selected one (its views follow the job)."""
        return bool(self.running_take) and self.running_take == self.project.current and self.take is not None

    # -- the event stream ------------------------------------------------------------------------------------------
    def _take_created(self, event: TakeCreated) -> None:
        self.running_take, self.take_made = event.take_dir, True
        if event.kind == "resume":
            self.project.reload_takes(select=event.take_dir)
        else:
            self.project.add_take(event.take_dir, event.kind)

    def _job_failed(self, event: JobFailed) -> None:
        kind = self.running_kind
        self._end_job()
        self.job_not_started.emit(kind)
        self.error.emit(event.message)
        self._run_results.append(f"{kind} could not start")
        self._start_next()

    def _planned(self, event: JobPlanned) -> None:
        self.plan = event
        codes = self._read(self.running_take, load_codes) if self.running_is_current else None
        if codes is not None:  # the sampler has just written the selected take's code arrays: show them
            self._show_take(replace(self.take, codes=codes))
        self.job_planned.emit(event)

    def _window_done(self, event: WindowDone) -> None:
        done = {w: u for w, u in self.units.items() if (u.level, u.window) != (event.level, event.window)}
        if len(done) != len(self.units):
            self._set_units(done)  # its workers are idle until they get another unit
        if self.running_is_current:
            codes = self.take.write_window(event.level, event.start, event.codes)
            if codes is not None:
                self.codes_changed.emit(event.level, codes)
        self.window_done.emit(event)

    def _preview(self, preview: PreviewAudio) -> None:
        if preview.take_dir != self.project.current or self.take is None:
            return
        if self.take.best_level is not None and self.take.best_level <= preview.level:
            return  # a finer level is already audible
        cand = min(self.candidate, preview.audio.shape[0] - 1)
        self.playback.load(preview.audio[cand], preview.sr, key=(preview.take_dir, preview.level, cand),
                           keep_position=True)
        self.preview_changed.emit(preview.audio[cand], preview.sr, preview.upto)

    def _level_done(self, event: LevelDone) -> None:
        self.project.reload_takes()  # the tree shows the levels done so far
        self.level_done.emit(event.level)
        if self.running_is_current:
            summary = self.project.summary(self.running_take) or self.take.summary
            self._set_take(self.take.with_level(summary, event.level, event.codes, event.audio), keep_position=True)

    def _alignment_ready(self, event: AlignmentReady) -> None:
        if self.running_is_current:
            self._show_take(self.take.with_alignment(event.matrices, event.lyrics))

    def _job_finished(self, done: JobDone) -> None:
        self._end_job()
        self.project.reload_takes()
        summary = self.project.summary(done.take_dir)
        if self.project.current == done.take_dir and self.take is not None and summary not in (None, self.take.summary):
            self._show_take(replace(self.take, summary=summary))  # its status: the rest came with the events
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

    def _sampler_stopped(self, event: SamplerStopped) -> None:
        """The sampler caught an error, or its process died: end whatever it was doing with the message."""
        if event.pid is not None and event.pid != self.sampler.pid:
            return  # a process no longer ours: replaced by a fresh one, or quit by shutdown()
        if self._map_asked:  # the map it was making died with it: say so, and a new request asks the next process
            name = self.info.name if self.info is not None else ""
            self._label_map_ready(LabelMap(name, message=f"The map could not be made: {event.message} Open the "
                                                         f"map again to retry."))
        if self.take_made:
            take_dir = self.running_take
            if self.project.current == take_dir:
                self._reload_current(keep_position=True)  # what the process had not sent died with it: read the disk
            self._job_finished(JobDone(take_dir, error=event.message))
        elif self.loading:
            self._models_failed(ModelsFailed(event.message))
        elif self.busy:
            self._job_failed(JobFailed(event.message))
        else:
            self.error.emit(event.message)

    # -- selection and candidates ----------------------------------------------------------------------------------------
    def _current_changed(self, take_dir: str) -> None:
        summary = self.project.summary(take_dir) if take_dir else None
        self.candidate = summary.chosen if summary is not None and summary.chosen is not None else 0
        self._reload_current()

    def _reload_current(self, keep_position: bool = False) -> None:
        """Read the selected take from disk (on selection, and after its sampler died)."""
        path = self.project.current
        self._set_take(self._read(path) if path and Path(path).is_dir() else None, keep_position)

    def _set_take(self, take: Optional[TakeData], keep_position: bool = False) -> None:
        """Show ``take`` and give the player its audio."""
        self._show_take(take)
        self.load_audio(keep_position)

    def _show_take(self, take: Optional[TakeData]) -> None:
        self.take = take
        self.take_loaded.emit(take)

    def take_data(self, take_dir: str) -> Optional[TakeData]:
        """Any take of the project as the views show it: the selected one as held here, another read from disk."""
        if take_dir == self.project.current and self.take is not None:
            return self.take
        return self._read(take_dir)

    def _read(self, take_dir: str, load=load_take_data):
        """``load(take_dir)``, or None with one message when the folder cannot be read."""
        try:
            return load(take_dir)
        except (OSError, ValueError, RuntimeError) as exc:
            self.error.emit(f"Could not read take {Path(take_dir).name}: {exc}. The folder is left untouched; "
                            f"delete the take or restore it from a backup.")
            return None

    def load_audio(self, keep_position: bool = False) -> None:
        """Give the player the selected candidate of the selected take, at its finest level."""
        take = self.take
        audio = take.listening_audio(self.candidate) if take is not None else None
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
        self.load_audio(keep_position=True)
        self.candidate_changed.emit(candidate)
        if remember:
            self.project.choose_candidate(take.summary.path, candidate)

    def _chosen_elsewhere(self, take_dir: str, candidate: int) -> None:
        if take_dir == self.project.current and candidate >= 0 and candidate != self.candidate:
            self.candidate = candidate
            self.load_audio(keep_position=True)
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
        """Closing: cancel the job and wait for it, stop audio, save the project. The job this cancels is offered for
        resuming next time (unlike one the user cancelled), and the queue stays saved with the project."""
        self.closing = True
        self.project.set_quit_take(self.running_take if self.take_made else "")
        self.sampler.shutdown()
        self.playback.close()
        self.project.autosave()
        self.project.stop_autosave()  # the editor that provides the spec is going away
