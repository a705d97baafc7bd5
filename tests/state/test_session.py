"""The session against a real sampler process on the tiny reference model, no window: it is the one subscriber of
the event stream, keeps the running job's state, and turns the events into the state the views bind to."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QSettings

from studio.engine.takes import Take
from studio.state.session import StudioSession
from tests.conftest import FIXTURES, JOB_MS, LOAD_MS
from tests.ui.conftest import TINY_SPEC, Recorder

pytest.importorskip("pytestqt")


@pytest.fixture
def studio_session(qtbot, tmp_path, tiny_models):
    """(session, recorder): the tiny model loaded, a project open, a preview after every window."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    session = StudioSession(settings, preview_interval=0.0, autosave_ms=3_600_000)
    recorder = Recorder(session)
    session.project.open(str(tmp_path / "project"), create=True)
    with qtbot.waitSignal(session.model_ready, timeout=LOAD_MS):
        session.load_model(tiny_models)
    yield session, recorder
    session.shutdown()


def _run(qtbot, session, spec: dict) -> Path:
    """Generate ``spec`` and wait for the job's end; the new take's folder."""
    with qtbot.waitSignal(session.job_ended, timeout=JOB_MS) as blocker:
        assert session.generate(spec)
    return Path(blocker.args[0].take_dir)


def test_the_session_follows_a_job_from_its_events(qtbot, studio_session):
    session, rec = studio_session
    l_bins = json.loads((FIXTURES / "manifest.json").read_text())["vqvae"]["hps"]["l_bins"]
    assert session.info.n_codes == l_bins
    seen = []  # the session's own state while the job runs, and the player's when a preview arrives
    session.job_planned.connect(lambda _e: seen.append((session.busy, session.running_take,
                                                        session.project.busy_take(), session.project.current)))
    session.preview_changed.connect(lambda *_a: seen.append(session.playback.key))
    take_dir = _run(qtbot, session, dict(TINY_SPEC, seconds=0.743))

    assert seen[0] == (True, str(take_dir), str(take_dir), str(take_dir))  # tracked here, and selected
    assert not session.busy and session.running_take == "" and session.project.busy_take() == ""
    assert session.plan is None
    take = Take.load(take_dir)
    codes = take.codes(2)
    assert take.record.status == "done" and (codes >= 0).all()

    # each window reached the selected take as it landed: the level fills window after window
    windows = rec.of("job_planned")[0].windows[2]
    changed = rec.of("codes_changed")
    assert len(changed) == len(windows)
    for (start, end), (level, shown) in zip(windows, changed):
        assert level == 2
        np.testing.assert_array_equal(shown[:, :end], codes[:, :end])
        assert (shown[:, end:] < 0).all()

    # previews were heard before the level finished, from the sampler's decode
    previews = rec.of("preview_changed")
    assert previews and all(key == (str(take_dir), 2, 0) for key in seen[1:])
    for audio, sr, upto in previews:
        assert sr == 44100 and audio.shape == (codes.shape[1] * 128,) and 0 < upto < codes.shape[1] * 128 / sr

    # the finished level's audio and the alignment are the ones the events carried, not the 16-bit WAVs read back
    data = session.take
    assert data.summary.status == "done" and data.summary.levels_done == (2,)
    np.testing.assert_array_equal(data.codes[2], codes)
    for cand in range(2):
        wav, _ = sf.read(take.audio_path(2, cand), dtype="float32")
        heard = data.audio[2][cand]
        np.testing.assert_allclose(heard, wav, atol=1.5 / 32768)
        assert not np.allclose(heard * 32768, np.round(heard * 32768))  # never went through the 16-bit file
        matrix, lyrics = take.alignment(cand)
        np.testing.assert_array_equal(data.alignment[cand][0], matrix)
        assert data.alignment[cand][1] == lyrics
    assert session.playback.key == (str(take_dir), 2, 0)
    assert session.playback.duration == codes.shape[1] * 128 / 44100


def test_only_the_selected_take_follows_the_job(qtbot, studio_session):
    session, rec = studio_session
    other = _run(qtbot, session, dict(TINY_SPEC, candidates=1))
    switches = {"away": False, "back": False}

    def away(_event):  # as the next job plans its windows, the user looks at the earlier take
        if not switches["away"]:
            switches["away"] = True
            session.project.select(str(other))

    def back(event):  # after two windows, back to the running one: read from disk, then followed again
        if event.window == 1 and not switches["back"]:
            switches["back"] = True
            session.project.select(session.running_take)

    session.job_planned.connect(away)
    session.window_done.connect(back)
    rec.clear()
    running = _run(qtbot, session, dict(TINY_SPEC, seconds=0.743, candidates=1))
    assert switches == {"away": True, "back": True}

    followed = [(n, e) for n, e in rec.events if n in ("window_done", "codes_changed", "take_loaded")]
    names = [n for n, _ in followed]
    first_back = names.index("take_loaded", names.index("window_done"))  # the selection of the running take
    assert "codes_changed" not in names[:first_back]  # nothing reached the views while another take was shown
    back_at = followed[first_back][1]
    assert back_at.summary.path == str(running)
    assert (back_at.codes[2][:, :rec.of("window_done")[1].end] >= 0).all()  # read from disk, windows 0 and 1 in
    after = names[first_back + 1:]
    assert after.count("codes_changed") == after.count("window_done") > 0  # followed again, window by window
    np.testing.assert_array_equal(session.take.codes[2], Take.load(running).codes(2))
    assert session.take.summary.status == "done" and session.project.current == str(running)


def test_a_cancelled_job_and_a_job_that_cannot_start(qtbot, studio_session):
    session, rec = studio_session
    with qtbot.waitSignal(session.job_ended, timeout=JOB_MS) as blocker:
        assert session.generate(dict(TINY_SPEC, seconds=0.743, candidates=1))
        session.cancel()  # before the sampler's first token: it stops there, the take made and kept
    take_dir = Path(blocker.args[0].take_dir)
    done = rec.of("job_ended")[0]
    assert done.cancelled and done.error is None
    assert session.take.summary.status == "cancelled" and session.take.summary.resumable
    assert Take.load(take_dir).record.status == "cancelled"

    rec.clear()  # a field out of range: refused at once, nothing queued or sent
    assert not session.generate(dict(TINY_SPEC, seconds=0.372, temperature=[0.99, 0.99, 5.0]))
    assert rec.of("error") == ["The song cannot be generated: 'temperature' must be one number or three (levels 0, "
                               "1, 2), each in (0, 2], or nothing for the model's own, not [0.99, 0.99, 5.0]."]
    assert not session.busy and rec.of("job_started") == []

    rec.clear()  # valid on its own, but longer than the model can place: the sampler process refuses it
    with qtbot.waitSignal(session.error, timeout=JOB_MS) as blocker:
        assert session.generate(dict(TINY_SPEC, seconds=0.372, song_seconds=700))
    assert blocker.args[0].startswith("Could not start the generate:") and "longer than this model" in blocker.args[0]
    assert not session.busy and session.running_take == "" and rec.of("job_ended") == []
    assert [t.path for t in session.project.takes] == [str(take_dir)]  # no take was made


def test_a_sampler_that_dies_while_idle_is_reported_and_the_next_job_runs(qtbot, studio_session):
    session, rec = studio_session
    process = session.sampler.channel.process
    with qtbot.waitSignal(session.error, timeout=JOB_MS) as blocker:
        process.kill()
    assert "stopped unexpectedly" in blocker.args[0] and not session.busy
    take_dir = _run(qtbot, session, dict(TINY_SPEC, candidates=1))
    assert session.sampler.pid != process.pid
    assert rec.of("job_ended")[0].error is None and Take.load(take_dir).record.status == "done"
    assert rec.of("error") == [blocker.args[0]]  # reported once
