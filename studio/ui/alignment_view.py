"""Lyric alignment: the alignment head's attention as an image (time across, lyric characters up), and a karaoke
line that highlights the word the alignment places at the play position.
"""

from __future__ import annotations

import html
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy

from studio.state.lyric_window import sung_char, word_around
from studio.ui.waveform_view import TimelineViewBox


class AlignmentView(pg.PlotWidget):
    seek_requested = Signal(float)

    def __init__(self, parent=None):
        self.vb = TimelineViewBox()
        super().__init__(parent, viewBox=self.vb)
        self.setLabel("bottom", "time", units="s")
        self.setLabel("left", "lyric character")
        self.setTitle("Lyric alignment (which characters each moment attends to)", size="9pt")
        self.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("inferno"))
        self.addItem(self.image)
        self.playhead = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#4fc3f7", width=1))
        self.addItem(self.playhead)
        self.matrix: Optional[np.ndarray] = None
        self.vb.clicked.connect(lambda t: self.seek_requested.emit(max(0.0, t)))

    def set_matrix(self, matrix: Optional[np.ndarray], seconds_per_token: float) -> None:
        """``matrix``: (top_tokens, n_chars) attention, or None to clear."""
        self.matrix = None if matrix is None else np.asarray(matrix, dtype=np.float32)
        if self.matrix is None or self.matrix.size == 0:
            self.image.clear()
            self.vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            return
        top = float(self.matrix.max()) or 1.0
        self.image.setImage(self.matrix, levels=(0.0, top), autoLevels=False)  # x = token, y = character
        duration = self.matrix.shape[0] * seconds_per_token
        self.image.setRect(0, 0, duration, self.matrix.shape[1])
        self.vb.setLimits(xMin=0, xMax=max(duration, 0.01))
        seen = np.flatnonzero(self.matrix.max(axis=0) > 0)  # the characters any moment attends to
        y1 = int(seen[-1]) + 1 if seen.size else self.matrix.shape[1]
        self.vb.setRange(xRange=(0, duration), yRange=(0, max(y1, 1)), padding=0)

    def set_position(self, seconds: float) -> None:
        self.playhead.setValue(seconds)


class KaraokeLine(QLabel):
    """The lyrics around the sung word, the word itself highlighted; ``sung`` is its [start, end) in the lyrics."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setTextFormat(Qt.RichText)
        self.setAlignment(Qt.AlignCenter)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self.setMinimumHeight(34)
        self.setStyleSheet("font-size: 15px; padding: 4px;")
        self.lyrics = ""
        self.matrix: Optional[np.ndarray] = None
        self.top_hop, self.sr = 128, 44100
        self.sung: Optional[tuple] = None
        self.setText("<i>Lyrics appear here, highlighted as they are sung, once a take with lyrics is done.</i>")

    def set_alignment(self, matrix: Optional[np.ndarray], lyrics: str, top_hop: int, sr: int) -> None:
        self.matrix, self.lyrics, self.top_hop, self.sr = matrix, lyrics or "", int(top_hop), int(sr)
        self.sung = None
        if matrix is None or not self.lyrics:
            self.setText("<i>No lyric alignment for this take.</i>")
        else:
            self.update_position(0.0)

    def update_position(self, seconds: float) -> Optional[tuple]:
        if self.matrix is None or not self.lyrics:
            return None
        idx = sung_char(self.matrix, seconds, self.top_hop, self.sr)
        span = word_around(self.lyrics, idx) if idx is not None and idx < len(self.lyrics) else None
        if span == self.sung:
            return span
        self.sung = span
        if span is None:
            self.setText(html.escape(self._line(0, 0)))
            return None
        a, b = span
        lo, hi = max(0, a - 40), min(len(self.lyrics), b + 40)
        before = html.escape(self.lyrics[lo:a].replace("\n", " / "))
        word = html.escape(self.lyrics[a:b])
        after = html.escape(self.lyrics[b:hi].replace("\n", " / "))
        self.setText(f"<span style='color:#888'>{before}</span><b style='background:#66bbff;color:black'>"
                     f"{word}</b><span style='color:#888'>{after}</span>")
        return span

    def _line(self, a: int, b: int) -> str:
        return self.lyrics[:80].replace("\n", " / ")
