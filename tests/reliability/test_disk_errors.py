"""A full disk, a read-only filesystem or a folder without write permission, met at any write of a take: one line
naming the file, the cause and the fix; never a traceback; the take stays resumable and then finishes exactly as an
undisturbed one. The errors are the operating system's own, raised where it raises them (``fsync``, ``open``)."""

from __future__ import annotations

import errno
import json
import os
import re
import sys
from pathlib import Path

import pytest

import studio.engine.cascade as cascade
from studio.cli import main
from studio.engine.cascade import run_take
from studio.engine.events import JobDone
from studio.engine.jobs import new_take
from studio.engine.spec import SongSpec
from studio.engine.takes import Take
from tests.reliability.conftest import SHORT_SECONDS, SONG, files

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names a file descriptor via /proc")

CAUSES = {
    errno.ENOSPC: "the disk is full; free some space on that disk",
    errno.EACCES: "permission denied; make the folder writable (or move the take to a folder you own)",
    errno.EROFS: "the filesystem is read-only; copy the take to a writable disk (or remount this one writable)",
}
KEPT = ", then resume the take (it is kept up to its last window)."


class DiskTrouble:
    """Makes the OS call ``call`` ("fsync" or "open") fail with ``err`` for files whose name matches ``pattern``, and
    after that first failure for those matching ``then`` too (a disk that stays full)."""

    def __init__(self, monkeypatch, call: str, err: int, pattern: str, then: str | None = None):
        self.err, self.pattern, self.failed = err, re.compile(pattern), []
        self.then = re.compile(then) if then else None
        real = getattr(os, call)

        def fsync(fd):
            self._check(os.readlink(f"/proc/self/fd/{fd}"))
            return real(fd)

        def open_(path, *args, **kwargs):
            self._check(os.fspath(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(os, call, fsync if call == "fsync" else open_)

    def _check(self, path: str) -> None:
        name = Path(path).name
        if self.pattern.search(name) or (self.failed and self.then and self.then.search(name)):
            self.failed.append(name)
            raise OSError(self.err, os.strerror(self.err), path)


def _new(models, folder):
    return new_take(SongSpec(seconds=SHORT_SECONDS, **SONG), folder, models)


def _same_as(take, finished):
    now, before = files(take.path), files(finished.path)
    assert json.loads(now.pop("take.json"))["status"] == "done"
    before.pop("take.json")
    assert now == before


WHERE = {  # the file whose write fails -> (its name's pattern, the file named in the message)
    "a window's codes": (r"^codes_l0\.npy$", "codes_l0.npy"),
    "a level's audio": (r"^\.l1_c0\.wav\.", "l1_c0.wav"),
}


@pytest.mark.parametrize("err", sorted(CAUSES), ids=errno.errorcode.get)
@pytest.mark.parametrize("where", sorted(WHERE))
def test_a_refused_write_is_one_message_and_the_take_resumes_to_the_same_files(models, finished, tmp_path,
                                                                               monkeypatch, err, where):
    pattern, name = WHERE[where]
    take = _new(models, tmp_path / "take")
    with monkeypatch.context() as patch:
        trouble = DiskTrouble(patch, "fsync", err, pattern)
        events = list(run_take(take, models))
    assert trouble.failed
    message = f"cannot write '{take.path / name}': {CAUSES[err]}{KEPT}"
    assert isinstance(events[-1], JobDone) and events[-1].error == message
    record = Take.load(take.path).record
    assert record.status == "failed" and record.error == message and record.status.resumable
    assert not list(run_take(Take.load(take.path), models))[-1].error
    _same_as(take, finished)


def test_a_disk_that_fills_up_for_good_still_says_so_and_the_take_resumes(models, finished, tmp_path, monkeypatch):
    """Even take.json cannot be written any more: the record keeps saying "running", which resumes too."""
    take = _new(models, tmp_path / "take")
    with monkeypatch.context() as patch:
        trouble = DiskTrouble(patch, "fsync", errno.ENOSPC, r"^codes_l1\.npy$", then=r"^\..*\.tmp$")
        events = list(run_take(take, models))
    assert "codes_l1.npy" in trouble.failed and any(n.startswith(".take.json.") for n in trouble.failed)
    assert events[-1].error == f"cannot write '{take.codes_path(1)}': {CAUSES[errno.ENOSPC]}{KEPT}"
    assert Take.load(take.path).record.status == "running"
    assert not list(run_take(Take.load(take.path), models))[-1].error
    _same_as(take, finished)


def test_a_read_only_take_folder_is_refused_before_anything_is_written(models, finished, tmp_path, monkeypatch):
    take = _new(models, tmp_path / "take")
    before = files(take.path)
    with monkeypatch.context() as patch:
        DiskTrouble(patch, "open", errno.EROFS, r"^\.take\.lock$")
        events = list(run_take(take, models))
    assert [type(e) for e in events] == [JobDone]
    assert events[0].error == (f"cannot write '{take.path / '.take.lock'}': {CAUSES[errno.EROFS]}")
    assert files(take.path) == before


def test_render_onto_a_full_disk_says_so_in_one_line(model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JUKEBOX_MODELS_DIR", str(model_dir.parent))
    (tmp_path / "song.json").write_text(json.dumps({**SONG, "seconds": SHORT_SECONDS}))
    out = tmp_path / "take"
    DiskTrouble(monkeypatch, "fsync", errno.ENOSPC, r"^\.take\.json\.")
    assert main(["render", str(tmp_path / "song.json"), "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"error: cannot write '{out / 'take.json'}': {CAUSES[errno.ENOSPC]}\n"
    assert os.listdir(out) == []  # no half-written record: the same command works once there is space


def test_a_bug_whose_error_log_cannot_be_written_still_reaches_the_user(models, tmp_path, monkeypatch):
    take = _new(models, tmp_path / "take")
    (take.path / "error.log").mkdir()  # writing it fails as a real OSError

    def broken(*args):
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(cascade, "decode_codes", broken)
    events = list(run_take(take, models))
    line = broken.__code__.co_firstlineno + 1
    message = (f"unexpected ZeroDivisionError: injected. The take is kept up to its last window; the details could "
               f"not be written to {take.path / 'error.log'} (Is a directory); it was raised at {__file__}:{line} in "
               f"broken (please report them).")
    assert events[-1].error == message
    assert Take.load(take.path).record.error == message
