"""Exporting a take: the recipe (spec, seed, lineage) and the audio of one candidate at one level, via export_audio."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import soundfile as sf

from studio import __version__
from studio.audio.export import ExportResult, export_audio
from studio.engine.takes import Take


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
        parent = current.record.parent_path
        try:
            current = Take.load(parent) if parent else None
        except (FileNotFoundError, ValueError):
            current = None
    return chain


def recipe_for(take_dir: "str | Path", candidate: int, level: int) -> dict:
    """Everything needed to make this audio again."""
    take = Take.load(take_dir)
    spec = dict(take.record.spec)
    cands = take.record.plan.get("candidates", [])
    return {
        "software": f"Jukebox Studio {__version__}",
        "model": take.record.model,
        "artist": spec.get("artist"),
        "genre": spec.get("genre"),
        "lyrics": spec.get("lyrics"),
        "temperature": spec.get("temperature"),
        "seed": take.record.seed,
        "candidate": candidate,
        "seed_stream": cands[candidate] if candidate < len(cands) else candidate,
        "level": level,
        "spec": spec,
        "take": take.record.id,
        "lineage": lineage(take),
    }


def export_take(take_dir: "str | Path", candidate: int, level: Optional[int], path: "str | Path",
                fmt: Optional[str] = None) -> ExportResult:
    """Export one candidate of a take: ``level`` None = the finest level the take has audio for.

    Raises:
        ExportError: from export_audio (format, folder, permissions), or when the take has no audio at that level.
    """
    from studio.audio.export import ExportError

    take = Take.load(take_dir)
    levels = [level] if level is not None else sorted(range(len(take.record.hop_lengths)))
    wav = next((take.audio_path(lv, candidate) for lv in levels if take.audio_path(lv, candidate).is_file()), None)
    if wav is None:
        which = f"level {level}" if level is not None else "any level"
        raise ExportError(f"Take {take.path.name} has no audio for candidate {candidate + 1} at {which} yet; "
                          f"finish or upsample it first, or export another level.")
    chosen_level = int(wav.stem.split("_")[0][1:])
    audio, sr = sf.read(str(wav), dtype="float32", always_2d=False)
    return export_audio(path, audio, sr, fmt=fmt, recipe=recipe_for(take_dir, candidate, chosen_level))
