"""A level's codes on disk: one int64 ``(N, T)`` ``.npy`` per level, written whole once, then window by window in place.

Rewriting a whole level after every window cost a 4-minute song 11 GB of writes (31.75 MB per level-0 window); a
window now writes only its own tokens into the file (the bytes are those ``np.save`` of the whole array would write),
and the disk sees only the page-cache pages they fall in (benchmarks/code_writes.py).

A kill at any moment must resume to the same codes. The sampler treats a token column as sampled once every candidate
has it (:func:`~studio.engine.windows.sampled_prefix`), so a window writes all its columns but the first, makes them
durable, and only then writes its first column: until that last write is complete the window reads as not sampled
(and is sampled again from its start, with its own seeds), and once it is, every column of the window is on disk.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .atomic_files import atomic_writer, disk_write_error

CODES_DTYPE = np.dtype("<i8")


def save_codes(path: Path, codes: np.ndarray) -> None:
    """Write ``codes`` (N, T) as the whole file, atomically and durably."""
    with atomic_writer(path) as f:
        np.save(f, np.ascontiguousarray(codes, dtype=CODES_DTYPE), allow_pickle=False)


def load_codes(path: Path) -> np.ndarray:
    """The level's codes (N, T) as stored (the take's check says whether they fit the take)."""
    return np.load(path, allow_pickle=False)


def write_tokens(path: Path, codes: np.ndarray, start: int, end: int) -> None:
    """Store columns ``[start, end)`` of ``codes`` (N, T) into the file in place; the rest of the file is untouched.

    Raises:
        DiskWriteError: the disk refused the write.
        ValueError: the file no longer holds an int64 array of ``codes``' shape (changed behind the job's back).
    """
    try:
        with open(path, "r+b") as f:
            offset = _data_offset(f, codes.shape, path)
            stored = np.memmap(f, dtype=CODES_DTYPE, mode="r+", offset=offset, shape=codes.shape)  # (N, T)
            stored[:, start + 1:end] = codes[:, start + 1:end]
            _sync(stored, f)
            stored[:, start] = codes[:, start]  # the window counts as sampled from this write on
            _sync(stored, f)
            del stored
    except OSError as exc:
        raise disk_write_error(path, exc) from None


def _sync(stored: np.memmap, f) -> None:
    stored.flush()
    os.fsync(f.fileno())


def _data_offset(f, shape: tuple, path: Path) -> int:
    """Where the array's data starts in an open ``.npy``, after checking its header against ``shape``/int64."""
    version = np.lib.format.read_magic(f)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    got_shape, fortran, dtype = read_header(f)
    if got_shape != tuple(shape) or fortran or dtype != CODES_DTYPE:
        raise ValueError(f"{path} changed while the take was being written (it holds {dtype} {got_shape}, not int64 "
                         f"{tuple(shape)}): run `studio resume {path.parent}` to check and repair the take.")
    return f.tell()
