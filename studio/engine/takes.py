"""Takes on disk: the record of one generation, written after every window so nothing is lost.

A take folder holds::

    take.json          spec, plan (levels, candidates, range), seed, model, parent, status, sample rate
    codes_l{L}.npy     int64 (N, T_L) codes per level, -1 where not sampled yet
    l{L}_c{i}.wav      decoded audio of level L for candidate i (written when the level finishes)
    alignment_c{i}.npy lyric alignment (top tokens, lyric chars) per candidate, with alignment.json

Every file is written whole to a temporary name, fsynced and renamed (:mod:`.atomic_files`), except that each
window's codes are written into their level's file in place (:mod:`.code_store`); so a crash, a kill or a full disk
leaves a state that resumes to the same take. One process writes a take at a time (:mod:`.take_lock`). Reading a take
needs no pickle (``np.load(allow_pickle=False)`` and JSON).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import MISSING, asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

from .atomic_files import atomic_write_bytes, atomic_writer
from .code_store import load_codes, save_codes, write_tokens
from .spec import SongSpec, SpecError, is_finite_number, is_whole

TAKE_FILE = "take.json"


class TakeStatus(str, Enum):
    """Where a take's job stands; the values are what ``take.json`` stores."""

    RUNNING = "running"  # under way, or stopped by a crash before it could record anything else
    CANCELLED = "cancelled"
    FAILED = "failed"
    DONE = "done"
    DAMAGED = "damaged"  # never recorded: what a listing shows for a take whose take.json cannot be read

    def __str__(self) -> str:
        return self.value

    @property
    def resumable(self) -> bool:
        """The job stopped before it finished (cancelled, failed, or a crash left it running): it can be resumed."""
        return self in (TakeStatus.RUNNING, TakeStatus.CANCELLED, TakeStatus.FAILED)


PLAN_KINDS = ("generate", "continue", "upsample", "regenerate", "join", "wide")
WIDE_KIND = "wide"  # the plan kind whose two rows are a stereo pair (left, right)


def channel_rows(kind: str, candidate: int) -> list[int]:
    """The rows of a take of plan ``kind`` that ``candidate`` (0-based) sounds as, one per channel: a wide take's two
    rows (left, right) whichever candidate is chosen, else the candidate alone. Playing, drawing and exporting all
    follow it."""
    return [0, 1] if kind == WIDE_KIND else [candidate]


@dataclass
class TakePlan:
    """What a take's job does: which levels, for which of the parent's candidates, over which range."""

    kind: str = "generate"  # generate | continue | upsample | regenerate | join | wide
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
    at_seconds: Optional[float] = None  # regenerate: where the new part starts; join: the seam (on a top token)
    joined: Optional[dict] = None  # join: the second take {"id", "path", "candidate", "seconds": where it comes in}

    def __post_init__(self):
        self.status = TakeStatus(self.status)  # read from JSON as its value; an unknown one raises ValueError
        if self.status is TakeStatus.DAMAGED:
            raise ValueError("'damaged' is not a status a take records")


class DamagedTake(ValueError):
    """A take folder whose ``take.json`` is not a take record; the message names the file, the fault and the fix."""

    def __init__(self, folder: Path, fault: str):
        self.folder = Path(folder)
        super().__init__(f"{self.folder / TAKE_FILE}: damaged take record ({fault}). Its codes and audio are left "
                         f"untouched: restore take.json from a backup, or move the folder aside.")


class TakeFolderError(OSError):
    """A folder a new take cannot be made in (it holds files, or cannot be written); nothing in it is touched."""


def check_new_take_folder(path: "str | Path") -> Path:
    """``path`` if a new take may be made there (absent, or an empty folder); creates nothing.

    Raises:
        TakeFolderError: ``path`` is a file, holds a take or other files, or cannot be listed.
    """
    path = Path(path)
    if not path.exists():
        return path
    if not path.is_dir():
        raise TakeFolderError(f"'{path}' is a file, not a folder: choose a new --out folder.")
    fix = f"choose a new --out folder, or `studio resume {path}` if it is a take"
    try:
        names = sorted(p.name for p in path.iterdir())
    except OSError as exc:
        raise TakeFolderError(f"cannot look inside '{path}' ({exc.strerror or exc}): {fix}.") from None
    if TAKE_FILE in names:
        raise TakeFolderError(f"'{path}' already holds a take: run `studio resume {path}` to finish it, or choose a "
                              f"new --out folder for a new take.")
    if names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise TakeFolderError(f"'{path}' already holds files ({shown}) and a new take never writes among them: {fix}.")
    return path


def _text(v) -> bool:
    return isinstance(v, str)


def _optional(check):
    return lambda v: v is None or check(v)


def _list_of(check):
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def _index(v) -> bool:
    return is_whole(v) and v >= 0


# field -> (what it must be, check); a record's fields without a default must be present
_PLAN_FIELDS = {
    "kind": ('one of ' + ", ".join(f'"{k}"' for k in PLAN_KINDS), lambda v: v in PLAN_KINDS),
    "levels": ("a list of levels", _list_of(_index)),
    "candidates": ("a list of candidate numbers", _list_of(_index)),
    "range_seconds": ("null or [start, end] in seconds",
                      _optional(lambda v: _list_of(is_finite_number)(v) and len(v) == 2)),
}
_RECORD_FIELDS = {
    "id": ("a non-empty text", lambda v: _text(v) and v != ""),
    "spec": ("an object", lambda v: isinstance(v, dict)),
    "plan": ("an object", lambda v: isinstance(v, dict)),
    "model": ("a text", _text),
    "seed": ("a whole number", is_whole),
    "sr": ("a positive whole number", lambda v: is_whole(v) and v > 0),
    "hop_lengths": ("a list of positive whole numbers", lambda v: _list_of(is_whole)(v) and bool(v) and min(v) > 0),
    "parent": ("null or a text", _optional(_text)),
    "status": ("a text", _text),
    "error": ("null or a text", _optional(_text)),
    "created": ("a time in seconds", is_finite_number),
    "finished": ("null or a time in seconds", _optional(is_finite_number)),
    "windows_done": ("an object of level: windows written",
                     lambda v: isinstance(v, dict) and all(k.isdecimal() and _index(n) for k, n in v.items())),
    "levels_done": ("a list of levels", _list_of(_index)),
    "chosen": ("null or a candidate number", _optional(_index)),
    "parent_path": ("null or a text", _optional(_text)),
    "at_seconds": ("null or a time in seconds", _optional(lambda v: is_finite_number(v) and v >= 0)),
    "joined": ('null or {"id": text, "path": text, "candidate": number, "seconds": time}',
               _optional(lambda v: isinstance(v, dict) and set(v) == {"id", "path", "candidate", "seconds"}
                         and _text(v["id"]) and _text(v["path"]) and _index(v["candidate"])
                         and is_finite_number(v["seconds"]) and v["seconds"] >= 0)),
}
_REQUIRED = tuple(f.name for f in fields(TakeRecord) if f.default is MISSING and f.default_factory is MISSING)


def _shown(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:36] + " ..."


def _check_fields(data, checks: dict, required: tuple, where: str) -> None:
    """ValueError naming the first fault of ``data`` (a parsed JSON object) against ``checks``."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} is {_shown(data)}, not an object")
    unknown = sorted(set(data) - set(checks))
    if unknown:
        raise ValueError(f"{where} has unknown field(s) {', '.join(map(repr, unknown))}")
    missing = [name for name in required if name not in data]
    if missing:
        raise ValueError(f"{where} lacks the field(s) {', '.join(map(repr, missing))}")
    for name, (what, ok) in checks.items():
        if name in data and not ok(data[name]):
            raise ValueError(f"'{name}' in {where} must be {what}, not {_shown(data[name])}")


def _record_from(data) -> TakeRecord:
    """The record that ``data`` (take.json parsed) holds; ValueError naming the first field that is missing or wrong."""
    _check_fields(data, _RECORD_FIELDS, _REQUIRED, "the record")
    _check_fields(data["plan"], _PLAN_FIELDS, (), "the plan")
    try:
        SongSpec.from_dict(data["spec"])
    except SpecError as exc:
        raise ValueError(f"its song spec is not valid: {str(exc).rstrip('.')}") from None
    record = TakeRecord(**{**data, "windows_done": {int(k): n for k, n in data.get("windows_done", {}).items()}})
    n_levels, plan = len(record.hop_lengths), TakePlan(**record.plan)
    levels = set(plan.levels) | set(record.levels_done) | set(record.windows_done)
    if max(levels, default=0) >= n_levels:
        raise ValueError(f"it names level {max(levels)}, but its model has levels 0-{n_levels - 1}")
    if record.chosen is not None and record.chosen >= len(plan.candidates):
        raise ValueError(f"'chosen' is candidate {record.chosen}, but the take has {len(plan.candidates)}")
    return record


class Take:
    """One take folder."""

    def __init__(self, path: "str | Path", record: TakeRecord):
        self.path = Path(path)
        self.record = record

    # -- creation / loading ---------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: "str | Path", spec: SongSpec, plan: TakePlan, model: str, sr: int, hop_lengths: list,
               parent: Optional[str] = None) -> "Take":
        """A new take in ``path``, which must be absent or empty (:func:`check_new_take_folder`)."""
        path = check_new_take_folder(path)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TakeFolderError(f"cannot make the take folder '{path}' ({exc.strerror or exc}): choose a folder "
                                  f"you can write to.") from None
        rec = TakeRecord(id=uuid.uuid4().hex[:12], spec=spec.to_dict(), plan=asdict(plan), model=model,
                         seed=int(spec.seed), sr=int(sr), hop_lengths=list(hop_lengths), parent=parent)
        take = cls(path, rec)
        take.save()
        return take

    @classmethod
    def load(cls, path: "str | Path") -> "Take":
        """The take in folder ``path``.

        Raises:
            FileNotFoundError: the folder holds no ``take.json``.
            DamagedTake: ``take.json`` cannot be read, is not JSON, or any field of it is missing or wrong.
        """
        path = Path(path)
        f = path / TAKE_FILE
        if not f.exists():
            raise FileNotFoundError(f"{path} is not a take folder (no {TAKE_FILE}).")
        try:
            record = _record_from(json.loads(f.read_bytes()))
        except OSError as exc:
            raise DamagedTake(path, f"it cannot be read: {exc.strerror or exc}") from None
        except RecursionError:
            raise DamagedTake(path, "it is nested too deeply to be a take record") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DamagedTake(path, f"it is not JSON: {exc}") from None
        except ValueError as exc:
            raise DamagedTake(path, str(exc)) from None
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
        return load_codes(self.codes_path(level))

    def write_codes(self, level: int, codes: np.ndarray) -> None:
        """The level's whole codes (N, T_L), replacing the file atomically."""
        save_codes(self.codes_path(level), codes)

    def write_tokens(self, level: int, codes: np.ndarray, start: int, end: int) -> None:
        """Tokens ``[start, end)`` of the level's codes (N, T_L), written in place (a window's new tokens)."""
        write_tokens(self.codes_path(level), codes, start, end)

    def audio_path(self, level: int, candidate: int) -> Path:
        return self.path / f"l{level}_c{candidate}.wav"

    def write_audio(self, level: int, audio: np.ndarray) -> list[Path]:
        """audio (N, T) float -> one WAV per candidate, each written atomically."""
        from studio.audio.io import wav_bytes

        paths = []
        for i, a in enumerate(audio):
            p = self.audio_path(level, i)
            atomic_write_bytes(p, wav_bytes(a, self.record.sr))
            paths.append(p)
        return paths

    def write_alignment(self, matrices: list, lyrics: list) -> None:
        for i, m in enumerate(matrices):
            with atomic_writer(self.path / f"alignment_c{i}.npy") as f:
                np.save(f, np.asarray(m, dtype=np.float32), allow_pickle=False)
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


class TakeScan(NamedTuple):
    takes: list  # Take, oldest first
    damaged: list  # DamagedTake, by folder name


def scan_takes(root: "str | Path") -> TakeScan:
    """Every take folder under ``root`` (one level deep): the readable takes, and the damaged ones with their fault."""
    takes, damaged = [], []
    for f in sorted(Path(root).glob(f"*/{TAKE_FILE}")):
        try:
            takes.append(Take.load(f.parent))
        except DamagedTake as exc:
            damaged.append(exc)
        except FileNotFoundError:  # removed while we looked
            continue
    return TakeScan(sorted(takes, key=lambda t: t.record.created), damaged)


def find_takes(root: "str | Path") -> list[Take]:
    """Every readable take folder under ``root`` (one level deep), oldest first; damaged ones are left out."""
    return scan_takes(root).takes


def interrupted_takes(root: "str | Path") -> list[Take]:
    """Takes whose job stopped before finishing (a crash leaves status 'running')."""
    return [t for t in find_takes(root) if t.record.status.resumable]
