"""Conditioning of a prior: artist/genre start token, timing, and the upper level's codes (upsamplers)."""

from __future__ import annotations

import torch
from torch import nn

from .conv_blocks import DecoderConvBlock, conditioner_res_scale
from .transformer import LayerNorm


class SimpleEmbedding(nn.Module):
    def __init__(self, bins: int, width: int, init_scale: float = 1.0):
        super().__init__()
        self.emb = nn.Embedding(bins, width)
        if self.emb.weight.device.type != "meta":
            nn.init.normal_(self.emb.weight, std=0.01 * init_scale)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.emb(idx)


class RangeEmbedding(nn.Module):
    """Embeds a position in ``[lo, hi)`` by its bin out of ``bins``; with ``n_time`` > 1 it interpolates
    ``n_time`` positions from a start to an end value. ``clamp`` clips the end into the range."""

    def __init__(self, n_time: int, bins: int, lo: float, hi: float, width: int, clamp: bool = False):
        super().__init__()
        self.n_time, self.bins, self.lo, self.hi, self.clamp = n_time, bins, lo, hi, clamp
        self.emb = nn.Embedding(bins, width)
        if self.emb.weight.device.type != "meta":
            nn.init.normal_(self.emb.weight, std=0.01)

    def positions(self, start: torch.Tensor, end: torch.Tensor | None = None) -> torch.Tensor:
        """Bins (N, n_time) of the interpolated positions; start/end are (N, 1) float."""
        if self.n_time == 1:
            pos = start
        else:
            if self.clamp:
                end = end.clamp(self.lo, self.hi)
            frac = torch.arange(self.n_time, dtype=torch.float32, device=start.device).view(1, -1) / self.n_time
            pos = start + (end - start) * frac
        norm = (pos - self.lo) / (self.hi - self.lo)
        return (self.bins * norm).floor().long().clamp(0, self.bins - 1)

    def forward(self, start: torch.Tensor, end: torch.Tensor | None = None) -> torch.Tensor:
        return self.emb(self.positions(start, end))


class LabelConditioner(nn.Module):
    """``y`` -> start token (N, 1, W) from artist + bag of genres, and for the top level the timing (N, n_ctx, W)."""

    def __init__(self, y_bins: tuple, width: int, max_bow_genre_size: int, n_ctx: int, t_bins: int,
                 min_duration: float | None, max_duration: float | None, sr: int, include_time: bool):
        super().__init__()
        n_genres, n_artists = y_bins
        self.max_bow_genre_size = max_bow_genre_size
        self.bow_genre_emb = SimpleEmbedding(n_genres, width)
        self.artist_emb = SimpleEmbedding(n_artists, width)
        self.include_time = include_time
        if include_time:
            lo, hi = min_duration * sr, max_duration * sr
            self.min_length, self.max_length = lo, hi
            self.total_length_emb = RangeEmbedding(1, t_bins, lo, hi, width)
            self.absolute_pos_emb = RangeEmbedding(n_ctx, t_bins, 0.0, hi, width)
            self.relative_pos_emb = RangeEmbedding(n_ctx, t_bins, 0.0, 1.0, width, clamp=True)

    def forward(self, y: torch.Tensor):
        """y (N, y_len) int64 -> (start token (N, 1, W), timing (N, n_ctx, W) or None)."""
        total, offset, length = y[:, 0:1], y[:, 1:2], y[:, 2:3]
        artist = y[:, 3:4]
        genre = y[:, 4:4 + self.max_bow_genre_size]
        mask = (genre >= 0).float().unsqueeze(-1)
        start = self.artist_emb(artist) + (self.bow_genre_emb(genre.clamp(min=0)) * mask).sum(1, keepdim=True)
        if not self.include_time:
            return start, None
        total_f, s, e = total.float(), offset.float(), (offset + length).float()
        timing = (self.total_length_emb(total_f) + self.absolute_pos_emb(s, e)
                  + self.relative_pos_emb(s / total_f, e / total_f))
        return start, timing


class UpperConditioner(nn.Module):
    """Codes of the level above (N, T/up) -> per-token conditioning (N, T, W) (an upsampling conv stack)."""

    def __init__(self, bins: int, width: int, down_t: int, stride: int, cond_width: int, cond_depth: int,
                 m_conv: float, growth: int, cycle: int | None, res_scale: bool):
        super().__init__()
        self.x_emb = nn.Embedding(bins, width)
        self.cond = DecoderConvBlock(width, width, down_t, stride, cond_width, cond_depth, m_conv, growth, cycle,
                                     reverse_dilation=False, res_scale=conditioner_res_scale(cond_depth, res_scale),
                                     as_blocks=True)
        self.ln = LayerNorm(width)
        if self.x_emb.weight.device.type != "meta":
            nn.init.normal_(self.x_emb.weight, std=0.02)

    def forward(self, z_cond: torch.Tensor) -> torch.Tensor:
        x = self.x_emb(z_cond).permute(0, 2, 1)  # (N, W, Tc)
        x = self.cond(x).permute(0, 2, 1)  # (N, T, W)
        return self.ln(x)
