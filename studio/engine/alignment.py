"""Lyric alignment of the top level: which lyric characters each music token attends to (REFERENCE §4)."""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch

from .labels import LabelInfo
from .prior import JukeboxPrior
from .sampling import Cancelled
from .windows import level_windows


@torch.no_grad()
def lyric_alignment(prior: JukeboxPrior, codes: np.ndarray, info: LabelInfo, total_length: int, offset: int,
                    hop_fraction: float, cancel: Optional[Callable[[], bool]] = None) -> list[np.ndarray]:
    """Per candidate a (top_tokens, n_chars) matrix from the alignment layer/head, windows as when sampling.
    Raises ``sampling.Cancelled`` between windows once ``cancel()`` turns true."""
    cfg = prior.cfg
    total = codes.shape[1]
    n_chars = len(info.lyric_tokens)
    device = next(prior.parameters()).device
    hop = int(hop_fraction * cfg.n_ctx)
    windows = level_windows(total, cfg.n_ctx, hop)
    out = []
    for row in range(codes.shape[0]):
        full = np.zeros((max(total, cfg.n_ctx), n_chars + 1), dtype=np.float64)
        for w in reversed(windows):  # earlier windows win
            if cancel is not None and cancel():
                raise Cancelled()
            y_np, idx = prior.labeller.window_y(info, total_length, offset, w.start, cfg.raw_to_tokens, cfg.n_ctx)
            z = codes[row:row + 1, w.start:w.start + cfg.n_ctx]
            if z.shape[1] < cfg.n_ctx:
                z = np.concatenate([z, np.zeros((1, cfg.n_ctx - z.shape[1]), dtype=z.dtype)], axis=1)
            attn = prior.alignment_attention(torch.from_numpy(z).to(device),
                                             None, torch.from_numpy(y_np[None]).to(device))
            a = attn[0, cfg.alignment_head].double().cpu().numpy()  # (n_ctx, n_tokens)
            cols = np.asarray(idx)
            cols = np.where(cols < 0, n_chars, cols)
            full[w.start:w.start + cfg.n_ctx][:, cols] = a
        out.append(full[:total, :n_chars])
    return out
