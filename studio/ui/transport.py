"""The transport: play/pause, stop, home/end, loop toggle, position readout, and the no-device message."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget

from studio.state.playback import Playback


def clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:06.3f}"


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
        self.playing_label = QLabel("")
        # Its text changes with every take: it must not widen the window's centre (that resizes every view above).
        self.playing_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.playing_label.setMinimumWidth(100)
        self.device_message = QLabel("")
        self.device_message.setWordWrap(True)
        self.device_message.setStyleSheet("color: #c0392b;")
        self.retry_button = QPushButton("Retry audio")
        self.retry_button.clicked.connect(self._retry)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        for w in (self.home_button, self.play_button, self.stop_button, self.end_button, self.loop_button,
                  self.position, self.playing_label):
            lay.addWidget(w, 4 if w is self.playing_label else 0)
        lay.addWidget(self.device_message, 1)
        lay.addWidget(self.retry_button)
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
        self.retry_button.setVisible(not available)

    def _retry(self) -> None:
        self.playback.retry()
        self._state(self.playback.state.value)

    def set_playing_label(self, text: str) -> None:
        self.playing_label.setText(text)
        self.playing_label.setToolTip(text)  # the whole text, where the bar is too narrow to show it
