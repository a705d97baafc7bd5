"""The open project as a Qt state object: its takes, the selected take, the undo stack, autosave and recent files."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtGui import QUndoStack

from studio.engine.takes import TakeStatus
from studio.state.project import Project, ProjectError
from studio.state.take_commands import AddTakeCommand, ChooseCandidateCommand, DeleteTakeCommand
from studio.state.take_data import TakeSummary, list_takes

MAX_RECENT = 8


class ProjectState(QObject):
    """Emits only on real change. ``spec_provider`` returns the editor's current spec dict for autosave."""

    project_changed = Signal(str)  # project folder
    takes_changed = Signal()
    current_changed = Signal(str)  # selected take folder ('' for none)
    candidate_chosen = Signal(str, int)  # take folder, candidate (-1: none)
    recent_changed = Signal()
    saved = Signal(str)  # project.json path

    def __init__(self, settings: QSettings, autosave_ms: int = 30000, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.project: Optional[Project] = None
        self.undo_stack = QUndoStack(self)
        self.takes: list[TakeSummary] = []
        self.current: str = ""
        self.spec_provider: Callable[[], dict] = dict
        self.model_provider: Callable[[], Optional[str]] = lambda: None
        self.busy_take: Callable[[], str] = lambda: ""  # the take a job is writing now ('' when idle)
        self._autosave = QTimer(self)
        self._autosave.setInterval(autosave_ms)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()

    # -- projects -------------------------------------------------------------------------------------------------
    def open(self, folder: "str | Path", create: bool = False) -> Project:
        """Open (or create) a project; raises ProjectError with a message for the user."""
        project = Project.create(folder) if create else Project.open(folder)
        if self.project is not None:
            self.autosave()
        self.project = project
        self.undo_stack.clear()
        self.current = ""
        self._add_recent(str(project.folder))
        self.project_changed.emit(str(project.folder))
        self.reload_takes(select=project.data.get("current_take") or None)
        return project

    def autosave(self) -> bool:
        """Write project.json with the editor's spec, the model and the selection; False when nothing is open."""
        if self.project is None:
            return False
        self.project.data["spec"] = self.spec_provider()
        self.project.data["model"] = self.model_provider() or self.project.data.get("model")
        self.project.data["current_take"] = Path(self.current).name if self.current else None
        try:
            self.project.save()
        except ProjectError:
            return False  # autosave stays quiet; an explicit save shows the message
        self.saved.emit(str(self.project.folder / "project.json"))
        return True

    def save_queue(self, jobs: list) -> bool:
        """Save the waiting jobs (JSON recipes) with the project at once, so a crash keeps them; False when not."""
        if self.project is None:
            return False
        self.project.data["queue"] = list(jobs)
        return self._write_quietly()

    def saved_queue(self) -> list:
        """The waiting jobs saved with the project (JSON, as :meth:`save_queue` wrote them)."""
        return list(self.project.data.get("queue") or []) if self.project is not None else []

    def set_quit_take(self, take_dir: str) -> bool:
        """Record the take a quit stopped mid-job ('' for none): its record says cancelled, yet the user did not ask."""
        if self.project is None:
            return False
        self.project.data["quit_take"] = Path(take_dir).name if take_dir else None
        return self._write_quietly()

    def forget_recovery(self, queue: list) -> None:
        """The recovery prompt was answered: what it offered is not offered again; ``queue`` is what waits now."""
        if self.project is not None:
            self.project.data["quit_take"] = None
            self.project.data["queue"] = list(queue)
            self._write_quietly()

    def _write_quietly(self) -> bool:
        try:
            self.project.save()
        except ProjectError:
            return False  # like autosave: the next explicit save shows the message
        return True

    def stop_autosave(self) -> None:
        self._autosave.stop()
        self.spec_provider = dict

    def save(self) -> None:
        """Explicit save: like autosave, but errors reach the caller."""
        if self.project is None:
            raise ProjectError("No project is open: use File > New Project first.")
        self.project.data["spec"] = self.spec_provider()
        self.project.data["model"] = self.model_provider() or self.project.data.get("model")
        self.project.data["current_take"] = Path(self.current).name if self.current else None
        self.project.save()
        self.saved.emit(str(self.project.folder / "project.json"))

    # -- recent ----------------------------------------------------------------------------------------------------
    def recent(self) -> list[str]:
        value = self.settings.value("recent_projects", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if Path(v).is_dir()]

    def _add_recent(self, folder: str) -> None:
        items = [folder] + [r for r in self.recent() if r != folder]
        self.settings.setValue("recent_projects", items[:MAX_RECENT])
        self.recent_changed.emit()

    # -- takes -------------------------------------------------------------------------------------------------------
    def reload_takes(self, select: Optional[str] = None) -> None:
        takes = list_takes(self.project.takes_dir) if self.project else []
        if takes != self.takes:
            self.takes = takes
            self.takes_changed.emit()
        if select is not None:
            path = select if Path(select).is_absolute() or self.project is None else str(self.project.takes_dir / select)
            self.select(path)
        elif self.current and not Path(self.current).is_dir():
            self.select("")

    def select(self, take_dir: str) -> None:
        take_dir = str(take_dir) if take_dir else ""
        if take_dir != self.current:
            self.current = take_dir
            self.current_changed.emit(take_dir)

    def summary(self, take_dir: str) -> Optional[TakeSummary]:
        return next((t for t in self.takes if t.path == str(take_dir)), None)

    def children(self, take_id: Optional[str]) -> list[TakeSummary]:
        ids = {t.id for t in self.takes}
        if take_id is None:
            return [t for t in self.takes if t.parent is None or t.parent not in ids]
        return [t for t in self.takes if t.parent == take_id]

    def interrupted(self) -> list[TakeSummary]:
        return [t for t in self.takes if t.resumable]

    def to_recover(self) -> list[TakeSummary]:
        """Takes a crash, a failure or a quit left unfinished; not those the user cancelled on purpose."""
        quit_take = self.project.data.get("quit_take") if self.project is not None else None
        return [t for t in self.interrupted() if t.status is not TakeStatus.CANCELLED or t.name == quit_take]

    # -- undoable operations -----------------------------------------------------------------------------------------
    def add_take(self, take_dir: str, kind: str) -> None:
        """Record a take a job just made (undo moves it to the trash) and select it."""
        self.reload_takes(select=take_dir)
        self.undo_stack.push(AddTakeCommand(self, take_dir, kind))

    def delete_take(self, take_dir: str) -> None:
        if Path(take_dir).name == Path(self.busy_take() or "").name:
            raise ProjectError("This take is being sampled now: cancel the job first, then delete it.")
        self.undo_stack.push(DeleteTakeCommand(self, take_dir))

    def choose_candidate(self, take_dir: str, candidate: Optional[int]) -> None:
        old = self.summary(take_dir).chosen if self.summary(take_dir) else None
        if old != candidate:
            self.undo_stack.push(ChooseCandidateCommand(self, take_dir, old, candidate))

    def trash_take(self, name: str) -> None:
        """Used by the commands: move a take to the trash (refused while a job writes it)."""
        if name == Path(self.busy_take() or "").name:
            raise ProjectError("This take is being sampled now: cancel the job first.")
        path = self.project.takes_dir / name
        if path.is_dir():
            self.project.trash(path)
        if self.current and Path(self.current).name == name:
            self.select("")
        self.reload_takes()
