"""The job area under the progress bars: which farm worker samples what for the running job, and the queue of what
starts after it, with Remove and Clear."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget


class QueueView(QWidget):
    remove_requested = Signal(int)  # index in the queue
    clear_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.workers = QLabel()
        self.workers.setToolTip("What each worker of the render farm samples for the running job")
        self.workers.setWordWrap(True)
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
        self.jobs = QWidget()
        row = QHBoxLayout(self.jobs)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.title)
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 0, 4, 0)
        column.addWidget(self.workers)
        column.addWidget(self.jobs)
        self.set_units([])
        self.set_jobs([])

    def set_jobs(self, labels: list) -> None:
        self.list.clear()
        self.list.addItems([f"{i + 1}. {text}" for i, text in enumerate(labels)])
        self.title.setText(f"Queue ({len(labels)})")
        self.remove_button.setEnabled(False)
        self.jobs.setVisible(bool(labels))
        self._show()

    def set_units(self, texts: list) -> None:
        """One line per farm worker busy on the running job, e.g. "level 1 window 3 (candidate 2) - worker 2"."""
        self.workers.setText("On the farm: " + "; ".join(texts) if texts else "")
        self.workers.setVisible(bool(texts))
        self._show()

    def _show(self) -> None:
        self.setVisible(not self.jobs.isHidden() or not self.workers.isHidden())

    def _remove(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.remove_requested.emit(row)
