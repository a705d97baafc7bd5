"""Edits at the code level: regenerate a take from a chosen time, or join two takes at a seam.

Both make a new take whose codes are copied from its parents where they are kept and -1 where the sampler is to fill
them; :func:`~studio.engine.cascade.run_take` then samples every window from its first unsampled token, primed on the
kept tokens before it, so the new part follows on from what is kept. Times are snapped down to a top-level token, and
the record holds the snapped time (``at_seconds``) so every reader finds the same token.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .cascade import decode_codes, plan_windows
from .jobs import check_for_model
from .modelset import ModelSet
from .spec import SongSpec, SpecError, token_at, token_time
from .takes import Take, TakePlan

SEAM_SECONDS = (1.0, 3.0)  # a join re-samples its lower levels from 1 s before the seam to 3 s after it


def regenerate_take(parent: Take, at_seconds: float, folder: "str | Path", models: ModelSet,
                    candidates: Sequence[int], count: Optional[int] = None, levels: str = "top",
                    seed: Optional[int] = None) -> Take:
    """A new take that keeps candidate ``candidates[0]`` of ``parent`` up to ``at_seconds`` and samples the rest.

    Every level keeps the parent's codes up to the same time (where the parent has them); the top level is sampled
    after it with a new seed (``seed``, or a random one) for ``count`` candidates (default: as many as the parent's
    spec asked for); ``levels="all"`` samples the lower levels after it too.

    Raises:
        SpecError: not one candidate, a time outside the take, or a parent whose top level is unsampled before it.
    """
    top = models.levels - 1
    rows = list(candidates)
    if len(rows) != 1 or not 0 <= rows[0] < len(parent.plan.candidates):
        raise SpecError(f"choose one of the take's {len(parent.plan.candidates)} candidates to regenerate from.")
    row, pspec = rows[0], parent.spec
    at_tok = _token_at(at_seconds, models, "the time to regenerate from")
    n_top = parent.codes(top).shape[1]
    if not 0 < at_tok < n_top:
        raise SpecError(f"the time to regenerate from must lie inside the take (after 0 and before "
                        f"{_seconds(n_top, models):.2f} s), not {at_seconds:.2f} s.")
    if (parent.codes(top)[row, :at_tok] < 0).any():
        raise SpecError("the take's top level is not sampled up to that time: resume it first, or regenerate from "
                        "an earlier time.")
    changed = {**pspec.to_dict(), "prime": None, "levels": levels,
               "candidates": pspec.candidates if count is None else count,
               "seed": _new_seed(pspec.seed) if seed is None else seed}
    spec = SongSpec.from_dict(changed)  # every changed field checked, with its name in the message
    check_for_model(spec, models)
    lv = [top] if levels == "top" else list(range(top, -1, -1))
    take = _create(folder, spec, TakePlan("regenerate", lv, list(range(spec.candidates))), models, parent,
                   at_seconds=_seconds(at_tok, models))
    for level in range(models.levels):
        keep = _on_level(at_tok, level, models)
        new = -np.ones((spec.candidates, n_top * _ratio(level, models)), dtype=np.int64)  # (N, T_L)
        if parent.has_codes(level):
            new[:, :keep] = parent.codes(level)[row, :keep]
        take.write_codes(level, new)
    return take


def join_takes(first: Take, first_candidate: int, at_seconds: float, second: Take, second_candidate: int,
               second_seconds: float, folder: "str | Path", models: ModelSet,
               seam: Sequence[float] = SEAM_SECONDS) -> Take:
    """A new take: ``first`` up to ``at_seconds``, then ``second`` from ``second_seconds`` to its end.

    The top level is the two slices of top-level tokens, decoded at once (the take plays as soon as it is made). Each
    lower level is the first's codes before the seam and the second's after it, re-sampled from the seam to
    ``seam[1]`` s after it (windows from ``seam[0]`` s before it, primed on the first's codes) so it is heard as one
    take; a lower level one of them lacks (in part) is sampled over the whole take instead.

    Raises:
        SpecError: takes of different models, an unfinished top level, a candidate or a time outside a take.
    """
    top = models.levels - 1
    for take, row, name in ((first, first_candidate, "first"), (second, second_candidate, "second")):
        if (take.record.model, take.record.sr, list(take.record.hop_lengths)) != (
                first.record.model, models.sr, list(models.hop_lengths)):
            raise SpecError(f"both takes must come from the loaded model at {models.sr} Hz: the {name} take "
                            f"({take.path.name}) is from '{take.record.model}' at {take.record.sr} Hz. Join takes "
                            f"rendered with one model.")
        if not 0 <= row < len(take.plan.candidates):
            raise SpecError(f"the {name} take ({take.path.name}) has candidates 1-{len(take.plan.candidates)}, not "
                            f"{row + 1}.")
        if not take.has_codes(top) or (take.codes(top)[row] < 0).any():
            raise SpecError(f"the {name} take ({take.path.name}) has no finished top level: resume it before you "
                            f"join it.")
    a_tok = _token_at(at_seconds, models, "the seam")
    s_tok = _token_at(second_seconds, models, "the time in the second take", allow_zero=True)
    n_first, n_second = first.codes(top).shape[1], second.codes(top).shape[1]
    if not 0 < a_tok < n_first:
        raise SpecError(f"the seam must lie inside the first take (after 0 and before "
                        f"{_seconds(n_first, models):.2f} s), not at {at_seconds:.2f} s.")
    if not 0 <= s_tok < n_second:
        raise SpecError(f"the time in the second take must lie inside it (0 to {_seconds(n_second, models):.2f} s), "
                        f"not {second_seconds:.2f} s.")
    n_top = a_tok + n_second - s_tok
    fspec = first.spec
    seconds = _seconds(n_top, models)
    song = None if fspec.song_seconds is None else max(fspec.song_seconds, seconds)
    spec = SongSpec.from_dict({**fspec.to_dict(), "prime": None, "levels": "all", "candidates": 1,
                               "seconds": seconds, "song_seconds": song})
    check_for_model(spec, models)
    spliced = {}  # level -> (1, T_L) codes, or None where a parent lacks the level
    for level in range(models.levels):
        a, s = _on_level(a_tok, level, models), _on_level(s_tok, level, models)
        head = first.codes(level)[first_candidate, :a] if first.has_codes(level) else None
        tail = second.codes(level)[second_candidate, s:] if second.has_codes(level) else None
        whole = head is not None and tail is not None and (head >= 0).all() and (tail >= 0).all()
        spliced[level] = np.concatenate([head, tail])[None] if whole else None
    at = _seconds(a_tok, models)
    rng = None if any(c is None for c in spliced.values()) else [max(0.0, at - seam[0]), min(seconds, at + seam[1])]
    plan = TakePlan("join", list(range(top - 1, -1, -1)), [first.plan.candidates[first_candidate]], rng)
    take = _create(folder, spec, plan, models, first, at_seconds=at)
    take.record.joined = {"id": second.record.id, "path": str(second.path), "candidate": int(second_candidate),
                          "seconds": _seconds(s_tok, models)}
    for level, codes in spliced.items():
        take.write_codes(level, codes if codes is not None else -np.ones((1, n_top * _ratio(level, models)),
                                                                         dtype=np.int64))
    windows, _ = plan_windows(take, models, plan, spec)
    for level in plan.levels:
        if spliced[level] is not None:  # unsampled from the seam to the end of the windows that sample past it
            a = _on_level(a_tok, level, models)
            end = token_at(at + seam[1], models.sr, models.hop_lengths[level], round_up=True)
            b = min(spliced[level].shape[1], end)
            spliced[level][:, a:_resampled_end(windows[level], a, b)] = -1
            take.write_codes(level, spliced[level])
    top_level_done(take, models)
    return take


def top_level_done(take: Take, models: ModelSet) -> None:
    """Decode a new take's top level, copied whole from its parents, and record it done: the take plays at once, and
    can be continued, regenerated or joined in turn, like any take whose top level was sampled."""
    top = models.levels - 1
    take.write_audio(top, decode_codes(models, take.codes(top), top))
    take.record.levels_done = [top]
    take.save()


def _create(folder, spec: SongSpec, plan: TakePlan, models: ModelSet, parent: Take, at_seconds: float) -> Take:
    take = Take.create(folder, spec, plan, models.name, models.sr, models.hop_lengths, parent=parent.record.id)
    take.record.parent_path = str(parent.path)
    take.record.at_seconds = at_seconds
    take.save()
    return take


def _resampled_end(windows: list, start: int, end: int) -> int:
    """One past the last token the sampler writes when tokens [start, end) are unsampled: each window with an
    unsampled token is sampled from its first one to its own end (windows in order, as the cascade runs them)."""
    done = start  # the sampled frontier inside the region
    for w in windows:
        if max(w.start, done) < min(w.end, end):
            done = w.end
    return max(done, end)


def _token_at(seconds: float, models: ModelSet, what: str, allow_zero: bool = False) -> int:
    """The top-level token at ``seconds`` (rounded down)."""
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        raise SpecError(f"{what} must be a time in seconds after the start, not {seconds!r}.")
    return token_at(seconds, models.sr, models.hop_lengths[-1])


def _ratio(level: int, models: ModelSet) -> int:
    """Tokens of ``level`` per top-level token."""
    return models.hop_lengths[-1] // models.hop_lengths[level]


def _on_level(top_token: int, level: int, models: ModelSet) -> int:
    return top_token * _ratio(level, models)


def _seconds(top_tokens: int, models: ModelSet) -> float:
    """The time of top token ``top_tokens``."""
    return token_time(top_tokens, models.sr, models.hop_lengths[-1])


def _new_seed(old: int) -> int:
    seed = random.SystemRandom().randrange(2**31)
    return seed if seed != old else seed + 1
