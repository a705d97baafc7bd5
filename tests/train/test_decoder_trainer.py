"""Decoder fine-tuning on upsampler draws (tiny configs): only that decoder changes, codes stay valid, loss falls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.engine.demo_config import tiny_prior, tiny_vqvae
from studio.engine.loading import build, load_checkpoint, save_model
from studio.train.codes import encode_set, vqvae_fingerprint
from studio.train.data import synthetic_set
from studio.train.decoder_trainer import drawn_codes, train_decoder
from studio.train.prior_trainer import train_prior
from studio.train.state import RunOptions, TrainError, load_state, read_log


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    """A tiny VQ-VAE (random codebooks) and a level-0 upsampler trained a few steps on its codes."""
    torch.manual_seed(0)
    vq = build(tiny_vqvae())
    for blk in vq.bottleneck.level_blocks:
        blk.k.normal_()
    data = synthetic_set(sr=8000, seconds=3.0)
    folder = tmp_path_factory.mktemp("pair")
    vq_file = save_model(vq, folder / "vqvae")
    run = folder / "prior0"
    prior_file = train_prior(encode_set(vq, data), 0, tiny_prior(0), _opts(run, steps=20, lr=3e-3))
    return data, vq_file, prior_file


def _opts(out, **kw):
    base = dict(out=out, steps=30, batch=4, lr=2e-3, warmup=2, log_every=5, ckpt_every=100, seed=0)
    base.update(kw)
    return RunOptions(**base)


def test_only_the_tuned_decoder_changes_and_its_loss_falls(tiny_pair, tmp_path):
    data, vq_file, prior_file = tiny_pair
    out = train_decoder(data.split("train"), vq_file, prior_file, 0, _opts(tmp_path), sampled_fraction=0.5)
    before, after = load_checkpoint(vq_file), load_checkpoint(out)
    changed = {k for k, v in after.state_dict().items() if not torch.equal(v, before.state_dict()[k])}
    assert changed and all(k.startswith("decoders.0.") for k in changed)
    assert len(changed) == sum(1 for k in before.state_dict() if k.startswith("decoders.0."))
    x = torch.from_numpy(data.clips[0].audio[:1024].copy())[None]
    for a, b in zip(before.encode(x), after.encode(x)):  # the codes (and so every prior) are unchanged
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert vqvae_fingerprint(after) == vqvae_fingerprint(before)  # a code cache made before stays valid
    log = read_log(tmp_path)
    assert log[-1]["loss"] < log[0]["loss"] * 0.9
    assert 0.0 < np.mean([r["drawn_fraction"] for r in log]) < 1.0
    assert load_state(tmp_path)["extra"]["kind"] == "decoder_level_0"


def test_draws_follow_the_upsampler(tiny_pair):
    data, vq_file, prior_file = tiny_pair
    vq, prior = load_checkpoint(vq_file), load_checkpoint(prior_file)
    prior.attach_labels(near=prior_file)
    x = torch.from_numpy(np.stack([c.audio[:512] for c in data.clips[:2]]))
    z, z_up = vq.encode(x, 0, 2)
    y = torch.from_numpy(np.stack([prior.make_y("alpha", "reel", "", 8000)] * 2)).long()
    g = torch.Generator().manual_seed(0)
    cold = drawn_codes(prior, z[:, :32], z_up[:, :16], y, 1e-4, g)  # near zero temperature: the argmax
    with torch.no_grad():
        torch.testing.assert_close(cold, prior.logits(z[:, :32], z_up[:, :16], y).argmax(-1), rtol=0, atol=0)
    hot = drawn_codes(prior, z[:, :32], z_up[:, :16], y, 1.0, g)
    assert hot.shape == (2, 32) and hot.min() >= 0 and hot.max() < 32 and not torch.equal(hot, cold)


def test_resume_continues_as_a_straight_run(tiny_pair, tmp_path):
    data, vq_file, prior_file = tiny_pair
    calls = iter(range(100))
    train_decoder(data.split("train"), vq_file, prior_file, 0, _opts(tmp_path, steps=6),
                  cancel=lambda: next(calls) >= 3)
    assert load_state(tmp_path)["step"] == 3
    train_decoder(data.split("train"), vq_file, prior_file, 0, _opts(tmp_path, steps=6, resume=True))
    straight = tmp_path / "straight"
    train_decoder(data.split("train"), vq_file, prior_file, 0, _opts(straight, steps=6))
    a, b = load_state(straight)["model"], load_state(tmp_path)["model"]
    assert a.keys() == b.keys() and all(k.startswith("decoder.") for k in a)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)


def test_exact_codes_only_when_sampled_fraction_is_zero(tiny_pair, tmp_path):
    data, vq_file, prior_file = tiny_pair
    train_decoder(data.split("train"), vq_file, prior_file, 0, _opts(tmp_path, steps=5), sampled_fraction=0.0)
    assert all(r["drawn_fraction"] == 0.0 for r in read_log(tmp_path))


def test_refuses_the_top_level_and_a_mismatched_prior(tiny_pair, tmp_path):
    data, vq_file, prior_file = tiny_pair
    with pytest.raises(TrainError, match="no upsampler"):
        train_decoder(data, vq_file, prior_file, 2, _opts(tmp_path))
    with pytest.raises(TrainError, match="not the level-1 prior"):
        train_decoder(data, vq_file, prior_file, 1, _opts(tmp_path))
    with pytest.raises(TrainError, match="not a VQ-VAE"):
        train_decoder(data, prior_file, prior_file, 0, _opts(tmp_path))
