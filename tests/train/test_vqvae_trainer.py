"""VQ-VAE trainer on a tiny config and synthetic tones: losses fall, resume is exact, dead codes come back."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from studio.engine.demo_config import tiny_vqvae
from studio.engine.loading import load_checkpoint
from studio.engine.vqvae import VQVAE
from studio.train.data import synthetic_set
from studio.train.losses import Bandwidth, log_spectral_distance, spectral_convergence
from studio.train.state import RunOptions, TrainError, load_state, read_log
from studio.train.vqvae_trainer import EMACodebooks, train_vqvae


def _opts(tmp_path, **kw):
    base = dict(out=tmp_path, steps=30, batch=4, lr=2e-3, warmup=2, log_every=5, ckpt_every=10, seed=0)
    base.update(kw)
    return RunOptions(**base)


def test_losses_fall_and_model_loads(tmp_path):
    data = synthetic_set(sr=8000, seconds=2.0)
    path = train_vqvae(data, tiny_vqvae(), _opts(tmp_path, steps=40), crop_seconds=0.25)
    log = read_log(tmp_path)
    assert [r["step"] for r in log] == [5, 10, 15, 20, 25, 30, 35, 40]
    first, last = log[0], log[-1]
    assert last["loss"] < 0.8 * first["loss"]
    assert last["l2_0"] < first["l2_0"]
    model = load_checkpoint(path)
    assert isinstance(model, VQVAE)
    assert json.loads(path.with_suffix(".json").read_text())["trained_steps"] == 40
    x = torch.from_numpy(data.clips[0].audio[:1024])[None]
    zs = model.encode(x)
    assert [z.shape[1] for z in zs] == [256, 128, 64]
    assert model.decode([zs[0]], start_level=0).shape == (1, 1024)
    # the codebook is no longer the zeros it is built with
    assert float(model.bottleneck.level_blocks[2].k.abs().sum()) > 0


def test_resume_continues_and_matches_a_straight_run(tmp_path):
    data = synthetic_set(sr=8000, seconds=2.0)
    straight = tmp_path / "straight"
    train_vqvae(data, tiny_vqvae(), _opts(straight, steps=12, ckpt_every=6), crop_seconds=0.25)
    split = tmp_path / "split"
    calls = iter(range(100))
    # interrupted (cancelled) before its 7th step: the state is saved at step 6
    train_vqvae(data, tiny_vqvae(), _opts(split, steps=12, ckpt_every=100), crop_seconds=0.25,
                cancel=lambda: next(calls) >= 6)
    assert load_state(split)["step"] == 6
    train_vqvae(data, tiny_vqvae(), _opts(split, steps=12, ckpt_every=6, resume=True), crop_seconds=0.25)
    a, b = load_state(straight), load_state(split)
    assert b["step"] == 12
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], rtol=0, atol=1e-6, msg=k)
    assert [r["step"] for r in read_log(split)] == [5, 10, 12]
    assert read_log(split)[-1]["loss"] == pytest.approx(read_log(straight)[-1]["loss"], rel=1e-5)


def test_resume_without_state_says_how_to_fix(tmp_path):
    with pytest.raises(TrainError, match="drop --resume"):
        train_vqvae(synthetic_set(sr=8000, seconds=1.0), tiny_vqvae(), _opts(tmp_path, resume=True),
                    crop_seconds=0.25)


def test_restarts_revive_dead_codes():
    cfg = tiny_vqvae()
    ema = EMACodebooks(cfg)
    k = torch.zeros(cfg.l_bins, cfg.emb_width)
    torch.manual_seed(0)
    flat = torch.randn(500, cfg.emb_width)
    ema.init_from(0, k, flat, from_codebook=False)
    # kill half of the codebook: far away from every latent, so nothing picks it
    k[: cfg.l_bins // 2] = 1e3
    codes = torch.cdist(flat, k).argmin(-1)
    assert int((codes < cfg.l_bins // 2).sum()) == 0
    stats = ema.update(0, k, flat, codes)
    assert stats["restarts_0"] == cfg.l_bins // 2
    # the dead codes now sit on latents again and get picked
    assert float(k[: cfg.l_bins // 2].abs().max()) < 100
    codes = torch.cdist(flat, k).argmin(-1)
    assert int((codes < cfg.l_bins // 2).sum()) > 0


def test_metrics_on_known_signals():
    t = torch.arange(8000) / 8000.0
    x = torch.sin(2 * np.pi * 440 * t)[None]
    assert float(spectral_convergence(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert float(spectral_convergence(x, torch.zeros_like(x))) == pytest.approx(1.0, abs=1e-6)
    assert float(log_spectral_distance(x, x)) == pytest.approx(0.0, abs=1e-4)
    # half the amplitude is -6.02 dB in every bin that is well above the floor
    assert 0.5 < float(log_spectral_distance(x, 0.5 * x)) <= 6.03
    assert Bandwidth(1.0, 2.0).as_dict() == {"l2": 1.0, "spec": 2.0}
