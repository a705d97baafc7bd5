"""The hanging-note guard: broken MIDI files become bounded note lists and bounded renders."""

from __future__ import annotations

import time

import numpy as np
import pytest

from studio.data.midifile import read_midi, write_midi
from studio.data.notes import (MAX_NOTE_S, MIN_NOTE_S, NoteEvent, attach_syllables, guard_notes, karaoke_marks,
                               notes_from_midi, pair_notes, words)

DIV = 480  # ticks per quarter; at the default 120 qpm one tick is 1/960 s


def on(ch, pitch, vel=100):
    return bytes([0x90 | ch, pitch, vel])


def off(ch, pitch):
    return bytes([0x80 | ch, pitch, 0])


def pathological_midi() -> bytes:
    """An organ note that is never released, a grace note released before it starts, one normal note."""
    track = [
        (0, bytes([0xC0, 19])),  # church organ
        (0, on(0, 60)),  # never released
        (480, off(0, 64)),  # note-off with no note-on ...
        (480, on(0, 64)),  # ... then its note-on: zero-length grace note, left open
        (960, on(0, 67)),
        (1440, off(0, 67)),  # a normal half-second note
    ]
    return write_midi([track], DIV)


def test_read_midi_applies_tempo_changes():
    tempo_60 = b"\xff\x51\x03" + (1_000_000).to_bytes(3, "big")  # 60 qpm from beat 2 on
    data = write_midi([[(0, on(0, 60)), (480, off(0, 60)), (480, tempo_60), (480, on(0, 62)), (960, off(0, 62))]])
    notes = pair_notes(read_midi(data))
    assert [(n.pitch, round(n.start, 4), round(n.end, 4)) for n in notes] == [(60, 0.0, 0.5), (62, 0.5, 1.5)]


def test_guard_bounds_every_note():
    notes = pair_notes(read_midi(pathological_midi()))
    by_pitch = {n.pitch: n for n in notes}
    assert set(by_pitch) == {60, 64, 67}
    assert by_pitch[60].end - by_pitch[60].start == pytest.approx(MAX_NOTE_S)  # unreleased: bounded
    assert by_pitch[67].end - by_pitch[67].start == pytest.approx(0.5)
    guarded = guard_notes(notes + [NoteEvent(3.0, 3.0, 70, 90, 0, 0), NoteEvent(9.0, 10.0, 72, 90, 0, 0)],
                          max_seconds=5.0)
    assert [n.pitch for n in guarded] == [60, 64, 67, 70]  # the note starting after the cap is gone
    for n in guarded:
        assert MIN_NOTE_S - 1e-9 <= n.end - n.start <= MAX_NOTE_S
        assert n.end <= 5.0


def test_render_of_pathological_midi_is_capped(builder_tools):
    from studio.data.synth import TAIL_S, Renderer, find_soundfont

    sr = 16000
    renderer = Renderer(find_soundfont(), sr)
    notes, _ = notes_from_midi(pathological_midi())
    began = time.monotonic()
    audio = renderer.render(notes, max_seconds=4.0)
    assert time.monotonic() - began < 10
    assert audio.dtype == np.float32
    assert len(audio) == int(4.0 * sr) + int(TAIL_S * sr)  # held organ cut at the cap, then the fixed tail
    assert np.abs(audio[: int(3.5 * sr)]).max() > 0.01  # it did sound
    tail = audio[-int(0.3 * sr):]  # all-notes-off happened 1.5 s earlier
    assert np.sqrt(np.mean(tail ** 2)) < 0.05 * np.sqrt(np.mean(audio[: int(3.5 * sr)] ** 2))


def test_karaoke_lyrics_attach_to_melody_notes():
    text = lambda t: b"\xff\x01" + bytes([len(t)]) + t.encode()  # noqa: E731
    track = [(0, text("@KMIDI KARAOKE FILE")), (0, text("B:header")),
             (0, text("/A")), (0, on(0, 67)), (480, off(0, 67)),
             (480, text("dieu")), (480, on(0, 69)), (960, off(0, 69)), (960, on(0, 71)), (1440, off(0, 71)),
             (1440, text(" mes")), (1440, on(0, 72)), (1920, off(0, 72))]
    messages = read_midi(write_midi([[], track]))
    marks = karaoke_marks(messages)
    assert [(round(t, 3), x, w) for t, x, w, _ in marks] == [(0.0, "A", True), (0.5, "dieu", False),
                                                              (1.5, "mes", True)]
    syllables = attach_syllables([(t, x, w) for t, x, w, _ in marks], pair_notes(messages))
    timed = [(s.pitch, round(s.start, 4), round(s.end, 4)) for s in syllables]
    assert timed == [(67, 0.0, 0.5), (69, 0.5, 1.5), (72, 1.5, 2.0)]  # 69 sings through the 71 (a melisma)
    assert words(syllables) == [(0.0, 1.5, "Adieu"), (1.5, 2.0, "mes")]
