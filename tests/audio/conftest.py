"""Shared helpers for the audio tests: analytic sines and files written with soundfile into tmp_path."""

import numpy as np
import pytest
import soundfile as sf


def sine(freq: float, sr: int, seconds: float, amp: float = 0.5, t0: float = 0.0) -> np.ndarray:
    """float32 (round(seconds * sr),): amp * sin(2 pi freq t) sampled at t = t0 + k / sr."""
    t = t0 + np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def stereo_flac(tmp_path):
    """A 2 s stereo 48 kHz FLAC (24-bit): left 0.5 * sin(440 Hz), right 0.3 * sin(440 Hz); mono mean is 0.4 * sin."""
    sr = 48000
    left, right = sine(440, sr, 2.0, 0.5), sine(440, sr, 2.0, 0.3)
    path = tmp_path / "take.flac"
    sf.write(path, np.stack([left, right], axis=1), sr, subtype="PCM_24")
    return path
