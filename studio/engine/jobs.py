"""Creating takes: a new song, a continuation, an upsampling of chosen candidates or of a time range."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .cascade import pick_device
from .modelset import ModelSet
from .render_eq import eq_file, read_render_eq
from .sampling_defaults import fill_model_defaults
from .spec import SongSpec, SpecError, song_lengths, validate_for_model
from .takes import Take, TakePlan


def new_take(spec: SongSpec, folder: "str | Path", models: ModelSet) -> Take:
    """A take that samples ``spec`` from scratch (or from its priming clip)."""
    check_for_model(spec, models)
    levels = [models.levels - 1] if spec.levels == "top" else list(range(models.levels - 1, -1, -1))
    plan = TakePlan(kind="generate", levels=levels, candidates=list(range(int(spec.candidates))))
    return Take.create(folder, spec, plan, models.name, models.sr, models.hop_lengths)


def continue_take(parent: Take, seconds: float, folder: "str | Path", models: ModelSet,
                  candidates: Optional[Sequence[int]] = None, levels: str = "top") -> Take:
    """Extend the parent's top level to ``seconds`` (keeping what it has), for all or some candidates."""
    pspec = parent.spec
    if seconds <= pspec.seconds:
        raise SpecError(f"a continuation must be longer than its parent ({pspec.seconds:.1f} s).")
    spec = copy.deepcopy(pspec)
    spec.seconds = float(seconds)
    spec.prime = None
    spec.levels = levels
    if spec.song_seconds is not None:
        spec.song_seconds = max(spec.song_seconds, spec.seconds)
    cands = list(candidates) if candidates is not None else list(range(len(parent.plan.candidates)))
    orig = [parent.plan.candidates[c] for c in cands]
    top = models.levels - 1
    lv = [top] if levels == "top" else list(range(top, -1, -1))
    check_for_model(spec, models)
    take = Take.create(folder, spec, TakePlan("continue", lv, orig), models.name, models.sr, models.hop_lengths,
                       parent=parent.record.id)
    take.record.parent_path = str(parent.path)
    take.save()
    n_samples, _ = song_lengths(spec, models)
    for level in range(models.levels):
        new = -np.ones((len(cands), n_samples // models.hop_lengths[level]), dtype=np.int64)
        if parent.has_codes(level):
            old = parent.codes(level)[cands]
            new[:, : old.shape[1]] = old
        take.write_codes(level, new)
    return take


def upsample_take(parent: Take, folder: "str | Path", models: ModelSet, candidates: Sequence[int],
                  range_seconds: Optional[Sequence[float]] = None) -> Take:
    """Upsample the parent's chosen candidates (all lower levels), optionally only ``range_seconds``."""
    if not candidates:
        raise SpecError("choose at least one candidate to upsample.")
    top = models.levels - 1
    pcodes = parent.codes(top)
    if (pcodes[list(candidates)] < 0).any():
        raise SpecError("the parent take's top level is not finished; resume it before upsampling.")
    spec = copy.deepcopy(parent.spec)
    spec.levels = "all"
    spec.prime = None
    if range_seconds is not None:
        a, b = float(range_seconds[0]), float(range_seconds[1])
        if not (0 <= a < b <= spec.seconds + 1e-6):
            raise SpecError(f"the range must lie inside the take (0-{spec.seconds:.1f} s) and end after it starts.")
        range_seconds = [a, b]
    orig = [parent.plan.candidates[c] for c in candidates]
    plan = TakePlan("upsample", list(range(top - 1, -1, -1)), orig, range_seconds)
    check_for_model(spec, models)
    take = Take.create(folder, spec, plan, models.name, models.sr, models.hop_lengths, parent=parent.record.id)
    take.record.parent_path = str(parent.path)
    take.save()
    for level in range(models.levels):
        if parent.has_codes(level):
            take.write_codes(level, parent.codes(level)[list(candidates)])
    return take


def check_for_model(spec: SongSpec, models: ModelSet) -> None:
    """Everything the spec asks of this model and machine, before a take folder is made (SpecError if not)."""
    fill_model_defaults(spec, models)
    read_render_eq(eq_file(models))  # a damaged EQ table is named now, not after the sampling
    validate_for_model(spec, models)
    pick_device(spec)
