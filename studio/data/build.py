"""Build the demo training set: pick works, render each one to a mono clip, write items.jsonl and the label tables.

Everything is decided by the seed: which works (a seeded, weighted round-robin over the collections), which General
MIDI instrument plays each, and so the audio bytes too. Items come out in plan order whatever the number of
workers, and the hour budget is applied to that order, so a build with 1 or 2 workers gives the same set.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import numpy as np

from studio.data import catalog
from studio.data.errors import DataBuildError
from studio.data.mixing import mix_vocals, normalise
from studio.data.notes import clip_syllables, guard_notes, words
from studio.data.report import write_label_tables, write_readme
from studio.data.sources import SkipWork, load_piece, require_abc2midi
from studio.data.synth import TAIL_S, Renderer, find_soundfont, soundfont_licence

TINY_SECONDS = 8.0  # length cap of each --tiny item (plus the render tail)
TINY_COLLECTIONS = ("bach", "oneills1850", "airdsAirs", "ryansMammoth", "trecento", "josquin", "bach", "miscFolk")
MAX_ITEM_SECONDS = 300.0  # longer works are cut here (the trainer takes random crops anyway)
HELDOUT_PERCENT = 5  # share of works kept out of training, by a hash of the source path (seed-independent)
Progress = Callable[[float, float, str], None]  # (seconds done, seconds wanted, message)


@dataclass(frozen=True)
class BuildOptions:
    """Everything that decides a build's content (recorded in OUT/build.json)."""

    seed: int = 0
    tiny: bool = False
    max_hours: float = 3.0
    sr: int = 22050
    vocals: bool = True  # sing the lyrics of the works that have them
    share_alike: bool = True  # include CC-BY-SA and GPL encodings
    soundfont: str = ""
    audio_format: str = "wav"  # "wav" or "flac", 16-bit
    max_item_seconds: float = MAX_ITEM_SECONDS


@dataclass
class BuildResult:
    """What a build made: the output folder, its items (dicts as in items.jsonl) and works skipped with reasons."""

    out: Path
    items: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return sum(i["seconds"] for i in self.items) / 3600


def plan_works(works: list[catalog.Work], seed: int, tiny: bool) -> list[catalog.Work]:
    """The order in which works are rendered: a seeded shuffle inside each collection, then the collections share
    the expected hours by their weights, so the set stays balanced at any hour budget. Tiny builds take one work
    per entry of ``TINY_COLLECTIONS``."""
    groups: dict[str, list[catalog.Work]] = {}
    for w in works:
        groups.setdefault(w.collection, []).append(w)
    for name, group in groups.items():
        random.Random(f"{seed}:{name}").shuffle(group)
    if tiny:
        picked, used = [], {}
        for name in TINY_COLLECTIONS:
            if groups.get(name):
                k = used.get(name, 0)
                picked.append(groups[name][k % len(groups[name])])
                used[name] = k + 1
        return picked
    queues = {name: deque(g) for name, g in sorted(groups.items())}
    planned = {name: 0.0 for name in queues}  # expected seconds already given to each collection
    order = []
    while any(queues.values()):
        # the collection furthest below its share of the hours goes next (ties: by name)
        name = min((n for n, q in queues.items() if q), key=lambda n: (planned[n] / queues[n][0].info.weight, n))
        work = queues[name].popleft()
        order.append(work)
        planned[name] += work.info.typical_seconds
    return order


def split_of(source: str) -> str:
    """'train' or 'heldout', fixed per source path."""
    return "heldout" if int(hashlib.sha1(source.encode()).hexdigest(), 16) % 100 < HELDOUT_PERCENT else "train"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "item"


def _artist(work: catalog.Work, composer: str) -> str:
    if work.collection == "trecento":
        return catalog.trecento_artist(composer)
    name = work.info.artist or composer.strip()
    return name.replace(";", ",") or "unknown"


_RENDERER: Renderer | None = None


def _init_worker(soundfont: str, sr: int) -> None:
    global _RENDERER
    _RENDERER = Renderer(Path(soundfont), sr)


def render_item(index: int, work: catalog.Work, opts: BuildOptions, out: Path) -> dict | str:
    """Render one work into ``out/audio``; returns its item dict, or a string saying why it was skipped."""
    rng = random.Random(f"{opts.seed}:{work.source}")
    programs = list(work.info.programs) if work.info.per_part else [rng.choice(work.info.programs)]
    sung = opts.vocals and bool(work.info.language)
    try:
        piece = load_piece(work, programs, lyrics=sung)
    except SkipWork as exc:
        return f"skipped {exc}"
    cap = TINY_SECONDS if opts.tiny else opts.max_item_seconds
    notes = guard_notes(piece.notes, cap)
    if not notes:
        return f"skipped {work.source}: no notes"
    audio = _RENDERER.render(notes, cap)
    syllables = clip_syllables(piece.syllables, cap) if sung else []
    if syllables:
        from studio.data.singer import sing

        audio = mix_vocals(audio, sing(syllables, work.info.language, opts.sr, len(audio)))
    else:
        audio = normalise(audio)
    timing = words(syllables)
    title = piece.title if piece.title and not piece.title.endswith(work.path.suffix) else work.path.stem
    if work.kind == "abc":
        title = work.title or title
    rel = Path("audio") / f"{index:05d}-{_slug(title)}.{opts.audio_format}"
    _write_audio(out / rel, audio, opts.sr, opts.audio_format)
    return {
        "id": f"{index:05d}",
        "path": rel.as_posix(),
        "seconds": round(len(audio) / opts.sr, 4),
        "sr": opts.sr,
        "artist": _artist(work, piece.composer),
        "genre": work.abc_genre or work.info.genre,
        "title": title,
        "lyrics": " ".join(t for _, _, t in timing),
        "lyric_timing": [list(t) for t in timing],
        "language": work.info.language if timing else "",
        "source": f"music21 corpus: {work.source}",
        "collection": work.collection,
        "licence": f"{work.info.licence}; rendered with {soundfont_licence(Path(opts.soundfont))}",
        "attribution": work.info.attribution or f"{piece.composer}; encoding from the music21 corpus",
        "instruments": sorted({n.program for n in notes}),
        "split": split_of(work.source),
        "sha1": hashlib.sha1((out / rel).read_bytes()).hexdigest(),
    }


def _write_audio(path: Path, audio: np.ndarray, sr: int, fmt: str) -> None:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, sr, subtype="PCM_16", format=fmt.upper())


def _check_tools(opts: BuildOptions) -> BuildOptions:
    if opts.sr < 8000 or opts.sr > 48000:
        raise DataBuildError(f"sample rate {opts.sr} Hz is outside 8000-48000. Fix: pass --sr 22050 (the default).")
    if opts.audio_format not in ("wav", "flac"):
        raise DataBuildError(f"audio format '{opts.audio_format}' is not supported. Fix: use wav or flac.")
    if not opts.tiny and opts.max_hours <= 0:
        raise DataBuildError(f"--max-hours must be positive, got {opts.max_hours}. Fix: pass e.g. --max-hours 3.")
    catalog.corpus_root()
    require_abc2midi()
    if opts.vocals:
        from studio.data.singer import require_tools

        require_tools()
    soundfont = str(find_soundfont(opts.soundfont or None))
    return BuildOptions(**{**opts.__dict__, "soundfont": soundfont})


def build_dataset(out: str | Path, seed: int = 0, tiny: bool = False, max_hours: float = 3.0, sr: int = 22050,
                  progress: Progress | None = None, workers: int = 1, cancel: Callable[[], bool] | None = None,
                  **options) -> BuildResult:
    """Build the demo set into ``out`` (an empty or new folder).

    Args:
        out: output folder; gets audio/, items.jsonl, artists.txt, genres.txt, README.md, LICENSES.md, build.json.
        seed: decides the works, their order and instruments; same seed, same items and audio bytes.
        tiny: a handful of short items (8 s) for tests, ignoring ``max_hours``.
        max_hours: stop once this much audio is made.
        sr: sample rate of the mono clips.
        progress: called as ``progress(seconds_done, seconds_wanted, message)`` after every work.
        workers: processes that render in parallel.
        cancel: polled between works; when it returns True the build stops and writes what it has.
        **options: other BuildOptions fields (vocals, share_alike, soundfont, audio_format, max_item_seconds).
    Raises:
        DataBuildError: a missing tool, soundfont or a bad argument, or ``out`` already holds a dataset.
    """
    out = Path(out)
    opts = _check_tools(BuildOptions(seed=seed, tiny=tiny, max_hours=max_hours, sr=sr, **options))
    if out.exists() and any(out.iterdir()):
        raise DataBuildError(f"{out} is not empty, and a build never overwrites files. "
                             "Fix: choose a new folder or delete this one first.")
    (out / "audio").mkdir(parents=True, exist_ok=True)
    works = plan_works(catalog.scan(share_alike=opts.share_alike), seed, tiny)
    wanted = float("inf") if tiny else max_hours * 3600
    result = BuildResult(out)
    done = 0.0
    for outcome in _render_all(works, opts, out, max(1, workers)):
        if isinstance(outcome, str):
            result.skipped.append(outcome)
        elif done >= wanted or (cancel and cancel()):
            (out / outcome["path"]).unlink(missing_ok=True)  # rendered ahead by a worker, past the budget
            continue
        else:
            result.items.append(outcome)
            done += outcome["seconds"]
        if progress:
            shown = max((TINY_SECONDS + TAIL_S) * len(works) if tiny else wanted, done)
            progress(done, shown, outcome if isinstance(outcome, str) else outcome["title"])
        if done >= wanted or (cancel and cancel()):
            break
    if result.items and not any(i["split"] == "heldout" for i in result.items) and len(result.items) > 1:
        result.items[-1]["split"] = "heldout"
    _write_outputs(result, opts)
    return result


def _render_all(works, opts: BuildOptions, out: Path, workers: int):
    """Yield each work's outcome in plan order, rendering up to ``2 * workers`` works ahead."""
    if workers == 1:
        _init_worker(opts.soundfont, opts.sr)
        for index, work in enumerate(works):
            yield render_item(index, work, opts, out)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                             initargs=(opts.soundfont, opts.sr)) as pool:
        pending: deque = deque()
        queue = iter(enumerate(works))
        try:
            for index, work in queue:
                pending.append(pool.submit(render_item, index, work, opts, out))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()
            for fut in pending:  # let running ones finish, then drop their files
                if not fut.cancelled() and isinstance(fut.result(), dict):
                    (out / fut.result()["path"]).unlink(missing_ok=True)


def _write_outputs(result: BuildResult, opts: BuildOptions) -> None:
    out = result.out
    artists, genres = write_label_tables(out, result.items)
    for item in result.items:
        item["artist_id"], item["genre_id"] = artists[item["artist"]], genres[item["genre"]]
    with open(out / "items.jsonl", "w", encoding="utf-8") as fh:
        for item in result.items:
            fh.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
    (out / "build.json").write_text(json.dumps({**opts.__dict__, "items": len(result.items),
                                                "hours": round(result.hours, 4),
                                                "skipped": result.skipped}, indent=1))
    write_readme(out, result.items, opts, catalog.restricted_sources())
    stray = {p.name for p in (out / "audio").iterdir()} - {Path(i["path"]).name for i in result.items}
    for name in stray:  # files of works rendered past the budget
        (out / "audio" / name).unlink()
    if not result.items:
        shutil.rmtree(out / "audio", ignore_errors=True)
