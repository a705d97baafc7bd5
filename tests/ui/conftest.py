"""The real studio window on the tiny reference model, offscreen, with throwaway settings and a project in tmp_path."""

from __future__ import annotations

import functools

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TINY_SPEC = {"seconds": 0.372, "artist": "Alan Jackson", "genre": "Country", "song_seconds": 90, "candidates": 2,
             "levels": "top", "seed": 11, "lyrics": "Ride the long road home tonight, sing it loud and sing it right."}


class Recorder:
    """Records the session's signals in the order it emits them (on the GUI thread, so nothing arrives late).

    Arrays are copied as they arrive: the session writes each new window into the take's codes in place.
    """

    NAMES = ("job_started", "job_planned", "job_progress", "window_done", "codes_changed", "preview_changed",
             "take_loaded", "job_ended", "error")

    def __init__(self, session):
        self.events: list = []
        for name in self.NAMES:
            getattr(session, name).connect(functools.partial(self._record, name))

    def _record(self, name: str, *args) -> None:
        args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
        self.events.append((name, args[0] if len(args) == 1 else args))

    def names(self, skip=("job_progress", "preview_changed", "take_loaded", "codes_changed")) -> list[str]:
        return [n for n, _ in self.events if n not in skip]

    def of(self, name: str) -> list:
        return [e for n, e in self.events if n == name]

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def studio(qtbot, tmp_path, settings, tiny_models):
    """(window, session, recorder) with the tiny model loaded and a project open at tmp_path/'project'."""
    import torch

    from studio.state.session import StudioSession
    from studio.ui.main_window import MainWindow

    torch.set_num_threads(1)
    session = StudioSession(settings, preview_interval=0.2, autosave_ms=3_600_000)
    window = MainWindow(session, settings, modal_errors=False)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    recorder = Recorder(session)
    assert window.open_project(str(tmp_path / "project"), create=True)
    with qtbot.waitSignal(session.model_ready, timeout=600_000):
        session.load_model(tiny_models)
    yield window, session, recorder
    session.sampler.shutdown()
    session.playback.close()


def back_to_window(qtbot, widget) -> None:
    """Make ``widget``'s window active again after a popup closed: offscreen, a closed popup stays the active window
    (a desktop gives activation back), and keys and focus then miss the window."""
    widget.window().activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget.window(), timeout=600_000)


def type_spec(qtbot, editor, spec: dict) -> None:
    """Fill the song editor the way a user does: typing into the fields."""
    for field, key in ((editor.artist, "artist"), (editor.genre, "genre")):
        field.clear()
        qtbot.keyClicks(field, spec[key])
        popup = field.completer().popup()
        if popup.isVisible():  # the user closes the completion list before moving on (a click elsewhere would)
            qtbot.keyClick(popup, Qt.Key_Escape)
            assert not popup.isVisible()
            back_to_window(qtbot, field)
    editor.lyrics.clear()
    qtbot.keyClicks(editor.lyrics, spec["lyrics"])
    editor.seconds.setValue(spec["seconds"])
    editor.song_seconds.setValue(spec["song_seconds"])
    editor.candidates.setValue(spec["candidates"])
    editor.levels.setCurrentIndex(1 if spec["levels"] == "all" else 0)
    editor.seed.setValue(spec["seed"])
    editor.lock_seed.setChecked(True)
