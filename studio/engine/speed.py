"""Measuring the sampler on this machine: ms per decode step and priming time per prior, and projections.

Used by ``studio bench`` (an ETA before a job starts) and by ``benchmarks/sampler_speed.py``.
"""

from __future__ import annotations

import time
from typing import Optional

import torch

from . import step_compile
from .configs import PriorConfig
from .prior import JukeboxPrior
from .spec import token_at
from .sampling import (WindowConditioning, allowed_classes, cast_for_sampling, iter_sample_window, priming_chunk,
                       run_window)


def random_prior(cfg: PriorConfig, device: torch.device) -> JukeboxPrior:
    with torch.device("meta"):
        prior = JukeboxPrior(cfg)
    prior = prior.to_empty(device=device)
    with torch.no_grad():
        for p in prior.parameters():
            p.normal_(0, 0.02)
        for b in prior.buffers():
            b.zero_()
    return prior.eval()


def synthetic_conditioning(prior: JukeboxPrior, n: int, device) -> WindowConditioning:
    cfg = prior.cfg
    y = torch.zeros(n, cfg.y_len, dtype=torch.long, device=device)
    y[:, 0] = int((cfg.min_duration or 60) * cfg.sr) + 1
    y[:, 2] = cfg.sample_length
    z_cond = None if cfg.is_top else torch.zeros(n, cfg.n_ctx // cfg.cond_upsample, dtype=torch.long, device=device)
    with torch.no_grad():
        return WindowConditioning(*prior.conditioning(y, z_cond, n, device))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_prior(name: str, prior: JukeboxPrior, batch: int, device, dtype, steps: int, hop_fraction: float,
               compiled: Optional[bool] = None, top_k: int = 0, top_p: float = 0.0):
    """Time what the sampler runs (``iter_sample_window``) in a window after the first: priming ``n_ctx - hop``
    tokens, then ``steps`` decode steps at the window's end, drawing the classes a render draws (and with its
    filter, ``top_k`` / ``top_p``: the compiled step is the same graph). A short run first warms the step (and
    compiles it where the compiled step is used), timed as ``prepare_s``."""
    cfg = prior.cfg
    cast_for_sampling(prior, dtype)
    cond = synthetic_conditioning(prior, batch, device)
    hop = int(hop_fraction * cfg.n_ctx)
    steps = max(2, min(steps, cfg.n_ctx_total // 2 - 2))
    n_prime = min(cfg.n_ctx_total - hop, cfg.n_ctx_total - steps - 2)  # time the steps at the window's end
    ctx = torch.randint(0, cfg.bins, (batch, n_prime), device=device)
    chunk = priming_chunk(cfg)
    seeds = list(range(batch))
    t0 = time.perf_counter()
    draw = dict(top_k=top_k, top_p=top_p, chunk_size=chunk, dtype=dtype, allowed=allowed_classes(cfg),
                compiled=compiled)
    run_window(iter_sample_window(prior, ctx[:, :1], 2, cond, seeds, 0.99, **draw))
    sync(device)
    prepare_s = time.perf_counter() - t0
    gen = iter_sample_window(prior, ctx, steps, cond, seeds, 0.99, **draw)
    t0 = time.perf_counter()
    next(gen)  # priming and the first step
    sync(device)
    t1 = time.perf_counter()
    run_window(gen)
    sync(device)
    ms = (time.perf_counter() - t1) / (steps - 1) * 1000
    return {"prior": name, "device": str(device), "dtype": str(dtype).replace("torch.", ""), "batch": batch,
            "compiled": step_compile.wanted(torch.device(device), compiled),
            "ms_per_step": round(ms, 3), "prime_tokens": n_prime, "prime_s": round(t1 - t0 - ms / 1000, 4),
            "prepare_s": round(prepare_s, 2), "n_ctx": cfg.n_ctx, "width": cfg.width, "depth": cfg.depth}


def projected_seconds(figs: dict, sr: int, hops: list, n_ctx: dict, hop_fraction: list, keys: dict,
                      seconds: float = 60.0) -> float:
    """Wall seconds to sample ``seconds`` of audio through the levels in ``keys`` (level -> figure key), with
    the windowing of the sampler: every token once, plus one priming pass per window after the first."""
    total = 0.0
    for level, key in keys.items():
        f = figs[key]
        tokens = token_at(seconds, sr, hops[level])
        hop = int(hop_fraction[level] * n_ctx[level])
        windows = max(1, -(-(tokens - n_ctx[level]) // hop) + 1)
        total += tokens * f["ms_per_step"] / 1000 + (windows - 1) * f["prime_s"]
    return total


def measured_rates(models, device, dtypes: dict, batches: dict, hop_fraction: list, top_k: int = 0,
                   top_p: float = 0.0) -> dict:
    """(seconds per token, seconds to prime a window) per level on this machine, for a whole-job estimate before a
    job starts, and the eager step's rate that decides whether compiling the step pays. Measured with a few steps of
    ``iter_sample_window`` in each level's sampling dtype (``dtypes``: level -> dtype) with the job's filter
    (``top_k`` / ``top_p``) once per model set, device, dtype, batch and filter, then cached on the model set."""
    cache = models.__dict__.setdefault("_measured_rates", {})
    out = {}
    for level, batch in batches.items():
        key = (str(device), str(dtypes[level]), level, int(batch), int(top_k), float(top_p))
        if key not in cache:
            prior = models.sampling_prior(level, dtypes[level])
            f = time_prior(f"level_{level}", prior, int(batch), device, dtypes[level], 8, hop_fraction[level],
                           compiled=False, top_k=top_k, top_p=top_p)
            cache[key] = (f["ms_per_step"] / 1000.0, f["prime_s"])
        out[level] = cache[key]
    return out

