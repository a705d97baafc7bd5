"""Bytes written to disk per sampled window of a level's codes: the whole level rewritten (before) against the window's
own tokens written in place (now), for a 4-minute song's bottom level.

The figure is the kernel's count of bytes this process sent to storage (``write_bytes`` in /proc/self/io; Linux, on a
disk-backed folder: tmpfs counts nothing), with each write fsynced as a take's are.

    python benchmarks/code_writes.py                    # in the current folder
    python benchmarks/code_writes.py --folder /some/disk --seconds 240 --candidates 3

Measured (Linux 6.18, ext4, 240 s, 3 candidates, 1024 new tokens a window): the whole level 31.75 MB a window, in
place 12.6 MB. The kernel writes back whole dirty page-cache folios, 2 MiB here, and a window is synced twice (its
first column last, see code_store.py): 2 syncs x 3 rows x 2 MiB. Where writeback goes by 4 KiB pages the in-place
figure is about 2 x 3 x 3 pages, some 70 KB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.engine.code_store import save_codes, write_tokens  # noqa: E402

HOP, N_CTX, HOP_FRACTION = 8, 8192, 0.125  # the bottom level of the official models: tokens per window step


def written_bytes() -> int:
    for line in open("/proc/self/io"):
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/self/io")


def measure(folder: Path, seconds: float, candidates: int, windows: int) -> dict:
    tokens = int(seconds * 44100) // HOP
    step = int(N_CTX * HOP_FRACTION)
    codes = -np.ones((candidates, tokens), np.int64)  # (N, T)
    path = folder / "codes_l0.npy"
    save_codes(path, codes)
    start = tokens // 2  # a window in the middle of the song
    per_mode = {}
    for mode in ("whole level", "window in place"):
        before = written_bytes()
        for i in range(windows):
            a = start + i * step
            codes[:, a:a + step] = i % 256
            if mode == "whole level":
                save_codes(path, codes)
            else:
                write_tokens(path, codes, a, a + step)
        per_mode[mode] = (written_bytes() - before) / windows
    return {"seconds": seconds, "candidates": candidates, "tokens": tokens, "new_tokens_per_window": step,
            "bytes_per_window": per_mode, "ratio": per_mode["whole level"] / max(1.0, per_mode["window in place"])}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folder", default=".", help="a folder on the disk to measure (not tmpfs)")
    p.add_argument("--seconds", type=float, default=240.0)
    p.add_argument("--candidates", type=int, default=3)
    p.add_argument("--windows", type=int, default=8)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(dir=args.folder) as d:
        print(json.dumps(measure(Path(d), args.seconds, args.candidates, args.windows)))


if __name__ == "__main__":
    main()
