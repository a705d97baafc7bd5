"""The code-level view: the three levels' codes as images on one time axis (top level above), one row per candidate.

Unsampled codes are dark grey, so what has been upsampled so far reads at a glance. The windows of the running job
are outlined, the window being sampled is boxed (the model's context) with its context edge (the frontier between
codes it conditions on and codes it is writing) drawn as a line. Hover shows level, time, candidate and code; a
click seeks the player.
"""

from __future__ import annotations

import functools
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal

from studio.ui.waveform_view import TimelineViewBox

BAND = 1.0  # height of one level's band
GAP = 0.15
UNSAMPLED = np.array([45, 45, 48, 255], dtype=np.uint8)


@functools.lru_cache(maxsize=1)
def _lut() -> np.ndarray:
    """(256, 4) RGBA; built once (pyqtgraph parses the colour map from a CSV file on every get)."""
    return pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=True).astype(np.uint8)  # (256, 4)


def codes_rgba(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """(N, T) codes in [0, n_codes) -> (T, N, 4) uint8 image (x = time, y = candidate); -1 becomes dark grey."""
    lut = _lut()
    idx = (np.clip(codes, 0, None) * 255 // max(1, n_codes - 1)).astype(np.int64)
    rgba = lut[np.clip(idx, 0, 255)]  # (N, T, 4)
    rgba[codes < 0] = UNSAMPLED
    return np.ascontiguousarray(rgba.transpose(1, 0, 2)[:, ::-1])  # first candidate on top of its band


class CodeLevelView(pg.PlotWidget):
    seek_requested = Signal(float)
    hovered = Signal(str)  # "level 1 · 0.52 s · candidate 2 · code 611", '' when outside

    def __init__(self, levels: int = 3, parent=None):
        self.vb = TimelineViewBox()
        super().__init__(parent, viewBox=self.vb)
        self.levels = levels
        _lut()  # read the colour map now, not while a job's first codes arrive
        self.setLabel("bottom", "time", units="s")
        self.setTitle("Codes per level (rows: candidates; grey: not sampled yet)", size="9pt")
        self.getAxis("left").setTicks([[(self._y0(lv) + BAND / 2, f"L{lv}") for lv in range(levels)]])
        self.setYRange(0, self._y0(levels - 1) + BAND, padding=0.02)
        self.codes: dict = {}
        self.hop_lengths = (8, 32, 128)
        self.sr = 44100
        self.n_codes = 0  # the loaded model's codebook size (0 before one loads: the largest code shown sets the scale)
        self.images = {}
        for lv in range(levels):
            img = pg.ImageItem()
            self.addItem(img)
            self.images[lv] = img
        self.window_lines = {lv: self.plot(pen=pg.mkPen(255, 255, 255, 70), connect="pairs") for lv in range(levels)}
        self.current_box = pg.PlotDataItem(pen=pg.mkPen("#f5b041", width=2))
        self.addItem(self.current_box)
        self.context_edge = pg.PlotDataItem(pen=pg.mkPen("#e74c3c", width=2))
        self.addItem(self.context_edge)
        self.playhead = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#e74c3c", width=1))
        self.addItem(self.playhead)
        self.hover_text = ""
        self.current: Optional[tuple] = None  # (level, start, end, frontier) in tokens
        self._pending: dict = {}  # level -> codes to draw at the next redraw tick (update_level_soon)
        self._redraw = QTimer(self, singleShot=True, interval=120)
        self._redraw.timeout.connect(self._draw_pending)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.vb.clicked.connect(lambda t: self.seek_requested.emit(max(0.0, t)))
        self.vb.setMouseEnabled(x=True, y=False)

    def _y0(self, level: int) -> float:
        return level * (BAND + GAP)

    def _seconds(self, level: int, tokens: float) -> float:
        return tokens * self.hop_lengths[level] / self.sr

    # -- data -------------------------------------------------------------------------------------------------------
    def set_n_codes(self, n_codes: int) -> None:
        """The loaded model's codebook size: the colour scale of every level (redrawn now)."""
        self.n_codes = int(n_codes)
        for level, codes in list(self.codes.items()):
            self.update_level(level, codes)

    def set_codes(self, codes: dict, hop_lengths, sr: int) -> None:
        """``codes``: level -> (N, T_L) int64 (-1 = unsampled). Replaces everything shown."""
        self.hop_lengths, self.sr = tuple(hop_lengths), int(sr)
        self._pending = {}
        self.codes = {}
        for lv in range(self.levels):
            if lv in codes:
                self.update_level(lv, codes[lv])
            else:
                self.images[lv].clear()
        self.set_windows({})
        self.set_current(None)
        duration = max((self._seconds(lv, c.shape[1]) for lv, c in self.codes.items()), default=0.0)
        self.vb.setLimits(xMin=0, xMax=duration or 1.0)
        self.vb.setXRange(0, duration or 1.0, padding=0)

    def update_level_soon(self, level: int, codes: np.ndarray) -> None:
        """Like :meth:`update_level`, at most once per redraw tick: windows can land faster than a level draws."""
        self._pending[level] = codes
        if not self._redraw.isActive():
            self._redraw.start()

    def _draw_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for level, codes in pending.items():
            self.update_level(level, codes)

    def update_level(self, level: int, codes: np.ndarray) -> None:
        codes = np.asarray(codes)
        self.codes[level] = codes
        if codes.size == 0:
            self.images[level].clear()
            return
        scale = self.n_codes or int(codes.max()) + 1
        # explicit levels: a long level is drawn downsampled to the view's pixels, and pyqtgraph's downsample turns the
        # uint8 colours into floats, which it cannot draw without levels (it raised from paint before)
        self.images[level].setImage(codes_rgba(codes, scale), levels=(0, 255), autoDownsample=True)
        self.images[level].setRect(0, self._y0(level), self._seconds(level, codes.shape[1]), BAND)

    def set_windows(self, windows: dict) -> None:
        """level -> [(start, end) tokens]: outlined as thin vertical ticks at each window's start and end."""
        for lv in range(self.levels):
            xs, ys = [], []
            y0 = self._y0(lv)
            for start, end in windows.get(lv, []):
                for tok in (start, end):
                    t = self._seconds(lv, tok)
                    xs += [t, t]
                    ys += [y0, y0 + BAND]
            self.window_lines[lv].setData(xs, ys)

    def set_current(self, current: Optional[tuple]) -> None:
        """(level, start, end, frontier) tokens of the window being sampled, or None."""
        self.current = current
        if current is None:
            self.current_box.setData([], [])
            self.context_edge.setData([], [])
            return
        lv, start, end, frontier = current
        y0, y1 = self._y0(lv) - 0.04, self._y0(lv) + BAND + 0.04
        a, b = self._seconds(lv, start), self._seconds(lv, end)
        self.current_box.setData([a, b, b, a, a], [y0, y0, y1, y1, y0])
        f = self._seconds(lv, frontier)
        self.context_edge.setData([f, f], [y0, y1])

    def set_position(self, seconds: float) -> None:
        self.playhead.setValue(seconds)

    # -- hover ----------------------------------------------------------------------------------------------------------
    def describe(self, x: float, y: float) -> str:
        """What is under the point (x seconds, y in band units): level, time, candidate and code."""
        for lv, codes in self.codes.items():
            y0 = self._y0(lv)
            if not y0 <= y < y0 + BAND or codes.size == 0:
                continue
            tok = int(x * self.sr / self.hop_lengths[lv])
            if not 0 <= tok < codes.shape[1]:
                return ""
            n = codes.shape[0]
            cand = min(n - 1, int((y0 + BAND - y) / BAND * n))
            code = int(codes[cand, tok])
            shown = "not sampled" if code < 0 else f"code {code}"
            return f"level {lv} · {x:.3f} s · candidate {cand + 1} · {shown}"
        return ""

    def _mouse_moved(self, pos) -> None:
        if not self.vb.sceneBoundingRect().contains(pos):
            text = ""
        else:
            p = self.vb.mapSceneToView(pos)
            text = self.describe(float(p.x()), float(p.y()))
        if text != self.hover_text:
            self.hover_text = text
            self.setToolTip(text)
            self.hovered.emit(text)

