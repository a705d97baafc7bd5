"""Which level plays where: a take whose finer levels exist only in part (a range upsample, a continuation) plays, over
each time range, the finest level that exists there, instead of silence where the finest level was not sampled.

Pure numpy, no Qt: :class:`~studio.state.take_data.TakeData` gathers each level's audio and where its codes were
sampled; the player gets :func:`mix`'s audio and the waveform shades :func:`preview_ranges`.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np


class LevelSource(NamedTuple):
    """One level a candidate can be heard at.

    Attributes:
        level: 0 (full quality) .. top (preview).
        audio: (samples,) float32 decoded audio of that level.
        sampled: (T_L,) bool, the level's tokens that were sampled (elsewhere ``audio`` is silence).
        hop: raw samples per token of the level.
    """

    level: int
    audio: np.ndarray
    sampled: np.ndarray
    hop: int


class Run(NamedTuple):
    """A stretch of the take played at one level, in samples; level None where no level has sound."""

    start: int
    end: int
    level: Optional[int]


def runs(sources: list[LevelSource], n_samples: int) -> list[Run]:
    """The level played over each stretch of ``n_samples``: the finest level sampled there, covering the take in order.

    Resolution is the finest hop among ``sources`` (every hop is a multiple of it).
    """
    if n_samples <= 0:
        return []
    if not sources:
        return [Run(0, n_samples, None)]
    unit = min(s.hop for s in sources)
    n_units = -(-n_samples // unit)
    level_of = np.full(n_units, -1, dtype=np.int64)  # (n_units,) the level played at each unit, -1 for none
    for s in sorted(sources, key=lambda s: -s.level):  # coarse first: finer levels overwrite where they exist
        here = np.repeat(s.sampled, s.hop // unit)[: min(n_units, len(s.audio) // unit)]  # (<= n_units,)
        level_of[: len(here)][here] = s.level
    edges = [0, *(np.flatnonzero(np.diff(level_of)) + 1).tolist(), n_units]
    return [Run(a * unit, min(b * unit, n_samples), None if level_of[a] < 0 else int(level_of[a]))
            for a, b in zip(edges[:-1], edges[1:])]


def mix(sources: list[LevelSource], n_samples: int) -> Optional[np.ndarray]:
    """(n_samples,) float32: each stretch from the finest level sampled there (silence where none is); None when no
    level has audio. One level covering the whole take is returned as it is, uncopied."""
    if not sources:
        return None
    by_level = {s.level: s for s in sources}
    played = runs(sources, n_samples)
    if len(played) == 1 and played[0].level is not None and len(by_level[played[0].level].audio) == n_samples:
        return by_level[played[0].level].audio
    out = np.zeros(n_samples, dtype=np.float32)
    for run in played:
        if run.level is not None:
            audio = by_level[run.level].audio
            end = min(run.end, len(audio))
            out[run.start:end] = audio[run.start:end]
    return out


def preview_ranges(sources: list[LevelSource], n_samples: int, sr: int) -> tuple:
    """((start_s, end_s), ...) where the take plays below full quality (a level above 0), in seconds."""
    return tuple((r.start / sr, r.end / sr) for r in runs(sources, n_samples) if r.level is not None and r.level > 0)
