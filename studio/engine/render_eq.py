"""A model's render EQ: a fixed correction of its decoder's spectral tilt, applied to the levels it names.

A small VQ-VAE's decoder does not give back the spectrum it was trained on: the demo's renders carry too much below
250 Hz and too little above 4 kHz, the same in every clip. A model folder may hold ``render_eq.json`` beside its
VQ-VAE (``tools/fit_render_eq.py`` measures it on training audio against the decoder's reconstructions)::

    {"format": 1, "levels": {"0": {"freq_hz": [50.0, ...], "gain_db": [-8.1, ...]}, ...}, "measured": {...}}

A level without an entry (and a model without the file, such as the official ones) is decoded unchanged.
``measured`` is provenance and is not read. The curve becomes one linear-phase FIR filter per level (its delay
taken out, so audio stays aligned with its codes), run before the render loudness (loudness.py). Torch-free.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .model_tables import load_table, table_error, table_path, write_table
from .spec import is_finite_number

EQ_FILE = "render_eq.json"
MAX_FREQ_HZ = 1e6  # above any model's Nyquist; also keeps a huge JSON integer from overflowing a float
MAX_GAIN_DB = 12.0  # no band is moved further than this: a correction, not a sound design tool
TAPS = 1025  # odd: a linear-phase filter with a whole-sample delay; 64 ms at 16 kHz resolves ~30 Hz
_BLOCK = 1 << 16  # overlap-add block (samples): bounded memory for songs of any length


def eq_file(models) -> Path:
    """Where a model set's EQ lives: ``render_eq.json`` in the folder of its VQ-VAE file."""
    return table_path(models, EQ_FILE)


def read_render_eq(path: "str | Path") -> dict:
    """``{level: (freq_hz, gain_db)}`` from ``path``: empty when there is no such file.

    Raises:
        SpecError: the file exists but is not a valid EQ table (naming the file, the key and the fix).
    """
    path = Path(path)
    data = load_table(path, "render EQ")
    if data is None:
        return {}

    def bad(key: str, allowed: str):
        return table_error(path, key, allowed)

    if not isinstance(data, dict) or data.get("format") != 1 or not isinstance(data.get("levels"), dict):
        raise bad("format", "1, with a 'levels' object")
    out = {}
    for key, curve in data["levels"].items():
        if key not in ("0", "1", "2"):
            raise bad(f"levels.{key}", "a level number 0, 1 or 2")
        freqs, gains = (curve.get("freq_hz"), curve.get("gain_db")) if isinstance(curve, dict) else (None, None)
        if not (isinstance(freqs, list) and isinstance(gains, list) and 2 <= len(freqs) == len(gains) <= 1000
                and all(is_finite_number(f) and 0 < f < MAX_FREQ_HZ for f in freqs)
                and all(a < b for a, b in zip(freqs, freqs[1:]))):
            raise bad(f"levels.{key}.freq_hz",
                      f"2-1000 rising positive frequencies under {MAX_FREQ_HZ:g} Hz, one per gain")
        if not all(is_finite_number(g) and abs(g) <= MAX_GAIN_DB for g in gains):
            raise bad(f"levels.{key}.gain_db", f"numbers within +-{MAX_GAIN_DB:g} dB")
        out[int(key)] = (np.asarray(freqs, dtype=np.float64), np.asarray(gains, dtype=np.float64))
    return out


def write_render_eq(path: "str | Path", curves: dict, measured: "dict | None" = None) -> Path:
    """Write ``{level: (freq_hz, gain_db)}`` (and the measurements behind it) as ``path``; returns the path."""
    data = {"format": 1, "levels": {str(lv): {"freq_hz": [round(float(f), 1) for f in fr],
                                              "gain_db": [round(float(g), 2) for g in gd]}
                                    for lv, (fr, gd) in sorted(curves.items())}}
    if measured is not None:
        data["measured"] = measured
    return write_table(path, data, read_render_eq)


def eq_filter(freq_hz: np.ndarray, gain_db: np.ndarray, sr: int, taps: int = TAPS) -> np.ndarray:
    """The linear-phase FIR (``taps``,) whose response follows the curve (interpolated on a log-frequency axis,
    held flat beyond its ends), by frequency sampling and a Hann window."""
    bins = np.fft.rfftfreq(taps, 1.0 / sr)
    gain = np.interp(np.log(np.maximum(bins, 1.0)), np.log(freq_hz), gain_db)
    h = np.fft.irfft(10 ** (gain / 20), taps)  # zero phase: centred on sample 0
    return np.roll(h, taps // 2) * np.hanning(taps + 2)[1:-1]


def apply_filter(audio: np.ndarray, h: np.ndarray) -> np.ndarray:
    """(N, T) audio filtered by the linear-phase ``h``, its delay removed: (N, T) float32 (overlap-add)."""
    n, t = audio.shape
    delay, taps = len(h) // 2, len(h)
    nfft = 1 << int(math.ceil(math.log2(_BLOCK + taps - 1)))
    hf = np.fft.rfft(h, nfft)
    full = np.zeros((n, t + taps - 1), dtype=np.float64)
    for s in range(0, t, _BLOCK):
        block = audio[:, s:s + _BLOCK].astype(np.float64)
        y = np.fft.irfft(np.fft.rfft(block, nfft, axis=1) * hf, nfft, axis=1)[:, :block.shape[1] + taps - 1]
        full[:, s:s + y.shape[1]] += y
    return full[:, delay:delay + t].astype(np.float32)


def equalise(models, audio: np.ndarray, level: int) -> np.ndarray:
    """Decoded (N, T) audio of ``level`` through the model's EQ for that level (unchanged where it has none)."""
    curve = read_render_eq(eq_file(models)).get(level)
    if curve is None or audio.shape[1] == 0:
        return audio
    return apply_filter(audio, eq_filter(*curve, models.sr))
