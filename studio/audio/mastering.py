"""Preparing audio for a DAW before it is written: sample rate, fades and loudness normalisation.

The rate change uses the band-limited resampler of :mod:`studio.audio.resample`; loudness is measured as ITU-R
BS.1770 integrated loudness (LUFS) with ``pyloudnorm``. The gain that reaches the target is applied only as far as the
sample peak stays at or below ``PEAK_CEILING``: audio that would clip keeps the highest loudness it can reach cleanly,
and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from studio.audio.resample import check_rate, resample

__all__ = ["BIT_DEPTHS", "DEFAULT_LUFS", "ExportOptions", "MasterReport", "PEAK_CEILING", "integrated_loudness",
           "master"]

DEFAULT_LUFS = -14.0  # the streaming services' common playback target
PEAK_CEILING = 10 ** (-1.0 / 20)  # -1 dBFS: room for the inter-sample peaks of lossy encoders
BIT_DEPTHS = (16, 24, 32)  # PCM 16-bit, PCM 24-bit, 32-bit float
_BLOCK_SECONDS = 0.4  # BS.1770 gating block: shorter audio has no integrated loudness


@dataclass(frozen=True)
class ExportOptions:
    """How an export is prepared.

    Attributes:
        sample_rate: rate of the written file in Hz; None keeps the take's own rate.
        bit_depth: 16 or 24 (PCM) or 32 (float) for WAV and FLAC (FLAC has no float); lossy formats ignore it.
        loudness: integrated loudness target in LUFS; None writes the take's level unchanged.
        fade_in, fade_out: seconds of linear fade at the start and the end (0: none).
    """

    sample_rate: Optional[int] = None
    bit_depth: int = 24
    loudness: Optional[float] = DEFAULT_LUFS
    fade_in: float = 0.0
    fade_out: float = 0.0

    def __post_init__(self):
        if self.sample_rate is not None:
            check_rate("sample_rate", self.sample_rate)
        if self.bit_depth not in BIT_DEPTHS:
            raise ValueError(f"bit_depth must be one of {BIT_DEPTHS}, got {self.bit_depth!r}")
        if self.loudness is not None and not -70.0 <= float(self.loudness) <= 0.0:
            raise ValueError(f"loudness must be between -70 and 0 LUFS, got {self.loudness!r}")
        if not (0.0 <= self.fade_in < 3600 and 0.0 <= self.fade_out < 3600):
            raise ValueError(f"fades must be 0 or more seconds, got {self.fade_in!r} and {self.fade_out!r}")


@dataclass(frozen=True)
class MasterReport:
    """What :func:`master` did.

    Attributes:
        sr: the rate of the returned audio.
        loudness: integrated loudness of the returned audio in LUFS (None when it could not be measured).
        gain_db: gain applied for loudness (0 when none).
        note: one sentence for the user when the target was not met, else ''.
    """

    sr: int
    loudness: Optional[float]
    gain_db: float
    note: str


def integrated_loudness(audio: np.ndarray, sr: int) -> Optional[float]:
    """BS.1770 integrated loudness in LUFS of (T,) or (C, T) audio; None when shorter than 0.4 s or silent."""
    import pyloudnorm  # scipy behind it: loaded only when an export measures loudness

    data = np.asarray(audio, dtype=np.float64)
    frames = data[:, None] if data.ndim == 1 else data.T  # (T, C)
    if frames.shape[0] < int(np.ceil(_BLOCK_SECONDS * sr)) + 1:
        return None
    value = pyloudnorm.Meter(sr).integrated_loudness(frames)
    return float(value) if np.isfinite(value) else None


def _fade(audio: np.ndarray, sr: int, fade_in: float, fade_out: float) -> np.ndarray:
    n = audio.shape[-1]
    gain = np.ones(n, dtype=np.float32)
    n_in, n_out = min(n, int(round(fade_in * sr))), min(n, int(round(fade_out * sr)))
    if n_in:
        gain[:n_in] *= np.linspace(0.0, 1.0, n_in, endpoint=False, dtype=np.float32)
    if n_out:
        gain[n - n_out:] *= np.linspace(1.0, 0.0, n_out, endpoint=True, dtype=np.float32)
    return audio * gain


def master(audio: np.ndarray, sr: int, options: ExportOptions) -> tuple[np.ndarray, MasterReport]:
    """Resample, fade, then normalise loudness, in that order (the fades count in the measured loudness).

    Args:
        audio: float (T,) or (C, T) at ``sr``.
        sr: its rate in Hz.
        options: the export's ExportOptions.

    Returns:
        (float32 audio shaped like the input at the options' rate, MasterReport).
    """
    out_sr = options.sample_rate or check_rate("sr", sr)
    data = resample(np.asarray(audio, dtype=np.float32), sr, out_sr)
    data = _fade(data, out_sr, options.fade_in, options.fade_out)
    if options.loudness is None:
        return data, MasterReport(out_sr, None, 0.0, "")
    measured = integrated_loudness(data, out_sr)
    if measured is None:
        seconds = data.shape[-1] / out_sr
        why = "is silent" if seconds > _BLOCK_SECONDS else f"is {seconds:.2f} s long (it needs {_BLOCK_SECONDS} s)"
        return data, MasterReport(out_sr, None, 0.0, f"Loudness was left as it is: the audio {why}, so it has no "
                                                     f"measurable loudness.")
    gain_db = float(options.loudness) - measured
    peak = float(np.max(np.abs(data)))
    note = ""
    if peak * 10 ** (gain_db / 20) > PEAK_CEILING:
        gain_db = 20 * np.log10(PEAK_CEILING / peak)
        note = (f"Loudness reached {measured + gain_db:.1f} LUFS, not {options.loudness:g}: louder would clip "
                f"(peaks at -1 dBFS). Choose a lower target for an exact match.")
    data = (data * np.float32(10 ** (gain_db / 20))).astype(np.float32)
    return data, MasterReport(out_sr, measured + gain_db, gain_db, note)
