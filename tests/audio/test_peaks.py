"""The peak pyramid equals brute-force min/max at every level and in every view; spectrogram levels and bins."""

import numpy as np
import pytest

from studio.audio import PeakPyramid, spectrogram
from tests.audio.conftest import sine

SR = 44100


@pytest.fixture(scope="module")
def take():
    """A 4-minute 44.1 kHz take of noise (10.6 M samples): the size the pyramid exists for."""
    return np.random.default_rng(0).uniform(-1, 1, 240 * SR).astype(np.float32)


@pytest.fixture(scope="module")
def pyramid(take):
    return PeakPyramid(take, SR)


def brute_levels(x, dec):
    edges = np.arange(0, len(x), dec)
    return np.minimum.reduceat(x, edges), np.maximum.reduceat(x, edges)


def test_levels_equal_brute_force_min_max():
    x = np.random.default_rng(1).standard_normal(100_003).astype(np.float32)  # not a multiple of any decimation
    p = PeakPyramid(x, SR)
    assert p.decimations == (16, 64, 256, 1024, 4096, 16384, 65536)
    for i, dec in enumerate(p.decimations):
        mins, maxs = p.level(i)
        bmin, bmax = brute_levels(x, dec)
        assert len(mins) == -(-len(x) // dec)
        assert np.array_equal(mins, bmin) and np.array_equal(maxs, bmax)


def test_append_in_odd_chunks_equals_building_at_once():
    x = np.random.default_rng(2).standard_normal(300_000).astype(np.float32)
    grown = PeakPyramid(np.zeros(0, np.float32), SR)
    assert grown.duration == 0.0 and grown.view(0, 1, 100)[0].size == 0
    cuts = [0, 1, 16, 17, 1000, 1024, 4095, 70_000, 70_001, 250_000, 300_000]
    for a, b in zip(cuts, cuts[1:]):
        grown.append(x[a:b])
    whole = PeakPyramid(x, SR)
    assert grown.decimations == whole.decimations and grown.frames == len(x)
    for i in range(len(whole.decimations)):
        assert all(np.array_equal(g, w) for g, w in zip(grown.level(i), whole.level(i)))


def check_columns(x, times, mins, maxs, n_pixels, t0, t1):
    """Column i is the exact min/max of samples [times[i] * sr, times[i + 1] * sr), starting less than a pixel
    before pixel i's own first sample."""
    starts = np.round(times * SR).astype(np.int64)
    per_pixel = (t1 - t0) * SR / n_pixels
    assert len(times) == n_pixels
    assert starts[0] <= round(t0 * SR) and np.all(np.diff(starts) > 0)
    nominal = t0 * SR + np.arange(n_pixels) * per_pixel  # where each pixel begins, in samples
    assert np.all(starts <= nominal + 1) and np.all(starts > nominal - per_pixel - 1)
    for i in range(n_pixels - 1):
        span = x[starts[i]:starts[i + 1]]
        assert mins[i] == span.min() and maxs[i] == span.max(), i
    # The last column runs to the end of its last bin: past t1 by less than a pixel.
    s1 = min(int(np.ceil(t1 * SR)), len(x))
    inner, outer = x[starts[-1]:s1], x[starts[-1]:s1 + int(np.ceil(per_pixel))]
    assert outer.min() <= mins[-1] <= inner.min() and inner.max() <= maxs[-1] <= outer.max()


@pytest.mark.parametrize("t0, t1, n_pixels", [
    (0.0, 240.0, 1000),  # whole take: level 4096 bins merged into 1000 columns
    (61.3, 63.9, 777),  # a few seconds: a middle level
    (100.0, 100.5, 1500),  # 14.7 samples per pixel: below the finest level, reduced from raw samples
])
def test_views_stay_at_n_pixels_and_equal_brute_force(take, pyramid, t0, t1, n_pixels):
    times, mins, maxs = pyramid.view(t0, t1, n_pixels)
    assert mins.dtype == maxs.dtype == np.float32
    check_columns(take, times, mins, maxs, n_pixels, t0, t1)


def test_deep_zoom_returns_raw_samples(take, pyramid):
    times, mins, maxs = pyramid.view(10.0, 10.01, 1000)  # 441 samples, fewer than pixels
    assert len(times) == 441
    assert np.array_equal(mins, take[441000:441441]) and np.array_equal(maxs, mins)
    assert times[1] - times[0] == pytest.approx(1 / SR)


def test_view_is_clamped_to_the_audio(pyramid):
    times, mins, _ = pyramid.view(-50.0, 1e6, 500)
    assert len(mins) == 500 and times[0] == 0.0 and times[-1] < 240.0
    assert pyramid.view(300.0, 400.0, 500)[0].size == 0


def test_spectrogram_finds_a_sine_at_its_level():
    sr = 16000
    x = sine(1000.0, sr, 2.0, amp=0.5)  # 1000 Hz sits exactly on bin 128 of a 2048-point FFT at 16 kHz
    freqs, times, db = spectrogram(x, sr, n_fft=2048, hop=512)
    assert db.shape == (1025, 1 + len(x) // 512) == (len(freqs), len(times))
    assert db.dtype == np.float32
    assert times[1] == pytest.approx(512 / sr) and freqs[-1] == pytest.approx(sr / 2)
    middle = db[:, 10:-10]
    assert np.all(freqs[np.argmax(middle, axis=0)] == 1000.0)
    assert np.allclose(middle[128], 20 * np.log10(0.5), atol=0.05)
    assert np.all(middle[512] < -90)  # 4 kHz: nothing there but window leakage


def test_spectrogram_of_silence_is_the_floor():
    _, _, db = spectrogram(np.zeros(4096, np.float32), 44100)
    assert np.all(db == -120.0)


def test_spectrogram_rejects_stereo():
    with pytest.raises(ValueError, match=r"mono audio shaped \(T,\), got shape \(2, 100\); mix channels first"):
        spectrogram(np.zeros((2, 100), np.float32), 44100)
