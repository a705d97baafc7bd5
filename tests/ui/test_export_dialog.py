"""Exports a DAW wants, from the real window: the dialog shows where the file goes (the project's exports folder, then
the folder chosen last), writes the rate, depth and loudness chosen and says the file's path; the recipe names the
candidate as the screen showed it; a take dragged out of the tree is a rendered WAV; an export dropped back in offers
its recipe."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication

from studio.audio.export import read_recipe
from studio.audio.mastering import integrated_loudness
from studio.state.export_settings import SETTINGS_FILE
from studio.ui.export_dialog import ExportDialog
from studio.ui.export_flow import export_current
from tests.audio.conftest import make_take


@pytest.fixture
def with_take(qtbot, tmp_path, settings):
    """(window, session, take): the real window on a project whose one take (2 candidates, 2 s) the engine wrote."""
    from studio.state.session import StudioSession
    from studio.ui.main_window import MainWindow

    session = StudioSession(settings, autosave_ms=3_600_000)
    window = MainWindow(session, settings, modal_errors=False)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    project = tmp_path / "project"
    assert window.open_project(str(project), create=True)
    take = make_take(project / "takes" / "0001-generate")
    session.project.reload_takes(select=str(take.path))
    assert session.take is not None and session.take.summary.path == str(take.path)
    yield window, session, take
    session.sampler.shutdown()
    session.playback.close()


def _open_dialog(qtbot, window) -> ExportDialog:
    window.actions_by_name["export"].trigger()
    dialogs = [d for d in window.findChildren(ExportDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].activateWindow()  # as the window manager does: the window's own Return (Continue) is not the dialog's
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialogs[0], timeout=600_000)
    return dialogs[0]


def _retype(qtbot, edit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key_Delete)
    qtbot.keyClicks(edit, text)


def _accept(qtbot, dlg) -> None:
    with qtbot.waitSignal(dlg.accepted, timeout=600_000):
        qtbot.keyClick(dlg.name, Qt.Key_Return)


def test_export_goes_where_the_dialog_says_and_the_folder_is_remembered(qtbot, with_take, tmp_path):
    window, session, take = with_take
    project = tmp_path / "project"
    dlg = _open_dialog(qtbot, window)
    assert dlg.folder.text() == str(project / "exports")  # the project's own folder, not the home folder
    assert dlg.destination.text() == (f"Saves to: {project / 'exports' / '0001-generate-c1.wav'} and "
                                      f"0001-generate-c1.lrc")
    qtbot.keyClick(dlg.candidate, Qt.Key_Up)  # candidate 2, as the spin box shows it
    qtbot.keyClick(dlg.format_combo, Qt.Key_Down)  # FLAC
    qtbot.keyClick(dlg.rate_combo, Qt.Key_Down)  # 44.1 kHz (as generated) -> 48 kHz
    assert [dlg.depth_combo.itemText(i) for i in range(dlg.depth_combo.count())] == ["16-bit", "24-bit"]
    assert dlg.depth_combo.currentText() == "24-bit" and dlg.lufs.value() == -14.0
    _retype(qtbot, dlg.name, "my mix")
    target = project / "exports" / "my mix.flac"
    assert dlg.destination.text() == f"Saves to: {target} and my mix.lrc"
    _accept(qtbot, dlg)
    assert window.statusBar().currentMessage() == (f"Exported {target} (recipe in my mix.flac.json, lyrics in "
                                                   f"my mix.lrc).")
    data, sr = sf.read(target, dtype="float64")
    assert (sr, sf.info(target).subtype, len(data)) == (48000, "PCM_24", 96000)
    assert abs(integrated_loudness(data, sr) + 14.0) < 0.5
    recipe = read_recipe(target)
    assert recipe["candidate"] == 2 and recipe["export"]["sample_rate"] == 48000
    lrc = (project / "exports" / "my mix.lrc").read_text().splitlines()
    assert [row[10:] for row in lrc if row.startswith("[00:")] == ["Ride the long road home", "sing it loud tonight",
                                                                   "and the last line"]

    elsewhere = tmp_path / "bounces"
    elsewhere.mkdir()
    dlg = _open_dialog(qtbot, window)
    assert dlg.folder.text() == str(project / "exports") and dlg.format_combo.currentData() == "flac"
    assert dlg.rate_combo.currentData() == 48000  # remembered for this project
    _retype(qtbot, dlg.folder, str(elsewhere))
    _accept(qtbot, dlg)
    assert (elsewhere / "0001-generate-c1.flac").is_file()
    assert (project / SETTINGS_FILE).is_file()
    dlg = _open_dialog(qtbot, window)
    assert dlg.folder.text() == str(elsewhere)
    assert dlg.destination.text() == f"Saves to: {elsewhere / '0001-generate-c1.flac'} and 0001-generate-c1.lrc"
    dlg.reject()


def test_recipe_names_the_candidate_the_screen_showed(qtbot, with_take, tmp_path):
    window, session, take = with_take
    qtbot.mouseClick(window.takes.cand_group.button(1), Qt.LeftButton)  # the button labelled "2"
    assert window.takes.cand_group.button(1).text() == "2" and session.candidate == 1
    out = tmp_path / "second.flac"
    assert export_current(window, session.candidate, None, str(out), "flac") is not None
    recipe = read_recipe(out)
    assert recipe["candidate"] == 2 and recipe["recipe_version"] == 2
    dlg = _open_dialog(qtbot, window)
    assert dlg.candidate.value() == 2 and dlg.name.text() == "0001-generate-c2"
    dlg.reject()


def test_dragging_a_take_out_hands_over_a_rendered_wav(qtbot, with_take, tmp_path):
    window, session, take = with_take
    (tmp_path / "project" / SETTINGS_FILE).write_text('{"options": {"sample_rate": 48000, "bit_depth": 24}}')
    tree = window.takes.tree
    assert tree.dragEnabled() and tree.dragDropMode() == QAbstractItemView.DragOnly
    qtbot.mouseClick(window.takes.cand_group.button(1), Qt.LeftButton)
    mime = tree.mimeData([window.takes.item_for(str(take.path))])
    files = [u.toLocalFile() for u in mime.urls()]
    assert files == [str(tmp_path / "project" / ".cache" / "drag" / "0001-generate-c2.wav")]
    with sf.SoundFile(files[0]) as f:
        assert (f.samplerate, f.subtype, f.frames) == (48000, "PCM_24", 96000)
    assert read_recipe(files[0])["candidate"] == 2


def _drop(widget, path) -> tuple[bool, bool]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    if enter.isAccepted():
        QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_dropping_an_export_back_in_offers_its_settings_or_a_continuation(qtbot, with_take, tmp_path):
    window, session, take = with_take
    out = tmp_path / "song.wav"
    assert export_current(window, 1, None, str(out), "wav") is not None
    browser = window.takes
    assert _drop(browser, out) == (True, True)
    box = browser.drop_prompt
    assert box is not None and box.isVisible()
    assert box.text() == f"song.wav was made by Jukebox Studio: Alan Jackson, Country, seed 11, candidate 2 of take " \
                         f"{take.record.id}."
    use = next(b for b in box.buttons() if b.text() == "Use these settings")
    with qtbot.waitSignal(browser.recipe_dropped, timeout=600_000) as blocker:
        qtbot.mouseClick(use, Qt.LeftButton)
    assert blocker.args[0] == take.record.spec
    editor = window.editor  # the window hands the recipe to the song editor
    assert (editor.artist.text(), editor.genre.text(), editor.seed.value()) == ("Alan Jackson", "Country", 11)
    assert editor.prime.path is None  # the recipe had no priming clip
    assert _drop(browser, out) == (True, True)
    cont = next(b for b in browser.drop_prompt.buttons() if b.text() == "Continue from it")
    with qtbot.waitSignal(browser.recipe_dropped, timeout=600_000) as blocker:
        qtbot.mouseClick(cont, Qt.LeftButton)
    assert blocker.args[0]["prime"] == {"file": str(out), "start": 0.0, "end": None}
    assert blocker.args[0]["seconds"] == 4.0 and blocker.args[0]["artist"] == "Alan Jackson"
    plain = tmp_path / "plain.wav"
    sf.write(plain, np.zeros(4410, dtype=np.float32), 44100)
    assert _drop(browser, plain) == (True, True)  # no recipe: the browser passes it on to the window ...
    assert browser.drop_prompt is None and window.editor.prime.path == str(plain)  # ... which primes with it
