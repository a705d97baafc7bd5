"""Read a built set: items, label tables, audio, and seeded fixed-length random crops for training."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Iterator

import numpy as np

from studio.data.errors import DataBuildError
from studio.data.report import read_table


class Dataset:
    """A set made by `build_dataset`, read from its folder.

    Iterating yields ``(audio, sr, item)``: the whole clip as float32 of shape (T,), its sample rate, and the item's
    dict from items.jsonl. `crops` yields fixed-length random windows for training, with the lyric timing shifted
    into the window.

    Args:
        root: the folder given to ``studio data build``.
        split: "train", "heldout" or None for every item.
    """

    def __init__(self, root: str | Path, split: str | None = None):
        self.root = Path(root)
        index = self.root / "items.jsonl"
        if not index.is_file():
            raise DataBuildError(f"{self.root} has no items.jsonl, so it is not a built set. "
                                 f"Fix: run 'studio data build {self.root}' first, or point at the right folder.")
        if split not in (None, "train", "heldout"):
            raise DataBuildError(f"unknown split '{split}'. Fix: use 'train', 'heldout' or leave it out.")
        with open(index, encoding="utf-8") as fh:
            items = [json.loads(line) for line in fh if line.strip()]
        self.items = [i for i in items if split is None or i["split"] == split]
        self.artists = read_table(self.root / "artists.txt")
        self.genres = read_table(self.root / "genres.txt")

    def __len__(self) -> int:
        return len(self.items)

    @property
    def hours(self) -> float:
        return sum(i["seconds"] for i in self.items) / 3600

    def load(self, index: int) -> tuple[np.ndarray, int, dict]:
        """One whole clip: (float32 audio of shape (T,), sample rate, item dict)."""
        import soundfile as sf

        item = self.items[index]
        path = self.root / item["path"]
        if not path.is_file():
            raise DataBuildError(f"{path} listed in items.jsonl is missing. Fix: rebuild the set into a new folder.")
        audio, sr = sf.read(str(path), dtype="float32", always_2d=False)
        if audio.ndim > 1:
            audio = audio.mean(axis=1)
        return audio, sr, item

    def _read(self, item: dict, start: int, frames: int) -> np.ndarray:
        import soundfile as sf

        path = self.root / item["path"]
        if not path.is_file():
            raise DataBuildError(f"{path} listed in items.jsonl is missing. Fix: rebuild the set into a new folder.")
        audio, _ = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
        return audio.mean(axis=1)  # (frames,)

    def __iter__(self) -> Iterator[tuple[np.ndarray, int, dict]]:
        for i in range(len(self.items)):
            yield self.load(i)

    def crops(self, seconds: float, seed: int = 0, count: int | None = None
              ) -> Iterator[tuple[np.ndarray, int, dict]]:
        """Random fixed-length windows: items drawn in proportion to their length, a random start inside each.

        Clips shorter than the window are zero-padded at the end. The yielded item is a copy with ``offset``
        (seconds into the clip) and ``lyric_timing`` shifted to the window and clipped to it.

        Args:
            seconds: window length.
            seed: makes the sequence of windows repeatable.
            count: how many windows; None for an endless stream.
        Yields:
            (float32 audio of shape (round(seconds * sr),), sr, item dict)
        """
        if not self.items:
            raise DataBuildError(f"{self.root} has no items in this split. Fix: build a larger set "
                                 "or use split=None.")
        if seconds <= 0:
            raise DataBuildError(f"crop length must be positive, got {seconds}. Fix: pass e.g. 8.0 seconds.")
        rng = random.Random(seed)
        weights = [i["seconds"] for i in self.items]
        produced = 0
        while count is None or produced < count:
            index = rng.choices(range(len(self.items)), weights=weights)[0]
            item = self.items[index]
            sr, total = item["sr"], int(round(item["seconds"] * item["sr"]))
            n = int(round(seconds * sr))
            start = rng.randrange(0, max(total - n, 0) + 1)
            window = np.zeros(n, np.float32)
            piece = self._read(item, start, n)  # only the window is read from disk
            window[: len(piece)] = piece
            t0, t1 = start / sr, start / sr + seconds
            timing = [[max(a, t0) - t0, min(b, t1) - t0, w] for a, b, w in item["lyric_timing"] if b > t0 and a < t1]
            yield window, sr, {**item, "offset": t0, "lyric_timing": timing,
                               "lyrics": " ".join(w for _, _, w in timing)}
            produced += 1
