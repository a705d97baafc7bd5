"""The main window: song editor (left), takes browser (right), waveform, code levels and lyric alignment (centre),
job progress and transport (bottom). It binds widgets to the session; all work happens in the sampler thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QMainWindow, QMessageBox, QScrollArea, QSplitter,
                               QVBoxLayout, QWidget)

from studio.state.project import ProjectError
from studio.state.session import StudioSession
from studio.ui.alignment_view import AlignmentView, KaraokeLine
from studio.ui.code_view import CodeLevelView
from studio.ui.menus import build_menus
from studio.ui.notify import Notifier
from studio.ui.progress_panel import ProgressPanel
from studio.ui.queue_view import QueueView
from studio.ui.song_editor import CHOOSE_FOLDER, SongEditor
from studio.ui.takes_browser import TakesBrowser
from studio.ui.transport import TransportBar
from studio.ui.waveform_view import WaveformView


class MainWindow(QMainWindow):
    error_shown = Signal(str)  # every user-facing error message, as shown
    closed = Signal()  # the window closed and the session shut down: the application may exit

    def __init__(self, session: StudioSession, settings: QSettings, modal_errors: bool = True):
        super().__init__()
        self.session, self.settings, self.modal_errors = session, settings, modal_errors
        self.setWindowTitle("Jukebox Studio")
        self.setAcceptDrops(True)
        self.errors: list[str] = []
        self.recovery_box: Optional[QMessageBox] = None
        self.editor = SongEditor()
        self.takes = TakesBrowser(session.project)
        self.waveform = WaveformView()
        self.codes = CodeLevelView()
        self.alignment = AlignmentView()
        self.karaoke = KaraokeLine()
        self.progress = ProgressPanel()
        self.queue = QueueView()
        self.notifier = Notifier(self)
        self.transport = TransportBar(session.playback)
        self._build_layout()
        self.actions_by_name = build_menus(self)
        self._connect()
        self._rebuild_recent()
        self._busy(False)
        geometry, state = settings.value("window/geometry"), settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 920)
        if state is not None:
            self.restoreState(state)

    # -- layout ----------------------------------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        scroll = QScrollArea()
        scroll.setWidget(self.editor)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(380)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOn)  # a bar that comes and goes would reflow the window
        left = QDockWidget("Song", self)
        left.setObjectName("dock_song")
        left.setWidget(scroll)
        right = QDockWidget("Takes", self)
        right.setObjectName("dock_takes")
        right.setWidget(self.takes)
        right.setMinimumWidth(330)
        self.addDockWidget(Qt.LeftDockWidgetArea, left)
        self.addDockWidget(Qt.RightDockWidgetArea, right)
        self.docks = [left, right]
        split = QSplitter(Qt.Vertical)
        split.setObjectName("centre_split")
        for w, stretch in ((self.waveform, 3), (self.codes, 3), (self.alignment, 2)):
            split.addWidget(w)
            split.setStretchFactor(split.count() - 1, stretch)
        centre = QWidget()
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split, 1)
        lay.addWidget(self.karaoke)
        lay.addWidget(self.progress)
        lay.addWidget(self.queue)
        lay.addWidget(self.transport)
        self.setCentralWidget(centre)

    def _connect(self) -> None:
        s, pb = self.session, self.session.playback
        self.editor.model_requested.connect(self._model_requested)
        self.editor.map_requested.connect(self.open_label_map)
        self.editor.generate_requested.connect(self.generate)
        self.editor.message.connect(self.show_error)
        s.project.spec_provider = self.editor.spec
        s.model_ready.connect(self._model_ready)
        s.model_failed.connect(self._model_failed)
        s.error.connect(self.show_error)
        s.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        s.busy_changed.connect(self._busy)
        s.job_started.connect(self._job_started)
        s.job_planned.connect(self._planned)
        s.job_preparing.connect(self.progress.preparing)
        s.job_progress.connect(self._progress)
        s.window_done.connect(self.progress.window_done)
        s.level_done.connect(self.progress.level_done)
        s.job_ended.connect(self._job_ended)
        s.job_not_started.connect(lambda kind: self._job_over(f"{kind.capitalize()} could not start", ran=False))
        s.take_loaded.connect(self._take_loaded)
        s.codes_changed.connect(self.codes.update_level_soon)
        s.preview_changed.connect(self._preview)
        s.candidate_changed.connect(self._candidate_changed)
        s.project.project_changed.connect(self._project_changed)
        s.project.recent_changed.connect(self._rebuild_recent)
        self.takes.candidate_picked.connect(s.pick_candidate)
        self.takes.continue_requested.connect(s.continue_selected)
        self.takes.upsample_requested.connect(self.upsample_chosen)
        self.takes.resume_requested.connect(s.resume)
        self.takes.delete_requested.connect(lambda _p: s.delete_current())
        self.takes.recipe_dropped.connect(self.editor.set_spec)  # an exported file dropped back in: its settings
        self.progress.cancel_requested.connect(s.cancel)
        self.queue.remove_requested.connect(s.remove_queued)
        self.queue.clear_requested.connect(s.clear_queue)
        s.queue_changed.connect(self.queue.set_jobs)
        s.units_changed.connect(self.queue.set_units)
        s.queue_finished.connect(lambda text: self.notifier.notify("Jukebox Studio: jobs finished", text))
        for view in (self.waveform, self.codes, self.alignment):
            view.seek_requested.connect(pb.seek)
        self.waveform.region_selected.connect(pb.set_loop_region)
        self.codes.hovered.connect(lambda text: text and self.statusBar().showMessage(text, 3000))
        pb.position_changed.connect(self._position)
        pb.loop_changed.connect(self.waveform.set_region)

    # -- messages --------------------------------------------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        """One clear message; modal in the app, non-blocking in tests and screenshots."""
        self.errors.append(text)
        self.statusBar().showMessage(text, 15000)
        self.error_shown.emit(text)
        box = QMessageBox(QMessageBox.Warning, "Jukebox Studio", text, QMessageBox.Ok, self)
        if self.modal_errors:
            box.exec()
        else:
            box.setAttribute(Qt.WA_DeleteOnClose)
            box.open()

    # -- models ----------------------------------------------------------------------------------------------------------
    def _model_requested(self, source: str) -> None:
        if source == CHOOSE_FOLDER:
            self.choose_model_folder()
        else:
            self.editor.set_model_status(f"Loading {source}...")
            self.session.load_model(source)

    def choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder (vqvae and prior_level_0/1/2 files)")
        if folder:
            self.editor.set_model_status(f"Loading {folder}...")
            self.session.load_model(folder)

    def open_model_dialog(self) -> None:
        try:
            from studio.ui.model_dialog import ModelDialog
        except ImportError as exc:  # the dialog is optional; the studio works without it
            self.show_error(f"The model manager is not available in this build ({exc}); use Models > Choose Model "
                            f"Folder... instead.")
            return
        dlg = ModelDialog(parent=self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.open()

    def open_run_target_dialog(self):
        """Generate > Run Jobs On...: this computer or a Ray cluster (non-blocking; returns the dialog)."""
        from studio.ui.run_target_dialog import RunTargetDialog

        dlg = RunTargetDialog(self.session, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.open()
        return dlg

    def _model_ready(self, info) -> None:
        self.editor.set_model_info(info)
        self.codes.set_n_codes(info.n_codes)

    def _model_failed(self, text: str) -> None:
        self.editor.set_model_status(text, error=True)
        self.statusBar().showMessage(text, 15000)

    # -- projects --------------------------------------------------------------------------------------------------------
    def open_project(self, folder: str, create: bool = False) -> bool:
        try:
            project = self.session.project.open(folder, create=create)
        except ProjectError as exc:
            self.show_error(str(exc))
            return False
        self.editor.set_spec(project.data.get("spec") or {})
        return True

    def new_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose an empty folder for the new project")
        if folder:
            self.open_project(folder, create=True)

    def open_project_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a project folder")
        if folder:
            self.switch_project(folder)

    def switch_project(self, folder: str) -> bool:
        """Open another project while the studio runs, offering back what it left unfinished (as a launch does)."""
        opened = self.open_project(folder)
        if opened:
            self.prompt_recovery()
        return opened

    def save_project(self) -> None:
        try:
            self.session.project.save()
        except ProjectError as exc:
            self.show_error(str(exc))
        else:
            self.statusBar().showMessage("Project saved.", 4000)

    def _project_changed(self, folder: str) -> None:
        self.setWindowTitle(f"{Path(folder).name} - Jukebox Studio")

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for folder in self.session.project.recent():
            self.recent_menu.addAction(folder, lambda f=folder: self.switch_project(f))
        self.recent_menu.setEnabled(not self.recent_menu.isEmpty())

    def prompt_recovery(self) -> Optional[QMessageBox]:
        """Offer back what a crash, a failure or a quit left unfinished: takes (not those the user cancelled) and the
        jobs that were waiting in the queue (non-blocking)."""
        if self.recovery_box is not None:  # still asking about the project opened before: that question is moot
            self.recovery_box.close()
            self.recovery_box = None
        stuck, jobs = self.session.project.to_recover(), self.session.saved_jobs()
        if not stuck and not jobs:
            return None
        parts = []
        if stuck:
            names = "\n".join(f"  {t.name} ({t.status})" for t in stuck[:8])
            parts.append(f"These takes did not finish last time; everything up to their last window is saved:\n{names}")
        if jobs:
            parts.append("These jobs were waiting in the queue:\n" + "\n".join(f"  {job.label}" for job in jobs[:8]))
        ask = " and ".join(([f"resume {stuck[-1].name}"] if stuck else []) + (["queue the waiting jobs"] if jobs else []))
        box = QMessageBox(QMessageBox.Question, "Unfinished work",
                          "\n\n".join(parts) + f"\n\n{ask[:1].upper() + ask[1:]} now? (Any take can be resumed "
                          f"later from the takes browser.)", QMessageBox.Yes | QMessageBox.No, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        latest = stuck[-1].path if stuck else ""
        box.button(QMessageBox.Yes).clicked.connect(lambda: self.session.recover(latest, jobs))
        box.button(QMessageBox.No).clicked.connect(self.session.forget_recovery)
        if latest:
            self.session.project.select(latest)
        self.recovery_box = box
        box.destroyed.connect(lambda _=None, asked=box: self._recovery_answered(asked))
        box.open()
        return box

    def _recovery_answered(self, box: QMessageBox) -> None:
        if self.recovery_box is box:  # not a newer question, asked about the project opened since
            self.recovery_box = None

    def open_presenter(self):
        """Presenter mode in its own window (F11 for full screen); the studio's take is reloaded when it closes."""
        from studio.ui.presenter import PresenterWindow

        if getattr(self, "presenter", None) is None:
            self.presenter = PresenterWindow(self.session)
            self.presenter.resize(1200, 760)
            self.presenter.closed.connect(self._presenter_closed)
        else:
            self.presenter.refresh()
        self.presenter.show()
        self.presenter.raise_()
        return self.presenter

    def open_label_map(self, kind: str = "artist"):
        """Models > Artist and Genre Map: the loaded model's names in 2-D; a click fills the artist or genre field."""
        from studio.ui.label_map import open_label_map

        return open_label_map(self, kind)

    def _presenter_closed(self) -> None:
        self.presenter = None
        self.session.load_audio()

    # -- jobs ------------------------------------------------------------------------------------------------------------
    def generate(self) -> None:
        if self.session.generate(self.editor.spec()):
            self.editor.next_seed()

    def continue_chosen(self) -> None:
        self.session.continue_selected(self.takes.continue_seconds.value())

    def upsample_chosen(self, range_only: bool = False) -> None:
        rng = self.waveform.selection() if range_only else None
        if range_only and rng is None:
            self.show_error("Drag a region on the waveform first to choose the range to upsample.")
            return
        self.session.upsample_selected(rng)

    def regenerate_from_playhead(self) -> None:
        """Take > Regenerate From Playhead: from the start of the region dragged on the waveform, else the playhead."""
        selected = self.waveform.selection()
        self.session.regenerate_selected(selected[0] if selected else self.session.playback.position)

    def join_with(self):
        """Take > Join With...: a dialog choosing the second take and the times (non-blocking; returns it, or None)."""
        from studio.ui.join_dialog import JoinDialog

        if self.session.take is None:
            self.show_error("Select a take in the takes browser to join it with another.")
            return None
        dlg = JoinDialog(self.session.take.summary, self.session.takes_with_top(), self.session.playback.position,
                         self)
        dlg.accepted.connect(lambda: self.session.join_selected(*dlg.choice()))
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.open()
        return dlg

    def _busy(self, busy: bool) -> None:
        # While a job runs, Generate/Continue/Upsample/Resume still work: they queue behind it.
        self.editor.generate_button.setEnabled(self.session.info is not None)
        self.editor.generate_button.setText("Add to Queue" if busy else "Generate")
        self.takes.set_busy(busy, self.session.running_take if busy else "")
        self.actions_by_name["cancel"].setEnabled(busy)
        # Undo would move the take being written: wait for the job (or cancel it) first.
        self.actions_by_name["undo"].setVisible(not busy)
        self.actions_by_name["redo"].setVisible(not busy)

    def _job_started(self, kind: str, folder: str) -> None:
        where = f" on the Ray cluster at {self.session.run_target}" if self.session.run_target else ""
        self.progress.set_running(True, f"{kind.capitalize()} {Path(folder).name}{where}")

    def _job_ended(self, done) -> None:
        state = "failed" if done.error else "cancelled (resumable)" if done.cancelled else "done"
        self._job_over(f"{Path(done.take_dir).name}: {state}")

    def _job_over(self, text: str, ran: bool = True) -> None:
        """The job ended, or (not ``ran``) failed before its take was made: the progress panel says so, the views
        stop following."""
        self.progress.finish(text, ran)
        self.codes.set_windows({})
        self.codes.set_current(None)
        self.waveform.set_sampled_until(None)
        self.editor.show_window(0)

    def _planned(self, event) -> None:
        self.progress.planned(event)
        if self.session.running_is_current:
            self.codes.set_windows(event.windows)

    def _progress(self, event) -> None:
        """The progress bars; the window being sampled and its frontier on the code view; the lyric window."""
        self.progress.progress(event)
        plan = self.session.plan
        ws = plan.windows.get(event.level, []) if plan is not None else []
        if event.window >= len(ws):
            return
        start, end = ws[event.window]
        frontier = max(start, end - event.n_steps + event.step)
        if self.session.running_is_current:
            self.codes.set_current((event.level, start, end, min(end, frontier)))
        info = self.session.info
        if info is not None and event.level == info.top and event.step == 1:
            self.editor.show_window(start, f"Top window {event.window + 1} of {event.n_windows}")

    def _preview(self, audio, sr: int, upto: float) -> None:
        self.waveform.set_audio(audio, sr, keep_view=True)
        self.waveform.set_sampled_until(upto)

    # -- the selected take -------------------------------------------------------------------------------------------------
    def _take_loaded(self, take) -> None:
        self.takes.update_panel()
        if take is None:
            self.waveform.set_audio(None, 44100)
            self.waveform.set_preview_ranges(())
            self.waveform.set_marker(None)
            self.codes.set_codes({}, (8, 32, 128), 44100)
            self.alignment.set_matrix(None, 1.0)
            self.karaoke.set_alignment(None, "", 128, 44100)
            self.transport.set_playing_label("")
            return
        self.codes.set_codes(take.codes, take.hop_lengths, take.sr)
        if self.session.running_is_current and self.session.plan is not None:
            self.codes.set_windows(self.session.plan.windows)
        self._show_candidate(take, self.session.candidate)

    def _candidate_changed(self, candidate: int) -> None:
        if self.session.take is not None:
            self._show_candidate(self.session.take, candidate)
            self.takes.set_checked_candidate(candidate)

    def _show_candidate(self, take, candidate: int) -> None:
        audio = take.listening_audio(candidate)
        self.waveform.set_audio(audio, take.sr, keep_view=self.waveform.duration > 0 and audio is not None
                                and abs(audio.shape[-1] / take.sr - self.waveform.duration) < 1e-6)
        self.waveform.set_preview_ranges(take.preview_ranges(candidate))
        self.waveform.set_marker(take.summary.marker)
        top = len(take.hop_lengths) - 1
        align = take.alignment.get(candidate)
        spt = take.hop_lengths[top] / take.sr
        self.alignment.set_matrix(align[0] if align else None, spt)
        self.karaoke.set_alignment(align[0] if align else None, align[1] if align else "", take.hop_lengths[top],
                                   take.sr)
        level = take.best_level
        self.transport.set_playing_label(f"{take.summary.name} · candidate {candidate + 1}"
                                         + (f" · level {level}" if level is not None else " · no audio yet"))

    def _position(self, seconds: float) -> None:
        self.waveform.set_position(seconds)
        self.codes.set_position(seconds)
        self.alignment.set_position(seconds)
        self.karaoke.update_position(seconds)

    # -- view --------------------------------------------------------------------------------------------------------------
    def zoom(self, factor: float) -> None:
        self.waveform.zoom(factor)

    def zoom_fit(self) -> None:
        self.waveform.zoom_fit()
        self.codes.vb.autoRange()

    def zoom_selection(self) -> None:
        self.waveform.zoom_selection()

    def export_dialog(self) -> None:
        from studio.ui.export_flow import run_export_dialog

        run_export_dialog(self)

    # -- drops, close ------------------------------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.editor.prime.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name: audio dropped anywhere becomes the priming clip
        self.editor.prime.dropEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """A quit is silent: the sampler's exit is expected, no window or dialog of the studio stays behind."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        for other in (getattr(self, "presenter", None), getattr(self, "label_map", None), self.recovery_box):
            if other is not None:
                other.close()
        self.hide()  # gone at once; the sampler process takes a moment to finish its token and exit
        self.session.shutdown()
        self.settings.sync()
        super().closeEvent(event)
        self.closed.emit()
