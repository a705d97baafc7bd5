"""The fixed-shape step (the one captured in a CUDA graph on a GPU), run eagerly on CPU, equals the eager step."""

import numpy as np
import pytest
import torch

from studio.engine.sampling import CachedDecoder, iter_sample_window, teacher_forced_step_logits
from studio.engine.static_step import StaticDecoder
from tests.sampler.test_cached_logits import _setup


@pytest.mark.parametrize("name", ["upsampler_level_0", "prior_5b", "prior_5b_lyrics", "prior_1b_lyrics"])
@pytest.mark.parametrize("n_known", [1, 13, 40])
def test_static_step_matches_teacher_forcing(fixtures_dir, name, n_known):
    prior, y, cond, smp = _setup(fixtures_dir, name)
    z = torch.from_numpy(np.load(fixtures_dir / name / "forward.npz")["z"])
    tokens = prior.joint_tokens(z, y)
    n_known += prior.cfg.prefix_len
    ref = teacher_forced_step_logits(prior, tokens, cond, n_known, 7)
    dec = CachedDecoder(prior, tokens.shape[0], cond)
    dec.prime(tokens[:, :n_known], 7)
    st = StaticDecoder(dec)
    got = []
    with torch.no_grad():
        for t in range(n_known, tokens.shape[1]):
            got.append(st.forward(tokens[:, t - 1:t])[:, -1])
    torch.testing.assert_close(torch.stack(got, 1), ref, atol=1e-5, rtol=1e-5)


def test_sampling_with_static_step_draws_the_same_tokens(fixtures_dir):
    prior, y, cond, smp = _setup(fixtures_dir, "prior_5b_lyrics")
    ctx = torch.from_numpy(smp["primed_prefix"])

    def sample(static):
        gens = [torch.Generator().manual_seed(i) for i in range(2)]
        gen = iter_sample_window(prior, ctx, 32, cond, gens, 0.98, static=static)
        while True:
            try:
                next(gen)
            except StopIteration as stop:
                return stop.value[0]
    assert torch.equal(sample(False), sample(True))
