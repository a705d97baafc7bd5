"""The files that describe a built set: artist/genre id tables, README.md and LICENSES.md."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from studio.data.errors import DataBuildError

UNKNOWN = "unknown"


def write_table(path: Path, names: list[str]) -> dict[str, int]:
    """Write ``name;id`` lines, ``unknown;0`` first and the rest sorted from 1; return the mapping."""
    table = {UNKNOWN: 0}
    for name in sorted(set(names) - {UNKNOWN}):
        table[name] = len(table)
    path.write_text("".join(f"{name};{i}\n" for name, i in table.items()), encoding="utf-8")
    return table


def read_table(path: Path) -> dict[str, int]:
    """Read a ``name;id`` table written by `write_table`."""
    table = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        name, sep, ident = line.rpartition(";")
        if not sep or not ident.strip().isdigit():
            raise DataBuildError(f"{path} line {n} is not 'name;id': {line!r}. Fix: rebuild the set or "
                                 "correct the line.")
        table[name] = int(ident)
    return table


def write_label_tables(out: Path, items: list[dict]) -> tuple[dict[str, int], dict[str, int]]:
    """artists.txt and genres.txt for the items; returns both mappings."""
    return (write_table(out / "artists.txt", [i["artist"] for i in items]),
            write_table(out / "genres.txt", [i["genre"] for i in items]))


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h"


def write_readme(out: Path, items: list[dict], opts, restricted: list[str]) -> None:
    """README.md (what is in the set and how it was made) and LICENSES.md (terms per collection)."""
    total = sum(i["seconds"] for i in items)
    sung = [i for i in items if i["lyric_timing"]]
    by_artist, by_genre = Counter(), Counter()
    for i in items:
        by_artist[i["artist"]] += i["seconds"]
        by_genre[i["genre"]] += i["seconds"]
    splits = Counter(i["split"] for i in items)
    lines = [
        "# Jukebox Studio demo training set",
        "",
        f"Built by `studio data build` with seed {opts.seed}{' (tiny)' if opts.tiny else ''}: {len(items)} items, "
        f"{_hours(total)} of mono {opts.audio_format.upper()} at {opts.sr} Hz; {len(sung)} items "
        f"({_hours(sum(i['seconds'] for i in sung))}) have sung lyrics with word timings. "
        f"Split: {splits.get('train', 0)} train, {splits.get('heldout', 0)} held out.",
        "",
        "Scores and tunes come from the music21 corpus. Scores are read with music21, ABC tunes are converted with "
        "abc2midi (repeats played out); every note list is rendered with FluidSynth through the soundfont "
        f"`{Path(opts.soundfont).name}`. Lyrics are spoken on pitch by espeak-ng and fitted to the notes with sox, "
        "then mixed over the accompaniment.",
        "",
        "Files: `audio/` clips; `items.jsonl` one JSON object per clip (path, seconds, sr, artist, artist_id, genre, "
        "genre_id, title, lyrics, lyric_timing as [t_start, t_end, word] in seconds, language, source, "
        "collection, licence, attribution, instruments, split, sha1); `artists.txt` and `genres.txt` "
        "(`name;id`, `unknown;0` first); `build.json` (the options and skipped works); `LICENSES.md`.",
        "",
        "| artist | hours |", "|---|---|",
        *[f"| {a} | {s / 3600:.2f} |" for a, s in by_artist.most_common()],
        "",
        "| genre | hours |", "|---|---|",
        *[f"| {g} | {s / 3600:.2f} |" for g, s in by_genre.most_common()],
        "",
    ]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")

    by_licence: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for i in items:
        by_licence[(i["collection"], i["licence"])].append(i)
    lic = [
        "# Licences",
        "",
        "Each item in items.jsonl carries its own `licence` and `attribution`. Summary by collection:",
        "",
        "| collection | items | hours | licence | attribution |", "|---|---|---|---|---|",
        *[f"| {c} | {len(v)} | {sum(i['seconds'] for i in v) / 3600:.2f} | {lic_} | {v[0]['attribution']} |"
          for (c, lic_), v in sorted(by_licence.items())],
        "",
        "Tools (used, not redistributed): music21 (BSD-3-Clause), abc2midi (GPL-2.0+), FluidSynth (LGPL-2.1+), "
        "espeak-ng (GPL-3.0+), sox (GPL-2.0+). The soundfont's licence is named in each item's `licence`.",
        "",
        "Left out on purpose, for their terms: " + ", ".join(restricted[:2]) + " (whole collections), and these "
        "files whose own headers reserve rights (CCARH, UT Orpheus, 'All Rights Reserved', or a copyright "
        "without an open licence):",
        "",
        *[f"- {r}" for r in restricted[2:]],
        "",
        "Share-alike and GPL encodings (CC-BY-SA, GPL) are "
        + ("included; build with --no-share-alike to leave them out." if opts.share_alike else "left out."),
        "",
    ]
    (out / "LICENSES.md").write_text("\n".join(lic), encoding="utf-8")
