"""The player as a Qt state object: polls the audio player's position with a QTimer and owns the shared loop region.

A/B auditioning swaps the buffer with ``keep_position=True``, so candidates are compared at the same spot inside the
same loop. Where no audio device exists the player is UNAVAILABLE: this object then reports the reason once and the
transport disables itself; seeking and the playhead keep working.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from studio.audio.player import Player, PlayerState


class Playback(QObject):
    position_changed = Signal(float)  # seconds
    state_changed = Signal(str)  # PlayerState value
    loop_changed = Signal(object)  # (start, end) or None
    loaded = Signal(float)  # duration in seconds
    unavailable = Signal(str)  # the reason, naming cause and fix

    def __init__(self, player: Optional[Player] = None, poll_ms: int = 30, parent=None):
        super().__init__(parent)
        self.player = player if player is not None else Player()
        self._state = self.player.state
        self._position = 0.0
        self._loop: Optional[tuple] = None  # the region, kept even while looping is off
        self.loop_enabled = False
        self.key: Optional[tuple] = None  # what is loaded: (take folder, level, candidate)
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    # -- readouts ---------------------------------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return self.player.state is not PlayerState.UNAVAILABLE

    @property
    def reason(self) -> str:
        return self.player.unavailable_reason

    @property
    def state(self) -> PlayerState:
        return self.player.state

    @property
    def position(self) -> float:
        return self.player.position

    @property
    def duration(self) -> float:
        return self.player.duration

    @property
    def loop(self) -> Optional[tuple]:
        return self._loop

    def poll(self) -> None:
        pos, state = self.player.position, self.player.state
        if pos != self._position:
            self._position = pos
            self.position_changed.emit(pos)
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state.value)
            if state is PlayerState.UNAVAILABLE:
                self.unavailable.emit(self.reason)

    # -- control ------------------------------------------------------------------------------------------------------
    def load(self, audio: np.ndarray, sr: int, key: Optional[tuple] = None, keep_position: bool = False) -> None:
        self.player.load(audio, sr, keep_position=keep_position)
        self.key = key
        if self._loop is not None and self.loop_enabled and self._loop[1] <= self.player.duration + 1e-6:
            self.player.set_loop(*self._loop)
        self.loaded.emit(self.player.duration)
        self.poll()

    def toggle(self) -> None:
        """Space: play, or pause when playing."""
        if self.player.state is PlayerState.PLAYING:
            self.player.pause()
        else:
            self.player.play()
        self.poll()

    def stop(self) -> None:
        self.player.stop()
        self.poll()

    def seek(self, seconds: float) -> None:
        self.player.seek(max(0.0, float(seconds)))
        self.poll()

    def home(self) -> None:
        self.seek(self._loop[0] if self._loop and self.loop_enabled else 0.0)

    def end(self) -> None:
        self.seek(self._loop[1] if self._loop and self.loop_enabled else self.player.duration)

    def set_loop_region(self, start: float, end: float) -> None:
        """The shared A/B region; playing loops over it while looping is on."""
        start, end = sorted((max(0.0, float(start)), max(0.0, float(end))))
        if end - start < 0.01:
            self.clear_loop()
            return
        region = (start, end)
        if region == self._loop:
            return
        self._loop = region
        self._apply_loop()
        self.loop_changed.emit(region)

    def clear_loop(self) -> None:
        if self._loop is None:
            return
        self._loop = None
        self.player.clear_loop()
        self.loop_changed.emit(None)

    def set_loop_enabled(self, on: bool) -> None:
        self.loop_enabled = bool(on)
        self._apply_loop()

    def _apply_loop(self) -> None:
        if self._loop is not None and self.loop_enabled and self.player.duration > 0:
            try:
                self.player.set_loop(*self._loop)
            except ValueError:  # the region lies outside this (shorter) audio: play straight through
                self.player.clear_loop()
        else:
            self.player.clear_loop()

    def retry(self) -> bool:
        ok = self.player.retry()
        self.poll()
        return ok

    def close(self) -> None:
        self._timer.stop()
        self.player.close()
