"""Job progress: the whole job, the current level and the current window, with elapsed time, ETA and Cancel."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
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
        self.cancel_button.setToolTip("Stop after the current token; the take stays on disk and can be resumed (Esc "
                                      "while the job area has the focus)")
        self.setFocusPolicy(Qt.ClickFocus)  # a click on the job area gives it the focus, where Esc cancels
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
        grid.addWidget(self.time_label, 0, 2, 3, 1)  # the rows beside the bars: a long "preparing" message wraps
        self.time_label.setWordWrap(True)
        self.time_label.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        grid.addWidget(self.cancel_button, 0, 3)
        grid.addWidget(self.level_label, 1, 0)
        grid.addWidget(self.level_bar, 1, 1)
        grid.addWidget(self.window_label, 2, 0)
        grid.addWidget(self.window_bar, 2, 1)
        self.levels: tuple = ()  # the job's levels, in the order it samples them
        self.new_tokens: dict = {}  # level -> tokens each window adds beyond the one before it (overlaps count once)
        self.complete: dict = {}  # level -> indices of the windows that need no more sampling
        self.set_running(False)

    def set_running(self, running: bool, title: str = "") -> None:
        self.cancel_button.setEnabled(running)
        if running:
            self.title.setText(title or "Sampling")
            for bar in (self.job_bar, self.level_bar, self.window_bar):
                bar.setValue(0)
            self.time_label.setText("elapsed 0:00, left measuring...")

    def finish(self, text: str, ran: bool = True) -> None:
        """The job ended (``ran``: its times stay shown), or never started (no time to show)."""
        self.set_running(False)
        self.title.setText(text)
        if not ran:
            self.time_label.clear()

    def planned(self, event) -> None:
        """JobPlanned: the windows of every level; sizes the whole-job bar in the tokens they add."""
        self.levels = tuple(event.levels)
        self.new_tokens = event.added
        self.complete = {lv: set() for lv in self.new_tokens}
        self.job_bar.setRange(0, max(1, sum(sum(n) for n in self.new_tokens.values())))
        self.job_bar.setValue(0)
        if math.isfinite(event.eta):  # measured on this machine before the first window
            self.time_label.setText(f"estimated {clock_text(event.eta)} for the whole job")

    def preparing(self, event) -> None:
        """Preparing: the sampler compiles its step before the level starts; say so rather than stall silently."""
        text = event.message
        self.time_label.setText(text[:1].upper() + text[1:] + "...")

    def progress(self, event) -> None:
        """Progress: bars for the window and the level, elapsed and remaining time.

        Windows run in order, so every window before this one, at this level and at the levels before it, needs no
        more sampling: done now, or skipped because its codes were on disk (a resumed take, a priming clip)."""
        lv = event.level
        for before in self.levels[:self.levels.index(lv)] if lv in self.levels else ():
            self.level_done(before)
        self.complete.setdefault(lv, set()).update(range(event.window))
        added = self.new_tokens.get(lv, [])
        now = event.step / max(1, event.n_steps) * (added[event.window] if event.window < len(added) else 0)
        self.window_bar.setRange(0, max(1, event.n_steps))
        self.window_bar.setValue(event.step)
        self.window_label.setText(f"window {event.window + 1} of {event.n_windows}")
        self.level_label.setText(LEVEL_NAMES.get(lv, f"level {lv}"))
        self._show_counts(lv, int(now))
        elapsed, left = clock_text(event.elapsed, MEASURING), clock_text(event.eta, MEASURING)
        self.time_label.setText(f"elapsed {elapsed}, left {left}")

    def window_done(self, event) -> None:
        """WindowDone: its tokens count as finished for the level and the job."""
        self.complete.setdefault(event.level, set()).add(event.window)
        self._show_counts(event.level)

    def level_done(self, level: int) -> None:
        """The level is sampled and decoded: all its windows count, run or skipped."""
        self.complete[level] = set(range(len(self.new_tokens.get(level, []))))
        self._show_counts(level)
        self.window_bar.setValue(self.window_bar.maximum())

    def _show_counts(self, level: int, running: int = 0) -> None:
        """The level and job bars: complete windows' tokens, plus ``running`` tokens of the window being sampled."""
        def finished(lv: int) -> int:
            return sum(n for i, n in enumerate(self.new_tokens.get(lv, [])) if i in self.complete.get(lv, ()))

        level_total = max(1, sum(self.new_tokens.get(level, [])))
        self.level_bar.setRange(0, level_total)
        self.level_bar.setValue(min(level_total, finished(level) + running))
        self.job_bar.setValue(min(self.job_bar.maximum(), sum(map(finished, self.new_tokens)) + running))
