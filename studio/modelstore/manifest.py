"""``manifest.json``: what a model folder holds, and checks of the folder against it.

Schema (format 1; see docs/MODELS.md)::

    {"format": 1, "name": "5b_lyrics", "kind": "official",
     "files": [{"path": "5b/vqvae.pth.tar", "size": 123, "sha256": "...", "url": "...", "role": "vqvae"}, ...],
     "licence": {"name": ..., "url": ..., "version": ..., "text": ..., "accepted": true, "accepted_at": "..."}}

Unknown keys (a project model's ``configs``, ``card``...) are kept as they are when the manifest is rewritten.
``files`` may also be written as a mapping ``{path: {"size": ..., "sha256": ...}}``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Callable, Optional

from studio.modelstore.errors import ManifestError

MANIFEST = "manifest.json"
FORMAT = 1
HASH_CHUNK = 4 << 20


class Status(str, Enum):
    COMPLETE = "complete"  # every file present at its recorded size (and, after a deep check, its sha256)
    MISSING = "missing"  # at least one file absent (maybe a .part of an interrupted download)
    CORRUPT = "corrupt"  # a file of the wrong size or checksum


@dataclass
class FileEntry:
    path: str  # relative, "/"-separated
    size: Optional[int] = None
    sha256: Optional[str] = None
    url: Optional[str] = None
    role: Optional[str] = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Manifest:
    name: str
    files: list = field(default_factory=list)  # FileEntry
    kind: str = "project"  # "official" (the user's download) or "project" (trained here, e.g. the demo model)
    licence: Optional[dict] = None
    extra: dict = field(default_factory=dict)  # every other key, preserved

    def entry(self, path: str) -> Optional[FileEntry]:
        return next((f for f in self.files if f.path == path), None)

    def set_entry(self, new: FileEntry) -> None:
        self.files = [f for f in self.files if f.path != new.path] + [new]

    @property
    def licence_accepted(self) -> bool:
        return bool(self.licence and self.licence.get("accepted"))

    def to_dict(self) -> dict:
        d = {"format": FORMAT, "name": self.name, "kind": self.kind, "files": [f.to_dict() for f in self.files]}
        if self.licence is not None:
            d["licence"] = self.licence
        return {**self.extra, **d}

    @classmethod
    def from_dict(cls, d: dict, where: str = "manifest") -> "Manifest":
        if not isinstance(d, dict) or not isinstance(d.get("name", ""), str):
            raise ManifestError(f"{where} is not a JSON object with a 'name'", "restore it or delete it and download again")
        raw = d.get("files", [])
        if isinstance(raw, dict):
            raw = [{"path": p, **(v if isinstance(v, dict) else {})} for p, v in raw.items()]
        known = set(FileEntry.__dataclass_fields__)
        try:
            files = [FileEntry(**{k: v for k, v in f.items() if k in known}) for f in raw]
        except TypeError as exc:
            raise ManifestError(f"{where} has a malformed 'files' list ({exc})", "restore it or download again") from exc
        extra = {k: v for k, v in d.items() if k not in ("format", "name", "kind", "files", "licence")}
        return cls(d.get("name", ""), files, d.get("kind", "project"), d.get("licence"), extra)

    @classmethod
    def load(cls, folder: Path) -> "Manifest":
        path = Path(folder) / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ManifestError(f"{folder} has no {MANIFEST}", "point at a model folder, or download a model into it") from None
        except (OSError, ValueError) as exc:
            raise ManifestError(f"cannot read {path}: {exc}", "fix the JSON or delete the file and download again") from exc
        m = cls.from_dict(data, str(path))
        m.name = m.name or Path(folder).name
        return m

    def save(self, folder: Path) -> None:
        """Write atomically (temporary file, then rename), so a crash never leaves half a manifest."""
        atomic_write_text(Path(folder) / MANIFEST, json.dumps(self.to_dict(), indent=2) + "\n")


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def sha256_file(path: Path, progress: Optional[Callable[[int, int], None]] = None,
                cancel: Optional[Callable[[], bool]] = None) -> str:
    """Hex sha256 of a file; ``progress(done, total)`` after every chunk; ``cancel()`` checked as often."""
    h, done, total = hashlib.sha256(), 0, os.path.getsize(path)
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
            if cancel and cancel():
                from studio.modelstore.errors import DownloadCancelled

                raise DownloadCancelled("verification cancelled", "run verify again when you have time")
    return h.hexdigest()


@dataclass(frozen=True)
class FileCheck:
    path: str
    status: Status
    detail: str  # "ok", "absent", "partial download: 3.0 MB of 8.0 MB", "size 12 B, expected 20 B", "sha256 ..."


@dataclass(frozen=True)
class ModelCheck:
    name: str
    folder: Path
    status: Status
    files: tuple  # FileCheck
    deep: bool  # sha256 compared (not only sizes)

    @property
    def problems(self) -> list:
        return [f for f in self.files if f.status is not Status.COMPLETE]


def check_folder(folder: Path, manifest: Optional[Manifest] = None, deep: bool = False,
                 progress: Optional[Callable[[str, int, int], None]] = None,
                 cancel: Optional[Callable[[], bool]] = None) -> ModelCheck:
    """Compare a folder with its manifest: sizes always, sha256 too when ``deep`` (``progress(path, done, total)``)."""
    folder = Path(folder)
    m = manifest or Manifest.load(folder)
    checks = []
    for e in m.files:
        p = folder / e.path
        if not p.is_file():
            part = p.with_name(p.name + ".part")
            detail = "absent"
            if part.is_file():
                of = f" of {e.size} B" if e.size else ""
                detail = f"partial download: {part.stat().st_size} B{of} (run download again to resume)"
            checks.append(FileCheck(e.path, Status.MISSING, detail))
            continue
        size = p.stat().st_size
        if e.size is not None and size != e.size:
            checks.append(FileCheck(e.path, Status.CORRUPT, f"size {size} B, expected {e.size} B"))
            continue
        if deep and e.sha256:
            got = sha256_file(p, (lambda d, t, _p=e.path: progress(_p, d, t)) if progress else None, cancel)
            if got != e.sha256:
                checks.append(FileCheck(e.path, Status.CORRUPT, f"sha256 {got[:12]}..., expected {e.sha256[:12]}..."))
                continue
        detail = "ok" if e.sha256 or not deep else "ok (no sha256 recorded)"
        checks.append(FileCheck(e.path, Status.COMPLETE, detail))
    if not m.files:
        status = Status.MISSING
    elif any(c.status is Status.CORRUPT for c in checks):
        status = Status.CORRUPT
    elif any(c.status is Status.MISSING for c in checks):
        status = Status.MISSING
    else:
        status = Status.COMPLETE
    return ModelCheck(m.name, folder, status, tuple(checks), deep)
