"""Resampling keeps a sine's frequency, amplitude and timing, gets the length right, and removes aliases."""

import numpy as np
import pytest

from studio.audio import resample
from tests.audio.conftest import sine

EDGE = 200  # output samples ignored at each end, where the filter sees the silence outside the signal


@pytest.mark.parametrize("sr_in, sr_out", [(48000, 44100), (44100, 48000), (22050, 44100), (96000, 44100),
                                           (44100, 30001)])
def test_sine_keeps_frequency_amplitude_and_length(sr_in, sr_out):
    x = sine(997.0, sr_in, 1.0, amp=0.7)
    y = resample(x, sr_in, sr_out)
    assert y.dtype == np.float32
    assert len(y) == -(-len(x) * sr_out // sr_in)
    expected = sine(997.0, sr_out, len(y) / sr_out, amp=0.7)
    assert np.max(np.abs(y[EDGE:-EDGE] - expected[EDGE:-EDGE])) < 1e-4
    assert np.max(np.abs(y[EDGE:-EDGE])) == pytest.approx(0.7, abs=1e-3)


def test_high_tone_in_passband_survives():
    y = resample(sine(19000.0, 48000, 0.5, amp=0.5), 48000, 44100)
    expected = sine(19000.0, 44100, len(y) / 44100, amp=0.5)
    assert np.max(np.abs(y[EDGE:-EDGE] - expected[EDGE:-EDGE])) < 1e-3


def test_tone_above_new_nyquist_is_removed_not_aliased():
    # 23 kHz is legal at 48 kHz but above 22.05 kHz; without the anti-alias filter it would fold to 21.1 kHz.
    y = resample(sine(23000.0, 48000, 0.5, amp=0.5), 48000, 44100)
    level_db = 20 * np.log10(np.max(np.abs(y[EDGE:-EDGE])) / 0.5)
    assert level_db < -80


def test_channels_are_resampled_independently():
    x = np.stack([sine(500.0, 22050, 0.5, 0.5), sine(800.0, 22050, 0.5, 0.2)])  # (2, T)
    y = resample(x, 22050, 44100)
    assert y.shape == (2, 22050)
    assert np.allclose(y[0], resample(x[0], 22050, 44100))
    assert np.max(np.abs(y[1])) == pytest.approx(0.2, abs=1e-3)


def test_equal_rates_return_the_input():
    x = sine(440.0, 16000, 0.1)
    assert resample(x, 16000, 16000) is x


@pytest.mark.parametrize("bad", [0, -44100, 44100.5, "44100", None])
def test_bad_rate_names_the_argument(bad):
    with pytest.raises(ValueError, match="sr_out must be a positive whole number"):
        resample(np.zeros(10, np.float32), 44100, bad)
