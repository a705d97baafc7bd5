"""The three-level VQ-VAE: per-level encoders and decoders straight to and from raw audio, and a codebook per level.

Key names match the official checkpoint (``encoders.L``, ``decoders.L``, ``bottleneck.level_blocks.L.k``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .configs import VQVAEConfig
from .conv_blocks import DecoderConvBlock, EncoderConvBlock


class Encoder(nn.Module):
    """Raw audio (N, 1, T) -> level-L latents (N, emb, T / hop_L) through L+1 blocks at level L's width."""

    def __init__(self, cfg: VQVAEConfig, level: int):
        super().__init__()
        width = cfg.width * cfg.multipliers[level]
        depth = cfg.depth * cfg.multipliers[level]
        self.level_blocks = nn.ModuleList(
            EncoderConvBlock(1 if i == 0 else cfg.emb_width, cfg.emb_width, cfg.downs_t[i], cfg.strides_t[i], width,
                             depth, cfg.m_conv, cfg.dilation_growth_rate, cfg.dilation_cycle)
            for i in range(level + 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.level_blocks:
            x = block(x)
        return x


class Decoder(nn.Module):
    """Level-L latents (N, emb, T_L) -> raw audio (N, 1, T_L * hop_L), blocks run from level L down to 0."""

    def __init__(self, cfg: VQVAEConfig, level: int):
        super().__init__()
        width = cfg.width * cfg.multipliers[level]
        depth = cfg.depth * cfg.multipliers[level]
        self.level_blocks = nn.ModuleList(
            DecoderConvBlock(cfg.emb_width, cfg.emb_width, cfg.downs_t[i], cfg.strides_t[i], width, depth,
                             cfg.m_conv, cfg.dilation_growth_rate, cfg.dilation_cycle, cfg.reverse_decoder_dilation)
            for i in range(level + 1)
        )
        self.out = nn.Conv1d(cfg.emb_width, 1, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in reversed(self.level_blocks):
            x = block(x)
        return self.out(x)


class Codebook(nn.Module):
    """Nearest-code quantiser; ``k`` is (bins, emb)."""

    def __init__(self, bins: int, emb: int):
        super().__init__()
        self.register_buffer("k", torch.zeros(bins, emb))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, emb, T) float -> (N, T) int64 codes."""
        n, c, t = x.shape
        flat = x.permute(0, 2, 1).reshape(-1, c).float()  # (N*T, emb)
        k = self.k.float()
        dist = (flat**2).sum(-1, keepdim=True) - 2 * flat @ k.t() + (k.t() ** 2).sum(0, keepdim=True)
        return dist.argmin(-1).view(n, t)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, T) int64 -> (N, emb, T)."""
        return F.embedding(z, self.k).permute(0, 2, 1)


class Bottleneck(nn.Module):
    def __init__(self, cfg: VQVAEConfig):
        super().__init__()
        self.level_blocks = nn.ModuleList(Codebook(cfg.l_bins, cfg.emb_width) for _ in range(cfg.levels))


class VQVAE(nn.Module):
    """Encode audio to three levels of codes and render any level back to audio."""

    def __init__(self, cfg: VQVAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoders = nn.ModuleList(Encoder(cfg, level) for level in range(cfg.levels))
        self.decoders = nn.ModuleList(Decoder(cfg, level) for level in range(cfg.levels))
        self.bottleneck = Bottleneck(cfg)

    @property
    def hop_lengths(self) -> list[int]:
        return self.cfg.hop_lengths

    @property
    def sr(self) -> int:
        return self.cfg.sr

    def encode_latents(self, x: torch.Tensor, level: int) -> torch.Tensor:
        """(N, T) audio -> (N, emb, T / hop) encoder output of one level, before quantisation."""
        return self.encoders[level](x.unsqueeze(1).float())

    @torch.no_grad()
    def encode(self, x: torch.Tensor, start_level: int = 0, end_level: int | None = None) -> list[torch.Tensor]:
        """(N, T) float audio in [-1, 1] -> list of int64 codes per level, level 0 first.

        ``T`` must be a multiple of the top hop length (128 for the official model).
        """
        if x.dim() == 3:  # (N, T, 1) as the reference passes it
            x = x[..., 0]
        top = self.hop_lengths[-1]
        if x.shape[-1] % top:
            raise ValueError(f"audio length {x.shape[-1]} is not a multiple of {top} samples; trim or pad it")
        end_level = self.cfg.levels if end_level is None else end_level
        return [self.bottleneck.level_blocks[lv].encode(self.encode_latents(x, lv))
                for lv in range(start_level, end_level)]

    def dequantise(self, z: torch.Tensor, level: int) -> torch.Tensor:
        return self.bottleneck.level_blocks[level].decode(z)

    @torch.no_grad()
    def decode(self, zs: list[torch.Tensor] | torch.Tensor, start_level: int = 0) -> torch.Tensor:
        """Render ``zs[0]`` (codes of level ``start_level``, (N, T_L)) to audio (N, T_L * hop_L), not clamped."""
        z = zs[0] if isinstance(zs, (list, tuple)) else zs
        latents = self.dequantise(z.long(), start_level)
        return self.decoders[start_level](latents)[:, 0, :]
