"""Prior trainers on tiny configs: losses fall, labels are built like the sampler's, the model set samples."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from studio.engine.cascade import run_take
from studio.engine.demo_config import tiny_prior, tiny_vqvae
from studio.engine.jobs import new_take
from studio.engine.loading import build, load_checkpoint, save_model
from studio.engine.modelset import ModelSet
from studio.engine.prior import JukeboxPrior
from studio.engine.spec import SongSpec
from studio.train.codes import build_tables, encode_set, load_codes, save_codes, vqvae_fingerprint
from studio.train.data import synthetic_set
from studio.train.prior_trainer import WindowSampler, heldout_bits, train_prior, unigram_bits
from studio.train.state import RunOptions, load_state, read_log


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    torch.manual_seed(0)
    vq = build(tiny_vqvae())
    for blk in vq.bottleneck.level_blocks:  # a random codebook so that codes vary
        blk.k.normal_()
    data = synthetic_set(sr=8000, seconds=3.0)
    folder = tmp_path_factory.mktemp("vq")
    save_model(vq, folder / "vqvae")
    return vq, encode_set(vq, data), folder


def _opts(out, **kw):
    base = dict(out=out, steps=30, batch=4, lr=3e-3, warmup=2, log_every=10, ckpt_every=10, seed=0)
    base.update(kw)
    return RunOptions(**base)


def test_tables_follow_v2_normalisation_and_keep_base_ids(tmp_path):
    art, gen = build_tables(["Trad. Irish (O'Neill)", "J. S. Bach"], ["string quartet", "reel"])
    assert art == {"unknown": 0, "j_s_bach": 1, "trad_irish_o_neill": 2}
    assert gen == {"unknown": 0, "quartet": 1, "reel": 2, "string": 3}
    from studio.train.codes import write_tables
    write_tables(tmp_path, art, gen)
    art2, _ = build_tables(["Zelda", "J. S. Bach"], [], base=tmp_path, limits=(64, 4))
    assert art2 == {"unknown": 0, "j_s_bach": 1, "trad_irish_o_neill": 2, "zelda": 3}
    art3, _ = build_tables(["Zelda", "Alpha"], [], base=tmp_path, limits=(64, 3))
    assert "zelda" not in art3 and "alpha" not in art3


def test_code_cache_round_trip_and_fingerprint(coded, tmp_path):
    vq, codes, _ = coded
    fp = vqvae_fingerprint(vq)
    save_codes(tmp_path / "c.pt", codes, fp)
    back = load_codes(tmp_path / "c.pt", fp)
    assert [len(z) for z in back.clips[0].codes] == [6000, 3000, 1500]  # 3 s at 8 kHz, hops 4/8/16
    np.testing.assert_array_equal(back.clips[2].codes[1], codes.clips[2].codes[1])
    assert back.clips[0].artist == "alpha" and back.clips[-1].split == "heldout"
    assert load_codes(tmp_path / "c.pt", "another") is None


@pytest.mark.parametrize("level", [2, 1, 0])
def test_prior_loss_falls_and_windows_match_the_sampler(coded, tmp_path, level):
    vq, codes, _ = coded
    path = train_prior(codes, level, tiny_prior(level), _opts(tmp_path))
    log = read_log(tmp_path)
    assert log[-1]["gen_bits"] < log[0]["gen_bits"] - 0.3
    assert log[0]["gen_bits"] < np.log2(32) + 0.6  # starts near uniform over 32 codes (mean of steps 1-10)
    prior = load_checkpoint(path)
    assert isinstance(prior, JukeboxPrior) and prior.cfg.level == level
    assert prior.labels_attached and prior.labeller.artists["beta"] == 2
    sampler = WindowSampler(prior.cfg, codes.split("train"), prior.labeller)
    z, z_cond, y = sampler.window(0, 8)
    assert z.shape == (32,)
    assert y[1] == 8 * prior.cfg.raw_to_tokens and y[3] == 1  # offset in samples; artist alpha
    if level < 2:
        assert z_cond.shape == (16,)
        np.testing.assert_array_equal(z_cond, codes.split("train").clips[0].codes[level + 1][4:20])
    bits = heldout_bits(prior, WindowSampler(prior.cfg, codes.split("heldout"), prior.labeller))
    assert bits["windows"] > 0 and 0 < bits["bits_per_token"] < np.log2(32) + 1
    assert unigram_bits(codes.split("train"), codes.split("heldout"), level, 32) <= np.log2(32) + 0.01


def test_prior_resume_continues_the_step_count(coded, tmp_path):
    _, codes, _ = coded
    calls = iter(range(100))
    train_prior(codes, 1, tiny_prior(1), _opts(tmp_path, steps=8, ckpt_every=100), cancel=lambda: next(calls) >= 4)
    assert load_state(tmp_path)["step"] == 4
    train_prior(codes, 1, tiny_prior(1), _opts(tmp_path, steps=8, ckpt_every=100, resume=True))
    assert load_state(tmp_path)["step"] == 8
    straight = tmp_path / "straight"
    train_prior(codes, 1, tiny_prior(1), _opts(straight, steps=8, ckpt_every=100))
    a, b = load_state(straight)["model"], load_state(tmp_path)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)


def test_trained_model_set_samples_with_run_take(coded, tmp_path):
    _, codes, vq_folder = coded
    folder = tmp_path / "model"
    shutil.copytree(vq_folder, folder)
    for level in (2, 1, 0):
        run = tmp_path / f"run{level}"
        train_prior(codes, level, tiny_prior(level), _opts(run, steps=4))
        for f in (run / "model").iterdir():
            if f.is_dir():
                shutil.copytree(f, folder / f.name, dirs_exist_ok=True)
            else:
                shutil.copy(f, folder / f.name)
    models = ModelSet.from_folder(folder, name="tiny-trained")
    spec = SongSpec(seconds=0.5, artist="beta", genre="reel", lyrics="la la la", candidates=2, seed=5, device="cpu")
    take = new_take(spec, tmp_path / "take", models)
    kinds = [type(ev).__name__ for ev in run_take(take, models)]
    assert kinds.count("LevelDone") == 3 and kinds[-1] == "JobDone"
    for level, hop in enumerate((4, 8, 16)):
        c = take.codes(level)
        assert c.shape == (2, 4000 // hop) and c.min() >= 0 and c.max() < 32
