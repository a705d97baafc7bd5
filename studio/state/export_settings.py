"""The export choices a project remembers: folder, format, lyrics file and how the audio is prepared.

Kept in ``export.json`` beside the project's ``project.json`` and written atomically, so each project exports to its
own folder (``<project>/exports`` until the user picks another) and a damaged or hand-edited file falls back to the
defaults instead of failing an export.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Optional

from studio.audio.export import write_text_atomic
from studio.audio.mastering import ExportOptions

SETTINGS_FILE = "export.json"
DEFAULT_SUBFOLDER = "exports"


@dataclass(frozen=True)
class ExportSettings:
    """One project's export choices. ``folder`` '' means ``<project>/exports``."""

    folder: str = ""
    fmt: str = "wav"
    lyrics: bool = True
    options: ExportOptions = field(default_factory=ExportOptions)

    def folder_in(self, project_folder: "str | Path") -> Path:
        """Where exports go for the project at ``project_folder``."""
        return Path(self.folder) if self.folder else Path(project_folder) / DEFAULT_SUBFOLDER


def _from_dict(data: dict) -> ExportSettings:
    """Settings from their JSON (ValueError or TypeError for values ExportOptions refuses)."""
    opts = data.get("options") if isinstance(data.get("options"), dict) else {}
    names = {f.name for f in fields(ExportOptions)}
    return ExportSettings(folder=str(data.get("folder") or ""), fmt=str(data.get("fmt") or "wav"),
                          lyrics=data.get("lyrics") is not False,
                          options=ExportOptions(**{k: v for k, v in opts.items() if k in names}))


def load_export_settings(project_folder: "str | Path") -> ExportSettings:
    """The project's saved choices, or the defaults when it has none or they cannot be read."""
    path = Path(project_folder) / SETTINGS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _from_dict(data) if isinstance(data, dict) else ExportSettings()
    except (OSError, ValueError, TypeError):
        return ExportSettings()


def save_export_settings(project_folder: "str | Path", settings: ExportSettings) -> Optional[str]:
    """Write the choices into the project; returns a message when they could not be saved (the export stands)."""
    path = Path(project_folder) / SETTINGS_FILE
    try:
        write_text_atomic(path, json.dumps(asdict(settings), indent=1) + "\n")
    except OSError as err:
        return f"The export choices could not be saved in '{path}': {err.strerror or err}."
    return None


def with_folder(settings: ExportSettings, folder: "str | Path", project_folder: "str | Path") -> ExportSettings:
    """The settings with ``folder`` remembered ('' when it is the project's default exports folder)."""
    chosen = Path(folder)
    return replace(settings, folder="" if chosen == Path(project_folder) / DEFAULT_SUBFOLDER else str(chosen))
