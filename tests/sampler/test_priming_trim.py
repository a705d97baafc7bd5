"""Priming computes what later passes and steps read, and nothing else: a top previous-block layer keeps two
blocks, so the layer below it gives outputs for those positions alone; the trimmed caches give the full pass's
logits, on the CPU and (the ``gpu`` mark) on a CUDA GPU."""

import pytest
import torch

from studio.engine.configs import COLUMN, ENC_DEC, PREV_BLOCK, PRIME, ROW, tiny_config
from studio.engine.demo_config import tiny_prior
from studio.engine.sampling import teacher_forced_step_logits, window_decoder
from studio.engine.speed import random_prior, synthetic_conditioning

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
CONFIGS = {"upsampler": lambda: tiny_prior(0), "5b_lyrics": lambda: tiny_config(2), "1b_lyrics": lambda: tiny_prior(2)}


def _prior(depth=None, kind: str = "upsampler", device: str = "cpu"):
    """A random tiny net: attn_order 2 (row, column, previous block, row, ...); 5b_lyrics-style (an encoder-decoder
    layer at 18); 1b_lyrics-style (a prime layer on top). ``depth`` None: the config's own."""
    cfg = CONFIGS[kind]()
    if depth is not None:
        cfg.depth = depth
    torch.manual_seed(depth or 0)
    prior = random_prior(cfg, torch.device(device))
    with torch.no_grad():
        for p in prior.parameters():
            p.normal_(0, 0.3)  # large enough that every layer moves the logits
    return prior


def _mlp_rows(prior):
    """Rows each layer's MLP sees, recorded by forward hooks."""
    rows = {}
    for i, layer in enumerate(prior.prior.transformer.layers):
        layer.mlp.register_forward_hook(lambda m, a, out, i=i: rows.setdefault(i, []).append(a[0].shape[1]))
    return rows


@pytest.mark.parametrize("t1", [20, 16])  # inside a block, at a block edge
def test_layer_below_a_previous_block_top_runs_only_the_rows_it_keeps(t1):
    prior = _prior(3)
    assert prior.prior.transformer.funcs == [ROW, COLUMN, PREV_BLOCK]
    bc = prior.cfg.n_ctx_total // prior.cfg.blocks
    rows = _mlp_rows(prior)
    cond = synthetic_conditioning(prior, 2, "cpu")
    tokens = torch.randint(0, prior.cfg.bins, (2, t1))
    with torch.no_grad():
        window_decoder(prior, cond, torch.float32).start(cond).prime(tokens)
    # layer 0 feeds the column layer's keys at every position; the column layer's outputs are read only by the
    # previous-block layer's keys of the block before t1's and of t1's own; the top layer's MLP never runs
    assert rows == {0: [t1], 1: [t1 - (t1 // bc - 1) * bc]}


def test_layers_below_a_prime_top_run_only_the_lyric_prefix_and_the_last_two_blocks():
    prior = _prior(16, "1b_lyrics")
    funcs = prior.prior.transformer.funcs
    assert funcs[13:] == [COLUMN, PREV_BLOCK, PRIME]
    prime_len, bc = prior.prior.transformer.layers[-1].attn.prime_len, prior.cfg.n_ctx_total // prior.cfg.blocks
    t1 = prior.cfg.n_ctx_total - 2  # a full window, prefix included
    kept = t1 - (t1 // bc - 1) * bc  # the previous-block layer's cache: the block before t1's and t1's own
    assert 0 < prime_len and prime_len + kept < t1  # (a gap between the two)
    rows = _mlp_rows(prior)
    cond = synthetic_conditioning(prior, 2, "cpu")
    with torch.no_grad():
        window_decoder(prior, cond, torch.float32).start(cond).prime(torch.randint(0, prior.cfg.bins, (2, t1)))
    # the prime layer keeps the prefix's keys alone, so the previous-block layer below it gives outputs for the
    # prefix and only stores the keys of its last two blocks; the column layer under that gives outputs for those
    # two spans, and every layer under it runs the whole window (the column layer keeps every position's keys)
    assert rows == {**{i: [t1] for i in range(13)}, 13: [prime_len + kept], 14: [prime_len]}


NETS = {"column top": (2, "upsampler", COLUMN), "previous-block top": (3, "upsampler", PREV_BLOCK),
        "row top": (4, "upsampler", ROW), "encoder-decoder top": (19, "5b_lyrics", ENC_DEC),
        "encoder-decoder below the top": (21, "5b_lyrics", COLUMN), "prime top": (16, "1b_lyrics", PRIME)}


@pytest.mark.usefixtures("exact_float32_products")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("net", NETS)
@pytest.mark.parametrize("n_known,chunk", [(20, None), (16, None), (21, 6), (9, 4)])
def test_trimmed_priming_gives_the_full_pass_logits(device, net, n_known, chunk):
    depth, kind, top = NETS[net]
    prior = _prior(depth, kind, device)
    funcs = prior.prior.transformer.funcs
    assert funcs[-1] == top and (kind != "5b_lyrics" or funcs[18] == ENC_DEC)
    cond = synthetic_conditioning(prior, 2, device)
    n_known += prior.cfg.prefix_len
    tokens = torch.randint(0, prior.cfg.bins, (2, prior.cfg.n_ctx_total)).to(device)
    with torch.no_grad():
        full = prior.prior(tokens, cond.x_cond, cond.y_cond, cond.encoder_kv)
    got = teacher_forced_step_logits(prior, tokens, cond, n_known, chunk)
    assert got.device.type == device and got.abs().max() > 0.1
    tol = 1e-5 if device == "cpu" else 1e-4  # a GPU's kernels sum in other orders than the full pass's
    torch.testing.assert_close(got, full[:, n_known:], atol=tol, rtol=tol)
