"""1-D convolutional stacks shared by the VQ-VAE and the upsamplers' upper-level conditioner."""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn


class ResConvBlock(nn.Module):
    """``x + res_scale * conv1x1(relu(conv3_dilated(relu(x))))``; keys ``model.{1,3}``."""

    def __init__(self, n_in: int, n_state: int, dilation: int, res_scale: float = 1.0):
        super().__init__()
        self.model = nn.Sequential(
            nn.ReLU(),
            nn.Conv1d(n_in, n_state, 3, 1, dilation, dilation),
            nn.ReLU(),
            nn.Conv1d(n_state, n_in, 1, 1, 0),
        )
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, T)
        return x + self.res_scale * self.model(x)


class Resnet1D(nn.Module):
    """``depth`` residual blocks with dilations growth**(i % cycle); reversed in decoders.

    ``as_blocks`` stores them as ``blocks.<i>`` (the conditioner's key layout) instead of ``model.<i>``.
    """

    def __init__(self, n_in: int, depth: int, m_conv: float = 1.0, growth: int = 1, cycle: Optional[int] = None,
                 reverse: bool = False, res_scale: float = 1.0, as_blocks: bool = False):
        super().__init__()
        blocks = [
            ResConvBlock(n_in, int(m_conv * n_in), growth ** (i % cycle if cycle else i), res_scale)
            for i in range(depth)
        ]
        if reverse:
            blocks = blocks[::-1]
        self.as_blocks = as_blocks
        if as_blocks:
            self.blocks = nn.ModuleList(blocks)
        else:
            self.model = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.as_blocks:
            for b in self.blocks:
                x = b(x)
            return x
        return self.model(x)


class EncoderConvBlock(nn.Module):
    """``down_t`` x [stride-2 conv, Resnet1D] then a conv to ``out`` channels: (N, c_in, T) -> (N, out, T / 2**down_t)."""

    def __init__(self, c_in: int, out: int, down_t: int, stride: int, width: int, depth: int, m_conv: float,
                 growth: int, cycle: Optional[int]):
        super().__init__()
        layers = []
        for i in range(down_t):
            layers.append(nn.Sequential(
                nn.Conv1d(c_in if i == 0 else width, width, stride * 2, stride, stride // 2),
                Resnet1D(width, depth, m_conv, growth, cycle),
            ))
        layers.append(nn.Conv1d(width, out, 3, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class DecoderConvBlock(nn.Module):
    """A conv to ``width``, then ``down_t`` x [Resnet1D, stride-2 transposed conv]: upsamples by 2**down_t."""

    def __init__(self, c_in: int, out: int, down_t: int, stride: int, width: int, depth: int, m_conv: float,
                 growth: int, cycle: Optional[int], reverse_dilation: bool, res_scale: float = 1.0,
                 as_blocks: bool = False):
        super().__init__()
        layers = [nn.Conv1d(c_in, width, 3, 1, 1)]
        for i in range(down_t):
            layers.append(nn.Sequential(
                Resnet1D(width, depth, m_conv, growth, cycle, reverse_dilation, res_scale, as_blocks),
                nn.ConvTranspose1d(width, out if i == down_t - 1 else width, stride * 2, stride, stride // 2),
            ))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def conditioner_res_scale(depth: int, scaled: bool) -> float:
    return 1.0 / math.sqrt(depth) if scaled else 1.0
