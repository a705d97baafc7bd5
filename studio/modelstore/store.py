"""Where model folders live, how they are found, and the small settings file of the models directory.

Searched, in order: the user's models directory (``$JUKEBOX_MODELS_DIR``, default
``$XDG_DATA_HOME/jukebox-studio/models``: the rule is :mod:`studio.engine.paths`), the repository's ``models/`` (the
bundled demo model), and any folder the user points at. A model is any folder holding a ``manifest.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Optional

from studio.engine.paths import MODELS_DIR_ENV as ENV_VAR  # noqa: F401 - the model store's public names
from studio.engine.paths import repo_models_dir
from studio.engine.paths import user_models_dir as default_models_dir
from studio.modelstore.errors import ManifestError, UnknownModelError
from studio.modelstore.manifest import MANIFEST, Manifest, atomic_write_text

SETTINGS = "settings.json"


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class Settings:
    """``settings.json`` in the models directory."""

    mirror: Optional[str] = None  # base URL used instead of the official addresses
    licence_version: Optional[str] = None  # the licence summary the user accepted
    licence_accepted_at: Optional[str] = None

    @classmethod
    def load(cls, models_dir: Path) -> "Settings":
        path = Path(models_dir) / SETTINGS
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise ManifestError(f"cannot read {path}: {exc}", "fix the JSON or delete the file") from exc
        return cls(**{k: d.get(k) for k in ("mirror", "licence_version", "licence_accepted_at")})

    def save(self, models_dir: Path) -> None:
        Path(models_dir).mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(models_dir) / SETTINGS, json.dumps(self.__dict__, indent=2) + "\n")


def set_mirror(models_dir: Path, mirror: Optional[str]) -> Settings:
    """Store (or with None clear) the mirror base URL; returns the new settings."""
    if mirror and not mirror.startswith(("http://", "https://")):
        raise ValueError(f"mirror {mirror!r} is not an http(s) URL; give e.g. http://host:8000/")
    s = Settings.load(models_dir)
    s.mirror = mirror or None
    s.save(models_dir)
    return s


@dataclass(frozen=True)
class ModelEntry:
    """A discovered model folder."""

    name: str
    folder: Path
    source: str  # "user" (models directory), "bundled" (repository models/), "pointed" (a folder given)
    manifest: Manifest


def _folders(root: Path) -> list:
    """``root`` itself if it is a model folder, else its children that are."""
    if (root / MANIFEST).is_file():
        return [root]
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def discover(models_dir: Optional[Path] = None, extra: Iterable[Path] = (), include_repo: bool = True,
             errors: Optional[list] = None) -> list:
    """Every model folder found, as :class:`ModelEntry`, each folder once.

    Folders whose manifest cannot be read are skipped; their errors are appended to ``errors`` if given.
    """
    roots = [(Path(models_dir) if models_dir else default_models_dir(), "user")]
    if include_repo:
        roots.append((repo_models_dir(), "bundled"))
    roots += [(Path(p).expanduser(), "pointed") for p in extra]
    seen, found = set(), []
    for root, source in roots:
        for folder in _folders(root):
            key = folder.resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                m = Manifest.load(folder)
            except ManifestError as exc:
                if errors is not None:
                    errors.append(exc)
                continue
            found.append(ModelEntry(m.name or folder.name, folder, source, m))
    return found


def find_model(name_or_dir: str, models_dir: Optional[Path] = None) -> ModelEntry:
    """A model by name (among discovered folders) or by folder path.

    Raises:
        UnknownModelError: naming what was searched and how to get the model.
    """
    path = Path(name_or_dir).expanduser()
    if path.is_dir():
        if not (path / MANIFEST).is_file():
            raise UnknownModelError(f"{path} has no {MANIFEST}",
                                    "point at a model folder (one holding manifest.json), or download into it with "
                                    f"'studio models download NAME --to {path}'")
        return ModelEntry(Manifest.load(path).name or path.name, path, "pointed", Manifest.load(path))
    entries = discover(models_dir)
    for e in entries:
        if e.name == name_or_dir or e.folder.name == name_or_dir:
            return e
    names = ", ".join(sorted({e.name for e in entries})) or "none"
    where = Path(models_dir) if models_dir else default_models_dir()
    raise UnknownModelError(f"no model named {name_or_dir!r} in {where} or {repo_models_dir()} (found: {names})",
                            f"download it with 'studio models download {name_or_dir}' or give the folder's path")
