"""int8 weights for sampling: a projection's outputs stay within int8 rounding of float32 on both of its paths (the
int8 kernel for a step's few rows, the dequantized weight for priming); the sampler's prime + step agree with the
full pass; a prior whose weights were rounded is loaded again before it samples in another dtype."""

import pytest
import torch

from studio.engine.layers import INT8_ROWS, Conv1D
from studio.engine.loading import load_checkpoint
from studio.engine.sampling import WindowConditioning, teacher_forced_step_logits
from tests.conftest import FIXTURES, tiny_model_set_or_skip


@pytest.mark.parametrize("n_in", [64, 40])  # 40: not a multiple of 16, so never the int8 kernel
@pytest.mark.parametrize("rows", [1, 3, INT8_ROWS + 24])
def test_int8_projection_stays_within_rounding_of_float32(n_in, rows):
    torch.manual_seed(n_in + rows)
    layer = Conv1D(n_in, 96)
    torch.nn.init.normal_(layer.b, std=0.1)
    x = torch.randn(rows, n_in)
    with torch.no_grad():
        exact = layer(x)
        layer.quantize(torch.bfloat16)
        got = layer(x.bfloat16()).float()
        fp32_in = layer(x)  # float32 inputs (the alignment's teacher-forced pass) take the dequantized weight
    assert layer.wq.dtype == torch.int8 and layer.w is None
    scale = exact.abs().max()
    assert (got - exact).abs().max() / scale < 0.02
    assert (fp32_in - exact).abs().max() / scale < 0.01
    assert (got - exact).abs().max() > 0  # it did round


def test_int8_prior_prime_and_step_agree_with_the_full_pass(fixtures_dir):
    import numpy as np

    prior = load_checkpoint(fixtures_dir / "upsampler_level_0" / "checkpoint.pth.tar")
    fwd = np.load(fixtures_dir / "upsampler_level_0" / "forward.npz")
    y, zc, z = (torch.from_numpy(fwd[k]) for k in ("y", "z_cond", "z"))
    with torch.no_grad():
        exact = prior.logits(z, zc, y)
        prior.cast_for_sampling(torch.int8)
        cond = WindowConditioning(*prior.conditioning(y, zc, z.shape[0], "cpu"))
        full = prior.logits(z, zc, y)  # the full pass over the int8 weights
        stepped = teacher_forced_step_logits(prior, z, cond, n_known=z.shape[1] // 2, chunk_size=8,
                                             dtype=torch.int8)
    half = z.shape[1] // 2
    spread = exact.std()
    assert prior.prior.transformer.layers[0].attn.c_attn.wq is not None
    assert (full - exact).abs().max() / spread < 0.01  # int8 weights move the logits a little
    assert (stepped.float() - full[:, half:]).abs().max() / spread < 0.03  # bf16 activations, the same weights


def test_rounded_prior_is_loaded_again_before_sampling_in_another_dtype():
    models = tiny_model_set_or_skip()
    path = FIXTURES / "upsampler_level_0" / "checkpoint.pth.tar"
    file_w = load_checkpoint(path).prior.transformer.layers[0].attn.c_attn.w.detach()
    int8 = models.sampling_prior(0, torch.int8)
    assert int8.prior.transformer.layers[0].attn.c_attn.wq is not None
    assert models.sampling_prior(0, torch.int8) is int8  # the same dtype again: kept
    exact = models.sampling_prior(0, torch.float32)
    assert exact is not int8
    c_attn = exact.prior.transformer.layers[0].attn.c_attn
    assert c_attn.wq is None and torch.equal(c_attn.w.detach(), file_w)
