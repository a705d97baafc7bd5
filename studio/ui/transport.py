"""The transport: play/pause, stop, home/end, loop toggle, position readout, and the no-device message."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QVBoxLayout,
                               QWidget)

from studio.state.playback import Playback


def clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:06.3f}"


class ElidedLabel(QLabel):
    """One line in whatever room the layout has left: it never widens the bar (nor the views above it), the text is
    cut with an ellipsis where it does not fit, and the whole text is the tooltip."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setToolTip(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        rect = self.contentsRect()
        QPainter(self).drawText(rect, self.alignment(), self.fontMetrics().elidedText(self.text(), Qt.ElideRight,
                                                                                      rect.width()))


class TransportBar(QWidget):
    retry_requested = Signal()

    def __init__(self, playback: Playback, parent=None):
        super().__init__(parent)
        self.playback = playback
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play / pause (Space)")
        self.stop_button = QPushButton("Stop")
        self.home_button = QToolButton(text="|<")
        self.home_button.setToolTip("To the start (Home)")
        self.end_button = QToolButton(text=">|")
        self.end_button.setToolTip("To the end (End)")
        self.loop_button = QToolButton(text="Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setToolTip("Loop the selected region (L); drag on the waveform to select it")
        self.position = QLabel(clock(0.0))
        self.position.setMinimumWidth(150)
        # Texts that change (every take) or run long (why there is no sound, and the fix): neither may widen the
        # window's centre, which resized every view above and squeezed the song panel into a scroll bar.
        self.playing_label = ElidedLabel()
        self.playing_label.setMinimumWidth(100)
        self.device_message = ElidedLabel()
        self.device_message.setStyleSheet("color: #c0392b;")
        self.retry_button = QPushButton("Retry audio")
        self.retry_button.clicked.connect(self._retry)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(4, 2, 4, 2)
        controls, problem = QHBoxLayout(), QHBoxLayout()  # the message has a row of its own: the controls fill theirs
        for w in (self.home_button, self.play_button, self.stop_button, self.end_button, self.loop_button,
                  self.position, self.playing_label):
            controls.addWidget(w, 1 if w is self.playing_label else 0)
        problem.addWidget(self.device_message, 1)
        problem.addWidget(self.retry_button)
        rows.addLayout(controls)
        rows.addLayout(problem)
        self.play_button.clicked.connect(playback.toggle)
        self.stop_button.clicked.connect(playback.stop)
        self.home_button.clicked.connect(playback.home)
        self.end_button.clicked.connect(playback.end)
        self.loop_button.toggled.connect(playback.set_loop_enabled)
        playback.position_changed.connect(self._position)
        playback.state_changed.connect(self._state)
        playback.loaded.connect(lambda _d: self._position(playback.position))
        self._state(playback.state.value)

    def _position(self, seconds: float) -> None:
        self.position.setText(f"{clock(seconds)} / {clock(self.playback.duration)}")

    def _state(self, state: str) -> None:
        available = state != "unavailable"
        for w in (self.play_button, self.stop_button):
            w.setEnabled(available)
        self.play_button.setText("Pause" if state == "playing" else "Play")
        self.device_message.setText("" if available else self.playback.reason)
        self.device_message.setVisible(not available)
        self.retry_button.setVisible(not available)

    def _retry(self) -> None:
        self.playback.retry()
        self._state(self.playback.state.value)

    def set_playing_label(self, text: str) -> None:
        self.playing_label.setText(text)
