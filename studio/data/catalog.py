"""Which works of the music21 corpus the demo set may use, and what each one is called and licensed as.

The catalog is built from the files alone (no score is parsed here), so listing the corpus takes well under a second.
Two layers decide what is left out:

* collections that are restricted as a whole (Palestrina: "rights to all derivative electronic formats reserved";
  Essen: non-commercial permission only) or are not music (demos, theory exercises, analyses);
* single files whose own header reserves rights: the CCARH Humdrum files, the UT Orpheus edition, files that say
  "All Rights Reserved", and MusicXML ``<rights>`` fields that claim a copyright without naming an open licence.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from studio.data.errors import DataBuildError

# Whole collections that are never used (see DEMO_DATA.md section 1).
RESTRICTED_COLLECTIONS = {
    "palestrina": "(c) 2000 John Miller, rights to all derivative electronic formats reserved",
    "essenFolksong": "non-commercial permission only (essenFolksong/license.txt)",
}
# Folders that hold no playable repertoire of their own.
NOT_REPERTOIRE = {"demos", "theoryExercises", "leadSheet", "_metadataCache", "__pycache__"}

# Text in a file's header that marks its encoding as rights-reserved.
_RESERVED_MARKERS = (
    "center for computer assisted research",
    "rights to all derivative electronic formats reserved",
    "all rights reserved",
    "ut orpheus",
    "utorpheus",
)
# Words that show a copyright line grants an open licence after all.
_OPEN_MARKERS = ("creative commons", "cc-by", "cc-sa", "cc0", "public domain", "p.d.", "freely distributed",
                 "gnu general")

ENCODING_NOTE = "encoding distributed with the music21 corpus by permission of its encoders; no further terms stated"


@dataclass(frozen=True)
class Collection:
    """How one corpus folder is labelled, voiced and licensed."""

    artist: str  # composer or tradition; "" means: take the composer from the score
    genre: str  # form or collection; ABC tunes refine it from their R: field or title
    licence: str  # short licence tag recorded on every item
    attribution: str  # who made the music and who encoded it
    programs: tuple[int, ...] = (0,)  # General MIDI programs to choose from (per item, seeded)
    per_part: bool = False  # True: programs[i] is used for part i instead of one choice for all parts
    language: str = ""  # espeak-ng voice language for sung lyrics ("" = no lyrics expected)
    weight: float = 0.15  # share of the hours in a build (DEMO_DATA.md section 5); single works get little
    typical_seconds: float = 120.0  # expected length of one rendered work, for planning the selection


_PD_MUSIC = "music public domain; " + ENCODING_NOTE
COLLECTIONS: dict[str, Collection] = {
    "oneills1850": Collection("Trad. Irish (O'Neill)", "dance", "PD-music; ABC terms not stated",
                              "Francis O'Neill, The Dance Music of Ireland (1907); ABC by Norbert Paap",
                              (110, 73, 40, 22), weight=4, typical_seconds=40),
    "airdsAirs": Collection("Trad. Scottish (Aird)", "air", "PD-music; ABC terms not stated",
                            "James Aird, A Selection of Scotch, English, Irish and Foreign Airs (1778-97)",
                            (73, 40, 46, 71), weight=3, typical_seconds=40),
    "ryansMammoth": Collection("Trad. (Ryan's Mammoth)", "dance", "PD-music; ABC terms not stated",
                               "William Bradbury Ryan, Ryan's Mammoth Collection (1883)", (40, 110, 21, 73),
                               weight=2, typical_seconds=40),
    "miscFolk": Collection("Trad. (misc. folk)", "dance", "PD-music; ABC terms not stated",
                           "American fife and Northumbrian minstrelsy tunes", (72, 73, 21),
                           weight=1, typical_seconds=40),
    "nottingham-dataset": Collection("Trad. English (Nottingham)", "dance", "PD-music; ABC terms not stated",
                                     "Nottingham Music Database", (21, 0, 40),
                                     weight=0.5, typical_seconds=40),
    "josquin": Collection("Josquin des Prez", "chanson", "GPL-2.0-or-later",
                          "Josquin des Prez; ABC (c) 1999 Laura E. Conrad, GPL-2+", (74, 71, 48), language="fr",
                          weight=1, typical_seconds=150),
    "bach": Collection("Johann Sebastian Bach", "chorale", _PD_MUSIC,
                       "J. S. Bach; encodings (c) 2003/4 Margaret Greentree, redistributed with permission",
                       (19, 48, 20), language="de", weight=5, typical_seconds=50),
    "trecento": Collection("", "trecento", _PD_MUSIC, "Trecento repertory; encodings by Michael Scott Cuthbert",
                           (74, 41, 71, 48), language="it", weight=3, typical_seconds=110),
    "monteverdi": Collection("Claudio Monteverdi", "madrigal", _PD_MUSIC, "Claudio Monteverdi, madrigals",
                             (48, 49, 52), language="it", weight=2, typical_seconds=170),
    "beethoven": Collection("Ludwig van Beethoven", "string quartet", _PD_MUSIC, "Ludwig van Beethoven",
                            (40, 40, 41, 42), per_part=True, weight=1.2, typical_seconds=290),
    "mozart": Collection("Wolfgang Amadeus Mozart", "string quartet", _PD_MUSIC, "W. A. Mozart",
                         (40, 40, 41, 42), per_part=True, weight=1.2, typical_seconds=280),
    "haydn": Collection("Joseph Haydn", "string quartet", _PD_MUSIC, "Joseph Haydn", (40, 40, 41, 42), per_part=True,
                        weight=1.2, typical_seconds=240),
}
# Single works and small folders: the genre is "piano" unless set here.
_SINGLE_ARTISTS = {"liliuokalani": "Liliuokalani", "johnson_j_r": "J. Rosamond Johnson", "beach": "Amy Beach",
                   "verdi": "Giuseppe Verdi", "handel": "George Frideric Handel", "webern": "Anton Webern",
                   "lusitano": "Vicente Lusitano", "ciconia": "Johannes Ciconia", "luca": "Trecento (various)",
                   "corelli": "Arcangelo Corelli", "weber": "Carl Maria von Weber", "chopin": "Frederic Chopin",
                   "schumann_robert": "Robert Schumann", "schumann_clara": "Clara Schumann",
                   "schoenberg": "Arnold Schoenberg", "joplin": "Scott Joplin", "cpebach": "C. P. E. Bach"}
_SINGLE_GENRES = {"liliuokalani": "song", "johnson_j_r": "song", "beach": "song", "verdi": "song",
                  "handel": "song", "webern": "song", "lusitano": "madrigal", "ciconia": "trecento",
                  "luca": "trecento", "corelli": "trio sonata", "weber": "concertino"}
_SINGLE_LANGUAGE = {"liliuokalani": "en", "johnson_j_r": "en", "beach": "en", "verdi": "it", "handel": "it",
                    "webern": "de", "lusitano": "it", "ciconia": "it", "luca": "it"}
_OPEN_SINGLE_LICENCE = {"lusitano": "CC0-1.0", "liliuokalani": "CC0-1.0", "johnson_j_r": "CC0-1.0",
                        "weber": "PD", "corelli": "CC-BY", "ciconia": "CC-BY-SA-3.0", "luca": "CC-BY-SA-3.0",
                        "beach": "CC-BY-SA", "webern": "CC-BY-SA"}
SHARE_ALIKE_PREFIXES = ("CC-BY-SA", "GPL")

_ABC_SUFFIX = ".abc"
_SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn")


@dataclass(frozen=True)
class Work:
    """One playable work: a score file, one tune of an ABC file, or a whole ABC file of voice parts."""

    source: str  # corpus-relative path, with "#X" for one ABC tune
    collection: str
    kind: str  # "score", "abc" (one tune) or "abc-parts" (every tune is a voice of one piece)
    path: Path
    tune: str = ""  # ABC reference number for kind "abc"
    title: str = ""
    abc_genre: str = ""  # from the ABC R: field or title
    info: Collection = field(default_factory=lambda: Collection("", "piano", _PD_MUSIC, ""))


def trecento_artist(composer: str) -> str:
    """Trecento works name their composer with a manuscript siglum; only the well-represented ones are kept."""
    low = composer.lower()
    for key, name in (("ciconia", "Johannes Ciconia"), ("jacopo", "Jacopo da Bologna")):
        if key in low:
            return name
    return "Trecento (various)"


def corpus_root() -> Path:
    """The music21 corpus folder. Raises DataBuildError when music21 is not installed."""
    try:
        import music21
    except ImportError as exc:
        raise DataBuildError("music21 is not installed, so there is no corpus to build from. "
                             "Fix: pip install 'jukebox-studio[data]' (music21 and pyfluidsynth).") from exc
    root = Path(music21.__file__).parent / "corpus"
    if not (root / "bach").is_dir():
        raise DataBuildError(f"the music21 corpus is missing at {root}. Fix: reinstall music21 from PyPI "
                             "(the wheel ships the corpus).")
    return root


def header_text(path: Path, limit: int = 20000) -> str:
    """The first part of a corpus file as text (unzipping .mxl), lower-cased, for licence checks."""
    if path.suffix == ".mxl":
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith(".xml") and not n.startswith("META-INF")]
            raw = z.read(names[0])[:limit] if names else b""
    else:
        with open(path, "rb") as fh:
            raw = fh.read(limit)
    return raw.decode("utf-8", "replace").lower()


def reserved_reason(path: Path) -> str:
    """Why this file's own header forbids its use, or "" when it does not."""
    text = header_text(path)
    for marker in _RESERVED_MARKERS:
        if marker in text:
            return f"header says '{marker}'"
    for rights in re.findall(r"<rights[^>]*>(.*?)</rights>", text, re.S):
        if ("copyright" in rights or "©" in rights) and not any(m in rights for m in _OPEN_MARKERS):
            return f"<rights> claims copyright without an open licence: {rights.strip()[:60]!r}"
    return ""


def abc_genre(rhythm: str, title: str, default: str) -> str:
    """A coarse dance-form label from an ABC R: field, else from keywords in the title."""
    for text in (rhythm.lower(), title.lower()):
        for key, label in (("hornpipe", "hornpipe"), ("clog", "hornpipe"), ("jig", "jig"), ("reel", "reel"),
                           ("strathspey", "strathspey"), ("fling", "strathspey"), ("waltz", "waltz"),
                           ("march", "march"), ("air", "air"), ("polka", "polka")):
            if key in text:
                return label
    return default


def split_abc(text: str) -> list[tuple[str, str]]:
    """Split an ABC file into (reference number, tune text) pairs; the file header is prepended to each tune."""
    blocks = re.split(r"(?m)^(?=X:)", text)
    header = "" if blocks and blocks[0].startswith("X:") else blocks.pop(0)
    header = "\n".join(line for line in header.splitlines() if line.startswith("%%"))  # keep directives only
    tunes = []
    for block in blocks:
        number = block.split("\n", 1)[0][2:].strip()
        tunes.append((number, (header + "\n" if header else "") + block))
    return tunes


def abc_field(tune_text: str, key: str) -> str:
    """The first value of an ABC header field (``T``, ``R``, ``C`` ...) in one tune, or ""."""
    m = re.search(rf"(?m)^{key}:\s*(.*?)\s*$", tune_text)
    return m.group(1) if m else ""


def scan(root: Path | None = None, share_alike: bool = True) -> list[Work]:
    """Every usable work in the corpus, in a fixed order.

    Args:
        root: corpus folder (default: music21's).
        share_alike: include works under share-alike or GPL terms (CC-BY-SA, GPL).
    """
    root = root or corpus_root()
    works: list[Work] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        name = folder.name
        if name in RESTRICTED_COLLECTIONS or name in NOT_REPERTOIRE:
            continue
        info = COLLECTIONS.get(name) or Collection(
            _SINGLE_ARTISTS.get(name, ""), _SINGLE_GENRES.get(name, "piano"), _OPEN_SINGLE_LICENCE.get(name, _PD_MUSIC),
            "", (0,), language=_SINGLE_LANGUAGE.get(name, ""))
        if not share_alike and info.licence.startswith(SHARE_ALIKE_PREFIXES):
            continue
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if "choraleAnalyses" in rel or path.suffix not in (_ABC_SUFFIX, *_SCORE_SUFFIXES):
                continue
            if path.suffix in _SCORE_SUFFIXES:
                if not reserved_reason(path):
                    works.append(Work(rel, name, "score", path, info=info))
                continue
            text = path.read_text(encoding="latin-1")
            tunes = split_abc(text)
            if name == "josquin":  # each tune is one voice of the same piece
                works.append(Work(rel, name, "abc-parts", path, title=abc_field(tunes[0][1], "T"), info=info))
                continue
            for number, tune in tunes:
                title = abc_field(tune, "T")
                genre = abc_genre(abc_field(tune, "R"), title, info.genre)
                works.append(Work(f"{rel}#{number}", name, "abc", path, number, title, genre, info))
    return works


def restricted_sources(root: Path | None = None) -> list[str]:
    """Corpus paths that `scan` leaves out for licence reasons (for reports and tests)."""
    root = root or corpus_root()
    out = [f"{name}/*" for name in RESTRICTED_COLLECTIONS]
    for path in sorted(root.rglob("*")):
        if path.suffix in _SCORE_SUFFIXES and path.parts[-2] not in RESTRICTED_COLLECTIONS and reserved_reason(path):
            out.append(path.relative_to(root).as_posix())
    return out
