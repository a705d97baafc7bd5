"""The sampler runs in its own process: when that process dies mid-job (killed for memory, a native crash) the window
stays alive, says what happened, keeps the take, and the next job starts a fresh process that reloads the model."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np

from studio.engine.takes import Take
from tests.conftest import JOB_MS
from tests.ui.conftest import TINY_SPEC, type_spec


def test_killed_sampler_ends_the_job_with_a_message_and_the_take_resumes(qtbot, studio):
    window, session, rec = studio
    type_spec(qtbot, window.editor, dict(TINY_SPEC, seconds=0.743, candidates=1))
    first_pid = session.sampler.pid
    assert first_pid != os.getpid()
    with qtbot.waitSignal(session.window_done, timeout=JOB_MS):
        window.generate()
    with qtbot.waitSignal(session.job_ended, timeout=60_000) as blocker:
        os.kill(first_pid, signal.SIGKILL)
    done = blocker.args[0]
    assert not done.cancelled and "stopped unexpectedly" in done.error and "-9" in done.error
    assert not session.busy and session.running_take == ""
    assert window.editor.generate_button.isEnabled()
    assert "failed" in window.progress.title.text()

    take_dir = Path(done.take_dir)
    kept = int((Take.load(take_dir).codes(2) >= 0).all(axis=0).sum())
    assert kept > 0  # the windows finished before the kill are on disk
    np.testing.assert_array_equal(session.take.codes[2], Take.load(take_dir).codes(2))  # the view shows the disk
    rec.clear()
    reloaded = []
    session.model_ready.connect(reloaded.append)
    with qtbot.waitSignal(session.job_ended, timeout=JOB_MS) as blocker:
        assert session.resume(str(take_dir))
    assert blocker.args[0].error is None and not blocker.args[0].cancelled
    assert session.sampler.pid != first_pid  # a fresh process, with the model reloaded quietly
    assert reloaded == []  # the window's model did not change, so it is not told about a new one
    take = Take.load(take_dir)
    assert take.record.status == "done" and (take.codes(2) >= 0).all()
