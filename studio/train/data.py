"""Training audio in memory: a built demo set (``studio data build``) or a musician's folder of audio files.

Everything is resampled once to the model's rate and held as float32 (an hour at 16 kHz is 230 MB). Labels come
from the set's items, or for a plain folder from its layout: ``DIR/<artist>/<genre>/song.wav`` or
``DIR/<artist>/song.wav``; files directly in ``DIR`` are 'unknown'. A plain folder's held-out split is every tenth file
(in sorted order), so it does not change between runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3", ".opus")


class TrainDataError(ValueError):
    """Training data that cannot be used; the message names the cause and the fix."""


@dataclass
class Clip:
    audio: np.ndarray  # (T,) float32 at the model's rate
    artist: str = "unknown"
    genre: str = "unknown"
    lyrics: str = ""
    name: str = ""
    split: str = "train"


@dataclass
class AudioSet:
    """Clips at one sample rate, with the label names they use."""

    sr: int
    clips: list = field(default_factory=list)

    def split(self, name: str) -> "AudioSet":
        return AudioSet(self.sr, [c for c in self.clips if c.split == name])

    @property
    def seconds(self) -> float:
        return sum(len(c.audio) for c in self.clips) / self.sr

    def artists(self) -> list[str]:
        return sorted({c.artist for c in self.clips} - {"unknown"})

    def genres(self) -> list[str]:
        return sorted({c.genre for c in self.clips} - {"unknown"})

    def crop_batch(self, rng: np.random.Generator, batch: int, length: int) -> tuple[np.ndarray, list]:
        """``batch`` random crops of ``length`` samples, clips drawn in proportion to their length.

        Returns (float32 (batch, length), [(clip index, start sample)]); short clips are zero-padded.
        """
        if not self.clips:
            raise TrainDataError("no training clips: the folder holds no readable audio in this split.")
        weights = np.array([max(len(c.audio), 1) for c in self.clips], dtype=np.float64)
        idx = rng.choice(len(self.clips), size=batch, p=weights / weights.sum())
        out = np.zeros((batch, length), np.float32)
        where = []
        for b, i in enumerate(idx):
            a = self.clips[i].audio
            start = int(rng.integers(0, max(len(a) - length, 0) + 1))
            piece = a[start:start + length]
            out[b, : len(piece)] = piece
            where.append((int(i), start))
        return out, where


def _resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return audio.astype(np.float32, copy=False)
    from studio.audio.resample import resample

    return np.asarray(resample(audio, sr_in, sr_out), dtype=np.float32)


def _from_built_set(root: Path, sr: int, max_hours: Optional[float], progress, keep=None) -> AudioSet:
    from studio.data import Dataset

    ds = Dataset(root)
    out = AudioSet(sr)
    budget = (max_hours or 1e9) * 3600.0
    total = 0.0
    for i in range(len(ds)):
        if keep is not None and not keep(ds.items[i]):
            continue
        audio, sr_in, item = ds.load(i)
        if total >= budget and item.get("split", "train") == "train":
            continue
        total += len(audio) / sr_in
        out.clips.append(Clip(_resample(audio, sr_in, sr), item.get("artist") or "unknown",
                              item.get("genre") or "unknown", item.get("lyrics") or "", str(item.get("id", i)),
                              "heldout" if item.get("split") == "heldout" else "train"))
        if progress:
            progress(i + 1, len(ds))
    return out


def _from_folder(root: Path, sr: int, max_hours: Optional[float], progress) -> AudioSet:
    from studio.audio.io import AudioLoadError, load_audio

    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise TrainDataError(f"{root} holds no audio files ({', '.join(AUDIO_SUFFIXES)}). Fix: point --data at a "
                             f"folder of songs, or at a set made by 'studio data build'.")
    out = AudioSet(sr)
    budget = (max_hours or 1e9) * 3600.0
    for n, path in enumerate(files):
        parts = path.relative_to(root).parts[:-1]
        artist = parts[0] if len(parts) >= 1 else "unknown"
        genre = parts[1] if len(parts) >= 2 else "unknown"
        try:
            audio = load_audio(path, sr)
        except AudioLoadError as exc:
            log.warning("skipping %s: %s", path, exc)
            continue
        if audio.ndim > 1:
            audio = audio.mean(axis=-1 if audio.shape[-1] <= 2 else 0)
        split = "heldout" if (n % 10 == 9 and len(files) >= 10) else "train"
        if out.seconds >= budget and split == "train":
            continue
        out.clips.append(Clip(np.asarray(audio, np.float32), artist, genre, "", path.stem, split))
        if progress:
            progress(n + 1, len(files))
    return out


def load_audio_set(path: "str | Path", sr: int, max_hours: Optional[float] = None,
                   progress: Optional[Callable[[int, int], None]] = None,
                   keep: Optional[Callable[[dict], bool]] = None) -> AudioSet:
    """A built set (a folder with ``items.jsonl``) or any folder of audio files, resampled to ``sr``.

    ``keep(item)`` (built sets only) chooses items by their entry in items.jsonl before any audio is read.
    """
    root = Path(path)
    if not root.is_dir():
        raise TrainDataError(f"{root}: no such folder. Fix: pass --data a folder of audio files or a built set.")
    if (root / "items.jsonl").is_file():
        return _from_built_set(root, sr, max_hours, progress, keep)
    return _from_folder(root, sr, max_hours, progress)


def synthetic_set(sr: int = 8000, seconds: float = 4.0, n_clips: int = 6, seed: int = 0) -> AudioSet:
    """Tones and noise bursts with two artists and two genres, for tests (deterministic from ``seed``)."""
    rng = np.random.default_rng(seed)
    out = AudioSet(sr)
    t = np.arange(int(seconds * sr)) / sr
    for i in range(n_clips):
        artist = ["alpha", "beta"][i % 2]
        base = 220.0 if artist == "alpha" else 440.0
        notes = base * 2 ** (rng.integers(0, 12, size=int(seconds * 4)) / 12)
        f = np.repeat(notes, len(t) // len(notes) + 1)[: len(t)]
        phase = 2 * np.pi * np.cumsum(f) / sr
        x = 0.3 * np.sin(phase) + (0.1 * np.sin(2 * phase) if i % 4 < 2 else 0.05 * rng.standard_normal(len(t)))
        out.clips.append(Clip(x.astype(np.float32), artist, ["reel", "air"][(i // 2) % 2], "la la la " * 4,
                              f"syn{i}", "heldout" if i == n_clips - 1 else "train"))
    return out
