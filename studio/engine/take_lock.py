"""One writer per take: an OS file lock on ``.take.lock`` in the take folder, held for the whole run.

The operating system drops the lock when its holder exits or is killed, so a stale lock never blocks anyone; the
file itself only tells a second writer who holds it (process, machine, since when).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from .atomic_files import disk_write_error

LOCK_FILE = ".take.lock"

if os.name == "nt":
    import msvcrt

    _LOCKED_OFFSET = 1 << 30  # lock a byte past the holder's note, so the note stays readable

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _LOCKED_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _LOCKED_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class TakeLocked(Exception):
    """Another process is writing the take; the message names it and what to do."""

    def __init__(self, folder: Path, holder: dict):
        self.folder, self.holder = Path(folder), holder
        who = "another process"
        if isinstance(holder.get("pid"), int) and isinstance(holder.get("host"), str):
            who = f"process {holder['pid']} on {holder['host']}"
        since = holder.get("started")
        when = f" since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(since))}" \
            if isinstance(since, (int, float)) else ""
        super().__init__(f"'{self.folder}' is being written by {who}{when}: wait for it to finish, or stop that "
                         f"process, then resume the take.")


class TakeLock:
    """The take's write lock as a context manager: ``with TakeLock(folder): ...`` writes the take alone.

    Raises (on entry):
        TakeLocked: a live process holds it.
        DiskWriteError: the lock file cannot be made (read-only folder or disk).
    """

    def __init__(self, folder: "str | Path"):
        self.path = Path(folder) / LOCK_FILE
        self.fd: int | None = None

    def __enter__(self) -> "TakeLock":
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise disk_write_error(self.path, exc) from None
        if not _try_lock(fd):
            holder = _read_note(fd)
            os.close(fd)
            raise TakeLocked(self.path.parent, holder)
        self.fd = fd
        note = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}).encode()
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, note)
        except OSError:
            pass  # a full disk: the lock holds all the same, a second writer is just told less about its holder
        return self

    def __exit__(self, *exc) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            _unlock(fd)
            os.close(fd)


def holder_of(folder: "str | Path") -> dict | None:
    """Who holds the take's lock (``{"pid", "host", "started"}``), or None when no live process does."""
    path = Path(folder) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        if _try_lock(fd):
            _unlock(fd)
            return None
        return _read_note(fd)
    finally:
        os.close(fd)


def _read_note(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        note = json.loads(os.read(fd, 4096) or b"{}")
    except (OSError, ValueError):
        return {}
    return note if isinstance(note, dict) else {}
