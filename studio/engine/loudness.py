"""Render loudness: decoded audio is brought to the level of the training audio, and a soft limiter keeps every
sample strictly inside full scale.

One gain per candidate (the whole decoded level), so the dynamics inside a song are kept; only the sounding part
(codes >= 0) is measured, so silence left for later windows does not raise the gain.
"""

from __future__ import annotations

import numpy as np

TARGET_RMS_DBFS = -20.0  # the data builder normalises every training clip to -20 dBFS RMS
MAX_GAIN_DB = 12.0  # a near-silent render is raised at most this much, so a quiet take is not blown up into hiss
LIMIT_FROM = 0.9  # samples above this magnitude are bent smoothly towards the ceiling (slope 1 where the bend starts)
CEILING = 0.98  # the limiter's output never reaches this (float32 rounding at most lands on it): never clips


def soft_limit(audio: np.ndarray) -> np.ndarray:
    """Leave |x| <= LIMIT_FROM alone; map larger magnitudes into (LIMIT_FROM, CEILING] with a tanh knee, in place."""
    loud = np.abs(audio) > LIMIT_FROM
    if loud.any():
        span = CEILING - LIMIT_FROM
        x = audio[loud]
        audio[loud] = np.sign(x) * (LIMIT_FROM + span * np.tanh((np.abs(x) - LIMIT_FROM) / span))
    return audio


def set_loudness(audio: np.ndarray, active: np.ndarray) -> np.ndarray:
    """(N, T) decoded audio -> the same array, silent where ``active`` (N, T) is False, each row's sounding part at
    TARGET_RMS_DBFS (gain at most +MAX_GAIN_DB), soft-limited below full scale."""
    audio *= active
    for row, on in zip(audio, active):
        n = int(on.sum())
        if n == 0:
            continue
        rms = float(np.sqrt(np.mean(np.square(row[on], dtype=np.float64))))
        if rms <= 0.0:
            continue
        gain_db = min(TARGET_RMS_DBFS - 20 * np.log10(rms), MAX_GAIN_DB)
        row *= np.float32(10 ** (gain_db / 20))
        soft_limit(row)
    return audio
