"""One attention path: the full pass, priming in chunks and the fixed-shape step give the same numbers for every
attention type; the step compiles as one graph; a candidate's tokens depend only on its own stream."""

import numpy as np
import pytest
import torch

from studio.engine.attention import FactoredAttention, StepIndex
from studio.engine.configs import COLUMN, DENSE, ENC_DEC, PREV_BLOCK, PRIME, ROW
from studio.engine.sampling import (gumbel_noise, iter_sample_window, run_window, sample_step, sample_step_keyed,
                                    window_decoder)
from tests.sampler.test_cached_logits import _setup

T, BC, W, S, HEADS = 48, 8, 32, 16, 2  # 6 blocks of 8 positions


@pytest.mark.parametrize("func", [DENSE, ROW, COLUMN, PREV_BLOCK, PRIME, ENC_DEC])
@pytest.mark.parametrize("cuts", [(48,), (5, 13, 40), (8, 16), (1, 2, 23)])
def test_full_pass_chunks_and_steps_agree(func, cuts):
    torch.manual_seed(func * 7 + len(cuts))
    attn = FactoredAttention(W, S, HEADS, func, BC, 24 if func == PRIME else 0, 1.0, False).eval()
    for p in attn.parameters():
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randn(2, T, W)
    ekv = torch.randn(2, 10, W) if func == ENC_DEC else None
    with torch.no_grad():
        full = attn(x, 0, None, ekv)
        cache = attn.new_cache(2, T, torch.float32, "cpu", enc_len=10 if func == ENC_DEC else 0)
        if func == ENC_DEC:
            k, v = attn.encoder_keys(ekv)
            cache.k.copy_(k)
            cache.v.copy_(v)
        outs, t0 = [], 0
        *chunks, last = cuts
        for t1 in chunks:  # primed in chunks that start and end anywhere in a block
            outs.append(attn(x[:, t0:t1], t0, cache))
            t0 = t1
        for t in range(t0, T):  # then stepped at a position tensor
            outs.append(attn(x[:, t:t + 1], StepIndex(torch.tensor(t), [cache]), cache))
    got = torch.cat(outs, 1)
    assert got.shape == full.shape
    torch.testing.assert_close(got, full, atol=1e-5, rtol=1e-5)


def test_first_block_of_previous_block_layer_sees_nothing():
    attn = FactoredAttention(W, S, HEADS, PREV_BLOCK, BC, 0, 1.0, False).eval()
    with torch.no_grad():
        out = attn(torch.randn(1, T, W))
    # a query with no keys outputs 0 before the projection: only c_proj's bias remains
    torch.testing.assert_close(out[0, :BC], attn.c_proj.b.expand(BC, -1).detach())


def test_counter_noise_is_fixed_by_key_and_position_and_draws_the_softmax():
    keys = torch.tensor([11, 12, 11])
    a = gumbel_noise(keys, 100, 4, 50)
    assert torch.equal(a[0], a[2]) and not torch.equal(a[0], a[1])
    torch.testing.assert_close(gumbel_noise(keys[1:2], 102, 2, 50)[0], a[1, 2:])  # any block of steps
    # Gumbel-max over fixed logits draws each class with its softmax probability
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0, 0.5])
    g = gumbel_noise(torch.tensor([987654321]), 0, 20000, 5)[0]
    counts = np.bincount(torch.argmax(logits + g, -1).numpy(), minlength=5) / 20000
    np.testing.assert_allclose(counts, torch.softmax(logits, 0).numpy(), atol=0.015)


def _sample(prior, cond, ctx, seeds, n, **kw):
    return run_window(iter_sample_window(prior, ctx, n, cond, seeds, 0.98, **kw))[0]


def test_candidate_tokens_alone_equal_in_a_batch_of_three(fixtures_dir):
    prior, y, cond2, smp = _setup(fixtures_dir, "prior_5b_lyrics")
    y3 = torch.cat([y, y[:1]])
    with torch.no_grad():
        from studio.engine.sampling import WindowConditioning
        cond3 = WindowConditioning(*prior.conditioning(y3, None, 3, "cpu"))
        cond1 = WindowConditioning(*prior.conditioning(y[1:2], None, 1, "cpu"))
    ctx = torch.from_numpy(smp["primed_prefix"])
    ctx3 = torch.cat([ctx, ctx[:1]])
    batch = _sample(prior, cond3, ctx3, [5, 6, 7], 30)
    alone = _sample(prior, cond1, ctx3[1:2], [6], 30)
    assert torch.equal(batch[1:2], alone)
    assert not torch.equal(batch[0], batch[2])  # same context, other streams: other tokens


def test_resumed_window_draws_the_same_tokens(fixtures_dir):
    prior, y, cond, smp = _setup(fixtures_dir, "upsampler_level_0")
    ctx = torch.from_numpy(smp["primed_prefix"])
    straight = _sample(prior, cond, ctx, [3, 4], 24)
    first = straight[:, :10]
    resumed = _sample(prior, cond, torch.cat([ctx, first], 1), [3, 4], 14)
    assert torch.equal(resumed, straight[:, 10:])


def test_step_compiles_as_one_graph_and_matches_eager(fixtures_dir):
    """torch.compile(fullgraph=True) raises on any graph break; the compiled step, which makes its own noise, draws
    the eager loop's tokens (noise made a block at a time) and gives its logits."""
    prior, y, cond, smp = _setup(fixtures_dir, "upsampler_level_0")
    ctx = torch.from_numpy(smp["primed_prefix"])
    keys = torch.tensor([1, 2])
    compiled = torch.compile(sample_step_keyed, fullgraph=True, dynamic=False)
    results = []
    for fn in (sample_step, compiled):
        dec = window_decoder(prior, cond, torch.float32)
        dec.prime(ctx)
        prev, t = ctx[:, -1:].clone(), torch.tensor(ctx.shape[1])
        toks, logs = [], []
        noise = gumbel_noise(keys, ctx.shape[1], 6, prior.prior.bins)
        with torch.no_grad():
            for i in range(6):
                src = noise[:, i] if fn is sample_step else keys
                tok, logits = fn(dec, prev, t, src, torch.tensor(0.98), 0, 0.0, 0)
                toks.append(tok.clone())
                logs.append(logits.clone())
                prev.copy_(tok[:, None])
                t += 1
        results.append((torch.stack(toks, 1), torch.stack(logs, 1)))
    assert torch.equal(results[0][0], results[1][0])
    torch.testing.assert_close(results[1][1], results[0][1], atol=1e-5, rtol=1e-5)


def test_keyed_noise_is_the_block_noise():
    """The compiled step's own noise at a position is the eager loop's block noise there, bit for bit."""
    from studio.engine.sampling import gumbel_at

    keys = torch.tensor([5, 2**40 + 7, 123456789])
    block = gumbel_noise(keys, 64, 64, 512)
    for step in (0, 17, 63):
        assert torch.equal(gumbel_at(keys, torch.tensor(64 + step).view(1), 512)[:, 0], block[:, step])
