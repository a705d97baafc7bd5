"""Where model folders are looked up: the one rule shared by the engine's model sets and the model store.

Plain ``os``/``pathlib``: the model store and the studio process import it without torch.
"""

from __future__ import annotations

import os
from pathlib import Path

MODELS_DIR_ENV = "JUKEBOX_MODELS_DIR"


def user_models_dir() -> Path:
    """``$JUKEBOX_MODELS_DIR`` if set, else ``$XDG_DATA_HOME/jukebox-studio/models`` (``XDG_DATA_HOME`` defaulting to
    ``~/.local/share``): where downloaded models go and are found first."""
    env = os.environ.get(MODELS_DIR_ENV)
    if env:
        return Path(env).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "jukebox-studio" / "models"


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/jukebox-studio`` (``~/.cache`` by default): what the studio keeps between runs and can
    always make again (compiled steps, artist and genre maps)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jukebox-studio"


def repo_models_dir() -> Path:
    """The repository's ``models/`` folder (holds the bundled demo model)."""
    return Path(__file__).resolve().parents[2] / "models"

