"""Keys that start or stop work do so only where they mean it: Enter and Esc typed into every text field and every
completion list of the real window, with a take selected and a job running, neither start a job nor stop one; Esc in
the job area cancels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.conftest import JOB_MS
from tests.ui.conftest import TINY_SPEC, back_to_window, type_spec

WORK_KEYS = ((Qt.Key_Return, Qt.NoModifier), (Qt.Key_Enter, Qt.KeypadModifier), (Qt.Key_Escape, Qt.NoModifier),
             (Qt.Key_Return, Qt.ControlModifier))


def _text_fields(window) -> list:
    ed = window.editor
    return [ed.artist, ed.genre, ed.lyrics, ed.seconds, ed.song_seconds, ed.candidates, ed.seed, *ed.temps.values(),
            window.takes.continue_seconds]


def _popup_of(qtbot, field, typed: str):
    """Type ``typed`` into ``field`` and return its completion list, open."""
    back_to_window(qtbot, field)
    field.setFocus()
    field.clear()
    qtbot.keyClicks(field, typed)
    popup = field.completer().popup()
    qtbot.waitUntil(popup.isVisible, timeout=600_000)
    assert QApplication.activePopupWidget() is popup
    return popup


def render_one_take(qtbot, window, session) -> str:
    """Generate one short take from the editor, as a user would, and return its folder once it is done."""
    assert QTest.qWaitForWindowActive(window)
    type_spec(qtbot, window.editor, dict(TINY_SPEC, candidates=1))
    with qtbot.waitSignal(session.job_ended, timeout=JOB_MS) as done:
        window.generate()
    return done.args[0].take_dir


def test_enter_and_esc_in_text_fields_and_completion_lists_start_and_stop_nothing(qtbot, studio):
    window, session, rec = studio
    finished_take = render_one_take(qtbot, window, session)
    type_spec(qtbot, window.editor, dict(TINY_SPEC, seconds=20.0, candidates=1))  # long enough to outlast the keys
    with qtbot.waitSignal(session.job_planned, timeout=JOB_MS):
        window.generate()
    session.project.select(finished_take)  # Continue would have a parent: Enter there made a new take
    rec.clear()

    for field in _text_fields(window):
        for key, modifier in WORK_KEYS:
            field.setFocus()
            assert QApplication.focusWidget() is field
            qtbot.keyClick(field, key, modifier)
    popup = _popup_of(qtbot, window.editor.artist, "Ala")
    qtbot.keyClick(popup, Qt.Key_Down)
    chosen = popup.currentIndex().data()
    qtbot.keyClick(popup, Qt.Key_Return)  # chooses the completion
    assert chosen.lower().startswith("ala") and window.editor.artist.text() == chosen and not popup.isVisible()
    popup = _popup_of(qtbot, window.editor.genre, "Coun")
    qtbot.keyClick(popup, Qt.Key_Escape)  # closes the list
    assert not popup.isVisible() and window.editor.genre.text() == "Coun"
    popup = _popup_of(qtbot, window.editor.artist, "Ala")
    qtbot.keyClick(popup, Qt.Key_Enter, Qt.KeypadModifier)
    assert not popup.isVisible()
    back_to_window(qtbot, window)
    window.waveform.setFocus()  # outside the job area Esc is not Cancel either
    assert QApplication.focusWidget() is window.waveform
    qtbot.keyClick(window.waveform, Qt.Key_Escape)

    assert session.busy and not session.sampler.cancel_event.is_set()  # the running job was not stopped
    assert rec.names() == [] and len(session.queue) == 0  # and nothing was started or queued
    assert window.errors == [] and session.project.current == finished_take

    window.progress.cancel_button.setFocus()  # in the job area Esc cancels
    assert QApplication.focusWidget() is window.progress.cancel_button
    # Esc stops the job (it ends cancelled, not finished); no limit on how soon, beyond the suite's generous one:
    # on a machine busy with other work the sampler process can be a minute from its next check
    with qtbot.waitSignal(session.job_ended, timeout=JOB_MS) as blocker:
        qtbot.keyClick(window.progress.cancel_button, Qt.Key_Escape)
    assert blocker.args[0].cancelled


def test_enter_in_the_takes_browser_continues_the_chosen_take(qtbot, studio):
    window, session, rec = studio
    parent = render_one_take(qtbot, window, session)
    window.takes.continue_seconds.setValue(0.743)
    window.takes.tree.setFocus()
    with qtbot.waitSignal(session.job_ended, timeout=JOB_MS) as blocker:
        qtbot.keyClick(window.takes.tree, Qt.Key_Return)
    assert rec.of("job_started")[-1][0] == "continue" and blocker.args[0].error is None
    assert blocker.args[0].take_dir != parent


def test_space_presses_the_focused_button_and_plays_anywhere_else(qtbot, settings):
    from studio.state.session import StudioSession
    from studio.ui.main_window import MainWindow

    session = StudioSession(settings, autosave_ms=3_600_000)
    window = MainWindow(session, settings, modal_errors=False)
    qtbot.addWidget(window)
    window.show()
    assert QTest.qWaitForWindowActive(window)
    played = []
    window.actions_by_name["play"].triggered.connect(lambda: played.append(QApplication.focusWidget()))
    editor = window.editor
    for button, was in ((editor.details_button, editor.details_button.isChecked()),
                        (editor.lock_seed, editor.lock_seed.isChecked())):
        button.setFocus()
        assert QApplication.focusWidget() is button
        qtbot.keyClick(button, Qt.Key_Space)
        assert button.isChecked() != was  # Space pressed the button
    assert editor.details.isVisibleTo(window) == editor.details_button.isChecked()
    assert played == []  # and did not play
    window.waveform.setFocus()
    qtbot.keyClick(window.waveform, Qt.Key_Space)
    assert played == [window.waveform]  # outside buttons and text fields Space is Play / Pause
    session.shutdown()
