"""One unit of sampling work: one window of one level for one batch of candidate rows, given the codes it needs.

This is the body the in-process sampler runs for each batch of a window (``cascade._sample_window_batched``) and
what a farm worker runs for one unit, so both draw the same tokens bit for bit: the same conditioning, the same
context, the same seed streams (``seed_for``) and the same batch composition.
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional, Sequence

import numpy as np
import torch

from .labels import LabelInfo
from .prior import JukeboxPrior
from .sampling import allowed_classes, iter_sample_window, priming_chunk
from .spec import SongSpec
from .windows import Window, seed_for, window_conditioning


def sample_window_rows(prior: JukeboxPrior, info: LabelInfo, spec: SongSpec, seed: int, w: Window, have: int,
                       context: np.ndarray, upper: Optional[np.ndarray], candidates: Sequence[int],
                       total_length: int, device: torch.device, dtype: torch.dtype,
                       cancel: Optional[Callable[[], bool]] = None, compiled: bool = False
                       ) -> Iterator[int]:
    """Generator: sample the tokens ``[w.start + have, w.end)`` of level ``prior.cfg.level`` for one batch of rows.

    Args:
        context: (B, have) int64, the rows' codes ``[w.start, w.start + have)`` of this level.
        upper: (B, T_upper) int64, the rows' codes of the level above (at least up to the window's end), or None
            for the top level.
        candidates: the B rows' original candidate numbers (their seed streams, with ``seed`` the take's seed).

    Yields the step count after every token; returns (B, w.end - w.start - have) int64 codes.
    Raises ``sampling.Cancelled`` when ``cancel()`` turns true, ``torch.cuda.OutOfMemoryError`` as the step does.
    """
    cfg = prior.cfg
    level, n_rows = cfg.level, len(candidates)
    n_new = (w.end - w.start) - have
    rows = list(range(n_rows))
    cond, _ = window_conditioning(prior, info, w, total_length, 0, upper, rows, device)
    ctx = torch.from_numpy(np.ascontiguousarray(context, dtype=np.int64)).to(device)  # (B, have)
    if cfg.single_enc_dec:
        y_np, _ = prior.labeller.window_y(info, total_length, 0, w.start, cfg.raw_to_tokens, cfg.n_ctx)
        lyr = torch.from_numpy(y_np[4 + cfg.max_bow_genre_size:]).to(device)
        ctx = torch.cat([lyr[None].expand(n_rows, -1), ctx + cfg.n_vocab], dim=1)  # (B, n_lyrics + have)
    seeds = [seed_for(seed, level, w.start, c) for c in candidates]
    gen = iter_sample_window(prior, ctx, n_new, cond, seeds, float(spec.temperature[level]), spec.top_k, spec.top_p,
                             priming_chunk(cfg, spec.chunk_size), cancel, dtype, allowed_classes(cfg),
                             compiled=compiled)
    while True:
        try:
            step = next(gen)
        except StopIteration as stop:
            toks, _ = stop.value
            break
        yield step
    if cfg.single_enc_dec:
        toks = toks - cfg.n_vocab
    return toks.cpu().numpy()  # (B, n_new)
