"""One writer per take: a second one (another process, or another run in this one) is told who holds the take and
writes nothing; a killed holder never blocks; writers never share a temporary file; a resume clears what killed
writers left behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import soundfile as sf

from studio.cli import main
from studio.engine.cascade import run_take
from studio.engine.events import JobDone
from studio.engine.take_lock import LOCK_FILE
from studio.engine.takes import Take
from tests.conftest import REPO
from tests.reliability.conftest import copy_take, files, interrupted_take

HOLD = ("import sys; from studio.engine.take_lock import TakeLock; TakeLock(sys.argv[1]).__enter__(); "
        "print('held', flush=True); sys.stdin.read()")


def _locked_message(folder, pid, note) -> str:
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(note["started"]))
    return (f"'{folder}' is being written by process {pid} on {socket.gethostname()} since {since}: wait for it to "
            f"finish, or stop that process, then resume the take.")


def test_a_second_process_is_told_who_writes_the_take_and_a_killed_holder_never_blocks(
        models, finished, model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JUKEBOX_MODELS_DIR", str(model_dir.parent))
    take = interrupted_take(models, tmp_path / "take")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(take.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        assert holder.stdout.readline() == "held\n"
        before = files(take.path)
        assert main(["resume", str(take.path)]) == 2
        note = json.loads((take.path / LOCK_FILE).read_text())
        assert capsys.readouterr().err == f"error: {_locked_message(take.path, holder.pid, note)}\n"
        assert files(take.path) == before  # nothing redone, nothing written
    finally:
        holder.kill()
        holder.wait()
    assert main(["resume", str(take.path), "--quiet"]) == 0  # the dead holder's lock is gone with it
    assert capsys.readouterr().out == f"done: {take.path}\n"
    for level in range(3):
        assert np.array_equal(Take.load(take.path).codes(level), finished.codes(level))


def test_a_second_run_in_the_same_process_writes_nothing_and_the_first_finishes(models, finished, tmp_path):
    take = interrupted_take(models, tmp_path / "take")
    first = run_take(Take.load(take.path), models)
    next(first)  # under way: it holds the lock
    before = files(take.path)
    second = list(run_take(Take.load(take.path), models))
    note = json.loads((take.path / LOCK_FILE).read_text())
    assert second == [JobDone(str(take.path), error=_locked_message(take.path, os.getpid(), note))]
    assert files(take.path) == before
    assert not list(first)[-1].error
    for level in range(3):
        assert np.array_equal(Take.load(take.path).codes(level), finished.codes(level))


def test_writers_never_share_a_temporary_file(finished, tmp_path):
    """Two threads rewriting the same WAVs and codes 100 times each: every write lands whole (a shared temporary
    name made about one write in five fail)."""
    take = copy_take(finished, tmp_path / "take")
    audio, codes = [np.full((2, 8192), v, np.float32) for v in (0.25, 0.5)], [finished.codes(0), finished.codes(0) // 2]
    errors = []

    def writer(i):
        try:
            for _ in range(100):
                take.write_audio(0, audio[i])
                take.write_codes(0, codes[i])
        except Exception as exc:  # collected: the test shows every failure, not only the first thread's
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = sf.read(take.audio_path(0, 0), dtype="float32")[0]
    assert len(got) == 8192 and float(got[0]) in (0.25, 0.5) and (got == got[0]).all()
    assert any(np.array_equal(take.codes(0), c) for c in codes)
    assert sorted(p.name for p in take.path.iterdir() if p.name.startswith(".")) == []


def test_a_resume_removes_the_temporary_files_of_killed_writers(models, finished, tmp_path):
    take = interrupted_take(models, tmp_path / "take")
    stale = [".codes_l0.npy.4242.tmp.npy", ".l0_c0.wav.tmp.wav", ".take.json.99-0123abcd.tmp"]
    for name in stale:
        (take.path / name).write_bytes(b"half a file")
    (take.path / ".notes").write_text("mine")
    assert not list(run_take(take, models))[-1].error
    assert sorted(p.name for p in take.path.iterdir() if p.name.startswith(".")) == [".notes", LOCK_FILE]
    assert np.array_equal(Take.load(take.path).codes(0), finished.codes(0))
