"""A clean quit is silent and leaves no sampler behind; the queue is saved with the project as it changes and offered
back, with the take the quit stopped, at the next launch; a take the user cancelled is not offered."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.engine.takes import Take
from tests.ui.conftest import TINY_SPEC, Recorder, type_spec


def _saved(project_dir: Path) -> dict:
    return json.loads((project_dir / "project.json").read_text(encoding="utf-8"))


def _open_window(qtbot, settings, folder, tiny_models):
    from studio.state.session import StudioSession
    from studio.ui.main_window import MainWindow

    session = StudioSession(settings, preview_interval=0.2, autosave_ms=3_600_000)
    window = MainWindow(session, settings, modal_errors=False)
    qtbot.addWidget(window)
    window.show()
    assert window.open_project(str(folder))
    session.load_model(tiny_models)  # still loading when the prompt is answered, as at a real launch
    return window, session


def test_quit_during_a_job_is_silent_and_the_next_launch_offers_the_take_and_the_queue(qtbot, studio, settings,
                                                                                        tiny_models):
    window, session, rec = studio
    project_dir = Path(session.project.project.folder)
    assert QTest.qWaitForWindowActive(window)
    type_spec(qtbot, window.editor, dict(TINY_SPEC, seconds=20.0, candidates=1))
    with qtbot.waitSignal(session.window_done, timeout=600_000):
        window.generate()
    quit_take = session.running_take
    type_spec(qtbot, window.editor, dict(TINY_SPEC, candidates=1))
    qtbot.mouseClick(window.editor.generate_button, Qt.LeftButton)  # waits in the queue
    queued = _saved(project_dir)["queue"]  # on disk at once: a crash now would not lose it
    assert [job["kind"] for job in queued] == ["generate"] and queued[0]["recipe"]["spec"]["seconds"] == 0.372
    process = session.sampler.channel.process

    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_Q, Qt.ControlModifier)
    QCoreApplication.sendPostedEvents()  # what the sampler said last, all delivered: none of it may show or start
    QCoreApplication.processEvents()
    assert not window.isVisible() and window.errors == [] and rec.of("error") == []
    assert not process.is_alive() and process.exitcode == 0 and session.sampler.channel is None
    assert not any(w.isVisible() for w in QApplication.topLevelWidgets())  # no dialog keeps the studio alive
    assert Take.load(quit_take).record.status == "cancelled"
    assert _saved(project_dir)["quit_take"] == Path(quit_take).name and _saved(project_dir)["queue"] == queued

    window2, session2 = _open_window(qtbot, settings, project_dir, tiny_models)
    rec2 = Recorder(session2)
    box = window2.prompt_recovery()
    assert box is not None and Path(quit_take).name in box.text() and "Generate: Alan Jackson" in box.text()
    ends, bars = [], []
    bar = window2.progress.job_bar
    session2.job_ended.connect(lambda done: (ends.append(done), bars.append((bar.value(), bar.maximum()))))
    qtbot.mouseClick(box.button(QMessageBox.Yes), Qt.LeftButton)
    qtbot.waitUntil(lambda: len(ends) == 2, timeout=600_000)  # the take, then the job that waited
    assert [e[0] for e in rec2.of("job_started")] == ["resume", "generate"]
    assert ends[0].take_dir == quit_take and all(e.error is None and not e.cancelled for e in ends)
    assert Take.load(quit_take).record.status == "done"
    assert all(value == maximum for value, maximum in bars)  # a finished job reads full, resumed or not
    assert _saved(project_dir)["queue"] == [] and window2.prompt_recovery() is None  # offered once
    session2.shutdown()


def test_a_take_cancelled_on_purpose_is_not_offered_again(qtbot, studio):
    window, session, rec = studio
    type_spec(qtbot, window.editor, dict(TINY_SPEC, seconds=0.743, candidates=1))
    with qtbot.waitSignal(session.window_done, timeout=600_000):
        window.generate()
    with qtbot.waitSignal(session.job_ended, timeout=60_000) as blocker:
        qtbot.mouseClick(window.progress.cancel_button, Qt.LeftButton)
    assert blocker.args[0].cancelled
    assert [t.name for t in session.project.interrupted()] == [Path(blocker.args[0].take_dir).name]  # resumable
    assert window.prompt_recovery() is None  # but not offered: the user stopped it


def test_opening_another_project_offers_what_it_left_unfinished(qtbot, settings, tmp_path):
    from studio.engine.takes import TakeStatus
    from studio.state.session import StudioSession
    from studio.ui.main_window import MainWindow
    from tests.audio.conftest import make_take

    session = StudioSession(settings, autosave_ms=3_600_000)
    window = MainWindow(session, settings, modal_errors=False)
    qtbot.addWidget(window)
    window.show()
    first, second = tmp_path / "first", tmp_path / "second"
    assert window.open_project(str(first), create=True)
    crashed = make_take(session.project.project.takes_dir / "0001-generate", seconds=0.5, candidates=1)
    crashed.set_status(TakeStatus.RUNNING)  # what a crash mid-job leaves
    assert window.open_project(str(second), create=True) and window.recovery_box is None

    def open_recent(folder) -> None:  # File > Open Recent > folder
        [action] = [a for a in window.recent_menu.actions() if Path(a.text()) == folder]
        action.trigger()

    open_recent(first)
    box = window.recovery_box
    assert box is not None and box.isVisible() and "0001-generate (running)" in box.text()
    assert session.project.current == str(crashed.path)
    open_recent(second)  # nothing unfinished there; the question about the first project is gone with it
    assert window.recovery_box is None and not box.isVisible()
    session.shutdown()
