"""The takes browser: the tree of takes (generations, their continuations and upsamplings), the candidates of the
selected take (keys 1-9 audition them), and the operations on it: continue, upsample (optionally a range), resume,
delete.

A take dragged out of the tree arrives as a rendered WAV (the project's export settings, with its recipe) in a DAW or a
file manager. An exported file dropped on the browser offers its recipe back: "Use these settings" or "Continue from
it"; either way ``recipe_dropped`` carries the song spec for the editor.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QMimeData, Qt, QUrl, Signal
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel,
                               QMessageBox, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from studio.audio.export import ExportError
from studio.state.export_job import render_for_drag
from studio.state.export_settings import load_export_settings
from studio.state.project_state import ProjectState
from studio.state.recipe_drop import DroppedExport, read_dropped
from studio.state.session import clock_text
from studio.state.take_data import TakeStatus

STATUS_MARK = {TakeStatus.DONE: "", TakeStatus.RUNNING: " [interrupted]", TakeStatus.CANCELLED: " [cancelled]",
               TakeStatus.FAILED: " [failed]"}
PATH_ROLE = Qt.UserRole + 1


class TakesTree(QTreeWidget):
    """The tree of takes; dragging a take out hands over a rendered file (``render`` maps a take folder to it)."""

    def __init__(self, render, parent=None):
        super().__init__(parent)
        self._render = render
        self.setDragDropMode(QAbstractItemView.DragOnly)  # drops are the browser's, and takes never move in the tree
        self.setContextMenuPolicy(Qt.ActionsContextMenu)  # the window adds the take operations it offers here
        self.setDefaultDropAction(Qt.CopyAction)

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt's name
        return ["text/uri-list"]

    def supportedDropActions(self):  # noqa: N802 - Qt's name; also the drag actions: a copy, the take stays
        return Qt.CopyAction

    def mimeData(self, items) -> Optional[QMimeData]:  # noqa: N802 - Qt's name
        """File URLs of the dragged takes rendered as WAVs (None, so no drag, when none could be rendered)."""
        files = [f for f in (self._render(item.data(0, PATH_ROLE)) for item in items) if f is not None]
        if not files:
            return None
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
        return mime


class TakesBrowser(QWidget):
    candidate_picked = Signal(int)  # 0-based
    continue_requested = Signal(float)  # new total length in seconds
    upsample_requested = Signal(bool)  # True: only the selected time range
    resume_requested = Signal(str)
    delete_requested = Signal(str)
    recipe_dropped = Signal(dict)  # a song spec from a dropped export's recipe, for the song editor's set_spec

    def __init__(self, state: ProjectState, parent=None):
        super().__init__(parent)
        self.state = state
        self.drop_prompt: Optional[QMessageBox] = None  # the open "use these settings / continue" question
        self.setAcceptDrops(True)
        self.tree = TakesTree(self.drag_file)
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

    # -- tree ----------------------------------------------------------------------------------------------------------
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
        for b in self.cand_group.buttons():  # out of sight now: a modal message opening next runs no deferred delete
            self.cand_group.removeButton(b)
            self.cand_box.removeWidget(b)
            b.hide()
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
            marker = summary.marker
            self.info.setText(f"{summary.kind}, {summary.seconds:.2f} s, levels done: "
                              f"{', '.join(map(str, summary.levels_done)) or 'none'}"
                              + (f"\n{marker[1]} at {clock_text(marker[0], tenths=True)}" if marker else "")
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
        top_done = has and summary.kind != "upsample" and summary.top_done
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

    # -- drag out, drop in -------------------------------------------------------------------------------------------
    def drag_file(self, take_dir: str) -> Optional[str]:
        """A WAV of the take's chosen candidate with the project's export settings, or None (the info line says why)."""
        project = self.state.project
        summary = self.state.summary(take_dir) if take_dir else None
        if project is None or summary is None:
            return None
        candidate = self.cand_group.checkedId() if take_dir == self.state.current else summary.chosen
        candidate = candidate if candidate is not None and candidate >= 0 else 0
        try:
            done = render_for_drag(take_dir, candidate, project.folder, load_export_settings(project.folder).options)
        except (ExportError, ValueError) as exc:
            self.info.setText(f"Could not drag {summary.name} out: {exc}")
            return None
        return str(done.path)

    @staticmethod
    def _dropped(event) -> Optional[DroppedExport]:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        return read_dropped(files[0]) if len(files) == 1 else None

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name; files without a recipe go on to the window
        if self._dropped(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        dropped = self._dropped(event)
        if dropped is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.offer_recipe(dropped)

    def offer_recipe(self, dropped: DroppedExport) -> QMessageBox:
        """Ask (without blocking) whether to use the file's settings or to continue from the file itself."""
        box = QMessageBox(QMessageBox.Question, "Use an exported file", dropped.describe(), QMessageBox.Cancel, self)
        box.setInformativeText("Use these settings: the song editor takes the recipe's song (artist, genre, lyrics, "
                               "seed, temperatures).\nContinue from it: the same song, primed with this file.")
        use = box.addButton("Use these settings", QMessageBox.AcceptRole)
        prime = box.addButton("Continue from it", QMessageBox.AcceptRole)
        box.setDefaultButton(use)

        def answered(button) -> None:
            self.drop_prompt = None
            if button is use:
                self.recipe_dropped.emit(dropped.settings_spec())
            elif button is prime:
                self.recipe_dropped.emit(dropped.primed_spec())

        box.buttonClicked.connect(answered)
        box.setAttribute(Qt.WA_DeleteOnClose)
        self.drop_prompt = box
        box.open()
        return box
