"""What a take's farm job may run next, in dependency order; pure bookkeeping, no Ray and no sampling.

A unit is one window of one level for one batch of candidate rows, the same batches the in-process sampler makes
(``spec.max_batch[level]`` candidates at a time), so a unit draws the same tokens bit for bit. A batch's windows run in
sequence; different batches, levels and takes run side by side; a window of a lower level is ready as soon as the
codes of the level above under it exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from studio.engine.windows import Window, sampled_prefix


@dataclass(frozen=True)
class LevelLayout:
    """What the schedule needs to know of one level's prior and windows."""

    level: int
    n_ctx: int  # tokens per window
    cond_upsample: Optional[int]  # tokens of this level per token of the level above; None at the top
    windows: tuple  # of Window, in order


@dataclass(frozen=True)
class WindowUnit:
    """One window of one level for one batch of rows: what a worker samples in one call."""

    level: int
    window: int  # index into the level's windows
    start: int
    end: int
    have: int  # tokens at the window's start the rows already have (the context)
    batch: int  # index into the level's batches
    rows: tuple  # row indices of the take's code arrays
    candidates: tuple  # the rows' original candidate numbers (seed streams)

    @property
    def n_new(self) -> int:
        return (self.end - self.start) - self.have


def batches(n_candidates: int, max_batch: int) -> list[tuple]:
    """Rows 0..n-1 in the in-process sampler's batches of ``max_batch``."""
    size = min(n_candidates, max(1, int(max_batch)))
    return [tuple(range(i, min(i + size, n_candidates))) for i in range(0, n_candidates, size)]


class TakeSchedule:
    """The windows of a take's levels still to sample, over the driver's in-memory copy of its codes."""

    def __init__(self, layouts: dict, levels: list, codes: dict, candidates: list, max_batch: list):
        self.layouts = layouts  # level -> LevelLayout
        self.levels = list(levels)  # the plan's levels, top first
        self.codes = codes  # level -> (N, T_L) int64, -1 where not sampled; updated by `complete`
        self.candidates = list(candidates)
        self.batches = {lv: batches(len(candidates), max_batch[lv]) for lv in self.levels}
        self.running: set = set()  # (level, batch) with a unit out
        self.windows_done = {lv: 0 for lv in self.levels}  # windows this job completed

    def _missing(self, level: int, rows: tuple, w: Window) -> bool:
        return sampled_prefix(self.codes[level][list(rows)], w) < w.end - w.start

    def _upper_ready(self, level: int, rows: tuple, w: Window) -> bool:
        lay = self.layouts[level]
        if lay.cond_upsample is None:
            return True
        up = lay.cond_upsample
        return bool((self.codes[level + 1][list(rows), w.start // up:(w.start + lay.n_ctx) // up] >= 0).all())

    def next_unit(self, level: int, batch: int) -> Optional[WindowUnit]:
        """The batch's first unsampled window of ``level``, or None when every window is done."""
        rows = self.batches[level][batch]
        for wi, w in enumerate(self.layouts[level].windows):
            if self._missing(level, rows, w):
                have = sampled_prefix(self.codes[level][list(rows)], w)
                return WindowUnit(level, wi, w.start, w.end, have, batch, rows,
                                  tuple(self.candidates[r] for r in rows))
        return None

    def ready(self) -> list[WindowUnit]:
        """Units that may start now: top level first, then by window and batch."""
        out = []
        for level in self.levels:
            for b in range(len(self.batches[level])):
                if (level, b) in self.running:
                    continue
                unit = self.next_unit(level, b)
                if unit is not None and self._upper_ready(level, unit.rows, Window(unit.start, unit.end)):
                    out.append(unit)
        return out

    def start(self, unit: WindowUnit) -> None:
        self.running.add((unit.level, unit.batch))

    def abandon(self, unit: WindowUnit) -> None:
        """The unit did not finish (its worker was lost or it was cancelled): it is ready again."""
        self.running.discard((unit.level, unit.batch))

    def complete(self, unit: WindowUnit, tokens: np.ndarray) -> bool:
        """Store the unit's (B, n_new) tokens; True when this completed the window for every row."""
        self.running.discard((unit.level, unit.batch))
        codes = self.codes[unit.level]
        codes[list(unit.rows), unit.start + unit.have:unit.end] = tokens
        w = Window(unit.start, unit.end)
        if sampled_prefix(codes, w) < w.end - w.start:
            return False
        self.windows_done[unit.level] += 1
        return True

    def level_sampled(self, level: int) -> bool:
        """Every window of ``level`` is sampled for every row."""
        codes = self.codes[level]
        return all(sampled_prefix(codes, w) == w.end - w.start for w in self.layouts[level].windows)

    def stuck(self) -> Optional[str]:
        """Why nothing can run although windows are left (codes of a level above that this job never samples)."""
        if self.running or self.ready():
            return None
        for level in self.levels:
            for b in range(len(self.batches[level])):
                unit = self.next_unit(level, b)
                if unit is not None:
                    return (f"level {level + 1} has no codes under tokens {unit.start}-{unit.end} of level {level}: "
                            f"upsample the level above over this range first.")
        return None
