"""Job progress: the whole job, the current level and the current window, with elapsed time, ETA and Cancel."""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget

from studio.state.session import clock_text

MEASURING = "measuring..."  # a time the sampler has not measured yet

LEVEL_NAMES = {2: "top level", 1: "middle level", 0: "bottom level"}


class ProgressPanel(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel("Idle")
        self.job_bar = QProgressBar()
        self.level_bar = QProgressBar()
        self.window_bar = QProgressBar()
        self.level_label = QLabel("")
        self.window_label = QLabel("")
        self.time_label = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current token; the take stays on disk and can be resumed (Esc)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 2, 4, 2)
        # Fixed columns: label texts change many times a second while sampling, and a layout that followed them
        # would resize (and so repaint) the waveform, code and alignment views above each time.
        for label in (self.title, self.level_label, self.window_label, self.time_label):
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        grid.setColumnMinimumWidth(0, 200)
        grid.setColumnMinimumWidth(2, 200)
        grid.setColumnStretch(1, 1)
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.job_bar, 0, 1)
        grid.addWidget(self.time_label, 0, 2)
        grid.addWidget(self.cancel_button, 0, 3)
        grid.addWidget(self.level_label, 1, 0)
        grid.addWidget(self.level_bar, 1, 1)
        grid.addWidget(self.window_label, 2, 0)
        grid.addWidget(self.window_bar, 2, 1)
        self.tokens: dict = {}  # level -> tokens the job samples at that level
        self.done: dict = {}  # level -> tokens finished in earlier windows
        self.windows: dict = {}
        self.set_running(False)

    def set_running(self, running: bool, title: str = "") -> None:
        self.cancel_button.setEnabled(running)
        if running:
            self.title.setText(title or "Sampling")
            for bar in (self.job_bar, self.level_bar, self.window_bar):
                bar.setValue(0)
            self.time_label.setText("elapsed 0:00, left measuring...")

    def finish(self, text: str) -> None:
        self.set_running(False)
        self.title.setText(text)

    def planned(self, event) -> None:
        """JobPlanned: the windows of every level; sizes the whole-job bar."""
        self.windows = {lv: list(ws) for lv, ws in event.windows.items()}
        self.tokens = {lv: sum(e - s for s, e in ws) for lv, ws in self.windows.items()}
        self.done = {lv: 0 for lv in self.windows}
        total = sum(self.tokens.values())
        self.job_bar.setRange(0, max(1, total))
        self.job_bar.setValue(0)
        if math.isfinite(event.eta):  # measured on this machine before the first window
            self.time_label.setText(f"estimated {clock_text(event.eta)} for the whole job")

    def preparing(self, event) -> None:
        """Preparing: the sampler compiles its step before the level starts; say so rather than stall silently."""
        text = event.message
        self.time_label.setText(text[:1].upper() + text[1:] + "...")

    def progress(self, event) -> None:
        """Progress: bars for the window and the level, elapsed and remaining time."""
        lv = event.level
        ws = self.windows.get(lv, [])
        win_tokens = (ws[event.window][1] - ws[event.window][0]) if event.window < len(ws) else event.n_steps
        frac = event.step / max(1, event.n_steps)
        self.window_bar.setRange(0, max(1, event.n_steps))
        self.window_bar.setValue(event.step)
        self.window_label.setText(f"window {event.window + 1} of {event.n_windows}")
        self.level_label.setText(LEVEL_NAMES.get(lv, f"level {lv}"))
        level_total = max(1, self.tokens.get(lv, 1))
        level_now = self.done.get(lv, 0) + int(frac * win_tokens)
        self.level_bar.setRange(0, level_total)
        self.level_bar.setValue(min(level_total, level_now))
        job_now = sum(v for k, v in self.done.items() if k != lv) + level_now
        self.job_bar.setValue(min(self.job_bar.maximum(), job_now))
        elapsed, left = clock_text(event.elapsed, MEASURING), clock_text(event.eta, MEASURING)
        self.time_label.setText(f"elapsed {elapsed}, left {left}")

    def window_done(self, event) -> None:
        """WindowDone: its tokens count as finished for the level and the job."""
        self.done[event.level] = self.done.get(event.level, 0) + (event.end - event.start)
