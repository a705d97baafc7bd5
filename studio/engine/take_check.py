"""Checking a take's files against its record before it is resumed, and saying what can be re-made.

A take's codes are a function of its record (spec, seed, plan) and, for a continuation or an upsampling, of its
parent's codes; its audio is a function of its codes. So a damaged ``codes_l{L}.npy`` of a new song is sampled again
(the top level from the take's seed and priming clip, a lower level from the level above) to the very same codes, and a
damaged WAV is decoded again from its level's codes. Codes copied from a parent cannot be re-made here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import soundfile as sf

from ..audio.io import read_failure
from .code_store import CODES_DTYPE, load_codes
from .spec import song_lengths
from .takes import TAKE_FILE, Take


class Remedy(str, Enum):
    SAMPLE_AGAIN = "sample again"  # the level's codes are sampled again, to the same codes
    DECODE_AGAIN = "decode again"  # the level's audio is decoded again from its codes
    NONE = "none"  # cannot be re-made from what the take holds


@dataclass(frozen=True)
class Fault:
    """One file of a take that does not agree with the take's record, and what resuming does about it."""

    path: Path
    problem: str  # what is wrong, e.g. "it holds codes of shape (3, 64), the take needs (2, 64) ..."
    remedy: Remedy
    level: int | None = None
    fix: str = ("it cannot be re-made from this take: restore it from a backup, or make this take again from its "
                "parent")  # what the user can do, for a fault with no remedy

    def __str__(self) -> str:
        action = {Remedy.SAMPLE_AGAIN: f"level {self.level} is sampled again (to the same codes: the take's seeds)",
                  Remedy.DECODE_AGAIN: f"it is decoded again from codes_l{self.level}.npy",
                  Remedy.NONE: self.fix}[self.remedy]
        return f"{self.path}: {self.problem}; {action}"


class TakeFilesDamaged(ValueError):
    """A take holds a damaged file that cannot be re-made; the message names each such file and its fault."""

    def __init__(self, faults: list):
        self.faults = faults
        super().__init__("; ".join(str(f) for f in faults) + ".")


def check_take(take: Take, models) -> list[Fault]:
    """Every disagreement between ``take``'s files and its record (empty when the take is sound).

    ``models`` is the take's :class:`~studio.engine.modelset.ModelSet` (its rate, hops and codebook size, and the top
    prior's config for the song's length). A fault of ``take.json`` itself comes alone: the files cannot be judged
    against a record the model contradicts.
    """
    rec = take.record
    record_file = take.path / TAKE_FILE
    if rec.sr != models.sr or list(rec.hop_lengths) != list(models.hop_lengths):
        return [Fault(record_file, f"its 'sr' {rec.sr} and 'hop_lengths' {list(rec.hop_lengths)} are not those of "
                                   f"model '{rec.model}' ({models.sr}, {list(models.hop_lengths)})", Remedy.NONE,
                      fix="set them back to the model's values, or restore take.json from a backup")]
    n_samples, _ = song_lengths(take.spec, models)
    n_rows, n_bins = len(take.plan.candidates), int(models.vqvae.cfg.l_bins)
    remake = Remedy.SAMPLE_AGAIN if take.plan.kind == "generate" else Remedy.NONE
    faults = []
    for level, hop in enumerate(rec.hop_lengths):
        problem = _codes_problem(take, level, (n_rows, n_samples // hop), n_bins)
        if problem is not None:
            faults.append(Fault(take.codes_path(level), problem, remake, level))
        elif level in rec.levels_done and level in take.plan.levels:
            faults += [Fault(take.audio_path(level, c), p, Remedy.DECODE_AGAIN, level) for c in range(n_rows)
                       if (p := _audio_problem(take.audio_path(level, c), n_samples, rec.sr)) is not None]
    return faults


def repair(take: Take, faults: list[Fault]) -> None:
    """Clear what ``faults`` say is to be re-made, so the run re-makes it; the record is saved.

    Raises:
        TakeFilesDamaged: some fault cannot be re-made (nothing is changed then).
    """
    raise_lost(faults)
    for f in faults:
        if f.remedy is Remedy.SAMPLE_AGAIN:
            f.path.unlink(missing_ok=True)  # made again, unsampled, when the run starts (cascade.init_codes)
        if f.level in take.record.levels_done:
            take.record.levels_done.remove(f.level)
    take.save()


def raise_lost(faults: list[Fault]) -> None:
    """Raise :class:`TakeFilesDamaged` naming the faults that cannot be re-made, if any."""
    lost = [f for f in faults if f.remedy is Remedy.NONE]
    if lost:
        raise TakeFilesDamaged(lost)


def _codes_problem(take: Take, level: int, shape: tuple, n_bins: int) -> str | None:
    path = take.codes_path(level)
    if not path.is_file():
        # made when the run starts; a level the record calls done must have them
        return "it is missing" if level in take.record.levels_done or take.finished else None
    try:
        codes = load_codes(path)
    except (OSError, ValueError, EOFError) as exc:
        return f"it cannot be read ({exc})"
    if codes.dtype != CODES_DTYPE:
        return f"it holds {codes.dtype} codes, not int64"
    if codes.shape != shape:
        return f"it holds codes of shape {codes.shape}, the take needs {shape} (candidates, tokens)"
    if codes.size and (codes.min() < -1 or codes.max() >= n_bins):
        bad = codes.min() if codes.min() < -1 else codes.max()
        return f"it holds code {bad}, outside the codebook (0-{n_bins - 1}, or -1 for not sampled yet)"
    if level in take.record.levels_done and take.plan.range_seconds is None and (codes < 0).any():
        return f"{int((codes < 0).sum())} of its codes are not sampled, yet the record says level {level} is done"
    return None


def _audio_problem(path: Path, n_samples: int, sr: int) -> str | None:
    if not path.is_file():
        return "it is missing"
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        return f"it cannot be read as audio ({read_failure(exc)})"
    if info.samplerate != sr or info.channels != 1:
        return f"it is {info.channels}-channel audio at {info.samplerate} Hz, the take's is mono at {sr} Hz"
    if info.frames != n_samples:
        return f"it holds {info.frames} samples, the take's level has {n_samples}"
    return None
