"""Presenter mode plays the project's takes as a playlist with lyrics and spectrogram, no model needed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt

from studio.engine.takes import Take
from tests.ui.conftest import TINY_SPEC, type_spec


def _word_at(take_dir: str, seconds: float) -> Optional[str]:
    """The word of the take's lyrics its alignment (on disk) attends to most at ``seconds`` (None: a space there)."""
    matrix, lyrics = Take.load(take_dir).alignment(0)
    char = int(np.argmax(matrix[int(seconds * 44100 / 128)]))
    return next((m.group() for m in re.finditer(r"\S+", lyrics) if m.start() <= char < m.end()), None)


def _highlighted(label) -> str:
    """The word the karaoke line shows in bold."""
    found = re.search(r"<b[^>]*>(.*?)</b>", label.text())
    return found.group(1) if found else ""


def test_presenter_lists_takes_shows_lyrics_and_spectrogram_and_advances(qtbot, studio):
    window, session, rec = studio
    type_spec(qtbot, window.editor, dict(TINY_SPEC, candidates=1))
    for n in (1, 2):  # the recorder was connected before the first job: no job_ended can be missed
        window.generate()
        qtbot.waitUntil(lambda n=n: len(rec.of("job_ended")) == n and not session.busy, timeout=600_000)
    takes = [e.take_dir for e in rec.of("job_ended")]
    assert all(e.error is None and not e.cancelled for e in rec.of("job_ended"))

    presenter = window.open_presenter()
    qtbot.waitExposed(presenter)
    assert presenter.paths() == takes  # oldest first
    assert presenter.current == takes[0] and presenter.title.text() == "Alan Jackson - Country"
    assert presenter.view.showing_spectrogram and presenter.view.audio is not None
    n = int(0.372 * 44100) // 128 * 128
    assert len(presenter.view.audio) == n
    assert presenter.karaoke.matrix is not None and "road" in presenter.karaoke.lyrics
    assert abs(session.playback.duration - n / 44100) < 1e-3

    qtbot.keyClick(presenter, Qt.Key_Right)
    assert presenter.current == takes[1] and presenter.playlist.currentRow() == 1
    qtbot.keyClick(presenter, Qt.Key_Left)  # at the start of the second: back to the first
    assert presenter.current == takes[0]
    # the karaoke line highlights the word the alignment places at the play position
    shown = []
    for seconds in np.linspace(0.01, 0.36, 12):
        expected = _word_at(takes[0], seconds)
        session.playback.seek(seconds)
        if expected is not None:
            assert _highlighted(presenter.karaoke) == expected
            assert presenter.karaoke.lyrics[slice(*presenter.karaoke.sung)] == expected
            shown.append(expected)
    assert len(shown) >= 6 and set(shown) <= set(presenter.karaoke.lyrics.split())
    qtbot.keyClick(presenter, Qt.Key_Escape)
    assert not presenter.isVisible() and window.presenter is None
    assert Path(session.project.current) == Path(takes[-1])  # the studio's own selection is untouched
    assert session.playback.key == (takes[-1], 2, 0)  # and the player has its take back
