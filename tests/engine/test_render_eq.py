"""A model's render EQ (render_eq.json): the filter does what its curve says without moving the audio in time, the
bundled model's renders go through it, and a damaged table is one clear error before any take is made."""

import json

import numpy as np
import pytest
import torch

from studio.engine.cascade import decode_codes
from studio.engine.jobs import new_take
from studio.engine.modelset import ModelSet
from studio.engine.paths import repo_models_dir
from studio.engine.render_eq import EQ_FILE, apply_filter, eq_filter, read_render_eq, write_render_eq
from studio.engine.spec import SongSpec, SpecError

SR = 16000
CUT_LOWS = (np.array([100.0, 150.0, 300.0, 4000.0]), np.array([-10.0, -10.0, 0.0, 0.0]))  # -10 dB below 150 Hz


def tone(freq: float, seconds: float = 1.0) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(int(seconds * SR)) / SR).astype(np.float32)


def gain_db(before: np.ndarray, after: np.ndarray) -> float:
    mid = slice(2000, -2000)  # away from the ends, where the filter sees the zero padding
    return float(10 * np.log10(np.mean(after[mid] ** 2) / np.mean(before[mid] ** 2)))


def test_the_filter_follows_its_curve_and_keeps_the_audio_in_place():
    h = eq_filter(*CUT_LOWS, SR)
    low, high = tone(80.0), tone(2000.0)
    out = apply_filter(np.stack([low, high]), h)
    assert out.shape == (2, SR) and out.dtype == np.float32
    assert gain_db(low, out[0]) == pytest.approx(-10.0, abs=0.7)
    assert gain_db(high, out[1]) == pytest.approx(0.0, abs=0.2)
    # linear phase with its delay taken out: a pass-band tone comes back sample for sample where it went in
    np.testing.assert_allclose(out[1, 2000:-2000], high[2000:-2000], atol=0.03)


def test_long_audio_is_filtered_in_blocks_exactly_as_in_one_piece():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 150_000)).astype(np.float32)  # more than two overlap-add blocks
    h = eq_filter(*CUT_LOWS, SR)
    direct = np.convolve(x[0].astype(np.float64), h)[len(h) // 2:][:x.shape[1]]
    np.testing.assert_allclose(apply_filter(x, h)[0], direct, atol=2e-5)


def test_tables_read_back_and_damaged_ones_name_the_file_and_key(tmp_path):
    path = tmp_path / EQ_FILE
    assert read_render_eq(path) == {}  # no file: renders are left as decoded
    write_render_eq(path, {0: CUT_LOWS}, measured={"by": "test"})
    (freqs, gains), = read_render_eq(path).values()
    np.testing.assert_allclose(freqs, CUT_LOWS[0])
    np.testing.assert_allclose(gains, CUT_LOWS[1])
    bad = {"levels.0.gain_db": {"format": 1, "levels": {"0": {"freq_hz": [50, 100], "gain_db": [-30, 0]}}},
           "levels.0.freq_hz": {"format": 1, "levels": {"0": {"freq_hz": [100, 50], "gain_db": [0, 0]}}},
           "levels.7": {"format": 1, "levels": {"7": {"freq_hz": [50, 100], "gain_db": [0, 0]}}},
           "format": {"levels": {}}}
    for key, table in bad.items():
        path.write_text(json.dumps(table))
        with pytest.raises(SpecError, match=rf"render_eq\.json: '{key}' must be .* Fix: correct or delete"):
            read_render_eq(path)
    path.write_text('{"format": 1, "levels": {"0": {"freq_hz": [50, 100], "gain_db": [true, 0]}}}')
    with pytest.raises(SpecError, match="gain_db"):
        read_render_eq(path)
    path.write_text('{"format": 1, "levels": {"0": {"freq_hz": [50, 1%s], "gain_db": [0, 0]}}}' % ("0" * 400))
    with pytest.raises(SpecError, match=r"'levels\.0\.freq_hz' must be"):  # a JSON integer no float can hold
        read_render_eq(path)
    path.write_text("{not json")
    with pytest.raises(SpecError, match="not a readable render EQ"):
        read_render_eq(path)


def test_a_damaged_table_stops_a_take_before_its_folder_is_made(tiny_models, tmp_path):
    from tests.conftest import write_model_folder

    folder = write_model_folder(tiny_models, tmp_path / "models" / "tiny")
    (folder / EQ_FILE).write_text(json.dumps({"format": 1, "levels": {"0": {"freq_hz": [1], "gain_db": [0]}}}))
    models = ModelSet.from_folder(folder, "tiny")
    with pytest.raises(SpecError, match=r"render_eq\.json: 'levels\.0\.freq_hz'"):
        new_take(SongSpec(seconds=0.1, levels="top", seed=1), tmp_path / "take", models)
    assert not (tmp_path / "take").exists()


def test_the_bundled_models_renders_go_through_its_eq():
    folder = repo_models_dir() / "demo"
    if not (folder / "vqvae.safetensors").is_file():
        pytest.skip("models/demo is not present")
    torch.set_num_threads(1)
    demo = ModelSet.from_folder(folder, "demo")
    (freqs, gains), = read_render_eq(folder / EQ_FILE).values()  # written by tools/fit_render_eq.py
    assert gains.max() <= 0.0 and gains[freqs < 200].mean() < -5.0  # cuts only: the decoder's excess lows
    x = (tone(110.0, 1.024) * 0.3 + tone(880.0, 1.024) * 0.3)[:16384]  # a multiple of the top hop (256)
    with torch.no_grad():
        codes = demo.vqvae.encode(torch.from_numpy(x)[None])[0].numpy()
        raw = demo.vqvae.decode(torch.from_numpy(codes), 0)[0].numpy()
    rendered = decode_codes(demo, codes, 0)[0]

    def low_share(a: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(a)) ** 2
        f = np.fft.rfftfreq(len(a), 1 / SR)
        return float(spec[f < 200].sum() / spec.sum())

    # the render has less of its energy below 200 Hz than the bare decoder gives (the EQ's -6 to -9 dB there)
    assert low_share(rendered) < 0.5 * low_share(raw)
