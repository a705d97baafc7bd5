"""The sampler thread against a real sampler process on the tiny reference model: every event the process sends
reaches the GUI thread on one signal, in order; a process killed mid-job is reported once, and the next request
starts a fresh one that reloads the model quietly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QObject, Slot

from studio.engine.events import (AlignmentReady, JobDone, JobPlanned, LevelDone, Progress, Warning_, WindowDone)
from studio.engine.takes import Take
from studio.workers.events import (JobFailed, ModelsFailed, ModelsReady, PreviewAudio, SamplerStopped, TakeCreated)
from studio.workers.sampling_worker import JobRequest, SamplerThread
from tests.conftest import FIXTURES, JOB_MS, LOAD_MS

pytest.importorskip("pytestqt")

SPEC = {"seconds": 0.743, "artist": "Alan Jacksn", "genre": "Country", "song_seconds": 90, "candidates": 2,
        "levels": "top", "seed": 3, "lyrics": "ride the long road home tonight"}


class EventLog(QObject):
    """Lives on the GUI thread: the worker's events as they arrive here (queued, in order)."""

    def __init__(self, worker):
        super().__init__()
        self.events: list = []
        worker.event.connect(self.add)

    @Slot(object)
    def add(self, event) -> None:
        self.events.append(event)

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def sampler(qtbot, tiny_models):
    """A SamplerThread (previews after every window) with the tiny model loaded, and the log of its events."""
    thread = SamplerThread(progress_interval=0.0, preview_interval=0.0)
    log = EventLog(thread.worker)
    thread.load_models(tiny_models)
    qtbot.waitUntil(lambda: bool(log.of(ModelsReady) or log.of(ModelsFailed)), timeout=LOAD_MS)
    yield thread, log
    assert thread.shutdown()


def test_every_event_reaches_the_gui_thread_in_order(qtbot, sampler, tiny_models, tmp_path):
    thread, log = sampler
    folder = tmp_path / "take"
    thread.start(JobRequest("generate", str(folder), spec=SPEC))
    qtbot.waitUntil(lambda: bool(log.of(JobDone)), timeout=JOB_MS)
    thread.start(JobRequest("resume", str(tmp_path / "not-a-take")))
    qtbot.waitUntil(lambda: bool(log.of(JobFailed)), timeout=JOB_MS)
    (tmp_path / "empty-model").mkdir()
    thread.load_models(str(tmp_path / "empty-model"))
    qtbot.waitUntil(lambda: bool(log.of(ModelsFailed)), timeout=LOAD_MS)

    windows = log.of(JobPlanned)[0].windows[2]
    kinds = [type(e) for e in log.events if not isinstance(e, (Progress, PreviewAudio))]
    assert kinds == ([ModelsReady, TakeCreated, JobPlanned, Warning_] + [WindowDone] * len(windows)
                     + [LevelDone, AlignmentReady, JobDone, JobFailed, ModelsFailed])
    ready = log.of(ModelsReady)[0]
    l_bins = json.loads((FIXTURES / "manifest.json").read_text())["vqvae"]["hps"]["l_bins"]
    assert ready.info.name == tiny_models.name and ready.info.n_codes == l_bins
    assert log.of(TakeCreated)[0] == TakeCreated(str(folder), "generate")
    assert "Alan Jacksn" in log.of(Warning_)[0].message
    take = Take.load(folder)
    codes = take.codes(2)
    assert take.record.status == "done" and (codes >= 0).all()

    # each window sends only its own codes, once, in order, after the progress of its steps
    done = log.of(WindowDone)
    assert [(e.window, e.start, e.end) for e in done] == [(i, s, e) for i, (s, e) in enumerate(windows)]
    for event in done:
        np.testing.assert_array_equal(event.codes, codes[:, event.start:event.end])
    stream = [e for e in log.events if isinstance(e, (Progress, WindowDone))]
    for before, after in zip(stream, stream[1:]):
        if isinstance(after, WindowDone):
            assert isinstance(before, Progress) and before.window == after.window and before.step == before.n_steps

    # previews come right after the window they decode, silent past it
    previews = [(log.events[i - 1], e) for i, e in enumerate(log.events) if isinstance(e, PreviewAudio)]
    assert previews
    for window, preview in previews:
        assert isinstance(window, WindowDone) and preview.take_dir == str(folder) and preview.level == 2
        assert preview.upto == window.end * 128 / 44100
        assert preview.audio.shape == (2, codes.shape[1] * 128)
        assert not preview.audio[:, window.end * 128:].any() and preview.audio[:, :window.end * 128].any()

    level = log.of(LevelDone)[0]
    np.testing.assert_array_equal(level.codes, codes)
    for cand in range(2):
        wav, sr = sf.read(take.audio_path(2, cand), dtype="float32")
        assert sr == level.sr == 44100
        np.testing.assert_allclose(level.audio[cand], wav, atol=1.5 / 32768)  # the WAV is 16-bit
    aligned = log.of(AlignmentReady)[0]
    assert len(aligned.matrices) == 2 and aligned.matrices[0].shape[0] == codes.shape[1]
    assert log.of(JobDone)[0] == JobDone(str(folder))
    assert log.of(JobFailed)[0].message.startswith("Could not start the resume")
    assert log.of(ModelsFailed)[0].message.startswith(f"Could not load the model '{tmp_path / 'empty-model'}'")


def test_a_killed_process_is_reported_once_and_the_next_start_runs_a_fresh_one(qtbot, sampler, tmp_path):
    thread, log = sampler
    folder = tmp_path / "take"
    thread.start(JobRequest("generate", str(folder), spec=dict(SPEC, candidates=1)))
    qtbot.waitUntil(lambda: bool(log.of(WindowDone)), timeout=JOB_MS)
    process = thread.channel.process
    process.kill()
    qtbot.waitUntil(lambda: bool(log.of(SamplerStopped)), timeout=JOB_MS)
    stopped = log.of(SamplerStopped)[0]
    assert stopped.pid == process.pid and "stopped unexpectedly, exit code -9 (killed" in stopped.message
    assert not log.of(JobDone)  # the job never ended by itself: ending it is the session's call
    assert thread.channel.process is process  # the relay only reported: the GUI thread restarts on the next request

    log.events.clear()
    thread.start(JobRequest("resume", str(folder)))
    qtbot.waitUntil(lambda: bool(log.of(JobDone)), timeout=JOB_MS)
    assert thread.pid != process.pid and thread.channel.process.is_alive()
    assert type(log.events[0]) is TakeCreated  # the model was reloaded quietly, no ModelsReady
    assert not log.of(ModelsReady) and not log.of(SamplerStopped)  # the dead process was reported once
    assert log.of(JobDone)[0] == JobDone(str(folder))
    assert Take.load(folder).record.status == "done" and (Take.load(folder).codes(2) >= 0).all()
