"""The small layers of the Jukebox transformers, with the official checkpoints' parameter names."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def quick_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


class Conv1D(nn.Module):
    """``y = x @ w + b`` with ``w`` stored (n_in, n_out), as the official checkpoints hold it."""

    def __init__(self, n_in: int, n_out: int, init_scale: float = 1.0, fp16: bool = False):
        super().__init__()
        self.n_out = n_out
        self.w = nn.Parameter(torch.empty(n_in, n_out, dtype=torch.float16 if fp16 else torch.float32))
        self.b = nn.Parameter(torch.zeros(n_out))
        if self.w.device.type != "meta":
            nn.init.normal_(self.w, std=0.02 * init_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.w, self.b
        if w.dtype != x.dtype:
            w, b = w.to(x.dtype), b.to(x.dtype)
        out = torch.addmm(b, x.reshape(-1, x.shape[-1]), w)
        return out.view(x.shape[:-1] + (self.n_out,))


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
        return self.c_proj(quick_gelu(self.c_fc(x)))
