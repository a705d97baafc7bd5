"""The model dialog: the model folders found and their status, official downloads with progress and cancel, the
licence, the mirror setting, and the hardware check. Every slow step runs off the GUI thread in a :class:`JobWorker`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout,
)

from studio.engine.configs import OFFICIAL_MODELS
from studio.modelstore import (
    LICENCE_TEXT, DownloadProgress, ModelStoreError, Settings, check_folder, default_models_dir, discover,
    download_model, licence_accepted, set_mirror,
)
from studio.modelstore import hardware
from studio.modelstore.errors import human_bytes


class JobWorker(QObject):
    """Runs ``job(report, cancelled)`` in a QThread; ``report(obj)`` emits ``progress`` (frozen dataclasses only)."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, job: Callable):
        super().__init__()
        self._job, self._cancel = job, threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        try:
            result = self._job(self.progress.emit, self._cancel.is_set)
        except ModelStoreError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # an unexpected bug: show it rather than lose it in the thread
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.finished.emit(result)


class ModelDialog(QDialog):
    """Find, fetch, verify and size models. ``memory`` overrides the detected device memory (tests)."""

    download_finished = Signal(str)  # summary line
    job_failed = Signal(str)  # the error message shown
    hardware_ready = Signal(str)

    def __init__(self, models_dir: Optional[Path] = None, mirror: Optional[str] = None,
                 memory: Optional[hardware.DeviceMemory] = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.models_dir = Path(models_dir) if models_dir else default_models_dir()
        self.extra_dirs: list = []
        self._memory = memory
        self._jobs: dict = {}  # name -> (thread, worker)
        self._jobs_pending_hardware = False  # the model choice changed while a hardware check ran
        self._build(mirror)
        self.refresh()
        self._update_buttons()
        self.refresh_hardware()

    # --- layout --------------------------------------------------------------------------------------------------
    def _build(self, mirror: Optional[str]) -> None:
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Model", "Status", "Size", "Folder"])
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.Stretch)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.verify_button = QPushButton("Verify")
        self.add_folder_button = QPushButton("Add folder…")
        row = QHBoxLayout()
        row.addWidget(self.verify_button)
        row.addWidget(self.add_folder_button)
        row.addStretch(1)

        self.model_combo = QComboBox()
        self.model_combo.addItems(list(OFFICIAL_MODELS))
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.licence_text = QPlainTextEdit(LICENCE_TEXT)
        self.licence_text.setReadOnly(True)
        self.licence_check = QCheckBox("I accept the licence (noncommercial use only)")
        settings = Settings.load(self.models_dir) if self.models_dir.is_dir() else Settings()
        self.mirror_edit = QLineEdit(mirror or settings.mirror or "")
        self.mirror_edit.setPlaceholderText("official addresses (or a mirror base URL, e.g. http://host:8000/)")
        self.save_mirror_button = QPushButton("Save mirror")
        get = QGroupBox("Official Jukebox models (downloaded, never bundled)")
        g = QVBoxLayout(get)
        line = QHBoxLayout()
        for w in (self.model_combo, self.download_button, self.cancel_button):
            line.addWidget(w)
        g.addLayout(line)
        g.addWidget(self.progress_bar)
        g.addWidget(self.status_label)
        g.addWidget(self.licence_text)
        g.addWidget(self.licence_check)
        line = QHBoxLayout()
        line.addWidget(QLabel("Mirror:"))
        line.addWidget(self.mirror_edit, 1)
        line.addWidget(self.save_mirror_button)
        g.addLayout(line)

        self.hardware_text = QPlainTextEdit()
        self.hardware_text.setReadOnly(True)
        hw_box = QGroupBox("Will it fit here?")
        QVBoxLayout(hw_box).addWidget(self.hardware_text)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(get)
        layout.addWidget(hw_box)
        layout.addWidget(buttons)

        self.download_button.clicked.connect(self.start_download)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.verify_button.clicked.connect(self.verify_selected)
        self.add_folder_button.clicked.connect(self._ask_folder)
        self.save_mirror_button.clicked.connect(self.save_mirror)
        self.licence_check.toggled.connect(self._update_buttons)
        self.model_combo.currentTextChanged.connect(self.refresh_hardware)
        if licence_accepted(self.models_dir, self.models_dir / self.model_combo.currentText()):
            self.licence_check.setChecked(True)
            self.licence_check.setText("Licence accepted (noncommercial use only)")
            self.licence_check.setEnabled(False)

    # --- state ---------------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Rescan the model folders (quick size check, on the GUI thread: it only stats files)."""
        entries = discover(self.models_dir, self.extra_dirs)
        self.table.setRowCount(len(entries))
        for r, e in enumerate(entries):
            status = check_folder(e.folder, e.manifest).status.value
            size = human_bytes(sum(f.size or 0 for f in e.manifest.files))
            for c, text in enumerate((e.name, status, size, str(e.folder))):
                item = QTableWidgetItem(text)
                item.setData(Qt.UserRole, str(e.folder))
                self.table.setItem(r, c, item)

    def status_of(self, name: str) -> Optional[str]:
        """The status column of the model called ``name`` (None if not listed)."""
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text() == name:
                return self.table.item(r, 1).text()
        return None

    def _update_buttons(self) -> None:
        busy = "download" in self._jobs
        self.download_button.setEnabled(self.licence_check.isChecked() and not busy)
        self.cancel_button.setEnabled(busy)

    def _start(self, name: str, job: Callable, on_done: Callable, on_progress: Optional[Callable] = None) -> None:
        thread, worker = QThread(self), JobWorker(job)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        if on_progress:
            worker.progress.connect(on_progress)
        worker.finished.connect(on_done)
        worker.failed.connect(lambda msg, n=name: self._failed(n, msg))
        worker.finished.connect(thread.quit)
        worker.failed.connect(thread.quit)
        thread.finished.connect(lambda n=name: self._job_ended(n))
        self._jobs[name] = (thread, worker)
        thread.start()

    def _failed(self, name: str, message: str) -> None:
        self.status_label.setText(message)
        self.refresh()
        self.job_failed.emit(message)

    # --- actions -------------------------------------------------------------------------------------------------
    def start_download(self) -> None:
        if "download" in self._jobs or not self.licence_check.isChecked():
            return
        name, mirror = self.model_combo.currentText(), self.mirror_edit.text().strip() or None
        models_dir = self.models_dir

        def job(report, cancelled):
            r = download_model(name, models_dir, mirror=mirror, accept=True, progress=report, cancel=cancelled)
            return (f"{name}: complete in {r.folder} ({human_bytes(r.transferred)} transferred, "
                    f"{len(r.reused)} linked, {len(r.skipped)} already here)")

        self.progress_bar.setValue(0)
        self.status_label.setText(f"Downloading {name}…")
        self._start("download", job, self._download_done, self._on_progress)
        self._update_buttons()

    def cancel_download(self) -> None:
        if "download" in self._jobs:
            self._jobs["download"][1].cancel()
            self.status_label.setText("Cancelling… (the partial file is kept; download again to resume)")

    @Slot(object)
    def _on_progress(self, p: DownloadProgress) -> None:
        if p.stage == "download" and p.total:
            self.progress_bar.setValue(int(100 * p.done / p.total))
            self.status_label.setText(f"{p.path} ({p.file_index + 1}/{p.file_count}): "
                                      f"{human_bytes(p.done)} of {human_bytes(p.total)}")
        elif p.stage == "done":
            self.progress_bar.setValue(100)

    def _download_done(self, summary: str) -> None:
        self.status_label.setText(summary)
        self.refresh()
        self.download_finished.emit(summary)

    def verify_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or "verify" in self._jobs:
            return
        folder = Path(self.table.item(rows[0].row(), 0).data(Qt.UserRole))

        def job(report, cancelled):
            check = check_folder(folder, deep=True, cancel=cancelled)
            bad = "; ".join(f"{f.path}: {f.detail}" for f in check.problems)
            return f"{check.name}: {check.status.value}" + (f" ({bad})" if bad else "")

        self.status_label.setText(f"Verifying {folder.name}…")
        self._start("verify", job, self._verify_done)

    def _verify_done(self, summary: str) -> None:
        self.status_label.setText(summary)
        self.refresh()

    def save_mirror(self) -> None:
        try:
            set_mirror(self.models_dir, self.mirror_edit.text().strip() or None)
            self.status_label.setText("Mirror saved.")
        except ValueError as exc:
            self.status_label.setText(str(exc))

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder")
        if folder:
            self.extra_dirs.append(Path(folder))
            self.refresh()

    def refresh_hardware(self, *_args) -> None:
        """Recompute the hardware check for the chosen model (reads device memory off the GUI thread)."""
        name, memory = self.model_combo.currentText(), self._memory
        if "hardware" in self._jobs:  # one check at a time: this choice is checked when the running one ends
            self._jobs_pending_hardware = True
            return

        def job(report, cancelled):
            return name, "\n".join(hardware.plan_model(name, memory or hardware.available_memory()).summary_lines())

        self._start("hardware", job, self._hardware_done)

    def _hardware_done(self, result: tuple) -> None:
        name, text = result
        self.hardware_text.setPlainText(text)
        self.hardware_ready.emit(text)

    def _job_ended(self, name: str) -> None:
        thread, worker = self._jobs.pop(name, (None, None))
        if thread is not None:
            thread.deleteLater()
            worker.deleteLater()
        self._update_buttons()
        if name == "hardware" and self._jobs_pending_hardware:
            self._jobs_pending_hardware = False
            self.refresh_hardware()

    def stop_jobs(self) -> None:
        """Cancel running jobs and wait for their threads (cooperative; nothing is terminated)."""
        for thread, worker in list(self._jobs.values()):
            worker.cancel()
            thread.quit()
            thread.wait(10000)

    def done(self, result: int) -> None:
        self.stop_jobs()
        super().done(result)

    def closeEvent(self, event) -> None:
        self.stop_jobs()
        super().closeEvent(event)
