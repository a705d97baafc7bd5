"""The lyrics editor: marks characters the model cannot read and shades the text the current window covers."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

UNREADABLE = QColor("#d0342c")
WINDOW = QColor(255, 214, 102, 110)


class LyricsEdit(QPlainTextEdit):
    """Plain-text lyrics. ``outside`` (set by the editor) returns [(pos, char)] the model cannot read."""

    unreadable_changed = Signal(str)  # the distinct unreadable characters ('' when none)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setPlaceholderText("Lyrics (optional). Characters the model cannot read are underlined in red.")
        self.setTabChangesFocus(True)
        self.outside = lambda text: []
        self.unreadable: list[tuple[int, str]] = []
        self.window_span: Optional[tuple[int, int]] = None
        self.textChanged.connect(self.refresh)

    def set_checker(self, outside) -> None:
        self.outside = outside
        self.refresh()

    def set_window_span(self, span: Optional[tuple[int, int]]) -> None:
        if span != self.window_span:
            self.window_span = span
            self._paint()

    def refresh(self) -> None:
        bad = self.outside(self.toPlainText())
        changed = [c for _, c in bad] != [c for _, c in self.unreadable]
        self.unreadable = bad
        self._paint()
        if changed:
            self.unreadable_changed.emit("".join(sorted({c for _, c in bad})))

    def _selection(self, start: int, end: int, fmt: QTextCharFormat) -> QTextEdit.ExtraSelection:
        sel = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.KeepAnchor)
        sel.cursor = cursor
        sel.format = fmt
        return sel

    def _paint(self) -> None:
        sels = []
        n = len(self.toPlainText())
        if self.window_span is not None:
            fmt = QTextCharFormat()
            fmt.setBackground(WINDOW)
            a, b = self.window_span
            sels.append(self._selection(min(a, n), min(b, n), fmt))
        for pos, _ in self.unreadable:
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.WaveUnderline)
            fmt.setUnderlineColor(UNREADABLE)
            fmt.setForeground(UNREADABLE)
            fmt.setToolTip("The model cannot read this character; it will be dropped.")
            sels.append(self._selection(pos, pos + 1, fmt))
        self.setExtraSelections(sels)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key_Escape:
            self.clearFocus()
            return
        super().keyPressEvent(event)
