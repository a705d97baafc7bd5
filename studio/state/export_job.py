"""Exporting a take: the recipe (spec, seed, lineage) and the audio of one candidate at one level, prepared for a DAW
(rate, bit depth, loudness, fades) and written by export_audio, with the lyrics as an ``.lrc`` beside it on request.

A wide take (:mod:`studio.engine.wide`) exports as stereo: its row 0 left and its row 1 right, mastered together
(one loudness measured on both channels, one gain, the same fades); every other take exports one candidate, mono.

Recipes say ``"candidate"`` as the screen does, counting from 1, and carry ``"recipe_version"``; recipes written
before the version field counted candidates from 0. :func:`recipe_candidate` reads both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import soundfile as sf

from studio import __version__
from studio.audio.export import ExportError, ExportResult, export_audio
from studio.audio.lrc import lrc_path, timed_lines, write_lrc
from studio.audio.mastering import ExportOptions, MasterReport, master
from studio.engine.takes import WIDE_KIND, Take, channel_rows

RECIPE_VERSION = 2  # 2: "candidate" counts from 1 (as shown); no version field: it counted from 0
AS_RECORDED = ExportOptions(sample_rate=None, bit_depth=16, loudness=None)  # the take's own audio, unchanged
DRAG_FOLDER = Path(".cache") / "drag"  # inside the project: files rendered for dragging a take out


def channels_label(kind: str) -> str:
    """What an export of a take of plan ``kind`` holds, in words (the dialog and the recipe say the same)."""
    return "Stereo (wide: two upsamplings)" if kind == WIDE_KIND else "Mono"


def export_rows(take: Take, candidate: int) -> list[int]:
    """The take's rows an export of ``candidate`` (0-based) writes, one per channel (:func:`channel_rows`)."""
    return channel_rows(take.record.plan.get("kind", "generate"), candidate)


@dataclass(frozen=True)
class TakeExport:
    """What export_take wrote: the audio (with its recipe sidecar), the lyrics file, and what mastering did."""

    audio: ExportResult
    lrc: Optional[Path]
    master: MasterReport
    lrc_note: str = ""

    @property
    def path(self) -> Path:
        return self.audio.path

    @property
    def note(self) -> str:
        """Sentences for the user about metadata, loudness and lyrics ('' when all went as asked)."""
        return " ".join(n for n in (self.audio.note, self.master.note, self.lrc_note) if n)


def recipe_candidate(recipe: dict) -> Optional[int]:
    """The 0-based candidate index of a recipe of any version (None when it names none)."""
    value = recipe.get("candidate") if isinstance(recipe, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    index = value - 1 if recipe.get("recipe_version", 1) >= 2 else value
    return index if index >= 0 else None


def lineage(take: Take, limit: int = 32) -> list[dict]:
    """The take and its ancestors, newest first: id, kind, folder, seed, candidates, range."""
    chain, seen = [], set()
    current: Optional[Take] = take
    while current is not None and current.record.id not in seen and len(chain) < limit:
        seen.add(current.record.id)
        plan = current.record.plan
        chain.append({"id": current.record.id, "kind": plan.get("kind"), "folder": current.path.name,
                      "seed": current.record.seed, "candidates": plan.get("candidates"),
                      "range_seconds": plan.get("range_seconds"), "seconds": current.record.spec.get("seconds")})
        current = _parent(current)
    return chain


def _parent(take: Take) -> Optional[Take]:
    parent = take.record.parent_path
    try:
        return Take.load(parent) if parent else None
    except (FileNotFoundError, ValueError):
        return None


def recipe_for(take_dir: "str | Path", candidate: int, level: int, options: Optional[ExportOptions] = None) -> dict:
    """Everything needed to make this audio again; ``candidate`` is 0-based here and written 1-based."""
    take = Take.load(take_dir)
    spec = dict(take.record.spec)
    cands = take.record.plan.get("candidates", [])
    rows = export_rows(take, candidate)
    candidate = rows[0]
    return {
        "recipe_version": RECIPE_VERSION,
        "software": f"Jukebox Studio {__version__}",
        "model": take.record.model,
        "artist": spec.get("artist"),
        "genre": spec.get("genre"),
        "lyrics": spec.get("lyrics"),
        "temperature": spec.get("temperature"),
        "seed": take.record.seed,
        "candidate": candidate + 1,
        "seed_stream": cands[candidate] if candidate < len(cands) else candidate,
        "level": level,
        "channels": channels_label(take.record.plan.get("kind", "")),
        "channel_streams": [cands[r] if r < len(cands) else r for r in rows],  # per channel, left first
        "spec": spec,
        "take": take.record.id,
        "lineage": lineage(take),
        "export": asdict(options or AS_RECORDED),
    }


def lyric_alignment(take_dir: "str | Path", candidate: int):
    """(matrix, cleaned lyrics) of this candidate (0-based) for its .lrc, or None when the take has no alignment."""
    try:
        return _alignment(Take.load(take_dir), candidate)
    except (FileNotFoundError, ValueError):
        return None


def _alignment(take: Take, candidate: int):
    """(matrix, cleaned lyrics) of this candidate, from the take or, for an upsampling or a wide take, the take whose
    top level it has."""
    seen = set()
    while take is not None and take.record.id not in seen:
        seen.add(take.record.id)
        found = take.alignment(candidate)
        if found is not None or take.record.plan.get("kind") not in ("upsample", WIDE_KIND):
            return found
        cands = take.record.plan.get("candidates", [])
        candidate = cands[candidate] if candidate < len(cands) else candidate
        take = _parent(take)
    return None


def _write_lyrics(take: Take, candidate: int, audio_path: Path, seconds: float) -> tuple[Optional[Path], str]:
    found = _alignment(take, candidate)
    if found is None:
        return None, ("No .lrc was written: this take has no lyric alignment (its model sings no lyrics, or the top "
                      "level is unfinished).")
    matrix, lyrics = found
    lines = timed_lines(matrix, lyrics, take.record.hop_lengths[-1] / take.record.sr)
    spec = take.record.spec
    try:
        return write_lrc(lrc_path(audio_path), lines, str(spec.get("title") or audio_path.stem),
                         str(spec.get("artist") or ""), seconds), ""
    except OSError as err:
        return None, f"The lyrics file could not be written: {err.strerror or err}."


def export_take(take_dir: "str | Path", candidate: int, level: Optional[int], path: "str | Path",
                fmt: Optional[str] = None, options: Optional[ExportOptions] = None,
                lyrics: bool = False) -> TakeExport:
    """Export one candidate (0-based) of a take: ``level`` None = the finest level the take has audio for.

    Args:
        options: rate, bit depth, loudness and fades; None writes the take's audio as recorded (16-bit).
        lyrics: also write ``<name>.lrc`` timed from the take's lyric alignment.

    Raises:
        ExportError: from export_audio (format, folder, permissions), or when the take has no audio at that level.
    """
    take = Take.load(take_dir)
    rows = export_rows(take, candidate)
    candidate = rows[0]  # a wide take's recipe and lyrics are its left side's
    levels = [level] if level is not None else sorted(range(len(take.record.hop_lengths)))
    chosen_level = next((lv for lv in levels if all(take.audio_path(lv, r).is_file() for r in rows)), None)
    if chosen_level is None:
        which = f"level {level}" if level is not None else "any level"
        whose = "both sides of this wide take" if len(rows) > 1 else f"candidate {candidate + 1}"
        raise ExportError(f"Take {take.path.name} has no audio for {whose} at {which} yet; finish or upsample it "
                          f"first, or export another level.")
    options = options or AS_RECORDED
    sides = [sf.read(str(take.audio_path(chosen_level, r)), dtype="float32", always_2d=False) for r in rows]
    sr = sides[0][1]
    audio = np.stack([a for a, _ in sides]) if len(sides) > 1 else sides[0][0].T  # (2, T) left and right, or (T,)
    ready, report = master(audio, sr, options)
    recipe = recipe_for(take_dir, candidate, chosen_level, options)
    written = export_audio(path, ready, report.sr, fmt=fmt, recipe=recipe, bit_depth=options.bit_depth)
    lrc, lrc_note = (_write_lyrics(take, candidate, written.path, ready.shape[-1] / report.sr) if lyrics
                     else (None, ""))
    return TakeExport(written, lrc, report, lrc_note)


def render_for_drag(take_dir: "str | Path", candidate: int, project_folder: "str | Path",
                    options: Optional[ExportOptions] = None) -> TakeExport:
    """A WAV of the candidate (0-based) at the finest level, in the project's drag folder, for a drop on a DAW."""
    folder = Path(project_folder) / DRAG_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ExportError(f"Cannot create '{folder}' for the dragged file: {err.strerror or err}. Check that the "
                          f"project folder is writable.") from err
    return export_take(take_dir, candidate, None, folder / f"{Path(take_dir).name}-c{candidate + 1}.wav", "wav",
                       options)
