"""The cached sampler reproduces the reference's per-step logits for the tokens it drew."""

import numpy as np
import pytest
import torch

from studio.engine import load_checkpoint
from studio.engine.sampling import WindowConditioning, teacher_forced_step_logits

PRIORS = ["upsampler_level_0", "upsampler_level_1", "prior_5b", "prior_5b_lyrics", "prior_1b_lyrics"]


def _setup(fixtures_dir, name):
    prior = load_checkpoint(fixtures_dir / name / "checkpoint.pth.tar")
    fwd = np.load(fixtures_dir / name / "forward.npz")
    smp = np.load(fixtures_dir / name / "sample.npz")
    y = torch.from_numpy(fwd["y"])
    zc = torch.from_numpy(fwd["z_cond"]) if "z_cond" in fwd else None
    with torch.no_grad():
        cond = WindowConditioning(*prior.conditioning(y, zc, 2, "cpu"))
    return prior, y, cond, smp


@pytest.mark.parametrize("name", PRIORS)
@pytest.mark.parametrize("chunk", [None, 8])
def test_step_logits_match_reference(fixtures_dir, name, chunk):
    prior, y, cond, smp = _setup(fixtures_dir, name)
    if name == "prior_1b_lyrics":
        # the joint lyric+music sequence exactly as the reference's cache saw it (before its clamp)
        tokens = torch.from_numpy(smp["raw_merged_tokens"])
        got = teacher_forced_step_logits(prior, tokens, cond, 0, chunk)
        np.testing.assert_allclose(got.numpy(), smp["raw_merged_preds"], atol=1e-5, rtol=1e-5)
        got = teacher_forced_step_logits(prior, tokens, cond, 16 + 32, chunk)  # primed after 32 music tokens
        np.testing.assert_allclose(got.numpy(), smp["raw_merged_preds"][:, 48:], atol=1e-5, rtol=1e-5)
        return
    anc = teacher_forced_step_logits(prior, torch.from_numpy(smp["ancestral_z"]), cond, 0, chunk)
    np.testing.assert_allclose(anc.numpy(), smp["ancestral_step_logits"], atol=1e-5, rtol=1e-5)
    primed = torch.from_numpy(smp["primed_z"])
    assert (primed[:, :32].numpy() == smp["primed_prefix"]).all()
    got = teacher_forced_step_logits(prior, primed, cond, 32, chunk)
    np.testing.assert_allclose(got.numpy(), smp["primed_step_logits_unscaled"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["upsampler_level_0", "prior_5b_lyrics", "prior_1b_lyrics"])
@pytest.mark.parametrize("n_known,chunk", [(0, None), (5, 3), (37, 5), (40, None), (23, 16)])
def test_cache_equals_teacher_forcing(fixtures_dir, name, n_known, chunk):
    """Priming in chunks that cross block edges, then steps: the sparse ring caches give the full pass's logits."""
    prior, y, cond, smp = _setup(fixtures_dir, name)
    z = torch.from_numpy(np.load(fixtures_dir / name / "forward.npz")["z"])
    tokens = prior.joint_tokens(z, y)
    with torch.no_grad():
        full = prior.prior(tokens, cond.x_cond, cond.y_cond, cond.encoder_kv)
    n_known += prior.cfg.prefix_len
    cached = teacher_forced_step_logits(prior, tokens, cond, n_known, chunk)
    torch.testing.assert_close(cached, full[:, n_known:], atol=1e-5, rtol=1e-5)


def test_sparse_cache_is_smaller(fixtures_dir):
    from studio.engine.sampling import window_decoder
    prior, y, cond, smp = _setup(fixtures_dir, "prior_1b_lyrics")
    dec = window_decoder(prior, cond, torch.float32)
    sizes = [c.k.shape[1] for c in dec.caches]
    bc = prior.cfg.n_ctx_total // prior.cfg.blocks
    # row, column, previous block; the prime layer holds the prefix plus one spare slot
    assert sizes[:3] == [bc, prior.cfg.n_ctx_total, 2 * bc] and sizes[15] == 24 + 1


def test_bf16_path_agrees_with_fp32(fixtures_dir):
    """The GPU fast path (bf16 stream, weights cast once) checked on CPU: logits within bf16 tolerance."""
    prior, y, cond, smp = _setup(fixtures_dir, "upsampler_level_0")
    z = torch.from_numpy(smp["ancestral_z"])
    ref = teacher_forced_step_logits(prior, z, cond, 0, None)
    prior.cast_for_sampling(torch.bfloat16)
    got = teacher_forced_step_logits(prior, z, cond, 0, None, dtype=torch.bfloat16)
    assert prior.prior.transformer.layers[0].attn.c_attn.w.dtype == torch.bfloat16
    err = (got - ref).abs().max().item()
    scale = ref.abs().max().item()
    assert err < 0.03 * scale, (err, scale)
    assert (got.argmax(-1) == ref.argmax(-1)).float().mean() > 0.9
