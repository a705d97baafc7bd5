"""The real window on the tiny model: type a spec, generate, watch the signals in order, cancel and resume, pick a
candidate and upsample it, export and read it back, undo.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtCore import Qt

from studio.audio.export import read_recipe
from studio.engine.takes import Take
from studio.ui.export_flow import export_current
from tests.conftest import JOB_MS
from tests.ui.conftest import TINY_SPEC, type_spec

TOP_SAMPLES = int(0.372 * 44100) // 128 * 128  # 16384: what 0.372 s becomes at the top hop


def _generate(qtbot, window, session, spec=TINY_SPEC, timeout=JOB_MS):
    type_spec(qtbot, window.editor, spec)
    with qtbot.waitSignals([session.job_started, session.job_planned, session.job_ended], order="strict",
                           timeout=timeout):
        qtbot.mouseClick(window.editor.generate_button, Qt.LeftButton)
    assert not session.busy
    return Path(session.project.current)


def test_generate_signals_in_order_and_files_on_disk(qtbot, studio):
    window, session, rec = studio
    assert window.editor.label_warnings() == []
    take_dir = _generate(qtbot, window, session)

    names = rec.names()
    windows = rec.of("job_planned")[0].windows[2]
    assert names == ["job_started", "job_planned"] + ["window_done"] * len(windows) + ["job_ended"]
    done = rec.of("window_done")
    assert [e.window for e in done] == list(range(len(windows)))  # each window once, in order
    assert [(e.start, e.end) for e in done] == [tuple(w) for w in windows]
    progress = rec.of("job_progress")
    assert progress and all(p.level == 2 for p in progress)
    assert all(a.elapsed <= b.elapsed for a, b in zip(progress, progress[1:]))
    assert np.isfinite(progress[-1].eta)
    job = rec.of("job_ended")[0]
    assert job.error is None and not job.cancelled and Path(job.take_dir) == take_dir

    take = Take.load(take_dir)
    assert take.record.status == "done" and take.record.spec["artist"] == "Alan Jackson"
    codes = take.codes(2)
    assert codes.shape == (2, TOP_SAMPLES // 128) and (codes >= 0).all()
    np.testing.assert_array_equal(codes, session.take.codes[2])
    # the code view drew each window as it landed, the window's own codes
    changed = rec.of("codes_changed")
    assert [level for level, _ in changed] == [2] * len(windows)
    for (start, end), (_, shown) in zip(windows, changed):
        np.testing.assert_array_equal(shown[:, start:end], codes[:, start:end])
        assert (shown[:, end:] < 0).all()
    for cand in range(2):
        audio, sr = sf.read(take.audio_path(2, cand))
        assert sr == 44100 and len(audio) == TOP_SAMPLES
    # the window shows what is on disk
    np.testing.assert_array_equal(window.codes.codes[2], codes)
    assert window.waveform.duration == TOP_SAMPLES / 44100
    assert window.waveform.preview_ranges() == [(0.0, TOP_SAMPLES / 44100)]  # top level only: all of it a preview
    assert window.alignment.matrix is not None and window.alignment.matrix.shape[0] == codes.shape[1]
    assert window.takes.item_for(str(take_dir)) is not None
    assert window.progress.title.text().endswith(": done")


def test_cancel_keeps_app_alive_and_resume_finishes(qtbot, studio):
    window, session, rec = studio
    spec = dict(TINY_SPEC, seconds=0.743, candidates=1)
    type_spec(qtbot, window.editor, spec)
    with qtbot.waitSignal(session.window_done, timeout=JOB_MS):
        window.generate()
    with qtbot.waitSignal(session.job_ended, timeout=60_000) as blocker:
        qtbot.mouseClick(window.progress.cancel_button, Qt.LeftButton)
    done = blocker.args[0]
    assert done.cancelled and done.error is None
    take_dir = Path(done.take_dir)
    take = Take.load(take_dir)
    assert take.record.status == "cancelled"
    kept = int((take.codes(2) >= 0).all(axis=0).sum())
    n_top = take.codes(2).shape[1]
    assert 0 < kept < n_top  # finished windows are on disk, the rest is not
    assert not session.busy
    assert window.editor.generate_button.isEnabled()
    assert window.takes.resume_button.isEnabled()
    assert "cancelled" in window.progress.title.text()

    assert window.prompt_recovery() is None  # the user stopped it: the next launch does not ask about it
    rec.clear()
    bars = (window.progress.job_bar, window.progress.level_bar, window.progress.window_bar)
    seen = []  # the whole-job bar after each event the panel draws
    for signal in (session.job_progress, session.window_done):
        signal.connect(lambda _e: seen.append(bars[0].value()))
    with qtbot.waitSignal(session.job_ended, timeout=JOB_MS) as blocker:
        qtbot.mouseClick(window.takes.resume_button, Qt.LeftButton)
    assert blocker.args[0].error is None and not blocker.args[0].cancelled
    assert rec.of("job_started")[0][0] == "resume"
    first = rec.of("window_done")[0]
    assert first.start >= kept - 64  # resumed from the last finished window, not from the start
    assert first.window > 0  # so the windows before it were skipped, and still every bar ends full
    assert [b.value() for b in bars] == [b.maximum() for b in bars]
    assert seen == sorted(seen) and seen[0] > 0  # only forward, from what the take already had
    take = Take.load(take_dir)
    assert take.record.status == "done" and (take.codes(2) >= 0).all()
    assert not session.busy and not window.takes.resume_button.isEnabled()


def test_pick_candidate_upsample_export_and_undo(qtbot, studio, tmp_path):
    window, session, rec = studio
    parent = _generate(qtbot, window, session)
    # key 2 auditions the second candidate at the same position and records the choice
    session.playback.seek(0.1)
    window.activateWindow()
    window.waveform.setFocus()
    qtbot.keyClick(window.waveform, Qt.Key_2)
    assert session.candidate == 1
    assert session.playback.key == (str(parent), 2, 1)
    assert abs(session.playback.position - 0.1) < 1e-3
    assert Take.load(parent).record.chosen == 1
    assert window.takes.cand_group.checkedId() == 1

    rec.clear()
    with qtbot.waitSignals([session.job_started, session.job_planned, session.job_ended], order="strict",
                           timeout=JOB_MS):
        qtbot.mouseClick(window.takes.upsample_button, Qt.LeftButton)
    assert not session.busy
    up_dir = Path(session.project.current)
    up = Take.load(up_dir)
    assert up.record.parent == Take.load(parent).record.id and up.record.plan["candidates"] == [1]
    # the selected take gained each level's audio as the sampler finished it, middle then bottom
    gained = [sorted(t.audio) for t in rec.of("take_loaded") if t is not None and t.summary.path == str(up_dir)]
    assert [1] in gained and gained.index([1]) < gained.index([0, 1]) and gained[-1] == [0, 1]
    np.testing.assert_array_equal(up.codes(2)[0], Take.load(parent).codes(2)[1])  # the chosen candidate's codes
    assert (up.codes(0) >= 0).all() and (up.codes(1) >= 0).all()
    tree_item = window.takes.item_for(str(up_dir))
    assert tree_item.parent() is window.takes.item_for(str(parent))  # a child in the tree
    assert session.take.best_level == 0

    out = tmp_path / "song.flac"
    result = export_current(window, 0, None, str(out), "flac")
    assert result is not None and out.is_file()
    audio, sr = sf.read(out)
    ref, ref_sr = sf.read(up.audio_path(0, 0))
    assert sr == ref_sr == 44100 and len(audio) == len(ref) == TOP_SAMPLES
    np.testing.assert_allclose(audio, ref, atol=2 / 32768)
    recipe = read_recipe(out)
    assert recipe["seed"] == 11 and recipe["artist"] == "Alan Jackson" and recipe["level"] == 0
    assert [step["kind"] for step in recipe["lineage"]] == ["upsample", "generate"]
    sidecar = json.loads(Path(str(out) + ".json").read_text())
    assert sidecar["recipe"]["lineage"][1]["id"] == Take.load(parent).record.id

    stack = session.project.undo_stack
    assert stack.undoText().startswith("Upsample")
    stack.undo()
    assert not up_dir.exists() and (session.project.project.trash_dir / up_dir.name / "take.json").is_file()
    assert window.takes.item_for(str(up_dir)) is None
    stack.redo()
    assert (up_dir / "codes_l0.npy").is_file() and window.takes.item_for(str(up_dir)) is not None
    session.project.select(str(parent))
    stack.undo()  # the upsample again
    stack.undo()  # the choice of candidate 2
    assert Take.load(parent).record.chosen is None


def test_delete_moves_to_trash_and_undo_restores(qtbot, studio):
    window, session, rec = studio
    take_dir = _generate(qtbot, window, session, dict(TINY_SPEC, candidates=1, levels="top"))
    before = sorted(p.name for p in take_dir.iterdir())
    window.takes.tree.setFocus()
    qtbot.mouseClick(window.takes.delete_button, Qt.LeftButton)
    assert not take_dir.exists() and session.project.takes == []
    assert window.takes.tree.topLevelItemCount() == 0
    window.actions_by_name["undo"].trigger()
    assert sorted(p.name for p in take_dir.iterdir()) == before
    assert window.takes.item_for(str(take_dir)) is not None
