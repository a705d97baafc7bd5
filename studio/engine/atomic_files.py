"""Writing a take's files so that a crash, a second writer or a full disk never leaves a half-written one.

Every whole-file write goes to a temporary name unique to the writer (process and call), is fsynced, renamed over the
target and the rename fsynced, so a reader sees the old file or the new one. A disk error becomes one
:class:`DiskWriteError` naming the file, the cause (permission, read-only filesystem, disk full) and the fix.
"""

from __future__ import annotations

import errno
import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

_TEMP = re.compile(r"^\..+\.tmp(\.[A-Za-z0-9]+)?$")  # ours, and those of earlier versions (".l0_c0.wav.tmp.wav")

# errno -> (the cause in words, the fix)
_CAUSES = {
    errno.ENOSPC: ("the disk is full", "free some space on that disk"),
    errno.EACCES: ("permission denied", "make the folder writable (or move the take to a folder you own)"),
    errno.EPERM: ("permission denied", "make the folder writable (or move the take to a folder you own)"),
    errno.EROFS: ("the filesystem is read-only", "copy the take to a writable disk (or remount this one writable)"),
}
if hasattr(errno, "EDQUOT"):  # POSIX only
    _CAUSES[errno.EDQUOT] = ("the disk quota is used up", "free some space on that disk or ask for a larger quota")


class DiskWriteError(OSError):
    """A take file could not be written; ``str()`` is one line naming the file, the cause and the fix."""

    def __init__(self, path: Path, exc: OSError):
        cause, fix = _CAUSES.get(exc.errno, (exc.strerror or str(exc), "check the disk"))
        super().__init__(exc.errno, f"cannot write '{path}': {cause}; {fix}")
        self.path, self.cause, self.fix = Path(path), cause, fix

    def __str__(self) -> str:
        return self.strerror


def disk_write_error(path: "str | Path", exc: OSError) -> DiskWriteError:
    """``exc`` (raised writing ``path``) as a :class:`DiskWriteError`; one already converted is returned as it is."""
    return exc if isinstance(exc, DiskWriteError) else DiskWriteError(Path(path), exc)


def temp_path(path: Path) -> Path:
    """A temporary name beside ``path`` that no other writer (process or thread) uses: ``.NAME.PID-RANDOM.tmp``."""
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temporary file a take writer leaves behind when it is killed mid-write."""
    return bool(_TEMP.match(name))


def remove_stale_temps(folder: Path) -> list[str]:
    """Delete the temporary files killed writers left in ``folder`` (call it holding the take's lock); their names."""
    removed = []
    for p in sorted(folder.iterdir()):
        if is_temp_name(p.name) and p.is_file():
            try:
                p.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise disk_write_error(p, exc) from None
            removed.append(p.name)
    return removed


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows has no folder handles to sync)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_writer(path: "str | Path") -> Iterator[BinaryIO]:
    """A binary file whose contents replace ``path`` whole when the block ends without an error.

    Raises:
        DiskWriteError: the folder or disk refused the write; ``path`` is left as it was.
    """
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "xb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_folder(path.parent)
    except OSError as exc:
        _discard(tmp)
        raise disk_write_error(path, exc) from None
    except BaseException:
        _discard(tmp)
        raise


def atomic_write_bytes(path: "str | Path", data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably (see :func:`atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(data)


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink()
    except OSError:
        pass  # never made, or the disk refuses even that: the next writer's resume removes it
