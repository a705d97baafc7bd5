"""Take > Regenerate From Playhead and Take > Join With... in the real window on the tiny model: the new take is
sampled, appears in the tree under its (first) parent with its label, the waveform marks the seam, Undo removes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from studio.engine.takes import Take
from studio.ui.join_dialog import JoinDialog
from tests.ui.conftest import TINY_SPEC, back_to_window
from tests.ui.test_generate_flow import _generate

HOP, SR = 128, 44100


def _run_edit(qtbot, session, rec, trigger) -> Path:
    """Trigger an edit and wait for its job; the new take's folder."""
    with qtbot.waitSignals([session.job_started, session.job_ended], order="strict", timeout=600_000):
        trigger()
    done = rec.of("job_ended")[-1]
    assert done.error is None and not done.cancelled
    return Path(done.take_dir)


def _undo_removes(qtbot, window, session, take_dir: Path) -> None:
    back_to_window(qtbot, window.takes.tree)  # after a dialog, offscreen
    qtbot.keyClick(window.takes.tree, Qt.Key_Z, Qt.ControlModifier)
    assert not take_dir.exists() and window.takes.item_for(str(take_dir)) is None
    assert str(take_dir) not in [t.path for t in session.project.takes]


def test_regenerate_from_the_playhead_by_its_shortcut_then_undo(qtbot, studio):
    window, session, rec = studio
    parent_dir = _generate(qtbot, window, session)
    session.pick_candidate(1)
    window.takes.tree.setFocus()
    session.playback.seek(0.0)
    qtbot.keyClick(window.takes.tree, Qt.Key_R, Qt.ControlModifier | Qt.ShiftModifier)
    assert rec.of("error")[-1].startswith("Regenerate from a time inside take") and not session.busy
    window.findChild(QMessageBox).close()  # the user reads the message and closes it
    back_to_window(qtbot, window.takes.tree)

    session.playback.seek(0.2)
    take_dir = _run_edit(qtbot, session, rec, lambda: qtbot.keyClick(window.takes.tree, Qt.Key_R,
                                                                Qt.ControlModifier | Qt.ShiftModifier))
    at_tok = int(0.2 * SR) // HOP
    take, parent = Take.load(take_dir), Take.load(parent_dir)
    assert take.plan.kind == "regenerate" and take.record.status == "done"
    codes = take.codes(2)
    assert codes.shape == (2, 128) and codes.min() >= 0
    assert (codes[:, :at_tok] == parent.codes(2)[1, :at_tok]).all()  # the chosen candidate, kept to the playhead
    assert (codes[:, at_tok:] != parent.codes(2)[1, at_tok:]).mean() > 0.5
    item = window.takes.item_for(str(take_dir))
    assert item.parent() is window.takes.item_for(str(parent_dir))
    assert item.text(0).startswith(f"{take_dir.name} · new from 0:00.2")
    assert session.project.current == str(take_dir)
    assert window.waveform.marker() == (pytest.approx(at_tok * HOP / SR), "regenerated from here")
    _undo_removes(qtbot, window, session, take_dir)


def test_join_with_a_second_take_through_the_dialog_then_undo(qtbot, studio):
    window, session, rec = studio
    first = _generate(qtbot, window, session)
    second = _generate(qtbot, window, session, dict(TINY_SPEC, seed=12))
    session.project.select(str(first))
    session.playback.seek(0.2)
    back_to_window(qtbot, window.editor.artist)  # Ctrl+J opens its dialog even while typing: it starts no job
    window.editor.artist.setFocus()
    qtbot.keyClick(window.editor.artist, Qt.Key_J, Qt.ControlModifier)
    dialog = window.findChild(JoinDialog)
    assert dialog.isVisible() and dialog.at.value() == pytest.approx(0.2)
    dialog.other.setFocus()
    while dialog.other.currentData() != str(second):
        qtbot.keyClick(dialog.other, Qt.Key_Down)
    dialog.candidate.selectAll()
    qtbot.keyClicks(dialog.candidate, "2")
    dialog.other_at.selectAll()
    qtbot.keyClicks(dialog.other_at, "0.1")
    assert dialog.choice() == (str(second), 1, pytest.approx(0.2), pytest.approx(0.1))
    take_dir = _run_edit(qtbot, session, rec, lambda: qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.Ok),
                                                                  Qt.LeftButton))
    take = Take.load(take_dir)
    at_tok, from_tok = int(0.2 * SR) // HOP, int(0.1 * SR) // HOP
    chosen = session.project.summary(str(first)).chosen or 0
    expected = np.concatenate([Take.load(first).codes(2)[chosen, :at_tok], Take.load(second).codes(2)[1, from_tok:]])
    assert (take.codes(2)[0] == expected).all()
    assert take.record.status == "done" and take.record.levels_done == [2, 1, 0]
    assert take.record.joined["path"] == str(second) and take.record.joined["candidate"] == 1
    item = window.takes.item_for(str(take_dir))
    assert item.parent() is window.takes.item_for(str(first))  # under its first parent
    assert f"joined with {second.name} at 0:00.2" in item.text(0)
    assert session.project.current == str(take_dir)
    assert window.waveform.marker() == (pytest.approx(at_tok * HOP / SR), f"seam: {second.name} from 0:00.1")
    assert window.waveform.duration == pytest.approx((at_tok + 128 - from_tok) * HOP / SR)
    assert rec.of("error") == []
    _undo_removes(qtbot, window, session, take_dir)
