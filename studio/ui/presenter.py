"""Presenter mode: a playlist of the project's finished takes, played one after another with the lyrics highlighted
as they are sung and the spectrogram scrolling under them. It plays takes as the session holds them (no model, no
GPU): a laptop on a stage can show takes made elsewhere.

Keys: Space play/pause, Right/Left (or PageDown/PageUp) next/previous, F11 full screen, Esc leaves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from studio.ui.alignment_view import KaraokeLine
from studio.ui.waveform_view import WaveformView


class PresenterWindow(QWidget):
    closed = Signal()

    def __init__(self, session, parent=None):
        super().__init__(parent, Qt.Window)
        self.session, self.playback = session, session.playback
        self.setWindowTitle("Jukebox Studio - Presenter")
        self.playlist = QListWidget()
        self.playlist.setMinimumWidth(260)
        self.title = QLabel("")
        self.title.setFont(QFont(self.font().family(), 20, QFont.Bold))
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.karaoke = KaraokeLine()
        self.karaoke.setStyleSheet("font-size: 30px; padding: 8px;")
        self.karaoke.setMinimumHeight(70)
        self.view = WaveformView()
        self.view.set_spectrogram(True)
        self.prev_button, self.play_button, self.next_button = (QPushButton(t) for t in ("Previous", "Play", "Next"))
        self.prev_button.clicked.connect(self.previous)
        self.play_button.clicked.connect(self.playback.toggle)
        self.next_button.clicked.connect(self.next)
        self.playlist.currentRowChanged.connect(self._show_row)
        self.playlist.itemActivated.connect(lambda _item: self.play_current())
        self.current: Optional[str] = None  # take folder shown
        self.auto_advance = True
        self._playing_here = False
        self._build()
        self.playback.position_changed.connect(self._position)
        self.playback.state_changed.connect(self._state)
        # The window takes every key itself (a focused list or button would eat Space and the arrows).
        for widget in (self.playlist, self.prev_button, self.play_button, self.next_button):
            widget.setFocusPolicy(Qt.NoFocus)
        self.setFocusPolicy(Qt.StrongFocus)
        self.keys = {Qt.Key_Space: self.playback.toggle, Qt.Key_Right: self.next, Qt.Key_PageDown: self.next,
                     Qt.Key_Left: self.previous, Qt.Key_PageUp: self.previous, Qt.Key_F11: self.toggle_full_screen,
                     Qt.Key_Escape: self.close}
        self.refresh()

    def _build(self) -> None:
        buttons = QHBoxLayout()
        for b in (self.prev_button, self.play_button, self.next_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        main = QWidget()
        lay = QVBoxLayout(main)
        lay.addWidget(self.title)
        lay.addWidget(self.details)
        lay.addWidget(self.karaoke)
        lay.addWidget(self.view, 1)
        lay.addLayout(buttons)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.playlist)
        split.addWidget(main)
        split.setStretchFactor(1, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(split)

    # -- playlist ---------------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Every take of the open project with audio on disk, oldest first."""
        self.playlist.blockSignals(True)
        self.playlist.clear()
        for summary in sorted(self.session.project.takes, key=lambda t: t.created):
            if not summary.levels_done:
                continue
            item = QListWidgetItem(f"{summary.name}  ({summary.seconds:.1f} s)")
            item.setData(Qt.UserRole, summary.path)
            self.playlist.addItem(item)
        self.playlist.blockSignals(False)
        if self.playlist.count():
            self.playlist.setCurrentRow(0)
        else:
            self.title.setText("No takes with audio yet")
            self.details.setText("Generate a take in the studio; it appears here when its first level is done.")

    def paths(self) -> list[str]:
        return [self.playlist.item(i).data(Qt.UserRole) for i in range(self.playlist.count())]

    def _show_row(self, row: int) -> None:
        if row < 0:
            return
        path = self.playlist.item(row).data(Qt.UserRole)
        data = self.session.take_data(path)
        if data is None:  # unreadable: the session said why
            return
        summary = self.session.project.summary(path)
        cand = summary.chosen if summary is not None and summary.chosen is not None else 0
        audio = data.listening_audio(cand)
        self.current = path
        spec = data.spec
        self.title.setText(f"{spec.get('artist') or 'unknown'} - {spec.get('genre') or 'unknown'}")
        level = data.best_level
        self.details.setText(f"{Path(path).name}, candidate {cand + 1}, level {level} "
                             f"({'final quality' if level == 0 else 'preview quality'})")
        align = data.alignment.get(cand) or next(iter(data.alignment.values()), None)
        top = len(data.hop_lengths) - 1
        self.karaoke.set_alignment(align[0] if align else None, align[1] if align else "", data.hop_lengths[top],
                                   data.sr)
        self.view.set_audio(audio, data.sr)
        if audio is not None:
            self.playback.load(audio, data.sr, key=(path, level, cand))

    def play_current(self) -> None:
        self._playing_here = True
        if self.playback.state.value != "playing":
            self.playback.toggle()

    def next(self) -> None:
        row = self.playlist.currentRow()
        if row + 1 < self.playlist.count():
            self.playlist.setCurrentRow(row + 1)
            if self._playing_here:
                self.play_current()

    def previous(self) -> None:
        row = self.playlist.currentRow()
        if self.playback.position > 2.0 or row <= 0:
            self.playback.seek(0.0)  # as in every player: first back to the start of this one
            return
        self.playlist.setCurrentRow(row - 1)
        if self._playing_here:
            self.play_current()

    # -- playback -------------------------------------------------------------------------------------------------------
    def _position(self, seconds: float) -> None:
        self.view.set_position(seconds)
        self.karaoke.update_position(seconds)

    def _state(self, state: str) -> None:
        self.play_button.setText("Pause" if state == "playing" else "Play")
        if state == "playing":
            self._playing_here = True
        at_end = self.playback.duration > 0 and self.playback.position >= self.playback.duration - 0.05
        if state == "stopped" and at_end and self.auto_advance and self._playing_here:
            if self.playlist.currentRow() + 1 < self.playlist.count():
                self.next()
            else:
                self._playing_here = False

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        action = self.keys.get(event.key())
        if action is None:
            super().keyPressEvent(event)
        else:
            action()

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._playing_here = False
        if self.playback.state.value == "playing":
            self.playback.toggle()
        self.closed.emit()
        super().closeEvent(event)
