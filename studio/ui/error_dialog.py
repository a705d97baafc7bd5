"""One excepthook for the whole application: an unexpected error shows in a dialog (with the traceback folded away)
instead of vanishing in a terminal or killing the studio. Errors from other threads are marshalled to the GUI thread.
"""

from __future__ import annotations

import sys
import traceback

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox


class ErrorReporter(QObject):
    """Install with :meth:`install`; ``shown`` carries each message shown (tests read ``messages``)."""

    shown = Signal(str)
    _report = Signal(str, str)

    def __init__(self, parent_widget=None, modal: bool = True):
        super().__init__()
        self.parent_widget = parent_widget
        self.modal = modal
        self.messages: list[str] = []
        self._previous = None
        self._report.connect(self._show, Qt.QueuedConnection)

    def install(self) -> None:
        self._previous = sys.excepthook
        sys.excepthook = self._hook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook = self._previous
            self._previous = None

    def _hook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            (self._previous or sys.__excepthook__)(exc_type, exc, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(details)
        self._report.emit(f"{exc_type.__name__}: {exc}", details)

    def _show(self, text: str, details: str) -> None:
        self.messages.append(text)
        box = QMessageBox(QMessageBox.Critical, "Unexpected error",
                          "Something went wrong inside Jukebox Studio. Your project and takes are saved on disk; you "
                          "can keep working. Please report this with the details below.\n\n" + text,
                          QMessageBox.Ok, self.parent_widget)
        box.setDetailedText(details)
        self.shown.emit(text)
        if self.modal:
            box.exec()
        else:
            box.setAttribute(Qt.WA_DeleteOnClose)
            box.open()
