"""A project on disk: a folder holding ``project.json`` (editor spec, model, chosen take) and ``takes/``.

Deleted takes are moved to ``.trash/`` inside the project (never erased), so undo can put them back.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Optional

PROJECT_FILE = "project.json"
TAKES = "takes"
TRASH = ".trash"
FORMAT = "jukebox-studio-project"


class ProjectError(Exception):
    """A project that cannot be opened or saved; the message names the cause and the fix."""


class Project:
    """One project folder. ``data`` is the JSON document; ``save()`` writes it atomically."""

    def __init__(self, folder: "str | Path", data: Optional[dict] = None):
        self.folder = Path(folder)
        self.data = data if data is not None else {"format": FORMAT, "version": 1, "created": time.time(),
                                                   "spec": {}, "model": None, "current_take": None}

    # -- open / create ----------------------------------------------------------------------------------------
    @classmethod
    def create(cls, folder: "str | Path") -> "Project":
        folder = Path(folder).expanduser()
        if (folder / PROJECT_FILE).is_file():
            return cls.open(folder)
        try:
            (folder / TAKES).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"Cannot create the project folder '{folder}': {exc.strerror or exc}. Choose a "
                               f"folder you can write to.") from None
        project = cls(folder)
        project.save()
        return project

    @classmethod
    def open(cls, folder: "str | Path") -> "Project":
        folder = Path(folder).expanduser()
        f = folder / PROJECT_FILE
        if not f.is_file():
            if (folder / TAKES).is_dir():  # a project whose project.json was lost: rebuild it from its takes
                project = cls(folder)
                project.save()
                return project
            raise ProjectError(f"'{folder}' is not a project (it has no {PROJECT_FILE}). Open a folder made with "
                               f"File > New Project, or create a new project there.")
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProjectError(f"'{f}' is damaged ({exc}). Its takes are safe in '{folder / TAKES}': create a new "
                               f"project in the same folder to rebuild the file.") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ProjectError(f"'{f}' is not a Jukebox Studio project file; choose another folder.")
        (folder / TAKES).mkdir(exist_ok=True)
        return cls(folder, data)

    def save(self) -> None:
        self.data["saved"] = time.time()
        f = self.folder / PROJECT_FILE
        tmp = f.with_name(f".{f.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(self.data, indent=1, default=str), encoding="utf-8")
            os.replace(tmp, f)
        except OSError as exc:
            raise ProjectError(f"Could not save '{f}': {exc.strerror or exc}. Check the disk has space and the folder "
                               f"is writable; your takes are already on disk.") from None

    # -- folders ----------------------------------------------------------------------------------------------
    @property
    def takes_dir(self) -> Path:
        return self.folder / TAKES

    @property
    def trash_dir(self) -> Path:
        return self.folder / TRASH

    @property
    def name(self) -> str:
        return self.folder.name

    def new_take_folder(self, kind: str) -> Path:
        """A fresh folder name under takes/: ``0003-upsample``."""
        existing = [p.name for p in self.takes_dir.iterdir()] if self.takes_dir.is_dir() else []
        existing += [p.name for p in self.trash_dir.iterdir()] if self.trash_dir.is_dir() else []
        n = 1 + max([int(name[:4]) for name in existing if name[:4].isdecimal()], default=0)
        return self.takes_dir / f"{n:04d}-{kind}"

    def trash(self, take_dir: "str | Path") -> Path:
        """Move a take into .trash/ (undoable); returns where it went."""
        src = Path(take_dir)
        self.trash_dir.mkdir(exist_ok=True)
        dst = self.trash_dir / src.name
        if dst.exists():
            shutil.rmtree(dst)
        os.replace(src, dst)
        return dst

    def restore(self, take_name: str) -> Path:
        """Move a trashed take back into takes/."""
        src, dst = self.trash_dir / take_name, self.takes_dir / take_name
        if dst.exists():
            raise ProjectError(f"Cannot restore '{take_name}': a take of that name already exists in {self.takes_dir}.")
        os.replace(src, dst)
        return dst
