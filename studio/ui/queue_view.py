"""The job queue under the progress bars: what starts after the running job, with Remove and Clear."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget


class QueueView(QWidget):
    remove_requested = Signal(int)  # index in the queue
    clear_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel("Queue")
        self.list = QListWidget()
        self.list.setMaximumHeight(72)
        self.list.setToolTip("Jobs that start, in this order, when the running one ends")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Take the selected job out of the queue")
        self.clear_button = QPushButton("Clear queue")
        self.remove_button.clicked.connect(self._remove)
        self.clear_button.clicked.connect(self.clear_requested)
        self.list.currentRowChanged.connect(lambda row: self.remove_button.setEnabled(row >= 0))
        buttons = QVBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(self.title)
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        self.set_jobs([])

    def set_jobs(self, labels: list) -> None:
        self.list.clear()
        self.list.addItems([f"{i + 1}. {text}" for i, text in enumerate(labels)])
        self.title.setText(f"Queue ({len(labels)})")
        self.remove_button.setEnabled(False)
        self.setVisible(bool(labels))

    def _remove(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.remove_requested.emit(row)
