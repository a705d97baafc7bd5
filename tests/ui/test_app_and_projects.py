"""Projects (save, load, autosave, recent), window state, the excepthook, model errors, export errors, the
screenshot command, and the layering rule (widgets never import torch or the engine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from studio.state.project import Project, ProjectError
from studio.state.session import StudioSession
from studio.ui.error_dialog import ErrorReporter
from studio.ui.export_flow import export_current
from studio.ui.main_window import MainWindow
from tests.ui.conftest import TINY_SPEC, type_spec

REPO = Path(__file__).resolve().parents[2]


def _window(qtbot, settings):
    session = StudioSession(settings, autosave_ms=50)
    window = MainWindow(session, settings, modal_errors=False)
    qtbot.addWidget(window)
    return window, session


def test_project_save_load_autosave_recent_and_window_state(qtbot, settings, tmp_path):
    window, session = _window(qtbot, settings)
    folder = tmp_path / "song"
    assert window.open_project(str(folder), create=True)
    assert (folder / "takes").is_dir() and (folder / "project.json").is_file()
    window.editor.artist.setText("Alan Jackson")
    window.editor.lyrics.setPlainText("la la la")
    with qtbot.waitSignal(session.project.saved, timeout=600_000):  # autosave, no click needed
        pass
    data = json.loads((folder / "project.json").read_text())
    assert data["spec"]["artist"] == "Alan Jackson" and data["spec"]["lyrics"] == "la la la"
    assert session.project.recent() == [str(folder)]
    assert [a.text() for a in window.recent_menu.actions()] == [str(folder)]
    window.show()
    window.docks[1].hide()  # the user closed the takes panel
    window.close()
    assert settings.value("window/geometry") is not None

    window2, session2 = _window(qtbot, settings)
    assert window2.open_project(str(folder))
    assert window2.editor.artist.text() == "Alan Jackson" and window2.editor.lyrics.toPlainText() == "la la la"
    assert window2.docks[1].isHidden() and not window2.docks[0].isHidden()  # window state restored
    window2.close()


def test_bad_project_folder_gives_one_message_and_keeps_the_current_one(qtbot, settings, tmp_path):
    window, session = _window(qtbot, settings)
    good = tmp_path / "good"
    window.open_project(str(good), create=True)
    (tmp_path / "plain").mkdir()
    assert not window.open_project(str(tmp_path / "plain"))
    assert window.errors[-1].startswith(f"'{tmp_path / 'plain'}' is not a project")
    assert session.project.project.folder == good
    (good / "project.json").write_text("{broken")
    with pytest.raises(ProjectError, match="damaged"):
        Project.open(good)
    window.close()


def test_missing_model_says_what_to_do(qtbot, settings, tmp_path):
    from studio.engine.checkpoints import CheckpointError
    from studio.workers.sampler_process import model_message

    window, session = _window(qtbot, settings)
    window.open_project(str(tmp_path / "p"), create=True)
    empty = tmp_path / "empty-model"
    empty.mkdir()
    with qtbot.waitSignal(session.model_failed, timeout=600_000) as blocker:
        session.load_model(str(empty))
    assert blocker.args[0].startswith(f"Could not load the model '{empty}'") and "lacks vqvae" in blocker.args[0]
    assert "lacks vqvae" in window.editor.model_status.text()
    assert not window.editor.generate_button.isEnabled()
    window.generate()  # no model: one message, nothing starts
    assert "No model is loaded" in window.errors[-1] and not session.busy
    demo = model_message("demo", CheckpointError("model 'demo' not found (looked in models/demo)."))
    assert "demo model is not installed" in demo and "Choose a model folder" in demo
    window.close()


def test_export_without_a_take_or_to_a_missing_folder(qtbot, studio, tmp_path):
    window, session, _ = studio
    assert export_current(window, 0, None, str(tmp_path / "x.wav"), "wav") is None
    assert "Select a take" in window.errors[-1]
    type_spec(qtbot, window.editor, dict(TINY_SPEC, candidates=1))
    with qtbot.waitSignal(session.job_ended, timeout=600_000):
        window.generate()
    assert session.take is not None and session.take.audio  # a take to export, with audio
    target = tmp_path / "gone" / "song.wav"
    assert export_current(window, 0, None, str(target), "wav") is None
    assert window.errors[-1] == (f"The folder '{target.parent}' does not exist; choose an existing folder or create "
                                 f"it first.")
    assert not target.parent.exists()


def test_excepthook_shows_the_error_in_a_dialog(qtbot):
    reporter = ErrorReporter(modal=False)
    reporter.install()
    try:
        with qtbot.waitSignal(reporter.shown, timeout=600_000) as blocker:
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                sys.excepthook(*sys.exc_info())
    finally:
        reporter.uninstall()
    assert blocker.args == ["RuntimeError: boom"] and reporter.messages == ["RuntimeError: boom"]


def test_screenshot_command_writes_a_png(tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "main.py", "--screenshot", str(out), "--project", str(tmp_path / "p"),
                           "--state", "empty", "--size", "1500x900"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1500, 900)
    assert (tmp_path / "p" / "project.json").is_file()

