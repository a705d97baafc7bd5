"""Labels: artist/genre tables, lyric vocabularies, lyric windowing and the label vector ``y``.

``y`` layout (int64): ``[total_length, offset, sample_length, artist, genre x max_bow_genre_size (pad -1),
lyric_tokens x n_tokens]``; lengths and offsets in raw samples.

The id tables are never shipped with the code: they come with the model files (an ``ids/`` folder beside the
checkpoint or in one of its parent folders) or from the folder named by ``JUKEBOX_IDS_DIR``.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np
from unidecode import unidecode

VOCAB_V2 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,:;!?-+'\"()[] \t\n"
VOCAB_V3 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,:;!?-'\"()[] \t\n"

IDS_ENV = "JUKEBOX_IDS_DIR"
MANIFEST = "manifest.json"  # a model folder's manifest: the folder holding ``ids/`` and it is a named model
N_SUGGESTIONS = 3
SUGGEST_CUTOFF = 0.7  # how alike (difflib's ratio) a name or one of its words must be to be suggested


class LabelTablesNotFound(FileNotFoundError):
    pass


def transliterate(text: str) -> str:
    """ASCII the way the lyric models read it: transliterated, backslashes read as newlines."""
    return unidecode(text).replace("\\", "\n")


class LyricVocab:
    """Character vocabulary of the lyric models: id 0 is <unk> (padding), characters are 1..len(chars)."""

    def __init__(self, chars: str):
        self.chars = chars
        self.index = {c: i + 1 for i, c in enumerate(chars)}

    @property
    def n_vocab(self) -> int:
        return len(self.chars) + 1

    def _kept(self, text: str) -> Iterator[tuple[int, str]]:
        """(position in ``text``, character) of each character the cleaned lyrics keep."""
        for i, c in enumerate(text):
            for ch in c if c in self.index else transliterate(c):
                if ch in self.index:
                    yield i, ch

    def clean(self, text: str) -> str:
        """Transliterate to ASCII, turn backslashes into newlines, drop characters outside the vocabulary."""
        return "".join(ch for _, ch in self._kept(text))

    def typed_positions(self, text: str) -> list[int]:
        """For each character of ``clean(text)``, its position in ``text`` (one typed character may give several)."""
        return [i for i, _ in self._kept(text)]

    def outside(self, text: str) -> list[tuple[int, str]]:
        """(position, character) of every character the model cannot see, even after transliteration."""
        out = []
        for i, c in enumerate(text):
            if c in self.index:
                continue
            t = transliterate(c)
            if not t or any(ch not in self.index for ch in t):
                out.append((i, c))
        return out

    def tokenise(self, text: str) -> list[int]:
        return [self.index[c] for c in text]

    def textise(self, tokens: Sequence[int]) -> str:
        return "".join(self.chars[t - 1] if t > 0 else "" for t in tokens)


def lyric_vocab(v3: bool) -> LyricVocab:
    return LyricVocab(VOCAB_V3 if v3 else VOCAB_V2)


def window_lyric_span(n_chars: int, n_tokens: int, total_length: int, offset: int, duration: int) -> tuple[int, int]:
    """[first, last) indices of the ``n_tokens`` lyric characters a window sees, assuming the lyrics spread linearly
    over the song: centred on the window's middle (``offset + duration / 2`` of ``total_length``, raw samples),
    clamped to the lyrics; all of them when they are no longer than ``n_tokens``."""
    if n_chars <= n_tokens:
        return 0, n_chars
    mid = int(n_chars * (offset + duration / 2.0) / total_length)
    start = min(max(mid - n_tokens // 2, 0), n_chars - n_tokens)
    return start, start + n_tokens


def relevant_lyric_tokens(full: Sequence[int], n_tokens: int, total_length: int, offset: int, duration: int):
    """The ``n_tokens`` lyric tokens a window sees (:func:`window_lyric_span`), left-padded with 0.

    Returns ``(tokens, indices)``: indices into ``full`` (-1 for left padding).
    """
    full = list(full)
    start, end = window_lyric_span(len(full), n_tokens, total_length, offset, duration)
    pad = n_tokens - (end - start)
    return [0] * pad + full[start:end], [-1] * pad + list(range(start, end))


def song_total_length(seconds: float, song_seconds: Optional[float], sr: int, min_duration: Optional[float]) -> int:
    """The song's length in raw samples as the label vector's timing and lyric placement see it: the whole song
    (``song_seconds``, never shorter than the ``seconds`` generated), at least the model's ``min_duration``."""
    total = int(max(song_seconds or seconds, seconds) * sr)
    if min_duration is not None:
        total = max(total, int(math.ceil(min_duration * sr)))
    return total


def normalise_v2(s: str) -> str:
    s = re.sub("[^a-z0-9]", "_", s.lower())
    s = re.sub("_+", "_", s)
    return s.strip("_")


def readable(name: str) -> str:
    """A table name as a musician reads it ("johann_sebastian_bach" -> "johann sebastian bach"); typing it back
    resolves to the same id (the v2 tables normalise spaces to underscores, the v3 names hold the spaces)."""
    return name.replace("_", " ")


def nearest_names(text: str, names: Iterable[str], n: Optional[int] = N_SUGGESTIONS) -> list[str]:
    """Up to ``n`` (None: all) names nearest to what was typed, best first: names holding it (case, spaces and
    punctuation ignored; the closest first), then names alike in spelling as a whole or in one of their words
    ("Mozrat" -> "wolfgang_amadeus_mozart"); nothing for blank text."""
    key = normalise_v2(text)
    if not key:
        return []
    scored = []
    for name in names:
        norm = normalise_v2(name)
        whole = difflib.SequenceMatcher(None, key, norm).ratio()
        if search_names(key, [norm]):
            score = (2.0, whole)  # holding the text beats any spelling match
        else:
            score = (max(whole, *(difflib.SequenceMatcher(None, key, w).ratio() for w in norm.split("_"))), whole)
        if score[0] >= SUGGEST_CUTOFF:
            scored.append((-score[0], -score[1], name))
    return [name for *_, name in sorted(scored)[:n]]


def search_names(text: str, names: Iterable[str]) -> list[str]:
    """The names holding ``text`` (case, spaces and punctuation ignored, as :func:`nearest_names` reads it), in their
    given order; every name for blank text."""
    key = normalise_v2(text)
    return [n for n in names if key in normalise_v2(n)]


def _either(quoted: list[str]) -> str:
    """'a', 'a' or 'b', 'a', 'b' or 'c'."""
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


@dataclass(frozen=True)
class UnknownName:
    """A name a model's tables do not hold, with the nearest names they do."""

    kind: str  # "artist", "genre" or "genre word"
    name: str
    suggestions: tuple
    model: str = ""  # the model's name, for the listing command ('' when the tables are not in a model folder)

    @property
    def readable_suggestions(self) -> tuple:
        """The suggestions as a musician reads and types them."""
        return tuple(readable(s) for s in self.suggestions)

    def message(self) -> str:
        """The unknown-name message, naming the fallback, the nearest names and the command listing them all."""
        text = f"Unknown {self.kind} {self.name!r}: the model will use 'unknown'"
        text += " for it." if self.kind == "genre word" else "."
        if self.suggestions:
            text += f" Did you mean {_either([repr(s) for s in self.readable_suggestions])}?"
        if self.model:
            kind = "genres" if self.kind.startswith("genre") else "artists"
            search = f" --search {normalise_v2(self.name)}" if self.suggestions else ""
            text += f" List them: studio models labels {self.model} --{kind}{search}"
        return text


def _read_table(path: Path) -> dict[str, int]:
    table: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            name, _, idx = line.rpartition(";")
            table[name] = int(idx)
    return table


def find_ids_dir(start: Optional[Path] = None, needed: Sequence[str] = ()) -> Optional[Path]:
    """An ``ids/`` folder beside ``start`` or in one of its parents holding ``needed``, else ``$JUKEBOX_IDS_DIR``."""
    candidates = []
    if start is not None:
        p = Path(start).resolve()
        p = p if p.is_dir() else p.parent
        for q in [p, *p.parents]:
            candidates.append(q / "ids")
    env = os.environ.get(IDS_ENV)
    if env:
        candidates.append(Path(env))
    for c in candidates:
        if c.is_dir() and all((c / n).is_file() for n in needed):
            return c
    return None


@dataclass
class LabelInfo:
    """The ids a spec resolves to, and what the user should be told about it."""

    artist_id: int
    genre_ids: list
    lyrics_clean: str
    lyric_tokens: list
    warnings: list = field(default_factory=list)
    unknown: list = field(default_factory=list)  # an UnknownName per name the tables do not hold


class Labeller:
    """Turns (artist, genre, lyrics, total_length, offset) into label vectors for one prior.

    ``version`` is "v2" (5b, 5b_lyrics, upsamplers: normalised names, genres as a bag of words) or "v3"
    (1b_lyrics: lower-cased exact names, one genre).
    """

    def __init__(self, version: str, artists: dict, genres: dict, max_bow_genre_size: int, n_tokens: int,
                 model: str = ""):
        self.version = version
        self.model = model  # the model folder's name when the tables came with one (for the listing command)
        self.artists = artists
        self.genres = genres
        self.max_bow_genre_size = max_bow_genre_size
        self.n_tokens = n_tokens
        self.vocab = lyric_vocab(version == "v3")

    @classmethod
    def from_dir(cls, ids_dir: Path, version: str, max_bow_genre_size: int, n_tokens: int):
        ids_dir = Path(ids_dir)
        artists = _read_table(ids_dir / f"{version}_artist_ids.txt")
        genres = _read_table(ids_dir / f"{version}_genre_ids.txt")
        model = ids_dir.resolve().parent.name if (ids_dir.resolve().parent / MANIFEST).is_file() else ""
        return cls(version, artists, genres, max_bow_genre_size, n_tokens, model)

    # -- names ----------------------------------------------------------------------------------------------
    def artist_key(self, artist: str) -> str:
        return normalise_v2(artist) if self.version == "v2" else artist.lower()

    def artist_names(self) -> list[str]:
        """Every artist name the model knows (for completion)."""
        return sorted(n for n, i in self.artists.items() if n and i != 0)

    def genre_names(self) -> list[str]:
        return sorted(n for n, i in self.genres.items() if n and i != 0)

    def unknown_name(self, kind: str, name: str) -> UnknownName:
        """``name`` (of an artist, a genre or a genre word) with the nearest names this model knows."""
        names = self.artist_names() if kind == "artist" else self.genre_names()
        return UnknownName(kind, name, tuple(nearest_names(name, names)), self.model)

    def resolve(self, artist: str, genre: str, lyrics: str = "") -> LabelInfo:
        warnings, unknown = [], []

        def not_known(kind: str, name: str) -> None:
            unknown.append(self.unknown_name(kind, name))
            warnings.append(unknown[-1].message())

        artist_id = self.artists.get(self.artist_key(artist or ""), 0)
        if artist and artist_id == 0 and self.artist_key(artist) not in ("unknown", "various", ""):
            not_known("artist", artist)
        if self.version == "v2":
            words = [w for w in normalise_v2(genre or "").split("_") if w] or ["unknown"]
            if len(words) > self.max_bow_genre_size:
                warnings.append(f"Genre {genre!r} has {len(words)} words; only the first "
                                f"{self.max_bow_genre_size} are used.")
                words = words[: self.max_bow_genre_size]
            genre_ids = []
            for w in words:
                gid = self.genres.get(w, 0)
                if gid == 0 and w != "unknown":
                    not_known("genre word", w)
                genre_ids.append(gid)
        else:
            gid = self.genres.get((genre or "").lower(), 0)
            if genre and gid == 0 and genre.lower() != "unknown":
                not_known("genre", genre)
            genre_ids = [gid]
        clean = self.vocab.clean(lyrics or "")
        bad = self.vocab.outside(lyrics or "")
        if bad and self.n_tokens:
            chars = "".join(sorted({c for _, c in bad}))
            warnings.append(f"Lyrics contain characters the model cannot read ({chars!r}); they are dropped.")
        return LabelInfo(artist_id, genre_ids, clean, self.vocab.tokenise(clean), warnings, unknown)

    # -- y --------------------------------------------------------------------------------------------------
    def window_y(self, info: LabelInfo, total_length: int, offset: int, start_tokens: int, raw_to_tokens: int,
                 n_ctx: int) -> tuple[np.ndarray, list]:
        """The label vector of the window starting ``start_tokens`` into the level, and its lyric indices."""
        window_length = n_ctx * raw_to_tokens
        off = int(offset) + int(start_tokens) * raw_to_tokens
        genres = list(info.genre_ids) + [-1] * (self.max_bow_genre_size - len(info.genre_ids))
        y = [int(total_length), off, window_length, int(info.artist_id), *genres]
        idx: list = []
        if self.n_tokens:
            toks, idx = relevant_lyric_tokens(info.lyric_tokens, self.n_tokens, total_length, off, window_length)
            y += toks
        return np.asarray(y, dtype=np.int64), idx
