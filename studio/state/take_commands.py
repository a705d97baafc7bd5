"""Undoable take operations (QUndoStack commands): a new take from a job, deleting a take, picking a candidate.

Deleting moves the take folder to the project's trash, so undo restores it byte for byte. Undoing a generation moves
the take it made to the trash too; redo brings it back (the codes are never sampled twice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtGui import QUndoCommand

from studio.state.take_data import set_chosen


class AddTakeCommand(QUndoCommand):
    """A job made a take. The first redo does nothing (the worker already wrote it)."""

    def __init__(self, state, take_dir: str, kind: str):
        super().__init__(f"{kind.capitalize()} {Path(take_dir).name}")
        self.state, self.name = state, Path(take_dir).name
        self._first = True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self.state.project.restore(self.name)
        self.state.reload_takes(select=str(self.state.project.takes_dir / self.name))

    def undo(self) -> None:
        self.state.trash_take(self.name)


class DeleteTakeCommand(QUndoCommand):
    """Move a take to the trash; undo puts it back."""

    def __init__(self, state, take_dir: str):
        super().__init__(f"Delete {Path(take_dir).name}")
        self.state, self.name = state, Path(take_dir).name

    def redo(self) -> None:
        self.state.trash_take(self.name)

    def undo(self) -> None:
        self.state.project.restore(self.name)
        self.state.reload_takes(select=str(self.state.project.takes_dir / self.name))


class ChooseCandidateCommand(QUndoCommand):
    """Mark a candidate of a take as the chosen one (what Continue and Upsample use by default)."""

    def __init__(self, state, take_dir: str, old: Optional[int], new: Optional[int]):
        super().__init__(f"Choose candidate {new + 1 if new is not None else '-'} of {Path(take_dir).name}")
        self.state, self.name, self.old, self.new = state, Path(take_dir).name, old, new

    def _apply(self, value: Optional[int]) -> None:
        path = self.state.project.takes_dir / self.name
        if path.is_dir():
            set_chosen(path, value)
            self.state.reload_takes()
            self.state.candidate_chosen.emit(str(path), -1 if value is None else value)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)

    def id(self) -> int:  # noqa: A003 - Qt's name: consecutive choices on one take merge into one undo step
        return 7301

    def mergeWith(self, other) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, ChooseCandidateCommand) or other.name != self.name:
            return False
        self.new = other.new
        self.setText(other.text())
        return True
