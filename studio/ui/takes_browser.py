"""The takes browser: the tree of takes (generations, their continuations and upsamplings), the candidates of the
selected take (keys 1-9 audition them), and the operations on it: continue, upsample (optionally a range), resume,
delete.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from studio.state.project_state import ProjectState
from studio.state.take_data import TakeStatus

STATUS_MARK = {TakeStatus.DONE: "", TakeStatus.RUNNING: " [interrupted]", TakeStatus.CANCELLED: " [cancelled]",
               TakeStatus.FAILED: " [failed]"}
PATH_ROLE = Qt.UserRole + 1


class TakesBrowser(QWidget):
    candidate_picked = Signal(int)  # 0-based
    continue_requested = Signal(float)  # new total length in seconds
    upsample_requested = Signal(bool)  # True: only the selected time range
    resume_requested = Signal(str)
    delete_requested = Signal(str)

    def __init__(self, state: ProjectState, parent=None):
        super().__init__(parent)
        self.state = state
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Take", "Status"])
        self.tree.setColumnWidth(0, 250)
        self.tree.currentItemChanged.connect(self._current_item)
        self.cand_box = QHBoxLayout()
        self.cand_group = QButtonGroup(self)
        self.cand_group.setExclusive(True)
        self.cand_group.idClicked.connect(self.candidate_picked)
        self.cand_label = QLabel("Candidates (keys 1-9):")
        self.continue_seconds = QDoubleSpinBox(decimals=2, minimum=0.1, maximum=1200.0, suffix=" s")
        self.continue_button = QPushButton("Continue to")
        self.continue_button.setToolTip("Extend the chosen candidate to this length (Enter)")
        self.continue_button.clicked.connect(lambda: self.continue_requested.emit(self.continue_seconds.value()))
        self.upsample_button = QPushButton("Upsample chosen")
        self.upsample_button.setToolTip("Sample the lower levels of the chosen candidate for full quality")
        self.range_only = QCheckBox("only the selected range")
        self.range_only.setToolTip("Drag a region on the waveform first; preview just that part at full quality")
        self.upsample_button.clicked.connect(lambda: self.upsample_requested.emit(self.range_only.isChecked()))
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(lambda: self.resume_requested.emit(self.state.current))
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Move the take to the project's trash (Delete); Undo brings it back")
        self.delete_button.clicked.connect(lambda: self.delete_requested.emit(self.state.current))
        self.info = QLabel("")
        self.info.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.info)
        lay.addWidget(self.cand_label)
        lay.addLayout(self.cand_box)
        row = QHBoxLayout()
        row.addWidget(self.continue_button)
        row.addWidget(self.continue_seconds)
        lay.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.upsample_button)
        row.addWidget(self.range_only)
        lay.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.resume_button)
        row.addWidget(self.delete_button)
        lay.addLayout(row)
        state.takes_changed.connect(self.rebuild)
        state.current_changed.connect(self._select_path)
        self.busy = False
        self.running_path = ""  # the take a job is writing now
        self.rebuild()

    # -- tree -----------------------------------------------------------------------------------------------------------
    def rebuild(self) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        items = {}

        def add(summary, parent_item):
            status = ("sampling..." if summary.path == self.running_path
                      else summary.status + STATUS_MARK.get(summary.status, ""))
            item = QTreeWidgetItem([summary.label, status])
            item.setData(0, PATH_ROLE, summary.path)
            item.setToolTip(0, summary.error or summary.path)
            (parent_item.addChild(item) if parent_item else self.tree.addTopLevelItem(item))
            items[summary.path] = item
            for child in self.state.children(summary.id):
                add(child, item)

        for root in self.state.children(None):
            add(root, None)
        self.tree.expandAll()
        self.tree.blockSignals(False)
        self._select_path(self.state.current)

    def item_for(self, path: str) -> Optional[QTreeWidgetItem]:
        it = self.tree.invisibleRootItem()
        stack = [it.child(i) for i in range(it.childCount())]
        while stack:
            item = stack.pop()
            if item.data(0, PATH_ROLE) == path:
                return item
            stack += [item.child(i) for i in range(item.childCount())]
        return None

    def _select_path(self, path: str) -> None:
        item = self.item_for(path) if path else None
        self.tree.blockSignals(True)
        self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)
        self.update_panel()

    def _current_item(self, item, _previous) -> None:
        self.state.select(item.data(0, PATH_ROLE) if item is not None else "")

    # -- candidates and buttons --------------------------------------------------------------------------------------
    def update_panel(self) -> None:
        """The candidates, the info line and the buttons of the selected take."""
        summary = self.state.summary(self.state.current) if self.state.current else None
        for b in self.cand_group.buttons():
            self.cand_group.removeButton(b)
            b.deleteLater()
        if summary is not None:
            for i in range(summary.n_candidates):
                b = QPushButton(str(i + 1))
                b.setCheckable(True)
                b.setFixedWidth(34)
                b.setToolTip(f"Audition candidate {i + 1} (key {i + 1})" if i < 9 else f"Candidate {i + 1}")
                self.cand_group.addButton(b, i)
                self.cand_box.addWidget(b)
            chosen = summary.chosen if summary.chosen is not None else 0
            if self.cand_group.button(chosen):
                self.cand_group.button(chosen).setChecked(True)
            self.continue_seconds.setValue(summary.seconds * 2)
            self.info.setText(f"{summary.kind}, {summary.seconds:.2f} s, levels done: "
                              f"{', '.join(map(str, summary.levels_done)) or 'none'}"
                              + (f"\n{summary.error}" if summary.error else ""))
        else:
            self.info.setText("No take selected." if self.state.takes else "No takes yet: write a song and Generate.")
        self.update_buttons()

    def set_busy(self, busy: bool, running_path: str = "") -> None:
        self.busy = busy
        if running_path != self.running_path:
            self.running_path = running_path
            self.rebuild()
        self.update_buttons()

    def update_buttons(self) -> None:
        summary = self.state.summary(self.state.current) if self.state.current else None
        has = summary is not None
        top_done = has and summary.kind != "upsample" and 2 in summary.levels_done
        running = has and self.busy and summary.path == self.running_path
        # While another take samples these still work: the job waits in the queue.
        self.continue_button.setEnabled(top_done and not running)
        self.upsample_button.setEnabled(top_done and not running)
        self.resume_button.setEnabled(has and summary.resumable and not running)
        self.delete_button.setEnabled(has)

    def set_checked_candidate(self, candidate: int) -> None:
        b = self.cand_group.button(candidate)
        if b is not None:
            b.setChecked(True)
