"""The sampler's properties on each device it runs on: here on the CPU, and on a CUDA GPU where torch sees one (the
``gpu`` mark; ``benchmarks/device_check.sh`` runs them, and test_priming_trim.py's primed steps against the full
pass, on a lent GPU). Random tiny networks of the official structures, so no reference fixture has to travel:

- sampling in bf16 gives logits close to float32, and the same top token almost everywhere;
- a candidate draws the same tokens alone and in a batch of three, in float32 and in the GPU's bf16;
- on a GPU, the compiled step (a CUDA graph) draws the eager step's tokens.
"""

import pytest
import torch

from studio.engine.sampling import iter_sample_window, run_window, teacher_forced_step_logits
from studio.engine.speed import synthetic_conditioning
from tests.sampler.test_priming_trim import CONFIGS, DEVICES, _prior

pytestmark = pytest.mark.usefixtures("exact_float32_products")


def _tokens(prior, n: int, device: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randint(0, prior.cfg.bins, (n, prior.cfg.n_ctx_total), generator=g).to(device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", CONFIGS)
def test_bf16_logits_are_close_to_float32(device, kind):
    prior = _prior(kind=kind, device=device)
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
    prior = _prior(device=device)
    prior.cast_for_sampling(dtype)
    ctx = _tokens(prior, 3, device)[:, :12]
    batch, _ = _window(prior, synthetic_conditioning(prior, 3, device), ctx, [5, 6, 7], dtype)
    alone, _ = _window(prior, synthetic_conditioning(prior, 1, device), ctx[1:2], [6], dtype)
    assert torch.equal(batch[1:2], alone)
    assert not torch.equal(batch[0], batch[2])


@pytest.mark.gpu
def test_compiled_gpu_step_draws_the_eager_tokens():
    prior = _prior(device="cuda")
    cond = synthetic_conditioning(prior, 2, "cuda")
    ctx = _tokens(prior, 2, "cuda")[:, :12]
    eager, eager_logits = _window(prior, cond, ctx, [3, 4], torch.float32, compiled=False)
    graph, graph_logits = _window(prior, cond, ctx, [3, 4], torch.float32, compiled=True)
    from studio.engine import step_compile

    assert not step_compile._failed.get("cuda"), step_compile._failed.get("cuda")
    torch.testing.assert_close(graph_logits, eager_logits, atol=1e-4, rtol=1e-4)
    assert torch.equal(graph, eager)
