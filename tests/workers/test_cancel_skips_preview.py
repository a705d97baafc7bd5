"""Cancel pressed while a job runs: the sampler process does not decode a preview of the level first (under load that
decode held a cancel back for many seconds); the job stops at its next token, cancelled and resumable."""

from __future__ import annotations

import threading

from studio.engine.events import JobDone, WindowDone
from studio.workers.events import PreviewAudio, TakeCreated
from studio.workers.sampler_process import SamplerServer
from studio.workers.sampling_worker import JobRequest

SPEC = {"seconds": 0.743, "artist": "Alan Jackson", "genre": "Country", "song_seconds": 90, "candidates": 1,
        "levels": "top", "seed": 3}


def run_job(tiny_models, folder, cancel_after_first_window: bool) -> list:
    cancel, events = threading.Event(), []

    def send(event) -> None:
        events.append(event)
        if cancel_after_first_window and isinstance(event, WindowDone):
            cancel.set()  # as the studio's Cancel does, between the window's end and its preview

    server = SamplerServer(send, cancel, progress_interval=0.0, preview_interval=0.0)
    server.models = tiny_models
    server.run(JobRequest("generate", str(folder), spec=SPEC))
    return events


def test_a_cancel_after_a_window_skips_its_preview_and_stops_the_job(tiny_models, tmp_path):
    uncancelled = run_job(tiny_models, tmp_path / "whole", cancel_after_first_window=False)
    windows = [e for e in uncancelled if isinstance(e, WindowDone)]
    assert len(windows) >= 2 and any(isinstance(e, PreviewAudio) for e in uncancelled)  # previews do run
    assert [e for e in uncancelled if isinstance(e, JobDone)][-1].cancelled is False

    events = run_job(tiny_models, tmp_path / "cancelled", cancel_after_first_window=True)
    assert isinstance(events[0], TakeCreated)
    assert len([e for e in events if isinstance(e, WindowDone)]) == 1
    assert not any(isinstance(e, PreviewAudio) for e in events)
    done = [e for e in events if isinstance(e, JobDone)]
    assert len(done) == 1 and done[0].cancelled
