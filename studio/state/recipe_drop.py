"""An exported file dropped back into the studio: its embedded recipe, as a song spec to use again or to prime a new
take from the file itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from studio.audio.export import read_recipe
from studio.audio.io import AudioLoadError, audio_info
from studio.state.export_job import recipe_candidate

_SPEC_KEYS = ("artist", "genre", "lyrics", "temperature", "seed")  # what a recipe without a "spec" still says


@dataclass(frozen=True)
class DroppedExport:
    """A dropped audio file that carries a recipe.

    Attributes:
        path: the file.
        recipe: its recipe (from the sidecar or the file's tags).
        seconds: the file's length.
    """

    path: str
    recipe: dict
    seconds: float

    def settings_spec(self) -> dict:
        """The song spec that made the file ("use these settings")."""
        spec = self.recipe.get("spec")
        if isinstance(spec, dict):
            return dict(spec)
        return {k: self.recipe[k] for k in _SPEC_KEYS if self.recipe.get(k) is not None}

    def primed_spec(self) -> dict:
        """The same song primed with the whole file and twice its length, to continue from it ("continue from it")."""
        return dict(self.settings_spec(), prime={"file": self.path, "start": 0.0, "end": None},
                    seconds=round(2 * self.seconds, 2))

    def describe(self) -> str:
        """One line naming what the recipe says, with the candidate counted from 1 as the screen shows it."""
        r = self.recipe
        parts = [str(r[k]) for k in ("artist", "genre") if r.get(k)]
        if r.get("seed") is not None:
            parts.append(f"seed {r['seed']}")
        candidate = recipe_candidate(r)
        if candidate is not None:
            parts.append(f"candidate {candidate + 1}" + (f" of take {r['take']}" if r.get("take") else ""))
        return f"{Path(self.path).name} was made by Jukebox Studio" + (f": {', '.join(parts)}." if parts else ".")


def read_dropped(path: "str | Path") -> Optional[DroppedExport]:
    """The recipe of a dropped file, or None when the file is not audio or carries no recipe."""
    try:
        recipe = read_recipe(path)
        info = audio_info(path) if isinstance(recipe, dict) else None
    except (AudioLoadError, OSError, ValueError):
        return None
    if info is None:
        return None
    return DroppedExport(str(path), recipe, float(info.seconds))
