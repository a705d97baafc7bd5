"""The small JSON tables a model folder may hold beside its VQ-VAE (``sampling.json``, ``render_eq.json``): where
they live, how they are read and written, and the one form of error a damaged one gives. Torch-free."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional

from .spec import SpecError


def table_path(models, name: str) -> Path:
    """Where a model set's table ``name`` lives: in the folder of its VQ-VAE file."""
    return Path(models.vqvae_path).parent / name


def load_table(path: Path, what: str) -> Optional[object]:
    """The parsed JSON in ``path``, or None when there is no such file (SpecError naming it when unreadable)."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SpecError(f"{path}: not a readable {what} ({exc}). Fix: correct or delete the file.") from None


def table_error(path: Path, key: str, allowed: str) -> SpecError:
    """The error a damaged table gives: the file, the key, what it must be, and the fix."""
    return SpecError(f"{path}: '{key}' must be {allowed}. Fix: correct or delete the file.")


def write_table(path: "str | Path", data: dict, read_back: Callable[[Path], object]) -> Path:
    """Write ``data`` as ``path`` and read it back with ``read_back`` (what is written must read back)."""
    path = Path(path)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    read_back(path)
    return path
