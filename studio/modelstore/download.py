"""Fetch a whole official model into its folder: licence, disk-space check, files, manifest.

``download_model`` is what ``studio models download`` and the model dialog call. It records each file's size and
sha256 in ``manifest.json`` as soon as that file is complete, so an interrupted session loses at most the file in
flight (and even that resumes from its ``.part``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from studio.modelstore.catalog import FileSpec, official_files, shared_paths
from studio.modelstore.errors import DiskSpaceError, LicenceNotAccepted, human_bytes
from studio.modelstore.licence import LICENCE_VERSION, licence_record
from studio.modelstore.manifest import MANIFEST, FileEntry, Manifest, sha256_file
from studio.modelstore.store import Settings, default_models_dir, now_iso
from studio.modelstore.transfer import fetch_file, remote_size

DISK_MARGIN = 64 << 20  # bytes kept free beyond what the files need


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report. ``stage``: "plan", "download", "link" (reused from a sibling folder), "skip", "done"."""

    stage: str
    path: str  # the file concerned ("" for plan/done)
    done: int  # bytes of this file so far
    total: Optional[int]  # bytes of this file (None if unknown)
    file_index: int  # 0-based
    file_count: int


@dataclass(frozen=True)
class DownloadResult:
    folder: Path
    manifest: Manifest
    transferred: int  # bytes received over the network
    fetched: tuple  # paths downloaded (or resumed) by this call
    reused: tuple  # paths hard-linked from another model folder
    skipped: tuple  # paths already complete


def licence_accepted(models_dir: Path, folder: Path) -> bool:
    """Whether the user accepted the licence summary before (in the settings or this folder's manifest)."""
    s = Settings.load(models_dir)
    if s.licence_version == LICENCE_VERSION and s.licence_accepted_at:
        return True
    try:
        lic = Manifest.load(folder).licence or {}
    except Exception:  # no manifest yet, or unreadable: not accepted there
        return False
    return bool(lic.get("accepted")) and lic.get("version") == LICENCE_VERSION


def accept_licence(models_dir: Path) -> str:
    """Record acceptance in the models directory's settings; returns the time stamp."""
    s = Settings.load(models_dir)
    s.licence_version, s.licence_accepted_at = LICENCE_VERSION, now_iso()
    s.save(models_dir)
    return s.licence_accepted_at


def _folder_acceptance(folder: Path) -> Optional[str]:
    try:
        return (Manifest.load(folder).licence or {}).get("accepted_at")
    except Exception:
        return None


def _find_sibling(models_dir: Path, folder: Path, spec: FileSpec) -> Optional[tuple]:
    """A complete copy of a shared file (VQ-VAE, upsamplers) in another model folder: (path, FileEntry)."""
    if spec.path not in shared_paths() or not models_dir.is_dir():
        return None
    for other in sorted(models_dir.iterdir()):
        if other.resolve() == folder.resolve() or not (other / MANIFEST).is_file():
            continue
        try:
            entry = Manifest.load(other).entry(spec.path)
        except Exception:
            continue
        src = other / spec.path
        if entry and entry.sha256 and entry.size and src.is_file() and src.stat().st_size == entry.size:
            return src, entry
    return None


def _link(src: Path, dest: Path) -> bool:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
        return True
    except OSError:  # another file system, or links not allowed: download instead
        return False


def download_model(name: str, models_dir: Optional[Path] = None, *, to: Optional[Path] = None,
                   mirror: Optional[str] = None, accept: bool = False,
                   progress: Optional[Callable[[DownloadProgress], None]] = None,
                   cancel: Optional[Callable[[], bool]] = None, retries: int = 2, rehash: bool = False,
                   files: Optional[list] = None, timeout: float = 30.0) -> DownloadResult:
    """Download (or finish downloading) an official model into ``to`` or ``<models_dir>/<name>``.

    Args:
        mirror: base URL serving the official tree; None uses the settings' mirror, else the official addresses.
        accept: the user accepted the licence now (``--accept-licence`` or the dialog's checkbox).
        rehash: forget the sha256 recorded earlier and record what the server sends now.
        files: override the file list (tests); default :func:`~studio.modelstore.catalog.official_files`.

    Raises:
        LicenceNotAccepted, DiskSpaceError, OfflineError, DownloadError, DownloadInterrupted, DownloadCancelled,
        ChecksumError, UnknownModelError.
    """
    models_dir = Path(models_dir) if models_dir else default_models_dir()
    folder = Path(to).expanduser() if to else models_dir / name
    settings = Settings.load(models_dir) if models_dir.is_dir() else Settings()
    specs = files if files is not None else official_files(name, mirror or settings.mirror)
    if accept:
        accepted_at = accept_licence(models_dir)
    elif licence_accepted(models_dir, folder):
        accepted_at = Settings.load(models_dir).licence_accepted_at or _folder_acceptance(folder) or now_iso()
    else:
        raise LicenceNotAccepted(f"the {name} files are under OpenAI's noncommercial licence, not yet accepted here",
                                 "read it ('studio models licence') and download again with --accept-licence, "
                                 "or tick the licence box in the model dialog")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        manifest = Manifest.load(folder)
    except Exception:
        manifest = Manifest(name=name, kind="official")
    manifest.kind = "official"
    manifest.licence = licence_record(True, accepted_at)
    n = len(specs)
    report = progress or (lambda p: None)

    # plan: what is already here, what a sibling folder can lend, what must come over the network (and its size)
    todo, skipped, reused = [], [], []
    for spec in specs:  # list every file up front, so an unfinished folder reads as "missing", not "complete"
        if manifest.entry(spec.path) is None:
            manifest.set_entry(FileEntry(spec.path, None, spec.sha256, spec.url, spec.role))
    for i, spec in enumerate(specs):
        dest, old = folder / spec.path, manifest.entry(spec.path)
        old = old if old is not None and old.size is not None else None  # only a finished file's record counts
        if dest.is_file() and old and old.sha256 and old.size == dest.stat().st_size and not rehash:
            skipped.append(spec.path)
            report(DownloadProgress("skip", spec.path, old.size, old.size, i, n))
            continue
        if dest.is_file() and not old:  # copied in by hand: adopt it if it matches what we know
            digest = sha256_file(dest)
            if spec.sha256 in (None, digest):
                manifest.set_entry(FileEntry(spec.path, dest.stat().st_size, digest, spec.url, spec.role))
                skipped.append(spec.path)
                continue
        sibling = None if dest.exists() else _find_sibling(models_dir, folder, spec)
        if sibling and _link(sibling[0], dest):
            e = sibling[1]
            manifest.set_entry(FileEntry(spec.path, e.size, e.sha256, spec.url, spec.role))
            reused.append(spec.path)
            report(DownloadProgress("link", spec.path, e.size, e.size, i, n))
            continue
        todo.append((i, spec))
    manifest.save(folder)

    need = 0
    sizes = {}
    for i, spec in todo:
        report(DownloadProgress("plan", spec.path, 0, None, i, n))
        size = remote_size(spec.url, timeout) or spec.approx_size or 0
        sizes[spec.path] = size
        part = (folder / spec.path).with_name(Path(spec.path).name + ".part")
        need += max(0, size - (part.stat().st_size if part.exists() else 0))
    free = shutil.disk_usage(folder).free
    if todo and need + DISK_MARGIN > free:
        raise DiskSpaceError(f"{name} needs {human_bytes(need)} more on the disk of {folder}, "
                             f"which has {human_bytes(free)} free",
                             "free some space, or download elsewhere with --to DIR (or JUKEBOX_MODELS_DIR)",
                             need=need, free=free)

    transferred, fetched = 0, []
    for i, spec in todo:
        old = manifest.entry(spec.path)
        expected = spec.sha256 or (old.sha256 if old and not rehash else None)
        result = fetch_file(
            spec.url, folder / spec.path, expected_sha256=expected,
            expected_size=old.size if old and old.size and not rehash else None,
            progress=lambda d, t, _i=i, _p=spec.path: report(DownloadProgress("download", _p, d, t, _i, n)),
            cancel=cancel, retries=retries, timeout=timeout,
        )
        transferred += result.transferred
        fetched.append(spec.path)
        manifest.set_entry(FileEntry(spec.path, result.size, result.sha256, spec.url, spec.role))
        manifest.save(folder)
    manifest.files = sorted(manifest.files, key=lambda f: [s.path for s in specs].index(f.path)
                            if f.path in {s.path for s in specs} else len(specs))
    manifest.save(folder)
    report(DownloadProgress("done", "", transferred, transferred, n, n))
    return DownloadResult(folder, manifest, transferred, tuple(fetched), tuple(reused), tuple(skipped))
