"""Turn one catalog work into note events (and sung syllables): MusicXML/Humdrum via music21, ABC via abc2midi.

music21 is only used to read scores; the notes come from our own walk over the parts, not from music21's MIDI
writer (which fails on some files and writes the unreleased notes the renderer guards against). ABC goes through
abc2midi, which expands repeats and converts every tune (DEMO_DATA.md section 2).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from studio.data.catalog import Work, split_abc
from studio.data.errors import DataBuildError
from studio.data.notes import NoteEvent, Syllable, attach_syllables, notes_from_midi

ABC2MIDI_TIMEOUT_S = 30


class SkipWork(Exception):
    """This work cannot be converted (a parser error); the builder moves on to the next one."""


@dataclass
class Piece:
    """A work as sound events: notes for the instruments, syllables for the singer, and its labels."""

    notes: list[NoteEvent]
    syllables: list[Syllable]
    composer: str
    title: str


def _channel(part_index: int) -> int:
    """MIDI channel of a part, skipping channel 10 (index 9, percussion)."""
    return (part_index if part_index < 9 else part_index + 1) % 16


# ---------------------------------------------------------------- scores (music21)

def _tempo_map(score):
    """A function from quarter-note offset to seconds, from the score's metronome marks (120 qpm if none)."""
    try:
        bounds = [(float(a), float(b), mm.secondsPerQuarter()) for a, b, mm in score.metronomeMarkBoundaries()]
    except Exception:  # music21 raises assorted errors on odd tempo marks
        bounds = []
    bounds = [b for b in bounds if b[2] and b[2] > 0] or [(0.0, float("inf"), 0.5)]

    def seconds(offset: float) -> float:
        total = 0.0
        for start, end, spq in bounds:
            if offset <= start:
                break
            total += (min(offset, end) - start) * spq
        if offset > bounds[-1][1]:
            total += (offset - bounds[-1][1]) * bounds[-1][2]
        return total

    return seconds


def _lyric_marks(part_notes, seconds) -> list[tuple[float, str, bool]]:
    marks = []
    for n in part_notes:
        if not n.lyrics:
            continue
        lyric = min(n.lyrics, key=lambda l: l.number or 0)
        text = (lyric.text or "").strip()
        if text:
            marks.append((seconds(float(n.offset)), text, lyric.syllabic in (None, "single", "begin")))
    return marks


def _part_notes(flat, seconds, channel: int, program: int) -> list[NoteEvent]:
    """Notes of one flattened part, tied notes joined into one (music21's stripTies is far slower)."""
    events: list[list] = []  # [start, end, pitch, velocity]
    open_ties: dict[int, int] = {}  # MIDI pitch -> index in events of the note a tie continues
    for n in flat:
        if n.duration.isGrace or n.quarterLength <= 0 or not hasattr(n, "pitches"):
            continue
        start, end = seconds(float(n.offset)), seconds(float(n.offset + n.quarterLength))
        velocity = int(n.volume.velocity) if n.volume.velocity else 80
        members = n.notes if n.isChord else [n]
        for member in members:
            pitch, tie = int(member.pitch.midi), (member.tie or (n.tie if n.isChord else None))
            kind = tie.type if tie is not None else None
            if kind in ("stop", "continue") and pitch in open_ties:
                events[open_ties[pitch]][1] = end
                if kind == "stop":
                    del open_ties[pitch]
                continue
            open_ties.pop(pitch, None)
            events.append([start, end, pitch, velocity])
            if kind in ("start", "continue"):
                open_ties[pitch] = len(events) - 1
    return [NoteEvent(a, b, p, v, channel, program) for a, b, p, v in events]


def score_piece(work: Work, programs: list[int], lyrics: bool) -> Piece:
    """Read a score file; repeats are expanded unless the work is sung (its lyrics follow the written order)."""
    import music21

    try:
        with warnings.catch_warnings():  # music21 warns about every overfull measure; the build has no use for it
            warnings.simplefilter("ignore")
            score = music21.converter.parse(str(work.path))
        if isinstance(score, music21.stream.Opus):
            score = score.scores[0]
        parts = list(score.parts) or [score]
        sung = lyrics and any(n.lyrics for p in parts for n in p.recurse().notes)
        if not sung:
            try:
                score = score.expandRepeats()
                parts = list(score.parts) or [score]
            except Exception:  # ExpanderException and friends: keep the written order
                pass
        seconds = _tempo_map(score)
        notes, syllables = [], []
        for i, part in enumerate(parts):
            flat = part.flatten().notes
            part_events = _part_notes(flat, seconds, _channel(i), programs[i % len(programs)])
            notes.extend(part_events)
            if sung and not syllables:
                marks = _lyric_marks(flat, seconds)
                if len(marks) >= 4:
                    syllables = attach_syllables(marks, part_events)
        meta = score.metadata
        composer = (meta.composer if meta else "") or ""
        title = ((meta.title or meta.movementName) if meta else "") or work.path.stem
    except DataBuildError:
        raise
    except Exception as exc:  # music21 raises many exception types on odd files
        raise SkipWork(f"{work.source}: {type(exc).__name__}: {exc}") from exc
    return Piece(notes, syllables, " ".join(str(composer).split()), " ".join(str(title).split()))


# ---------------------------------------------------------------- ABC (abc2midi)

def require_abc2midi() -> str:
    """Path of abc2midi, or a DataBuildError with the fix."""
    exe = shutil.which("abc2midi")
    if not exe:
        raise DataBuildError("abc2midi is not installed, so ABC tunes cannot be converted. "
                             "Fix: apt-get install abcmidi.")
    return exe


@lru_cache(maxsize=8)
def _abc_tunes(path: Path) -> dict[str, str]:
    return dict(split_abc(path.read_text(encoding="latin-1")))


def abc_to_midi(tune_text: str) -> bytes:
    """Convert one ABC tune to MIDI bytes with abc2midi (repeats are played out)."""
    exe = require_abc2midi()
    with tempfile.TemporaryDirectory(prefix="studio-abc-") as tmp:
        src, dst = Path(tmp) / "tune.abc", Path(tmp) / "tune.mid"
        src.write_text(tune_text, encoding="latin-1")
        try:
            subprocess.run([exe, str(src), "-o", str(dst), "-silent"], capture_output=True,
                           timeout=ABC2MIDI_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SkipWork(f"abc2midi took over {ABC2MIDI_TIMEOUT_S} s") from exc
        if not dst.is_file() or dst.stat().st_size == 0:
            raise SkipWork("abc2midi wrote no MIDI file")
        return dst.read_bytes()


def abc_piece(work: Work, programs: list[int], lyrics: bool) -> Piece:
    """Read one ABC tune (kind "abc") or all the voice tunes of one file played together (kind "abc-parts")."""
    tunes = _abc_tunes(work.path)
    selected = [tunes[work.tune]] if work.kind == "abc" else list(tunes.values())
    notes, syllables = [], []
    try:
        for i, text in enumerate(selected):
            offset = i * 2 if work.kind == "abc-parts" else 0  # two channels per voice: melody + chords
            voice_notes, voice_syllables = notes_from_midi(abc_to_midi(text), offset, lyrics and not syllables)
            notes.extend(voice_notes)
            syllables = syllables or voice_syllables
    except DataBuildError as exc:
        if "abc2midi is not installed" in str(exc):
            raise
        raise SkipWork(f"{work.source}: {exc}") from exc
    program = programs[0]
    notes = [replace(n, program=program if n.channel % 16 != 9 else n.program, channel=n.channel % 16)
             for n in notes]
    from studio.data.catalog import abc_field

    composer = abc_field(selected[0], "C")
    return Piece(notes, syllables, composer, work.title or work.path.stem)


def load_piece(work: Work, programs: list[int], lyrics: bool = True) -> Piece:
    """Notes and syllables of any catalog work. Raises SkipWork when this one cannot be read."""
    if work.kind == "score":
        return score_piece(work, programs, lyrics)
    return abc_piece(work, programs, lyrics)
