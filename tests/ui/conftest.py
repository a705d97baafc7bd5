"""The real studio window on the tiny reference model, offscreen, with throwaway settings and a project in tmp_path."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QObject, QSettings, Slot  # noqa: E402

TINY_SPEC = {"seconds": 0.372, "artist": "Alan Jackson", "genre": "Country", "song_seconds": 90, "candidates": 2,
             "levels": "top", "seed": 11, "lyrics": "Ride the long road home tonight, sing it loud and sing it right."}


class Recorder(QObject):
    """Lives on the GUI thread: records worker signals in the order they arrive there."""

    NAMES = ("planned", "progress", "window_done", "level_done", "alignment_ready", "warning", "preview",
             "job_finished", "job_failed")

    def __init__(self, worker):
        super().__init__()
        self.events: list = []
        for name in self.NAMES:
            getattr(worker, name).connect(getattr(self, "on_" + name))
        worker.take_created.connect(self.on_take_created)

    def names(self, skip=("progress", "preview", "warning")) -> list[str]:
        return [n for n, _ in self.events if n not in skip]

    def of(self, name: str) -> list:
        return [e for n, e in self.events if n == name]

    def clear(self) -> None:
        self.events.clear()

    @Slot(object)
    def on_planned(self, e): self.events.append(("planned", e))  # noqa: E704

    @Slot(object)
    def on_progress(self, e): self.events.append(("progress", e))  # noqa: E704

    @Slot(object)
    def on_window_done(self, e): self.events.append(("window_done", e))  # noqa: E704

    @Slot(object)
    def on_level_done(self, e): self.events.append(("level_done", e))  # noqa: E704

    @Slot(object)
    def on_alignment_ready(self, e): self.events.append(("alignment_ready", e))  # noqa: E704

    @Slot(str)
    def on_warning(self, e): self.events.append(("warning", e))  # noqa: E704

    @Slot(object)
    def on_preview(self, e): self.events.append(("preview", e))  # noqa: E704

    @Slot(object)
    def on_job_finished(self, e): self.events.append(("job_finished", e))  # noqa: E704

    @Slot(str)
    def on_job_failed(self, e): self.events.append(("job_failed", e))  # noqa: E704

    @Slot(str, str)
    def on_take_created(self, folder, kind): self.events.append(("take_created", (folder, kind)))  # noqa: E704


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
    recorder = Recorder(session.worker)
    assert window.open_project(str(tmp_path / "project"), create=True)
    with qtbot.waitSignal(session.model_ready, timeout=60_000):
        session.load_model(tiny_models)
    yield window, session, recorder
    session.sampler.shutdown()
    session.playback.close()


def type_spec(qtbot, editor, spec: dict) -> None:
    """Fill the song editor the way a user does: typing into the fields."""
    for field, key in ((editor.artist, "artist"), (editor.genre, "genre")):
        field.clear()
        qtbot.keyClicks(field, spec[key])
    editor.lyrics.clear()
    qtbot.keyClicks(editor.lyrics, spec["lyrics"])
    editor.seconds.setValue(spec["seconds"])
    editor.song_seconds.setValue(spec["song_seconds"])
    editor.candidates.setValue(spec["candidates"])
    editor.levels.setCurrentIndex(1 if spec["levels"] == "all" else 0)
    editor.seed.setValue(spec["seed"])
    editor.lock_seed.setChecked(True)
