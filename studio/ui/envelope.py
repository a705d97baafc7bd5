"""A min/max waveform envelope drawn as one vertical segment per column (cheap at any length).

pyqtgraph's FillBetweenItem rebuilds a filled path with path operations on every update (about 150 ms for 2000
columns), which stalled the interface while new audio arrived; segments joined pairwise cost a millisecond.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg


class EnvelopeItem(pg.PlotCurveItem):
    def __init__(self, color=(79, 157, 217, 170)):
        super().__init__(pen=pg.mkPen(color), connect="pairs")

    def set_envelope(self, times: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Columns at ``times`` spanning [lo, hi]; empty arrays clear it."""
        x = np.repeat(np.asarray(times, dtype=np.float64), 2)
        y = np.empty(2 * len(lo), dtype=np.float64)
        y[0::2], y[1::2] = lo, hi
        self.setData(x, y)
