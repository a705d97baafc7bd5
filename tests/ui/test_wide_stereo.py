"""Take > Make Wide Stereo Version from the real window on the tiny model: the new take's two sides share the chosen
candidate's top level, the export dialog says Stereo, and the exported file has the two sides as left and right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.engine.takes import Take
from studio.ui.export_dialog import ExportDialog
from tests.audio.conftest import make_take
from tests.conftest import JOB_MS
from tests.ui.conftest import TINY_SPEC, type_spec


def _open_export_dialog(qtbot, window) -> ExportDialog:
    window.actions_by_name["export"].trigger()
    dialogs = [d for d in window.findChildren(ExportDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialogs[0], timeout=600_000)
    return dialogs[0]


def test_make_wide_stereo_version_from_the_take_menu(qtbot, studio, tmp_path):
    window, session, rec = studio
    type_spec(qtbot, window.editor, TINY_SPEC)
    with qtbot.waitSignal(session.job_ended, timeout=JOB_MS):
        qtbot.mouseClick(window.editor.generate_button, Qt.LeftButton)
    parent = Path(session.project.current)
    window.activateWindow()
    window.waveform.setFocus()
    qtbot.keyClick(window.waveform, Qt.Key_2)  # audition and choose candidate 2
    assert session.candidate == 1

    wide = window.actions_by_name["wide"]
    assert wide in window.takes.tree.actions()  # offered in the takes browser's context menu as well
    rec.clear()
    with qtbot.waitSignals([session.job_started, session.job_planned, session.job_ended], order="strict",
                           timeout=JOB_MS):
        wide.trigger()
    made = Take.load(session.project.current)
    assert rec.of("job_started") == [("wide", str(made.path))] and not session.busy
    assert made.path.parent == parent.parent and made.record.status == "done" and made.plan.kind == "wide"
    assert made.record.parent == Take.load(parent).record.id
    assert window.takes.item_for(str(made.path)).parent() is window.takes.item_for(str(parent))
    top = made.codes(2)
    assert (top == Take.load(parent).codes(2)[1]).all()  # both sides: the chosen candidate's top level
    low = made.codes(0)
    assert (low >= 0).all() and (low[0] != low[1]).mean() > 0.5
    assert session.take.summary.kind == "wide" and session.take.best_level == 0
    assert window.waveform.channels == 2  # drawn as it plays: left and right lanes
    left, right = (session.take.candidate_audio(row) for row in (0, 1))
    assert np.array_equal(window.waveform.audio, np.stack([left, right]))

    dlg = _open_export_dialog(qtbot, window)
    assert dlg.channels.text() == "Stereo (wide: two upsamplings)" and not dlg.candidate.isEnabled()
    with qtbot.waitSignal(dlg.accepted, timeout=JOB_MS):
        qtbot.keyClick(dlg.name, Qt.Key_Return)
    out = Path(dlg.path())
    data, sr = sf.read(out, dtype="float32")
    assert data.shape == (16384, 2) and sr == 44100  # the take's rate, as the dialog offered
    assert not np.allclose(data[:, 0], data[:, 1])


def test_a_take_without_a_finished_top_level_is_refused_with_the_fix(qtbot, studio):
    window, session, _ = studio
    take = make_take(Path(session.project.project.folder) / "takes" / "0001-generate")  # audio only, no codes
    session.project.reload_takes(select=str(take.path))
    window.actions_by_name["wide"].trigger()
    assert window.errors[-1] == ("Candidate 1 of take 0001-generate has no finished top level yet: resume the take, "
                                 "then make the wide version.")
    assert not session.busy and not (take.path.parent / "0002-wide").exists()
    dlg = _open_export_dialog(qtbot, window)
    assert dlg.channels.text() == "Mono" and dlg.candidate.isEnabled()
    dlg.reject()
