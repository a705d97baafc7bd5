"""Presenter mode plays the project's takes from disk as a playlist with lyrics and spectrogram, no model needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from tests.ui.conftest import TINY_SPEC, type_spec


def test_presenter_lists_takes_shows_lyrics_and_spectrogram_and_advances(qtbot, studio):
    window, session, rec = studio
    type_spec(qtbot, window.editor, dict(TINY_SPEC, candidates=1))
    w = session.worker
    for _ in range(2):
        with qtbot.waitSignal(w.job_finished, timeout=60_000):
            window.generate()
        qtbot.waitUntil(lambda: not session.busy, timeout=5000)
    takes = [e.take_dir for e in rec.of("job_finished")]

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
    # the karaoke line follows the position it is given
    presenter._position(0.2)
    assert presenter.karaoke.text()
    qtbot.keyClick(presenter, Qt.Key_Escape)
    assert not presenter.isVisible() and window.presenter is None
    assert Path(session.project.current) == Path(takes[-1])  # the studio's own selection is untouched
    assert np.isfinite(session.playback.duration)
