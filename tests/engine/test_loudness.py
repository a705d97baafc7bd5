"""Render loudness on real decoded audio: the bundled VQ-VAE's decoding of quiet and of over-loud music comes out at
the training audio's level, never reaching full scale, and silence stays silent."""

import numpy as np
import pytest
import torch

from studio.engine.cascade import decode_codes
from studio.engine.loudness import CEILING, LIMIT_FROM, MAX_GAIN_DB, TARGET_RMS_DBFS, set_loudness, soft_limit
from studio.engine.modelset import ModelSet
from studio.engine.paths import repo_models_dir

SR = 16000


def dbfs(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64))))


def melody(seconds: float, peak: float) -> np.ndarray:
    """A little tune of harmonic notes (8 a second, like a reel), scaled to ``peak``."""
    t = np.arange(int(seconds * SR)) / SR
    freqs = 220 * 2 ** (np.array([0, 2, 4, 5, 7, 9, 11, 12]) / 12)
    f = freqs[(t * 8).astype(int) % len(freqs)]
    phase = 2 * np.pi * np.cumsum(f) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 6)) * np.exp(-3 * ((t * 8) % 1))
    return (x / np.abs(x).max() * peak).astype(np.float32)


@pytest.fixture(scope="module")
def demo():
    folder = repo_models_dir() / "demo"
    if not (folder / "vqvae.safetensors").is_file():
        pytest.skip("models/demo is not present")
    torch.set_num_threads(1)
    return ModelSet.from_folder(folder, "demo")


@pytest.mark.parametrize("peak", [0.2, 0.5, 4.0])
def test_decoded_music_comes_out_at_the_target_level(demo, peak):
    x = melody(2.048, peak)
    vq = demo.vqvae
    codes = vq.encode(torch.from_numpy(x)[None], 0, 1)[0].numpy()  # (1, T0): real codes of real music
    codes[:, -codes.shape[1] // 4:] = -1  # the last quarter not sampled yet: silence
    audio = decode_codes(demo, codes, 0)
    sounding = audio[0, : -audio.shape[1] // 4]
    assert audio.dtype == np.float32 and audio.shape == (1, codes.shape[1] * 16)
    assert abs(dbfs(sounding) - TARGET_RMS_DBFS) < 0.6  # the limiter may take a little off the loud takes
    assert np.abs(audio).max() <= CEILING < 1.0
    assert not audio[0, -audio.shape[1] // 4:].any()


def test_a_near_silent_render_is_raised_at_most_max_gain(demo):
    x = melody(1.024, 1e-4)
    codes = demo.vqvae.encode(torch.from_numpy(x)[None], 0, 1)[0].numpy()
    from studio.engine.chunked_decode import decode_in_chunks
    from studio.engine.render_eq import equalise

    raw = dbfs(equalise(demo, decode_in_chunks(demo.vqvae, codes, 0), 0))  # what reaches the loudness stage
    got = dbfs(decode_codes(demo, codes, 0))
    assert got < TARGET_RMS_DBFS - 1
    assert abs(got - min(raw + MAX_GAIN_DB, TARGET_RMS_DBFS)) < 0.01


def test_soft_limit_keeps_quiet_samples_and_bends_loud_ones_below_the_ceiling():
    x = np.linspace(-50, 50, 100001, dtype=np.float32)
    y = soft_limit(x.copy())
    quiet = np.abs(x) <= LIMIT_FROM
    np.testing.assert_array_equal(y[quiet], x[quiet])
    assert np.all(np.diff(y) >= 0) and np.abs(y).max() <= CEILING
    assert np.all(np.abs(y[~quiet]) > LIMIT_FROM)


def test_each_candidate_gets_its_own_gain():
    rng = np.random.default_rng(0)
    a = np.stack([rng.normal(0, 0.03, 4000), rng.normal(0, 0.3, 4000)]).astype(np.float32)
    out = set_loudness(a, np.ones_like(a, bool))
    assert [round(dbfs(r), 1) for r in out] == [TARGET_RMS_DBFS, TARGET_RMS_DBFS]
