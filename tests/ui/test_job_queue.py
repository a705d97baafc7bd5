"""Jobs asked for while one runs wait in a queue, start one after another, and a notification says when all ended."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from studio.engine.takes import Take
from tests.conftest import JOB_MS
from tests.ui.conftest import TINY_SPEC, type_spec


def test_generate_while_busy_queues_runs_in_order_and_notifies(qtbot, studio):
    window, session, rec = studio
    type_spec(qtbot, window.editor, dict(TINY_SPEC, seconds=0.743, candidates=1))
    finished = []
    session.queue_finished.connect(finished.append)
    with qtbot.waitSignal(session.job_planned, timeout=JOB_MS):
        qtbot.mouseClick(window.editor.generate_button, Qt.LeftButton)
    assert session.busy and window.editor.generate_button.text() == "Add to Queue"
    assert window.editor.generate_button.isEnabled()
    qtbot.mouseClick(window.editor.generate_button, Qt.LeftButton)  # queued: 2 waiting
    qtbot.mouseClick(window.editor.generate_button, Qt.LeftButton)
    assert window.queue.list.count() == 2 and window.queue.isVisibleTo(window)
    assert window.queue.list.item(0).text().startswith("1. Generate: Alan Jackson")
    window.queue.list.setCurrentRow(1)
    qtbot.mouseClick(window.queue.remove_button, Qt.LeftButton)  # the user changes their mind about the third
    assert window.queue.list.count() == 1

    qtbot.waitUntil(lambda: bool(finished), timeout=JOB_MS)
    ends = rec.of("job_ended")
    assert len(ends) == 2 and all(e.error is None and not e.cancelled for e in ends)
    first, second = (Path(e.take_dir) for e in ends)
    assert first != second and first.parent == second.parent
    for folder in (first, second):
        assert Take.load(folder).record.status == "done"
    assert len(list(first.parent.iterdir())) == 2  # the removed job never made a take
    assert first.name in finished[0] and second.name in finished[0] and "done" in finished[0]
    assert window.notifier.shown[-1] == finished[0]
    assert not window.queue.isVisibleTo(window) and window.editor.generate_button.text() == "Generate"
    # the editor locks the seed here, so both queued takes used the same one
    assert Take.load(first).record.spec["seed"] == Take.load(second).record.spec["seed"]


def _run_one_and_queue(qtbot, window, session, seconds: float, queued: int) -> None:
    """Start one single-candidate take and queue ``queued`` more behind it."""
    type_spec(qtbot, window.editor, dict(TINY_SPEC, seconds=seconds, candidates=1))
    with qtbot.waitSignal(session.job_planned, timeout=JOB_MS):
        window.generate()
    for _ in range(queued):
        window.generate()


def test_cancel_then_clear_queue_stops_everything(qtbot, studio):
    window, session, rec = studio
    _run_one_and_queue(qtbot, window, session, seconds=0.743, queued=1)
    assert len(session.queue) == 1
    qtbot.mouseClick(window.queue.clear_button, Qt.LeftButton)
    assert len(session.queue) == 0 and window.queue.list.count() == 0
    window.generate()
    said = []
    session.message.connect(said.append)
    session.cancel()  # Esc stops the running job only, and says what still waits
    assert "1 queued job will still run" in said[-1]
    session.clear_queue()  # before the running job's end reaches the window: nothing starts after it
    # the run's end: the session has just decided, with the queue empty, that nothing else starts
    with qtbot.waitSignal(session.queue_finished, timeout=JOB_MS) as blocker:
        pass
    ends = rec.of("job_ended")
    assert not session.busy and len(ends) == 1 and ends[0].error is None  # the cleared jobs never ran
    assert rec.names().count("job_started") == 1 and Path(ends[0].take_dir).name in blocker.args[0]


def test_a_queued_job_that_cannot_start_is_reported_and_the_queue_goes_on(qtbot, studio):
    window, session, rec = studio
    _run_one_and_queue(qtbot, window, session, seconds=0.372, queued=2)
    project = session.project.project
    real = project.new_take_folder
    calls = []

    def disk_full_once(kind):
        calls.append(kind)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real(kind)

    finished = []
    session.queue_finished.connect(finished.append)
    project.new_take_folder = disk_full_once
    qtbot.waitUntil(lambda: bool(finished), timeout=JOB_MS)
    assert any("Could not start the queued job" in e and "No space left" in e for e in window.errors)
    assert "generate could not start" in finished[0]
    ends = rec.of("job_ended")
    assert len(ends) == 2 and all(e.error is None for e in ends)  # the first job and the third one


def test_a_job_that_cannot_start_leaves_the_progress_panel_idle_and_says_why_in_seconds(qtbot, studio, tmp_path):
    """A priming clip as long as the song: the sampler refuses it before making a take. The panel said
    "Generate 0005-generate 0%, left measuring..." with Cancel lit after that, and the message quoted a dict."""
    import numpy as np
    import soundfile as sf

    window, session, rec = studio
    clip = tmp_path / "my track.wav"
    sf.write(clip, 0.1 * np.sin(np.linspace(0, 2000, 2 * 16000)), 16000)  # 2 s
    type_spec(qtbot, window.editor, dict(TINY_SPEC, candidates=1))  # a 0.372 s song
    assert window.editor.prime.set_file(str(clip))  # the whole file: 0 s to its end
    takes = session.project.project.takes_dir
    before = sorted(takes.iterdir()) if takes.exists() else []
    with qtbot.waitSignal(session.job_not_started, timeout=JOB_MS):
        qtbot.mouseClick(window.editor.generate_button, Qt.LeftButton)
    assert window.progress.title.text() == "Generate could not start" and window.progress.time_label.text() == ""
    assert not window.progress.cancel_button.isEnabled() and not session.busy
    assert (sorted(takes.iterdir()) if takes.exists() else []) == before  # nothing made
    message = window.errors[-1]
    assert "must be a clip shorter than the song: 0.00 s to the file's end (2.00 s) is 2.00 s" in message
    assert "the song 0.37 s" in message and "{" not in message and "priming clip's 'to'" in message


def test_the_candidate_buttons_are_shown_once_when_the_panel_is_rebuilt(qtbot, studio):
    """The takes panel rebuilds its candidate buttons when a job starts; the old ones, left to a deferred delete,
    stayed on screen beside the new ones ("1 1") while a message box was open."""
    from PySide6.QtWidgets import QApplication, QPushButton

    window, session, rec = studio
    type_spec(qtbot, window.editor, dict(TINY_SPEC, candidates=2))
    with qtbot.waitSignal(session.job_ended, timeout=JOB_MS):
        qtbot.mouseClick(window.editor.generate_button, Qt.LeftButton)
    for _ in range(2):
        window.takes.update_panel()
        QApplication.processEvents()  # shows the new buttons; a deferred delete waits for the outer loop
        shown = [b.text() for b in window.takes.findChildren(QPushButton) if b.isVisibleTo(window)
                 and b.text().isdigit()]
        assert shown == ["1", "2"]
