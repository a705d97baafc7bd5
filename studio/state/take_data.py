"""Takes as frozen values for the interface: a summary for the tree, and the full data (codes, audio, alignment).

Read from the engine's take folders (JSON, ``.npy``, WAV); the views receive these, never the engine's objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import numpy as np
import soundfile as sf

from studio.engine.events import clock_text
from studio.engine.spec import token_at
from studio.engine.takes import DamagedTake, Take, TakeStatus, channel_rows, scan_takes
from studio.state import level_mix
from studio.state.level_mix import LevelSource


@dataclass(frozen=True)
class TakeSummary:
    """One row of the takes tree."""

    path: str
    id: str
    parent: Optional[str]  # parent take id
    kind: str  # one of studio.engine.takes.PLAN_KINDS
    status: TakeStatus
    seconds: float
    n_candidates: int
    levels_done: tuple
    chosen: Optional[int]
    created: float
    range_seconds: Optional[tuple]
    error: Optional[str]
    at_seconds: Optional[float] = None  # regenerate: where its own part starts; join: the seam
    joined: Optional[str] = None  # join: the name of the take that comes in at the seam
    joined_seconds: Optional[float] = None  # join: the time in that take that follows the seam
    top_level: int = -1  # the model's top level (-1: unknown, for a damaged take)

    @property
    def top_done(self) -> bool:
        """Whether the take's top level is finished: what continuing, regenerating or joining it needs."""
        return self.top_level >= 0 and self.top_level in self.levels_done

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def label(self) -> str:
        if self.status is TakeStatus.DAMAGED:
            return self.name
        ranged = self.range_seconds and self.joined is None  # a join's range is its seam's, shown by the marker
        extra = f" {self.range_seconds[0]:.1f}-{self.range_seconds[1]:.1f} s" if ranged else ""
        edit = (f" · joined with {self.joined} at {clock_text(self.at_seconds, tenths=True)}" if self.joined is not None else
                f" · new from {clock_text(self.at_seconds, tenths=True)}" if self.at_seconds is not None else "")
        return f"{self.name}{extra}{edit} · {self.seconds:.2f} s · {self.n_candidates} cand."

    @property
    def marker(self) -> Optional[tuple]:
        """(seconds, text) of the line the waveform draws: a join's seam, or where a regenerated take's own part
        starts; None for other takes."""
        if self.at_seconds is None:
            return None
        if self.joined is not None:
            return self.at_seconds, f"seam: {self.joined} from {clock_text(self.joined_seconds, tenths=True)}"
        return self.at_seconds, "regenerated from here"

    @property
    def resumable(self) -> bool:
        return self.status.resumable


def summarize(take: Take) -> TakeSummary:
    rec, plan = take.record, take.record.plan
    rng = plan.get("range_seconds")
    joined = rec.joined or {}
    return TakeSummary(str(take.path), rec.id, rec.parent, plan.get("kind", "generate"), rec.status,
                       float(rec.spec.get("seconds", 0.0)), len(plan.get("candidates", [])),
                       tuple(rec.levels_done), rec.chosen, rec.created, tuple(rng) if rng else None, rec.error,
                       rec.at_seconds, Path(joined["path"]).name if joined else None, joined.get("seconds"),
                       len(rec.hop_lengths) - 1)


def _summarize_damaged(damage: DamagedTake) -> TakeSummary:
    """The row of a take whose record cannot be read: its status DAMAGED, its error the message saying why."""
    return TakeSummary(str(damage.folder), "", None, "unknown", TakeStatus.DAMAGED, 0.0, 0, (), None, 0.0, None,
                       str(damage))


def list_takes(root: "str | Path") -> list[TakeSummary]:
    """Every take under ``root``, oldest first, then the damaged ones (shown, so nothing seems lost)."""
    scan = scan_takes(root)
    return [summarize(t) for t in scan.takes] + [_summarize_damaged(d) for d in scan.damaged]


@dataclass(frozen=True)
class TakeData:
    """Everything the views show of one take.

    Attributes:
        codes: level -> (N, T_L) int64, -1 where not sampled. While the take is sampled the session writes each new
            window into these arrays (:meth:`write_window`); everything else changes only by a new TakeData.
        audio: level -> list of (samples,) float32 per candidate (levels with audio only).
        alignment: candidate -> ((top_tokens, n_chars) float32, lyrics) where present.
        borrowed: level -> per candidate a (audio (samples,), sampled (T_L,) bool) or None: an ancestor take's audio
            of a level this take holds codes of but no audio (the parent's full-quality start of a continuation, the
            top level around a range upsample), with the tokens where its codes are this take's.
    """

    summary: TakeSummary
    spec: dict
    sr: int
    hop_lengths: tuple
    codes: dict = field(repr=False)
    audio: dict = field(repr=False)
    alignment: dict = field(repr=False)
    borrowed: dict = field(default_factory=dict, repr=False)

    @property
    def best_level(self) -> Optional[int]:
        """The finest level with audio of this take's own (0 is best), or None."""
        return min(self.audio) if self.audio else None

    def candidate_audio(self, candidate: int, level: Optional[int] = None) -> Optional[np.ndarray]:
        """(samples,) float32 of ``candidate``: at ``level`` (this take's own audio of it), or by default each stretch
        at the finest level that exists there (:func:`~studio.state.level_mix.mix`); None when there is none."""
        if level is None:
            return level_mix.mix(self.sources(candidate), self.n_samples)
        per = self.audio.get(level)
        return per[min(candidate, len(per) - 1)] if per else None

    def listening_audio(self, candidate: int) -> Optional[np.ndarray]:
        """What ``candidate`` sounds like, as the player plays it and the waveform draws it: a wide take's two rows
        as (2, samples) left and right (as it exports), whichever side is chosen; else :meth:`candidate_audio`."""
        rows = channel_rows(self.summary.kind, candidate)
        sides = [self.candidate_audio(row) for row in rows]  # each row mixed once
        if len(sides) > 1 and all(side is not None and len(side) == len(sides[0]) for side in sides):
            return np.stack(sides)
        return sides[rows.index(candidate)] if candidate in rows else self.candidate_audio(candidate)

    def sources(self, candidate: int) -> list[LevelSource]:
        """Every level ``candidate`` can be heard at: this take's own audio where its codes were sampled, else an
        ancestor's (``borrowed``) where its codes are this take's."""
        out = []
        for level in sorted(set(self.audio) | set(self.borrowed)):
            hop = self.hop_lengths[level]
            if level in self.audio:
                audio = self.candidate_audio(candidate, level)
                codes = self.codes.get(level)
                sampled = (codes[min(candidate, len(codes) - 1)] >= 0 if codes is not None
                           else np.ones(len(audio) // hop, dtype=bool))
            else:
                per = self.borrowed[level]
                if not per or per[min(candidate, len(per) - 1)] is None:
                    continue
                audio, sampled = per[min(candidate, len(per) - 1)]
            out.append(LevelSource(level, audio, sampled, hop))
        return out

    def preview_ranges(self, candidate: int) -> tuple:
        """((start_s, end_s), ...) where ``candidate`` plays below full quality (a level above 0)."""
        return level_mix.preview_ranges(self.sources(candidate), self.n_samples, self.sr)

    @property
    def n_samples(self) -> int:
        """The take's length in samples (what each level's codes cover)."""
        lengths = [c.shape[1] * self.hop_lengths[level] for level, c in self.codes.items()]
        return max(lengths) if lengths else max((len(a) for per in self.audio.values() for a in per), default=0)

    @property
    def duration(self) -> float:
        for level, c in self.codes.items():
            return c.shape[1] * self.hop_lengths[level] / self.sr
        return float(self.spec.get("seconds", 0.0))

    def write_window(self, level: int, start: int, codes: np.ndarray) -> Optional[np.ndarray]:
        """Write a window's new codes (N, W) at token ``start`` of ``level``, in place; the level's codes after it, or
        None when this take holds no codes of that shape (they are read from disk then)."""
        have = self.codes.get(level)
        if have is None or have.shape[0] != codes.shape[0] or start + codes.shape[1] > have.shape[1]:
            return None
        have[:, start:start + codes.shape[1]] = codes
        return have

    def with_level(self, summary: TakeSummary, level: int, codes: np.ndarray, audio: np.ndarray) -> "TakeData":
        """This take once ``level`` is done: its codes (N, T_L) and audio (N, samples) as the sampler sent them."""
        return replace(self, summary=summary, codes={**self.codes, level: codes},
                       audio={**self.audio, level: list(audio)})

    def with_alignment(self, matrices: tuple, lyrics: tuple) -> "TakeData":
        """This take with the top level's lyric alignment: per candidate a (top_tokens, n_chars) matrix."""
        return replace(self, alignment={c: (np.asarray(m, dtype=np.float32), text)
                                        for c, (m, text) in enumerate(zip(matrices, lyrics))})


def load_codes(path: "str | Path") -> dict:
    """level -> (N, T_L) codes of every level the take folder holds (the rest of the take is not read)."""
    return _codes(Take.load(path))


def _codes(take: Take) -> dict:
    return {level: take.codes(level) for level in range(len(take.record.hop_lengths)) if take.has_codes(level)}


def load_take_data(path: "str | Path") -> TakeData:
    """Read a take folder completely (codes, the WAVs of each finished level, alignments)."""
    take = Take.load(path)
    codes, audio, align = _codes(take), {}, {}
    n = len(take.plan.candidates)
    for level in range(len(take.record.hop_lengths)):
        wavs = [take.audio_path(level, c) for c in range(n)]
        if n and all(w.is_file() for w in wavs):
            audio[level] = [sf.read(str(w), dtype="float32", always_2d=False)[0] for w in wavs]
    for c in range(n):
        a = take.alignment(c)
        if a is not None:
            align[c] = (np.asarray(a[0], dtype=np.float32), a[1])
    borrowed = {level: _borrow(take, level, codes[level]) for level in codes if level not in audio}
    return TakeData(summarize(take), dict(take.record.spec), int(take.record.sr), tuple(take.record.hop_lengths),
                    codes, audio, align, {level: per for level, per in borrowed.items() if any(per)})


def _ancestors(take: Take):
    """The take's parent, grandparent... as far as their folders can be read."""
    seen = {take.path.resolve()}
    while take.record.parent_path:
        try:
            take = Take.load(take.record.parent_path)
        except (OSError, ValueError):
            return
        if take.path.resolve() in seen:
            return
        seen.add(take.path.resolve())
        yield take


def _borrow(take: Take, level: int, codes: np.ndarray) -> list:
    """Per candidate of ``take``, the nearest ancestor's audio of ``level`` and the tokens where that ancestor's codes
    are ``codes`` (N, T_L) (None where no ancestor has it): what the take sounds like there before it has its own."""
    ids = list(take.plan.candidates)
    found: list = [None] * len(ids)
    own_from = _own_from(take, level, codes.shape[1])
    for ancestor in _ancestors(take) if own_from > 0 else ():
        if all(f is not None for f in found):
            break
        if not ancestor.has_codes(level):
            continue
        theirs, their_ids = ancestor.codes(level), list(ancestor.plan.candidates)
        for c, cid in enumerate(ids):
            wav = ancestor.audio_path(level, their_ids.index(cid)) if cid in their_ids else None
            if found[c] is not None or wav is None or not wav.is_file():
                continue
            same = np.zeros(codes.shape[1], dtype=bool)  # (T_L,)
            n = min(codes.shape[1], theirs.shape[1])
            same[:n] = (codes[c, :n] >= 0) & (codes[c, :n] == theirs[their_ids.index(cid), :n])
            same[own_from:] = False
            if same.any():
                found[c] = (sf.read(str(wav), dtype="float32", always_2d=False)[0], same)
    return found


def _own_from(take: Take, level: int, n_tokens: int) -> int:
    """The first token of ``level`` from which the take's codes are its own, never an ancestor's (same codes there are
    chance): a joined take's from the start (its parent is only its first part), a regenerated take's from the time
    it was regenerated from."""
    if take.plan.kind == "join":
        return 0
    if take.plan.kind == "regenerate" and take.record.at_seconds is not None:
        return token_at(take.record.at_seconds, take.record.sr, take.record.hop_lengths[level])
    return n_tokens


def set_chosen(path: "str | Path", candidate: Optional[int]) -> None:
    """Record the candidate the user picked in the take's own record."""
    take = Take.load(path)
    take.record.chosen = candidate
    take.save()
