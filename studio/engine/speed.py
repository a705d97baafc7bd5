"""Measuring the sampler on this machine: ms per decode step and priming time per prior, and projections.

Used by ``studio bench`` (an ETA before a job starts) and by ``benchmarks/sampler_speed.py``.
"""

from __future__ import annotations

import time

import torch

from .sampling import cast_for_sampling, priming_chunk
from .configs import PriorConfig
from .prior import JukeboxPrior
from .sampling import CachedDecoder, WindowConditioning, draw


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


def time_prior(name: str, prior: JukeboxPrior, batch: int, device, dtype, steps: int, hop_fraction: float):
    cfg = prior.cfg
    cast_for_sampling(prior, dtype)
    cond = synthetic_conditioning(prior, batch, device)
    hop = int(hop_fraction * cfg.n_ctx)
    steps = max(1, min(steps, cfg.n_ctx_total // 2 - 2))
    n_prime = min(cfg.n_ctx_total - hop, cfg.n_ctx_total - steps - 2)  # time the steps at the window's end
    ctx = torch.randint(0, cfg.bins, (batch, n_prime), device=device)
    dec = CachedDecoder(prior, batch, cond, dtype)
    sync(device)
    t0 = time.perf_counter()
    dec.prime(ctx, priming_chunk(cfg))
    sync(device)
    prime_s = time.perf_counter() - t0
    gens = [torch.Generator(device=device).manual_seed(i) for i in range(batch)]
    prev = ctx[:, -1:]
    for i in range(steps + 2):  # two warm-up steps
        if i == 2:
            sync(device)
            t0 = time.perf_counter()
        with torch.no_grad():
            logits = dec.forward(prev)[:, -1]
        prev = draw(logits, gens, 0.99)[:, None]
    sync(device)
    ms = (time.perf_counter() - t0) / steps * 1000
    return {"prior": name, "device": str(device), "dtype": str(dtype).replace("torch.", ""), "batch": batch,
            "ms_per_step": round(ms, 3), "prime_tokens": n_prime, "prime_s": round(prime_s, 3),
            "n_ctx": cfg.n_ctx, "width": cfg.width, "depth": cfg.depth}


def projected_seconds(figs: dict, sr: int, hops: list, n_ctx: dict, hop_fraction: list, keys: dict,
                      seconds: float = 60.0) -> float:
    """Wall seconds to sample ``seconds`` of audio through the levels in ``keys`` (level -> figure key), with
    the windowing of the sampler: every token once, plus one priming pass per window after the first."""
    total = 0.0
    for level, key in keys.items():
        f = figs[key]
        tokens = int(seconds * sr) // hops[level]
        hop = int(hop_fraction[level] * n_ctx[level])
        windows = max(1, -(-(tokens - n_ctx[level]) // hop) + 1)
        total += tokens * f["ms_per_step"] / 1000 + (windows - 1) * f["prime_s"]
    return total


def measured_rates(models, device, dtype, batches: dict, hop_fraction: list) -> dict:
    """(seconds per token, seconds to prime a window) per level on this machine, for a whole-job estimate before a
    job starts. Measured with a few steps once per model set, device and batch, then cached on the model set."""
    cache = models.__dict__.setdefault("_measured_rates", {})
    out = {}
    for level, batch in batches.items():
        key = (str(device), str(dtype), level, int(batch))
        if key not in cache:
            prior = models.prior(level)
            f = time_prior(f"level_{level}", prior, int(batch), device, dtype, 8, hop_fraction[level])
            cache[key] = (f["ms_per_step"] / 1000.0, f["prime_s"])
        out[level] = cache[key]
    return out

