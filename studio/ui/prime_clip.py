"""The priming clip: an audio file dropped or chosen, shown as a waveform and trimmed to any range by dragging."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDoubleSpinBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout)

from studio.audio.io import AudioLoadError, audio_info, load_audio, readable_formats
from studio.audio.peaks import PeakPyramid
from .envelope import EnvelopeItem

DISPLAY_SR = 8000  # the clip is drawn from a low-rate copy; the sampler reads the file itself at the model's rate


class PrimeClip(QGroupBox):
    """Emits ``changed`` with the prime dict ({file, start, end}) or None."""

    changed = Signal(object)
    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__("Priming clip (optional)", parent)
        self.setAcceptDrops(True)
        self.path: Optional[str] = None
        self.duration = 0.0
        self.hint = QLabel("Drop an audio file here, or browse. Drag the shaded range to choose which part primes.")
        self.hint.setWordWrap(True)
        self.browse = QPushButton("Browse...")
        self.clear_button = QPushButton("Clear")
        self.browse.clicked.connect(self.choose_file)
        self.clear_button.clicked.connect(self.clear)
        self.plot = pg.PlotWidget()
        self.plot.setFixedHeight(70)
        self.plot.hideAxis("left")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.curve_hi = self.plot.plot(pen=pg.mkPen("#4f9dd9"))
        self.curve_lo = self.plot.plot(pen=pg.mkPen("#4f9dd9"))
        self.envelope = EnvelopeItem()
        self.plot.addItem(self.envelope)
        self.region = pg.LinearRegionItem(values=(0, 1), brush=pg.mkBrush(255, 214, 102, 70))
        self.region.sigRegionChanged.connect(self._region_moved)
        self.region.setVisible(False)
        self.plot.addItem(self.region)
        self.start = QDoubleSpinBox(suffix=" s", decimals=2, maximum=36000.0, singleStep=0.5)
        self.end = QDoubleSpinBox(suffix=" s", decimals=2, maximum=36000.0, singleStep=0.5)
        self.start.valueChanged.connect(self._spins_changed)
        self.end.valueChanged.connect(self._spins_changed)
        row = QHBoxLayout()
        row.addWidget(self.browse)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        row.addWidget(QLabel("from"))
        row.addWidget(self.start)
        row.addWidget(QLabel("to"))
        row.addWidget(self.end)
        lay = QVBoxLayout(self)
        lay.addWidget(self.hint)
        lay.addWidget(self.plot)
        lay.addLayout(row)
        self._syncing = False
        self._update_enabled()

    # -- files -------------------------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        pattern = " ".join(f"*.{f.lower()}" for f in readable_formats())
        path, _ = QFileDialog.getOpenFileName(self, "Choose a priming clip", "", f"Audio ({pattern});;All files (*)")
        if path:
            self.set_file(path)

    def set_file(self, path: str, start: float = 0.0, end: Optional[float] = None) -> bool:
        """Load ``path`` for display; shows one message and keeps the previous clip when it cannot be read."""
        try:
            info = audio_info(path)
            audio = load_audio(path, DISPLAY_SR)
        except AudioLoadError as exc:
            self.message.emit(str(exc))
            return False
        self.path = str(Path(path).resolve())
        self.duration = float(info.seconds)
        pyr = PeakPyramid(audio, DISPLAY_SR)
        times, lo, hi = pyr.view(0, self.duration, 600)
        self.curve_lo.setData(times, lo)
        self.curve_hi.setData(times, hi)
        self.envelope.set_envelope(times, lo, hi)
        self.plot.setXRange(0, max(self.duration, 0.01), padding=0)
        self.plot.setYRange(-1, 1, padding=0.05)
        self.hint.setText(f"{Path(path).name}: {self.duration:.1f} s. Drag the shaded range to choose the prime.")
        self.region.setBounds((0, self.duration))
        self.region.setVisible(True)
        end = self.duration if end is None else min(end, self.duration)
        self._set_range(start, end)
        self._update_enabled()
        self.changed.emit(self.prime())
        return True

    def clear(self) -> None:
        self.path = None
        self.duration = 0.0
        self.curve_lo.setData([], [])
        self.curve_hi.setData([], [])
        self.envelope.set_envelope(np.zeros(0), np.zeros(0), np.zeros(0))
        self.region.setVisible(False)
        self.hint.setText("Drop an audio file here, or browse. Drag the shaded range to choose which part primes.")
        self._update_enabled()
        self.changed.emit(None)

    def prime(self) -> Optional[dict]:
        if not self.path:
            return None
        end = self.end.value()
        return {"file": self.path, "start": round(self.start.value(), 3),
                "end": None if end >= self.duration - 1e-3 else round(end, 3)}

    # -- range ----------------------------------------------------------------------------------------------------
    def _set_range(self, start: float, end: float) -> None:
        self._syncing = True
        for spin in (self.start, self.end):
            spin.setMaximum(self.duration)
        self.start.setValue(start)
        self.end.setValue(end)
        self.region.setRegion((start, end))
        self._syncing = False

    def _region_moved(self) -> None:
        if self._syncing:
            return
        a, b = self.region.getRegion()
        self._syncing = True
        self.start.setValue(a)
        self.end.setValue(b)
        self._syncing = False
        self.changed.emit(self.prime())

    def _spins_changed(self) -> None:
        if self._syncing or not self.path:
            return
        self._syncing = True
        self.region.setRegion((self.start.value(), self.end.value()))
        self._syncing = False
        self.changed.emit(self.prime())

    def _update_enabled(self) -> None:
        has = self.path is not None
        for w in (self.clear_button, self.start, self.end):
            w.setEnabled(has)

    # -- drag and drop ---------------------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            self.set_file(files[0])
            event.acceptProposedAction()

