"""Loudness for rendered clips: instruments to a fixed level, the singer on top, no clipping."""

from __future__ import annotations

import numpy as np

TARGET_DBFS = -20.0  # RMS of the audible part of an instrumental clip (DEMO_DATA.md section 2)
BED_UNDER_VOICE_DB = -6.0  # the accompaniment sits this far under the voice in sung clips
PEAK_LIMIT = 0.95
FRAME = 1024
SILENT_DBFS = -45.0  # frames below this, relative to full scale, do not count towards loudness


def active_rms(audio: np.ndarray) -> float:
    """RMS over the frames louder than ``SILENT_DBFS`` (0.0 for silence)."""
    n = len(audio) // FRAME * FRAME
    if n == 0:
        return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) if len(audio) else 0.0
    frames = audio[:n].astype(np.float64).reshape(-1, FRAME)  # (frames, FRAME)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    loud = rms[rms > 10 ** (SILENT_DBFS / 20)]
    if loud.size == 0:
        loud = rms[rms > 0]
    return float(np.sqrt(np.mean(loud ** 2))) if loud.size else 0.0


def _gain_to(audio: np.ndarray, dbfs: float) -> np.ndarray:
    rms = active_rms(audio)
    return audio if rms == 0 else audio * np.float32(10 ** (dbfs / 20) / rms)


def _limit(audio: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > PEAK_LIMIT:
        audio = audio * np.float32(PEAK_LIMIT / peak)
    return audio.astype(np.float32)


def normalise(audio: np.ndarray, dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Scale a clip so its audible part has RMS ``dbfs``, then keep peaks under ``PEAK_LIMIT``. float32 (T,)."""
    return _limit(_gain_to(audio, dbfs))


def mix_vocals(bed: np.ndarray, voice: np.ndarray) -> np.ndarray:
    """The singer at the target level with the accompaniment under it. Both (T,) float32, same length."""
    voice = _gain_to(voice[: len(bed)], TARGET_DBFS)
    mixed = _gain_to(bed, TARGET_DBFS + BED_UNDER_VOICE_DB)
    mixed[: len(voice)] += voice
    return normalise(mixed, TARGET_DBFS)
