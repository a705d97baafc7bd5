"""The small layers of the Jukebox transformers, with the official checkpoints' parameter names."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


GELU_SCALE = 1.702  # the MLP's activation: x * sigmoid(1.702 x) ("quick GELU"), = silu(1.702 x) / 1.702


# A decode step multiplies a few rows (the batch) by each weight. With int8 weights (``Conv1D.quantize``) up to this
# many rows use the int8 kernel, which reads a quarter of the bytes; more rows (priming a window) dequantize the
# weight once per pass and multiply in the activations' dtype, where the int8 kernel is slower (measured on a Zen 4
# core, 1792x512 by 512x512: int8 kernel 13.1 ms, dequantize then bf16 4.4 ms; 1 or 3 rows: int8 3x faster).
INT8_ROWS = 16
INT8_K_MULTIPLE = 16  # the int8 kernel takes inputs a multiple of 16 wide (others crashed it, torch 2.13 CPU)


class Conv1D(nn.Module):
    """``y = x @ w + b`` with ``w`` stored (n_in, n_out), as the official checkpoints hold it."""

    def __init__(self, n_in: int, n_out: int, init_scale: float = 1.0, fp16: bool = False):
        super().__init__()
        self.n_out = n_out
        self.w = nn.Parameter(torch.empty(n_in, n_out, dtype=torch.float16 if fp16 else torch.float32))
        self.b = nn.Parameter(torch.zeros(n_out))
        self.register_buffer("wq", None, persistent=False)  # int8 (n_out, n_in) once quantized for sampling
        self.register_buffer("scale", None, persistent=False)  # (n_out,) one scale per output
        if self.w.device.type != "meta":
            nn.init.normal_(self.w, std=0.02 * init_scale)

    @torch.no_grad()
    def quantize(self, dtype: torch.dtype) -> None:
        """Hold the weight as int8, symmetric, one scale per output, and drop the float copy (sampling only: a
        quarter of fp32's bytes to read per step); inputs, bias and outputs are ``dtype``."""
        w = self.w.float().t()
        scale = (w.abs().amax(1) / 127.0).clamp_min(torch.finfo(torch.float32).tiny)
        self.wq = torch.round(w / scale[:, None]).clamp_(-127, 127).to(torch.int8).contiguous()
        self.scale = scale.to(dtype)
        self.b = nn.Parameter(self.b.to(dtype), requires_grad=False)
        self.w = None  # (an empty tensor in its place would break loading a saved compiled step)

    def forward(self, x: torch.Tensor, first_out: int = 0, alpha: float = 1.0, beta: float = 1.0) -> torch.Tensor:
        """``alpha (x @ w) + beta b`` (``addmm``'s scales, applied inside the matrix product); with ``first_out``,
        only the outputs from that one on (the rest are not computed)."""
        x2 = x.reshape(-1, x.shape[-1])
        if self.wq is not None:
            wq, scale, b = self.wq, self.scale, self.b
            if first_out:
                wq, scale, b = wq[first_out:], scale[first_out:], b[first_out:]
            if x2.shape[0] <= INT8_ROWS and x2.dtype == scale.dtype and x2.shape[1] % INT8_K_MULTIPLE == 0:
                out = torch.ops.aten._weight_int8pack_mm(x2, wq, scale)  # (its scales as held: inductor's kernel
            else:  #                                                         takes no computed ones)
                out = F.linear(x2, wq.to(x.dtype) * scale.to(x.dtype)[:, None])
            out = torch.add(b.to(x.dtype) if beta == 1.0 else b.to(x.dtype) * beta, out, alpha=alpha)
            return out.view(x.shape[:-1] + (-1,))
        w, b = (self.w[:, first_out:], self.b[first_out:]) if first_out else (self.w, self.b)
        if w.dtype != x.dtype:
            w, b = w.to(x.dtype), b.to(x.dtype)
        out = torch.addmm(b, x2, w, beta=beta, alpha=alpha)
        return out.view(x.shape[:-1] + (-1,))


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32 and cast back to the input dtype."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32 and self.weight.dtype == torch.float32:
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return F.layer_norm(x.float(), self.normalized_shape, self.weight.float(), self.bias.float(),
                            self.eps).to(x.dtype)


class MLP(nn.Module):
    def __init__(self, width: int, n_state: int, init_scale: float, fp16: bool):
        super().__init__()
        self.c_fc = Conv1D(width, n_state, init_scale, fp16)
        self.c_proj = Conv1D(n_state, width, init_scale, fp16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``c_proj(gelu(c_fc(x)))`` with the quick GELU as one operation: ``c_fc`` returns its outputs times 1.702,
        SiLU of that is 1.702 times the GELU, and ``c_proj`` multiplies by 1 / 1.702 (the scales ride in the matrix
        products), in place where no backward pass needs the pre-activation."""
        h = F.silu(self.c_fc(x, alpha=GELU_SCALE, beta=GELU_SCALE), inplace=not torch.is_grad_enabled())
        return self.c_proj(h, alpha=1.0 / GELU_SCALE)
