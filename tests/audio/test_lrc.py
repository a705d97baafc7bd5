"""Lyrics as LRC: line times from the lyric alignment, in the format karaoke players read."""

import re

import numpy as np

from studio.audio.lrc import lrc_path, lrc_text, timed_lines, write_lrc
from tests.audio.conftest import LYRICS

LINE = re.compile(r"^\[(\d\d):(\d\d)\.(\d\d)\](.*)$")


def _walk(tokens: int, chars: int) -> np.ndarray:
    m = np.zeros((tokens, chars), dtype=np.float32)
    m[np.arange(tokens), np.arange(tokens) * chars // tokens] = 1.0
    return m


def test_each_line_starts_where_the_alignment_reaches_its_first_character():
    tokens = 100
    starts = [0, LYRICS.index("sing"), LYRICS.index("and")]
    lines = timed_lines(_walk(tokens, len(LYRICS)), LYRICS, 0.05)
    assert [text for _, text in lines] == ["Ride the long road home", "sing it loud tonight", "and the last line"]
    expected = [-(-i * tokens // len(LYRICS)) * 0.05 for i in starts]  # first token whose character >= i
    np.testing.assert_allclose([t for t, _ in lines], expected)


def test_lines_the_audio_never_reaches_are_left_out_and_a_stray_glance_back_does_not_reorder():
    m = _walk(100, len(LYRICS))[:40]  # the audio ends in the second line
    m[30] = 0.0
    m[30, 0] = 1.0  # one token looks back at the first character
    lines = timed_lines(m, LYRICS, 0.1)
    assert [text for _, text in lines] == ["Ride the long road home", "sing it loud tonight"]
    assert lines[0][0] == 0.0 and lines[1][0] < 4.0
    assert timed_lines(np.zeros((10, len(LYRICS))), LYRICS, 0.1) == []  # no attention anywhere: nothing to time


def test_written_file_is_lrc(tmp_path):
    target = write_lrc(lrc_path(tmp_path / "song.flac"), [(0.0, "first"), (65.456, "second")], "Song", "Alan", 70.5)
    assert target == tmp_path / "song.lrc"
    text = target.read_text(encoding="utf-8")
    assert text == lrc_text([(0.0, "first"), (65.456, "second")], "Song", "Alan", 70.5)
    rows = text.splitlines()
    assert rows[:4] == ["[ti:Song]", "[ar:Alan]", "[length:01:10.50]", "[re:Jukebox Studio]"]
    timed = [LINE.match(r).groups() for r in rows[4:]]
    assert timed == [("00", "00", "00", "first"), ("01", "05", "46", "second")]
    assert [p.name for p in tmp_path.iterdir()] == ["song.lrc"]  # no temporary file left
