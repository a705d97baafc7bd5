"""Takes on disk: the record of one generation, written after every window so nothing is lost.

A take folder holds::

    take.json          spec, plan (levels, candidates, range), seed, model, parent, status, sample rate
    codes_l{L}.npy     int64 (N, T_L) codes per level, -1 where not sampled yet
    l{L}_c{i}.wav      decoded audio of level L for candidate i (written when the level finishes)
    alignment_c{i}.npy lyric alignment (top tokens, lyric chars) per candidate, with alignment.json

Every file is written to a temporary name and renamed, so a crash leaves the previous complete state. Reading a
take needs no pickle (``np.load(allow_pickle=False)`` and JSON).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Optional

import numpy as np

from .spec import SongSpec

TAKE_FILE = "take.json"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_save_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npy")
    np.save(tmp, array, allow_pickle=False)
    os.replace(tmp, path)


class TakeStatus(str, Enum):
    """Where a take's job stands; the values are what ``take.json`` stores."""

    RUNNING = "running"  # under way, or stopped by a crash before it could record anything else
    CANCELLED = "cancelled"
    FAILED = "failed"
    DONE = "done"

    def __str__(self) -> str:
        return self.value

    @property
    def resumable(self) -> bool:
        """The job stopped before it finished (cancelled, failed, or a crash left it running): it can be resumed."""
        return self is not TakeStatus.DONE


@dataclass
class TakePlan:
    """What a take's job does: which levels, for which of the parent's candidates, over which range."""

    kind: str = "generate"  # generate | continue | upsample
    levels: list = field(default_factory=lambda: [2, 1, 0])
    candidates: list = field(default_factory=list)  # original candidate indices (seed streams)
    range_seconds: Optional[list] = None  # [start, end] for range-only upsampling


@dataclass
class TakeRecord:
    id: str
    spec: dict
    plan: dict
    model: str
    seed: int
    sr: int
    hop_lengths: list
    parent: Optional[str] = None
    status: TakeStatus = TakeStatus.RUNNING
    error: Optional[str] = None
    created: float = field(default_factory=time.time)
    finished: Optional[float] = None
    windows_done: dict = field(default_factory=dict)  # level -> number of windows written
    levels_done: list = field(default_factory=list)
    chosen: Optional[int] = None  # candidate the user picked
    parent_path: Optional[str] = None  # folder of the parent take

    def __post_init__(self):
        self.status = TakeStatus(self.status)  # read from JSON as its value; an unknown one raises ValueError


class Take:
    """One take folder."""

    def __init__(self, path: "str | Path", record: TakeRecord):
        self.path = Path(path)
        self.record = record

    # -- creation / loading ---------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: "str | Path", spec: SongSpec, plan: TakePlan, model: str, sr: int, hop_lengths: list,
               parent: Optional[str] = None) -> "Take":
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if (path / TAKE_FILE).exists():
            raise FileExistsError(f"{path} already holds a take; choose a new folder or use 'studio resume'.")
        rec = TakeRecord(id=uuid.uuid4().hex[:12], spec=spec.to_dict(), plan=asdict(plan), model=model,
                         seed=int(spec.seed), sr=int(sr), hop_lengths=list(hop_lengths), parent=parent)
        take = cls(path, rec)
        take.save()
        return take

    @classmethod
    def load(cls, path: "str | Path") -> "Take":
        path = Path(path)
        f = path / TAKE_FILE
        if not f.is_file():
            raise FileNotFoundError(f"{path} is not a take folder (no {TAKE_FILE}).")
        try:
            data = json.loads(f.read_text())
            data["windows_done"] = {int(k): v for k, v in data.get("windows_done", {}).items()}
            record = TakeRecord(**data)
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
            raise ValueError(f"{f}: damaged take record ({exc}).") from None
        return cls(path, record)

    def save(self) -> None:
        atomic_write_bytes(self.path / TAKE_FILE, json.dumps(asdict(self.record), indent=1).encode())

    # -- contents --------------------------------------------------------------------------------------------
    @property
    def spec(self) -> SongSpec:
        return SongSpec.from_dict(self.record.spec)

    @property
    def plan(self) -> TakePlan:
        return TakePlan(**self.record.plan)

    def codes_path(self, level: int) -> Path:
        return self.path / f"codes_l{level}.npy"

    def has_codes(self, level: int) -> bool:
        return self.codes_path(level).is_file()

    def codes(self, level: int) -> np.ndarray:
        """(N, T_L) int64, -1 where not sampled."""
        return np.load(self.codes_path(level), allow_pickle=False)

    def write_codes(self, level: int, codes: np.ndarray) -> None:
        atomic_save_npy(self.codes_path(level), np.ascontiguousarray(codes, dtype=np.int64))

    def audio_path(self, level: int, candidate: int) -> Path:
        return self.path / f"l{level}_c{candidate}.wav"

    def write_audio(self, level: int, audio: np.ndarray) -> list[Path]:
        """audio (N, T) float -> one WAV per candidate."""
        import soundfile as sf

        paths = []
        for i, a in enumerate(audio):
            p = self.audio_path(level, i)
            tmp = p.with_name(f".{p.name}.tmp.wav")
            sf.write(tmp, np.clip(a, -1.0, 1.0).astype(np.float32), self.record.sr, subtype="PCM_16")
            os.replace(tmp, p)
            paths.append(p)
        return paths

    def write_alignment(self, matrices: list, lyrics: list) -> None:
        for i, m in enumerate(matrices):
            atomic_save_npy(self.path / f"alignment_c{i}.npy", np.asarray(m, dtype=np.float32))
        atomic_write_bytes(self.path / "alignment.json", json.dumps({"lyrics": list(lyrics)}).encode())

    def alignment(self, candidate: int) -> Optional[tuple[np.ndarray, str]]:
        p = self.path / f"alignment_c{candidate}.npy"
        if not p.is_file():
            return None
        lyrics = json.loads((self.path / "alignment.json").read_text())["lyrics"][candidate]
        return np.load(p, allow_pickle=False), lyrics

    def set_status(self, status: TakeStatus, error: Optional[str] = None) -> None:
        """Record where the job stands (and when it stopped, unless it is running) in ``take.json``."""
        self.record.status = TakeStatus(status)
        self.record.error = error
        if self.record.status is not TakeStatus.RUNNING:
            self.record.finished = time.time()
        self.save()

    @property
    def finished(self) -> bool:
        return self.record.status is TakeStatus.DONE


def find_takes(root: "str | Path") -> list[Take]:
    """Every take folder under ``root`` (one level deep), oldest first."""
    root = Path(root)
    takes = []
    for f in sorted(root.glob(f"*/{TAKE_FILE}")):
        try:
            takes.append(Take.load(f.parent))
        except (ValueError, TypeError, FileNotFoundError):
            continue
    return sorted(takes, key=lambda t: t.record.created)


def interrupted_takes(root: "str | Path") -> list[Take]:
    """Takes whose job stopped before finishing (a crash leaves status 'running')."""
    return [t for t in find_takes(root) if t.record.status.resumable]
