"""Window schedules of the windowed sampler (REFERENCE §4) and the conditioning of each window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .events import added_tokens
from .labels import LabelInfo
from .prior import JukeboxPrior
from .sampling import WindowConditioning


def window_starts(total: int, n_ctx: int, hop: int) -> list[int]:
    """Starts of full windows over ``total`` tokens; the last is moved back to end exactly at ``total``."""
    if total <= n_ctx:
        return [0]
    return [min(s, total - n_ctx) for s in range(0, total - n_ctx + hop, hop)]


@dataclass(frozen=True)
class Window:
    start: int  # first token of the window
    end: int  # one past its last token


def level_windows(total: int, n_ctx: int, hop: int, lo: int = 0, hi: int | None = None) -> list[Window]:
    """Windows covering tokens [lo, hi) of a level of ``total`` tokens (a range is widened to one window)."""
    hi = total if hi is None else hi
    if hi - lo < n_ctx:
        lo = max(0, min(lo, hi - n_ctx))
        hi = min(total, max(hi, lo + n_ctx))
    return [Window(lo + s, lo + min(s + n_ctx, hi - lo)) for s in window_starts(hi - lo, n_ctx, hop)]


def sampled_prefix(codes: np.ndarray, w: Window) -> int:
    """How many tokens at the start of the window every candidate already has."""
    seg = codes[:, w.start:w.end] >= 0
    if seg.all():
        return w.end - w.start
    return int(np.argmin(seg.all(axis=0)))


def tokens_to_sample(codes: np.ndarray, windows: list[Window]) -> int:
    """Tokens still to sample in ``windows`` (sampled in their order): each window from past what every candidate
    already has and past the end of the window before it, so overlaps count once (:func:`events.added_tokens`)."""
    return sum(added_tokens([(w.start + sampled_prefix(codes, w), w.end) for w in windows]))


def window_conditioning(prior: JukeboxPrior, info: LabelInfo, w: Window, total_length: int, offset: int,
                        upper: np.ndarray | None, rows: list[int], device) -> tuple[WindowConditioning, list]:
    """Conditioning of one window for the candidates ``rows``; also returns the lyric indices it sees."""
    cfg = prior.cfg
    y_np, lyric_idx = prior.labeller.window_y(info, total_length, offset, w.start, cfg.raw_to_tokens, cfg.n_ctx)
    n = len(rows)
    y = torch.from_numpy(np.repeat(y_np[None], n, axis=0)).to(device)
    z_cond = None
    if not cfg.is_top:
        up = cfg.cond_upsample
        seg = upper[rows, w.start // up:(w.start + cfg.n_ctx) // up]
        if (seg < 0).any():
            raise ValueError(f"level {cfg.level + 1} has no codes under tokens {w.start}-{w.end} of level {cfg.level}: "
                             f"upsample the level above over this range first.")
        need = cfg.n_ctx // up
        if seg.shape[1] < need:  # a partial window at the end of a short song: pad (causal, unused)
            seg = np.concatenate([seg, np.zeros((n, need - seg.shape[1]), dtype=seg.dtype)], axis=1)
        z_cond = torch.from_numpy(np.ascontiguousarray(seg)).to(device)
    with torch.no_grad():
        x_cond, y_cond, encoder_kv = prior.conditioning(y, z_cond, n, device)
    return WindowConditioning(x_cond, y_cond, encoder_kv), lyric_idx


def seed_for(seed: int, level: int, start: int, candidate: int) -> int:
    """The random stream of one candidate in one window: independent of batching, cancel and resume."""
    return (int(seed) * 1_000_003 + level * 7_919 + start * 104_729 + candidate * 15_485_863) % (2**63 - 1)
