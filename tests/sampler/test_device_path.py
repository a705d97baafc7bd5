"""The sampler's properties on each device it runs on: here on the CPU, and on a CUDA GPU where torch sees one (the
``gpu`` mark; ``benchmarks/device_check.sh`` runs them on a lent GPU). Random tiny networks of the official
structures, so no reference fixture has to travel with them:

- priming (in chunks that start and end inside blocks) and then stepping give the full pass's logits;
- sampling in bf16 gives logits close to float32, and the same top token almost everywhere;
- a candidate draws the same tokens alone and in a batch of three, in float32 and in the GPU's bf16;
- on a GPU, the compiled step (a CUDA graph) draws the eager step's tokens.
"""

import pytest
import torch

from studio.engine.configs import tiny_config
from studio.engine.demo_config import tiny_prior
from studio.engine.sampling import iter_sample_window, run_window, teacher_forced_step_logits
from studio.engine.speed import random_prior, synthetic_conditioning

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
NETS = {"upsampler": lambda: tiny_prior(0), "5b_lyrics": lambda: tiny_config(2), "1b_lyrics": lambda: tiny_prior(2)}


def _prior(kind: str, device: str, seed: int = 0):
    torch.manual_seed(seed)
    prior = random_prior(NETS[kind](), torch.device(device))
    with torch.no_grad():
        for p in prior.parameters():
            p.normal_(0, 0.3)  # large enough that every layer moves the logits
    return prior


def _tokens(prior, n: int, device: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randint(0, prior.cfg.bins, (n, prior.cfg.n_ctx_total), generator=g).to(device)


@pytest.fixture(autouse=True)
def _exact_float32_products():
    """float32 means float32 on the GPU too (no TF32 products) while a test runs."""
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", NETS)
@pytest.mark.parametrize("n_known,chunk", [(21, 6), (16, None)])
def test_primed_steps_give_the_full_pass_logits(device, kind, n_known, chunk):
    prior = _prior(kind, device)
    cond = synthetic_conditioning(prior, 2, device)
    tokens = _tokens(prior, 2, device)
    n_known += prior.cfg.prefix_len
    with torch.no_grad():
        full = prior.prior(tokens, cond.x_cond, cond.y_cond, cond.encoder_kv)
    got = teacher_forced_step_logits(prior, tokens, cond, n_known, chunk)
    assert got.device.type == device and got.abs().max() > 0.1
    torch.testing.assert_close(got, full[:, n_known:], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", NETS)
def test_bf16_logits_are_close_to_float32(device, kind):
    prior = _prior(kind, device)
    cond = synthetic_conditioning(prior, 2, device)
    tokens = _tokens(prior, 2, device)
    n_known = prior.cfg.prefix_len + 16
    ref = teacher_forced_step_logits(prior, tokens, cond, n_known, 8)
    prior.cast_for_sampling(torch.bfloat16)
    got = teacher_forced_step_logits(prior, tokens, cond, n_known, 8, dtype=torch.bfloat16).float()
    err = (got - ref).abs().max() / ref.std()
    same_top = (got.argmax(-1) == ref.argmax(-1)).float().mean()
    assert err < 0.1, f"bf16 logits off by {err:.3f} of the logits' spread"
    assert same_top >= 0.9, f"bf16 picks float32's top token at {same_top:.0%} of the steps"


def _window(prior, cond, ctx, seeds, dtype, compiled=False):
    return run_window(iter_sample_window(prior, ctx, 16, cond, seeds, 0.98, dtype=dtype, chunk_size=8,
                                         compiled=compiled, record_logits=True))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_candidate_draws_the_same_tokens_alone_and_in_a_batch_of_three(device, dtype):
    prior = _prior("upsampler", device)
    prior.cast_for_sampling(dtype)
    ctx = _tokens(prior, 3, device)[:, :12]
    batch, _ = _window(prior, synthetic_conditioning(prior, 3, device), ctx, [5, 6, 7], dtype)
    alone, _ = _window(prior, synthetic_conditioning(prior, 1, device), ctx[1:2], [6], dtype)
    assert torch.equal(batch[1:2], alone)
    assert not torch.equal(batch[0], batch[2])


@pytest.mark.gpu
def test_compiled_gpu_step_draws_the_eager_tokens():
    prior = _prior("upsampler", "cuda")
    cond = synthetic_conditioning(prior, 2, "cuda")
    ctx = _tokens(prior, 2, "cuda")[:, :12]
    eager, eager_logits = _window(prior, cond, ctx, [3, 4], torch.float32, compiled=False)
    graph, graph_logits = _window(prior, cond, ctx, [3, 4], torch.float32, compiled=True)
    from studio.engine import step_compile

    assert not step_compile._failed.get("cuda"), step_compile._failed.get("cuda")
    torch.testing.assert_close(graph_logits, eager_logits, atol=1e-4, rtol=1e-4)
    assert torch.equal(graph, eager)
