"""Note and syllable events, and the guard that keeps a broken MIDI file from holding a note forever.

music21's MIDI output can release a zero-length grace note before it starts, and overlapping notes leave note-ons that
are never released; a renderer that waits for silence then never ends (DEMO_DATA.md section 2). Here every note is a
closed (start, end) pair before any synthesis happens: note-offs without a note-on are dropped, note-ons without a
note-off get a bounded length, every note gets a minimum and a maximum length, and nothing passes the length cap.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass, replace

from studio.data.midifile import MidiMessage

MIN_NOTE_S = 0.03  # shorter notes (zero-length grace notes) are lengthened to this
MAX_NOTE_S = 12.0  # no single note sounds longer than this (an unreleased note-on ends here)
ONSET_MATCH_S = 0.02  # a lyric event belongs to a melody note that starts this close to it


@dataclass(frozen=True)
class NoteEvent:
    """One sounding note: a closed interval in seconds, a General MIDI program and a channel."""

    start: float
    end: float
    pitch: int
    velocity: int
    channel: int
    program: int


@dataclass(frozen=True)
class Syllable:
    """One sung syllable: when, at what MIDI pitch, and whether it starts a new word."""

    start: float
    end: float
    pitch: int
    text: str
    word_start: bool


def guard_notes(notes: list[NoteEvent], max_seconds: float) -> list[NoteEvent]:
    """Make a note list safe to render: bounded lengths, valid values, nothing past ``max_seconds``; sorted."""
    out = []
    for n in notes:
        if not (0 <= n.pitch <= 127) or n.start >= max_seconds or n.start < 0:
            continue
        end = min(max(n.end, n.start + MIN_NOTE_S), n.start + MAX_NOTE_S, max_seconds)
        out.append(replace(n, end=end, velocity=min(max(n.velocity, 1), 127), channel=n.channel % 16,
                           program=min(max(n.program, 0), 127)))
    out.sort(key=lambda n: (n.start, n.channel, n.pitch, n.end))
    return out


def pair_notes(messages: list[MidiMessage], channel_offset: int = 0) -> list[NoteEvent]:
    """Pair note-ons with note-offs (first in, first out per channel and pitch).

    A note-off with nothing sounding is ignored; a note-on never released ends ``MAX_NOTE_S`` later (and
    `guard_notes` trims it further). ``channel_offset`` moves all notes to other channels (to merge voice files).
    """
    programs: dict[int, int] = defaultdict(int)
    sounding: dict[tuple[int, int], deque] = defaultdict(deque)
    notes: list[NoteEvent] = []
    for m in messages:
        key = (m.channel, m.a)
        if m.kind == "program":
            programs[m.channel] = m.a
        elif m.kind == "on":
            sounding[key].append((m.time, m.b, programs[m.channel]))
        elif m.kind == "off" and sounding[key]:
            start, velocity, program = sounding[key].popleft()
            notes.append(NoteEvent(start, m.time, m.a, velocity, m.channel + channel_offset, program))
    for (channel, pitch), queue in sounding.items():
        for start, velocity, program in queue:  # never released
            notes.append(NoteEvent(start, start + MAX_NOTE_S, pitch, velocity, channel + channel_offset, program))
    return notes


_NOT_LYRIC = re.compile(r"^(@|[A-Za-z]:|notes?/|note track|notes/lyric track)")


def karaoke_marks(messages: list[MidiMessage]) -> list[tuple[float, str, bool, int]]:
    """Lyric syllables from text events in karaoke style (as abc2midi writes them): (time, text, word_start, track).

    A leading space, ``/`` or ``\\`` starts a new word; other text continues the word before it. Header texts
    (``@K...``, ABC fields such as ``B:``) are skipped.
    """
    onsets = defaultdict(set)
    for m in messages:
        if m.kind == "on":
            onsets[m.track].add(round(m.time, 3))
    marks = []
    for m in messages:
        if m.kind != "text" or _NOT_LYRIC.match(m.text) or round(m.time, 3) not in onsets[m.track]:
            continue
        word_start = not marks or m.text[:1] in (" ", "/", "\\")
        text = m.text.lstrip(" /\\").rstrip()
        if text:
            marks.append((m.time, text, word_start, m.track))
    return marks


def attach_syllables(marks: list[tuple[float, str, bool]], melody: list[NoteEvent]) -> list[Syllable]:
    """Give each lyric mark the pitch and length of the melody note(s) it is sung on.

    A syllable lasts through the notes that follow it without a break (a melisma) until the next syllable starts.
    Marks with no melody note starting at their time are dropped.
    """
    melody = sorted(melody, key=lambda n: (n.start, -n.pitch))
    starts = [n.start for n in melody]
    out: list[Syllable] = []
    for i, (time, text, word_start) in enumerate(marks):
        nxt = marks[i + 1][0] if i + 1 < len(marks) else float("inf")
        j = next((k for k, s in enumerate(starts) if abs(s - time) <= ONSET_MATCH_S), None)
        if j is None:
            continue
        end = melody[j].end
        k = j + 1
        while k < len(melody) and melody[k].start < nxt - ONSET_MATCH_S and melody[k].start <= end + ONSET_MATCH_S:
            end = max(end, melody[k].end)
            k += 1
        out.append(Syllable(melody[j].start, min(end, nxt), melody[j].pitch, text, word_start))
    return out


def words(syllables: list[Syllable]) -> list[tuple[float, float, str]]:
    """Join syllables into words: (t_start, t_end, text), times in seconds."""
    out: list[list] = []
    for s in syllables:
        piece = re.sub(r"[\[\]{}()]", "", s.text).replace("\u203f", " ").rstrip("-").strip()
        if s.word_start or not out:
            out.append([s.start, s.end, piece])
        else:
            out[-1][1] = s.end
            out[-1][2] += piece
    return [(round(a, 3), round(b, 3), t) for a, b, t in out if t]


def clip_syllables(syllables: list[Syllable], seconds: float) -> list[Syllable]:
    """Syllables that start before ``seconds``, their ends trimmed to it."""
    return [replace(s, end=min(s.end, seconds)) for s in syllables if s.start < seconds - MIN_NOTE_S]


def notes_from_midi(data: bytes, channel_offset: int = 0, lyrics: bool = True
                    ) -> tuple[list[NoteEvent], list[Syllable]]:
    """Note events and sung syllables from MIDI bytes (the syllables sit on the lyric track's notes)."""
    from studio.data.midifile import read_midi

    messages = read_midi(data)
    notes = pair_notes(messages, channel_offset)
    if not lyrics:
        return notes, []
    marks = karaoke_marks(messages)
    if not marks:
        return notes, []
    track = marks[0][3]
    channels = {m.channel + channel_offset for m in messages if m.kind == "on" and m.track == track}
    melody = [n for n in notes if n.channel in channels]
    return notes, attach_syllables([(t, x, w) for t, x, w, trk in marks if trk == track], melody)
