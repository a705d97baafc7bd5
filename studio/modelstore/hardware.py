"""Hardware check: will a model's levels fit here, at what batch size and dtype? Refuse before loading what cannot.

The arithmetic and the reading of device memory live in :mod:`studio.engine.memory`; this module turns its estimates
into recommendations and refusals. Each level is sized alone: its prior next to the (small) VQ-VAE, plus its KV cache
and activations. A whole cascade keeps every prior it has loaded (``ModelSet`` loads on first use and keeps), so while
the lower levels sample, the weights of the levels above are held too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from studio.engine.configs import OFFICIAL_MODELS, PriorConfig, official_config, prior_config_from_dict
from studio.engine.memory import (USABLE_FRACTION, DeviceMemory, MemoryEstimate, available_memory, estimate,
                                  n_params)
from studio.modelstore.errors import InsufficientMemoryError, human_bytes

MAX_BATCH = 16  # the most candidates the studio samples at once (the reference's max_batch_size)
LEVEL_ROLES = {2: "top level", 1: "middle upsampler", 0: "bottom upsampler"}


@dataclass(frozen=True)
class LevelPlan:
    """The recommendation for one level."""

    level: int
    role: str
    n_params: int
    dtype: str  # recommended dtype ("fp16", "bf16" or "fp32")
    max_batch: int  # most samples at once in that dtype (0: does not fit)
    need_batch1: int  # bytes at batch 1 in that dtype
    per_sample: int  # bytes each extra sample adds (KV cache + activations)

    @property
    def fits(self) -> bool:
        return self.max_batch >= 1


@dataclass(frozen=True)
class HardwareReport:
    """Per-level plans of a model against one device."""

    model: str
    memory: DeviceMemory
    levels: tuple  # LevelPlan, top level first

    @property
    def fits(self) -> bool:
        return all(p.fits for p in self.levels)

    @property
    def max_batch(self) -> int:
        """Candidates the whole cascade can carry (the smallest level's maximum)."""
        return min((p.max_batch for p in self.levels), default=0)

    def summary_lines(self) -> list[str]:
        """Human-readable lines, one per level, for the CLI and the model dialog."""
        m = self.memory
        lines = [f"{self.model} on {m.name} ({m.device}): {human_bytes(m.available)} available of {human_bytes(m.total)}"]
        for p in self.levels:
            count = f"{p.n_params / 1e9:.2f} B" if p.n_params >= 1e8 else f"{p.n_params / 1e6:.1f} M"
            head = f"  level {p.level} {p.role} ({count} params):"
            if p.fits:
                lines.append(f"{head} {p.dtype}, up to {p.max_batch} at once "
                             f"({human_bytes(p.need_batch1)} at batch 1, +{human_bytes(p.per_sample)} per sample)")
            else:
                lines.append(f"{head} does NOT fit: needs {human_bytes(p.need_batch1)} at batch 1 in {p.dtype}")
        return lines


def max_batch(cfg: PriorConfig, dtype: str, memory: DeviceMemory, limit: int = MAX_BATCH, **kw) -> int:
    """Largest batch (up to ``limit``) whose estimate fits in the usable part of ``memory``; 0 if none does."""
    one = estimate(cfg, 1, dtype, **kw)
    usable = memory.available * USABLE_FRACTION
    per_sample = one.kv_cache + one.activations
    if one.total > usable:
        return 0
    return int(min(limit, 1 + (usable - one.total) // per_sample))


def preferred_dtypes(memory: DeviceMemory) -> tuple:
    """Dtypes to try, best first: fp16 on GPUs (the reference's sampling path), fp32 then bf16 on CPUs."""
    return ("fp16", "bf16", "fp32") if memory.is_gpu else ("fp32", "bf16")


def plan_level(cfg: PriorConfig, memory: DeviceMemory, dtypes: Optional[tuple] = None) -> LevelPlan:
    """Recommend a dtype and batch for one level: the first preferred dtype that fits at batch 1."""
    choices = dtypes or preferred_dtypes(memory)
    fitting = [d for d in choices if max_batch(cfg, d, memory) >= 1]
    chosen = fitting[0] if fitting else min(choices, key=lambda d: estimate(cfg, 1, d).total)  # report the least need
    one = estimate(cfg, 1, chosen)
    return LevelPlan(cfg.level, LEVEL_ROLES.get(cfg.level, f"level {cfg.level}"), n_params(cfg), chosen,
                     max_batch(cfg, chosen, memory), one.total, one.kv_cache + one.activations)


def official_configs(name: str) -> dict:
    """``{level: PriorConfig}`` of an official model, top level first."""
    return {level: official_config(name, level) for level in (2, 1, 0)}


def plan_model(name: str, memory: Optional[DeviceMemory] = None, configs: Optional[dict] = None) -> HardwareReport:
    """Plans for every level of a model (official by name unless ``configs`` gives ``{level: PriorConfig}``)."""
    memory = memory or available_memory()
    configs = configs or official_configs(name)
    levels = tuple(plan_level(configs[lv], memory) for lv in sorted(configs, reverse=True))
    return HardwareReport(name, memory, levels)


def check_fits(cfg: PriorConfig, batch: int = 1, dtype: str = "fp16", memory: Optional[DeviceMemory] = None,
               model: str = "model") -> MemoryEstimate:
    """Return the estimate if ``batch`` samples of this level fit in ``dtype``; else raise, before anything loads.

    Raises:
        InsufficientMemoryError: naming what is needed, what is available, and the fix (a batch or dtype that fits,
            or a smaller model / more memory).
    """
    memory = memory or available_memory()
    est = estimate(cfg, batch, dtype)
    usable = int(memory.available * USABLE_FRACTION)
    if est.total <= usable:
        return est
    what = f"{model} level {cfg.level} ({LEVEL_ROLES.get(cfg.level, 'prior')}) at batch {batch} in {dtype}"
    cause = (f"{what} needs about {human_bytes(est.total)} (parameters {human_bytes(est.params)}, KV cache "
             f"{human_bytes(est.kv_cache)}, activations {human_bytes(est.activations)}) but only "
             f"{human_bytes(usable)} of {memory.name} ({memory.device}) is usable")
    fits_here = max_batch(cfg, dtype, memory, limit=batch)
    other = [(d, max_batch(cfg, d, memory, limit=batch)) for d in preferred_dtypes(memory) if d != dtype]
    other = [(d, b) for d, b in other if b >= 1]
    if fits_here >= 1:
        fix = f"use a batch of {fits_here} or fewer"
    elif other:
        fix = f"use {other[0][0]} (fits {other[0][1]} at once)"
    else:
        fix = (f"free memory (close other programs using {memory.device}), use a smaller model such as 1b_lyrics, "
               f"or run on a device with at least {human_bytes(estimate(cfg, 1, dtype).total / USABLE_FRACTION)}")
    raise InsufficientMemoryError(cause, fix, need=est.total, available=usable)


def manifest_configs(manifest) -> Optional[dict]:
    """``{level: PriorConfig}`` for a model folder's manifest: official by name, else its recorded ``configs``
    (``{"prior_level_2": asdict(cfg), ...}``, as project checkpoints carry them); None if neither is known."""
    if manifest.kind == "official" and manifest.name in OFFICIAL_MODELS:
        return official_configs(manifest.name)
    raw = manifest.extra.get("configs") or {}
    levels = {int(k.rsplit("_", 1)[1]): v for k, v in raw.items() if k.startswith("prior_level_")}
    if not levels:
        return None
    try:
        return {lv: prior_config_from_dict(d) for lv, d in levels.items()}
    except (TypeError, ValueError):
        return None


__all__ = [
    "MAX_BATCH", "LEVEL_ROLES", "LevelPlan", "HardwareReport", "max_batch", "preferred_dtypes", "plan_level",
    "official_configs", "plan_model", "check_fits", "manifest_configs",
]
