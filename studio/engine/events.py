"""Events the sampler yields. Frozen dataclasses holding CPU numpy copies, safe to send across threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import math

import numpy as np


def clock_text(seconds: Optional[float], unknown: str = "--:--", tenths: bool = False) -> str:
    """A duration as ``m:ss`` or ``h:mm:ss`` (rounded to the second, or with ``tenths`` to a tenth: ``0:12.5``, for a
    point in a take); ``unknown`` when it is not known yet."""
    if seconds is None or not math.isfinite(seconds):
        return unknown
    scale = 10 if tenths else 1
    h, rem = divmod(max(0, int(round(seconds * scale))), 3600 * scale)
    m, s = divmod(rem, 60 * scale)
    sec = f"{s / scale:04.1f}" if tenths else f"{s:02d}"
    return f"{h}:{m:02d}:{sec}" if h else f"{m}:{sec}"


@dataclass(frozen=True)
class JobPlanned:
    """Sent once before any work: the windows every level will run, for a whole-job progress bar and ETA."""

    levels: tuple  # levels to sample, top first, e.g. (2, 1, 0)
    windows: dict  # level -> list of (start, end) token ranges still to sample
    tokens_per_level: dict  # level -> total tokens of that level
    n_candidates: int
    eta: float = float("nan")  # whole-job estimate in seconds, from steps timed on this machine

    @property
    def added(self) -> dict:
        """level -> the tokens each of its windows adds to those before it (:func:`added_tokens`)."""
        return {lv: added_tokens(spans) for lv, spans in self.windows.items()}


def added_tokens(spans) -> list[int]:
    """Tokens each of the (start, end) windows, run in order, adds to those before it: windows overlap (each one's
    start is the context it conditions on), so a level's total is the tokens it covers, not the sum of the windows'
    lengths. The one rule for the whole-job estimate, the ETA and the progress bars."""
    added, reached = [], 0
    for start, end in spans:
        added.append(max(0, end - max(start, reached)))
        reached = max(reached, end)
    return added


@dataclass(frozen=True)
class Progress:
    """One decode step (or a batch of steps) inside a window."""

    level: int
    window: int  # index into JobPlanned.windows[level]
    n_windows: int
    step: int  # tokens generated in this window so far
    n_steps: int  # tokens this window generates
    elapsed: float  # seconds since the job started
    eta: float  # estimated seconds left for the whole job (nan until measurable)


@dataclass(frozen=True)
class WindowDone:
    """A window finished and its codes are on disk."""

    level: int
    window: int
    n_windows: int
    start: int  # token range of this level the window covered
    end: int
    codes: np.ndarray = field(repr=False)  # (N, end - start) int64: this window's codes (the level is on disk)


@dataclass(frozen=True)
class LevelDone:
    """A level finished and was decoded to audio."""

    level: int
    codes: np.ndarray = field(repr=False)  # (N, T_level) int64
    audio: np.ndarray = field(repr=False)  # (N, samples) float32 in [-1, 1]
    sr: int = 44100


@dataclass(frozen=True)
class AlignmentReady:
    """Lyric alignment of the top level: per candidate a (top_tokens, n_chars) attention matrix."""

    matrices: tuple  # of np.ndarray
    lyrics: tuple  # per candidate, the cleaned lyric text the columns index


@dataclass(frozen=True)
class Warning_:
    """Something the user should know that does not stop the job (unknown artist, lyrics cleaned...)."""

    message: str


@dataclass(frozen=True)
class Preparing:
    """The sampler is getting ready before a level's first step (compiling its decode step)."""

    level: int
    message: str
    seconds: float = float("nan")  # expected wait


@dataclass(frozen=True)
class UnitStarted:
    """A farm worker began sampling one unit: a window of a level for some candidates (a local job sends none)."""

    level: int
    window: int  # index into JobPlanned.windows[level]
    n_windows: int
    candidates: tuple  # the candidates (0-based) the unit samples
    worker: str  # which worker, e.g. "worker 2 on gpu-box"

    def text(self) -> str:
        """What a queue row shows, e.g. "level 1 window 3 (candidates 1, 2) - worker 2 on gpu-box"."""
        cands = ", ".join(str(c + 1) for c in self.candidates)
        return (f"level {self.level} window {self.window + 1} (candidate{'s' if len(self.candidates) > 1 else ''} "
                f"{cands}) - {self.worker}")


@dataclass(frozen=True)
class JobDone:
    take_dir: str
    cancelled: bool = False
    error: Optional[str] = None
    # levels that ran uncompiled because compiling their step the first time would have cost this job more than it
    # saved; compiled in the background afterwards (warm_up.py), the next job runs them compiled
    compile_deferred: tuple = ()


Event = (JobPlanned | Progress | WindowDone | LevelDone | AlignmentReady | Warning_ | Preparing | UnitStarted
         | JobDone)
