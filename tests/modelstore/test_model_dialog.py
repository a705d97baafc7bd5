"""The model dialog offscreen: a download from a loopback server, then a cancelled one."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt, QTimer  # noqa: E402

from studio.modelstore.hardware import DeviceMemory  # noqa: E402
from studio.ui.model_dialog import ModelDialog  # noqa: E402
from tests.modelstore.conftest import official_tree  # noqa: E402

GPU = DeviceMemory("cuda:0", "Test GPU 16GB", 16_900_000_000, 16_900_000_000)


def test_dialog_downloads_with_progress_then_lists_the_model(qtbot, serve, models_dir, fake_ids):
    server = serve(official_tree("1b_lyrics"))
    dlg = ModelDialog(models_dir=models_dir, mirror=server.url, memory=GPU)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: "Test GPU 16GB" in dlg.hardware_text.toPlainText(), timeout=600_000)
    dlg.model_combo.setCurrentText("1b_lyrics")
    qtbot.waitUntil(lambda: "1b_lyrics on Test GPU" in dlg.hardware_text.toPlainText(), timeout=600_000)
    assert "level 2 top level (0.94 B params): fp16, up to 16 at once" in dlg.hardware_text.toPlainText()
    assert dlg.status_of("1b_lyrics") is None
    assert not dlg.download_button.isEnabled()  # the licence first
    dlg.licence_check.setChecked(True)
    assert dlg.download_button.isEnabled()
    with qtbot.waitSignal(dlg.download_finished, timeout=600_000) as blocker:
        qtbot.mouseClick(dlg.download_button, Qt.LeftButton)
    assert blocker.args[0].startswith("1b_lyrics: complete in ")
    assert dlg.status_of("1b_lyrics") == "complete"
    assert dlg.progress_bar.value() == 100
    qtbot.waitUntil(lambda: dlg.download_button.isEnabled() and not dlg.cancel_button.isEnabled(), timeout=600_000)

    dlg.table.selectRow(0)
    (models_dir / "1b_lyrics" / "5b" / "vqvae.pth.tar").write_bytes(b"broken")
    qtbot.mouseClick(dlg.verify_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "corrupt" in dlg.status_label.text(), timeout=600_000)
    assert dlg.status_of("1b_lyrics") == "corrupt"


def test_dialog_cancel_keeps_the_partial_file(qtbot, serve, models_dir, fake_ids):
    server = serve(official_tree("5b"), delay=0.02)  # about 3 MB/s: slow enough to cancel
    dlg = ModelDialog(models_dir=models_dir, mirror=server.url, memory=GPU)
    qtbot.addWidget(dlg)
    dlg.model_combo.setCurrentText("5b")
    dlg.licence_check.setChecked(True)
    qtbot.mouseClick(dlg.download_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dlg.progress_bar.value() > 0, timeout=600_000)
    with qtbot.waitSignal(dlg.job_failed, timeout=600_000) as blocker:
        qtbot.mouseClick(dlg.cancel_button, Qt.LeftButton)
    assert "cancelled" in blocker.args[0]
    assert list((models_dir / "5b").rglob("*.part"))
    assert dlg.status_of("5b") == "missing"
    qtbot.waitUntil(lambda: dlg.download_button.isEnabled(), timeout=600_000)
    dlg.close()
    assert dlg._jobs == {} or all(t.isFinished() for t, _ in dlg._jobs.values())


def test_a_model_chosen_while_the_hardware_check_ends_is_checked_too(qtbot, models_dir):
    """The choice changes just as a check reports, before its thread has ended: the new choice is checked next (the
    dialog used to drop it and keep showing the old model's figures; the first test timed out on it under load)."""
    dlg = ModelDialog(models_dir=models_dir, memory=GPU)
    qtbot.addWidget(dlg)
    first = dlg.model_combo.currentText()
    other = next(dlg.model_combo.itemText(i) for i in range(dlg.model_combo.count())
                 if dlg.model_combo.itemText(i) != first)
    switched = []

    def switch(text):  # just after the report, while the check's thread is ending
        if not switched:
            switched.append(text)
            QTimer.singleShot(0, lambda: dlg.model_combo.setCurrentText(other))

    dlg.hardware_ready.connect(switch)
    qtbot.waitUntil(lambda: f"{other} on Test GPU" in dlg.hardware_text.toPlainText(), timeout=600_000)
    assert f"{first} on Test GPU" in switched[0]
