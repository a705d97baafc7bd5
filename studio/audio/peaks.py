"""What the waveform and spectrogram views draw: a min/max peak pyramid, and a magnitude spectrogram in dB.

A 4-minute take at 44.1 kHz holds 10.6 million samples; drawing them all at every repaint is far too slow. The pyramid
keeps the min and max of every 16, 64, 256, ... samples, so any view, from the whole take down to single samples,
reads at most a few times ``n_pixels`` values and returns exactly ``n_pixels`` columns (or the raw samples, when
zoomed in so far that there are fewer samples than pixels).
"""

from __future__ import annotations

import numpy as np

from studio.audio.resample import check_rate

__all__ = ["PeakPyramid", "spectrogram"]

FIRST_DECIMATION = 16  # samples per bin at the finest level
LEVEL_FACTOR = 4  # each level's bins cover this many bins of the level below


class _Growable:
    """A float32 array that grows by doubling its capacity, so repeated appends cost O(new samples) on average."""

    def __init__(self) -> None:
        self._buf = np.zeros(0, dtype=np.float32)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def data(self) -> np.ndarray:
        """A view of the valid values, (n,)."""
        return self._buf[: self._n]

    def truncate(self, n: int) -> None:
        self._n = min(self._n, n)

    def extend(self, values: np.ndarray) -> None:
        need = self._n + len(values)
        if need > len(self._buf):
            grown = np.zeros(max(need, 2 * len(self._buf), 1024), dtype=np.float32)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n:need] = values
        self._n = need


def _reduce_bins(lo: np.ndarray, hi: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Min of each run of ``factor`` values of lo and max of each run of hi; a last partial run makes one more bin.

    Args:
        lo, hi: (N,) the level below's minima and maxima (the raw samples, for the finest level).
    Returns:
        (ceil(N / factor),) minima and maxima.
    """
    full = (len(lo) // factor) * factor
    mins = lo[:full].reshape(-1, factor).min(axis=1)  # (N // factor,)
    maxs = hi[:full].reshape(-1, factor).max(axis=1)
    if full < len(lo):
        mins = np.append(mins, lo[full:].min())
        maxs = np.append(maxs, hi[full:].max())
    return mins, maxs


class PeakPyramid:
    """Min/max summaries of mono audio at decimations 16, 64, 256, ... samples per bin.

    Level i holds ``ceil(frames / (16 * 4**i))`` bins; a level exists while its decimation is at most the number of
    frames (the finest level always exists). Build cost: one numpy pass over each level's input.

    Args:
        audio: float (T,) mono samples (T may be 0; grow it later with ``append``).
        sr: sample rate in Hz.
    """

    def __init__(self, audio: np.ndarray, sr: int) -> None:
        self.sr = check_rate("sr", sr)
        self._raw = _Growable()
        self._mins: list[_Growable] = []  # per level, (bins,)
        self._maxs: list[_Growable] = []
        self.append(audio)

    @property
    def frames(self) -> int:
        """Samples held so far."""
        return len(self._raw)

    @property
    def duration(self) -> float:
        """Seconds held so far."""
        return len(self._raw) / self.sr

    @property
    def decimations(self) -> tuple[int, ...]:
        """Samples per bin of each level, finest first: (16, 64, 256, ...)."""
        return tuple(FIRST_DECIMATION * LEVEL_FACTOR ** i for i in range(len(self._mins)))

    def level(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of level i's (mins, maxs), each (ceil(frames / decimations[i]),) float32."""
        return self._mins[i].data.copy(), self._maxs[i].data.copy()

    def append(self, audio: np.ndarray) -> None:
        """Extend the pyramid with more samples (e.g. a finished window): only the bins they touch are recomputed.

        Args:
            audio: float (T_new,) mono samples at the pyramid's rate.
        """
        new = np.asarray(audio, dtype=np.float32)
        if new.ndim != 1:
            raise ValueError(f"PeakPyramid takes mono audio shaped (T,), got shape {new.shape}; mix channels first")
        old = len(self._raw)
        self._raw.extend(new)
        n = len(self._raw)
        while not self._mins or FIRST_DECIMATION * LEVEL_FACTOR ** len(self._mins) <= n:
            self._mins.append(_Growable())
            self._maxs.append(_Growable())
        src_lo = src_hi = self._raw.data
        src_dec = 1
        for i, dec in enumerate(self.decimations):
            factor = dec // src_dec
            first_bin = min(old // dec, len(self._mins[i]))  # the partial last bin, or the first new one
            lo, hi = _reduce_bins(src_lo[first_bin * factor:], src_hi[first_bin * factor:], factor)
            for store, values in ((self._mins[i], lo), (self._maxs[i], hi)):
                store.truncate(first_bin)
                store.extend(values)
            src_lo, src_hi, src_dec = self._mins[i].data, self._maxs[i].data, dec

    def view(self, t0: float, t1: float, n_pixels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Min/max columns for drawing [t0, t1) seconds across ``n_pixels`` pixels.

        Picks the coarsest level with at most one bin per pixel's worth of samples, then merges its bins into one column
        per pixel, so the result has exactly ``n_pixels`` columns at any zoom. Column i summarises exactly the samples
        from ``times[i] * sr`` up to ``times[i + 1] * sr`` (the last column: to the end of its last bin); column starts
        lie on bin edges, at most one bin before the pixel's own start. When the range holds no more samples than
        pixels, the raw samples come back instead (mins == maxs).

        Args:
            t0, t1: visible range in seconds (clamped to the audio).
            n_pixels: width of the view in pixels.

        Returns:
            times: float64 (N,) start of each column in seconds.
            mins, maxs: float32 (N,) with N = n_pixels, or fewer when zoomed in to single samples; all empty when the
                range is empty.
        """
        n = len(self._raw)
        s0 = int(np.clip(np.floor(t0 * self.sr), 0, n))
        s1 = int(np.clip(np.ceil(t1 * self.sr), 0, n))
        n_pixels = int(n_pixels)
        if s1 <= s0 or n_pixels < 1:
            empty = np.zeros(0, dtype=np.float32)
            return np.zeros(0), empty, empty.copy()
        if s1 - s0 <= n_pixels:
            raw = self._raw.data[s0:s1].copy()
            return np.arange(s0, s1) / self.sr, raw, raw.copy()
        per_pixel = (s1 - s0) / n_pixels  # > 1
        dec, lo, hi = 1, self._raw.data, self._raw.data
        for i, level_dec in enumerate(self.decimations):
            if level_dec <= per_pixel:
                dec, lo, hi = level_dec, self._mins[i].data, self._maxs[i].data
        starts = s0 + np.floor(np.arange(n_pixels) * per_pixel).astype(np.int64)  # first sample of each pixel
        bins = starts // dec  # strictly increasing: pixels are at least `dec` samples apart
        last = -(-s1 // dec)
        offsets = bins - bins[0]
        mins = np.minimum.reduceat(lo[bins[0]:last], offsets)  # (n_pixels,)
        maxs = np.maximum.reduceat(hi[bins[0]:last], offsets)
        return bins * dec / self.sr, mins, maxs


def spectrogram(audio: np.ndarray, sr: int, n_fft: int = 2048, hop: int = 512) -> tuple[np.ndarray, np.ndarray,
                                                                                        np.ndarray]:
    """Magnitude spectrogram in dB with a Hann window; a full-scale sine reads about 0 dB, silence -120 dB.

    Frames are centred: frame j covers samples around j * hop (the audio is padded with n_fft // 2 zeros each side).

    Args:
        audio: float (T,) mono.
        sr: sample rate in Hz.
        n_fft: FFT size in samples (>= 16).
        hop: samples between frames (>= 1).

    Returns:
        freqs: float64 (F,) bin centres in Hz, F = n_fft // 2 + 1.
        times: float64 (Tf,) frame centres in seconds, Tf = 1 + T // hop.
        db: float32 (F, Tf) level of each bin, floored at -120 dB.
    """
    sr = check_rate("sr", sr)
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"spectrogram takes mono audio shaped (T,), got shape {x.shape}; mix channels first")
    if int(n_fft) != n_fft or n_fft < 16 or int(hop) != hop or hop < 1:
        raise ValueError(f"spectrogram needs a whole n_fft >= 16 and hop >= 1, got n_fft={n_fft!r}, hop={hop!r}")
    n_fft, hop = int(n_fft), int(hop)
    half = n_fft // 2
    padded = np.zeros(len(x) + 2 * half, dtype=np.float32)
    padded[half:half + len(x)] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]  # (Tf, n_fft), a view
    n_frames = 1 + len(x) // hop
    frames = frames[:n_frames]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)  # periodic Hann
    scale = (window.sum() / 2) ** 2  # |X|^2 of a unit-amplitude sine at a bin centre
    db = np.empty((half + 1, n_frames), dtype=np.float32)
    for j in range(0, n_frames, 256):
        spec = np.fft.rfft(frames[j:j + 256] * window, axis=1)  # (chunk, F)
        power = (spec.real ** 2 + spec.imag ** 2) / scale
        db[:, j:j + 256] = np.maximum(10.0 * np.log10(np.maximum(power, 1e-12)), -120.0).T
    return np.fft.rfftfreq(n_fft, 1.0 / sr), np.arange(n_frames) * hop / sr, db
