"""The Artist and Genre Map: the loaded model's own artist and genre embeddings laid out in 2-D, where similar names
cluster. Browse it, search it (matches are highlighted and the view centres on them), hover a point for its name, and
click one (or press Enter on a search) to put it in the song editor's artist or genre field.

The map comes from the session (``label_map_ready``): the sampler process lays it out the first time a model is
opened (about a minute for a few thousand names) and reads it from its cache after that.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QTabBar, QVBoxLayout, QWidget

KINDS = ("artist", "genre")  # the tabs, in order
PICK_PIXELS = 8.0  # how near (screen pixels) the pointer must be to a point to hover or click it
COMPUTING = "Computing the map (first time only: about a minute for a few thousand names)..."
POINT_BRUSH, HIT_BRUSH = pg.mkBrush(120, 170, 255, 150), pg.mkBrush(255, 190, 60, 255)
NAMES_SHOWN = 120  # names written beside their points: the search's matches, or every point in view up to this many


class LabelMapWindow(QWidget):
    """The map window: tabs (artists, genres), a search field, the scatter plot and a line of status."""

    name_chosen = Signal(str, str)  # kind ("artist" or "genre"), the name as typed in the song editor

    def __init__(self, parent=None):
        super().__init__(parent, Qt.Window)
        self.setWindowTitle("Artist and Genre Map")
        self.layouts: dict = {}  # kind -> LabelLayout of the loaded model
        self.hits = np.zeros(0, dtype=np.int64)  # indices of the points matching the search
        self.waiting = False  # the map was asked for and has not come yet
        self.tabs = QTabBar()
        for kind in KINDS:
            self.tabs.addTab(f"{kind.capitalize()}s")
        self.search = QLineEdit(placeholderText="Search names (Enter picks the best match)")
        self.search.setClearButtonEnabled(True)
        self.status = QLabel(COMPUTING)
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.view = self.plot.getViewBox()
        self.view.setAspectLocked(True)
        self.view.setMenuEnabled(False)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.points = pg.ScatterPlotItem(size=6, pen=None, brush=POINT_BRUSH)
        self.highlight = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w"), brush=HIT_BRUSH)
        self.label = pg.TextItem("", color=(235, 235, 235), fill=pg.mkBrush(30, 30, 34, 220), anchor=(0, 1))
        self.label.setZValue(10)
        self.label.hide()
        self.names: list = []  # TextItems writing names beside points, reused (see _write_names)
        for item in (self.points, self.highlight, self.label):
            self.plot.addItem(item)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.tabs)
        lay.addWidget(self.search)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.status)
        self.tabs.currentChanged.connect(lambda _i: self._show())
        self.search.textChanged.connect(self._search)
        self.search.returnPressed.connect(self._choose_best)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.scene().sigMouseMoved.connect(self._hover)
        self.view.sigRangeChanged.connect(lambda *_: self._write_names())
        self.resize(760, 620)

    # -- the map -------------------------------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return KINDS[self.tabs.currentIndex()]

    @property
    def layout_shown(self):
        return self.layouts.get(self.kind)

    def set_computing(self) -> None:
        """The map of the loaded model is on its way."""
        self.layouts, self.waiting = {}, True
        self._show()
        self.status.setText(COMPUTING)

    def set_map(self, event) -> None:
        """A LabelMap from the session: show its layouts, or say why there are none (None: forget the shown map)."""
        self.waiting = False
        self.layouts = {} if event is None or event.artists is None else {"artist": event.artists,
                                                                           "genre": event.genres}
        self._show()
        if event is not None and event.artists is None:
            self.status.setText(event.message)

    def show_kind(self, kind: str) -> None:
        self.tabs.setCurrentIndex(KINDS.index(kind))

    def _show(self) -> None:
        shown = self.layout_shown
        self.label.setText("")
        if shown is None:
            self.points.setData([], [])
            self.highlight.setData([], [])
            return
        self.points.setData(shown.x, shown.y)
        self.status.setText(f"{len(shown.names)} {self.kind}s of the model: similar ones lie close. Hover for a "
                            f"name, click to use it.")
        self.view.autoRange(padding=0.05)
        self._search(self.search.text())

    # -- search --------------------------------------------------------------------------------------------------------
    def _search(self, text: str) -> None:
        """Highlight the names holding ``text`` and centre the view on them."""
        shown = self.layout_shown
        self.hits = shown.matching(text) if shown is not None and text.strip() else np.zeros(0, dtype=np.int64)
        if shown is None or not len(self.hits):
            self.highlight.setData([], [])
            if shown is not None and text.strip():
                self.status.setText(f"No {self.kind} name holds {text.strip()!r}; Enter picks the nearest spelling.")
            self._write_names()
            return
        x, y = shown.x[self.hits], shown.y[self.hits]
        self.highlight.setData(x, y)
        span = max(float(np.ptp(shown.x)), float(np.ptp(shown.y)), 1e-6) * 0.08  # at least 8% of the map
        cx, cy = float(x.min() + x.max()) / 2, float(y.min() + y.max()) / 2
        half_x, half_y = max(float(np.ptp(x)) / 2 * 1.2, span), max(float(np.ptp(y)) / 2 * 1.2, span)
        self.view.setRange(xRange=(cx - half_x, cx + half_x), yRange=(cy - half_y, cy + half_y), padding=0)
        first = ", ".join(shown.names[i] for i in self.hits[:5])
        more = f" and {len(self.hits) - 5} more" if len(self.hits) > 5 else ""
        self.status.setText(f"{len(self.hits)} match{'es' if len(self.hits) > 1 else ''}: {first}{more}.")
        self._write_names()

    def _write_names(self) -> None:
        """Write names beside the points: the search's matches, else every point in view when there are at most
        NAMES_SHOWN of them (zoom in on a crowded map to read it)."""
        shown = self.layout_shown
        which = np.zeros(0, dtype=np.int64)
        if shown is not None and len(shown.names):
            if len(self.hits):
                which = self.hits[:NAMES_SHOWN]
            else:
                (x0, x1), (y0, y1) = self.view.viewRange()
                inside = np.flatnonzero((shown.x >= x0) & (shown.x <= x1) & (shown.y >= y0) & (shown.y <= y1))
                which = inside if len(inside) <= NAMES_SHOWN else which
        while len(self.names) < len(which):
            item = pg.TextItem("", color=(200, 210, 225), anchor=(-0.05, 0.5))
            self.plot.addItem(item)
            self.names.append(item)
        for item, i in zip(self.names, which):
            item.setText(shown.names[i])
            item.setPos(float(shown.x[i]), float(shown.y[i]))
            item.show()
        for item in self.names[len(which):]:
            item.hide()

    def _choose_best(self) -> None:
        shown = self.layout_shown
        best = shown.best_match(self.search.text()) if shown is not None else None
        if best is not None:
            self._choose(best)

    # -- pointer -------------------------------------------------------------------------------------------------------
    def point_at(self, pos: QPointF) -> Optional[int]:
        """The index of the point within PICK_PIXELS of ``pos`` (view coordinates), nearest first; None if none."""
        shown = self.layout_shown
        if shown is None or not len(shown.names):
            return None
        px, py = self.view.viewPixelSize()
        d2 = ((shown.x - pos.x()) / px) ** 2 + ((shown.y - pos.y()) / py) ** 2
        i = int(np.argmin(d2))
        return i if d2[i] <= PICK_PIXELS ** 2 else None

    def _hover(self, scene_pos) -> None:
        i = self.point_at(self.view.mapSceneToView(scene_pos))
        shown = self.layout_shown
        self.label.setVisible(i is not None)
        if i is None:
            return
        self.label.setText(shown.names[i])
        self.label.setPos(float(shown.x[i]), float(shown.y[i]))

    def _clicked(self, ev) -> None:
        """A left click on (or within PICK_PIXELS of) a point uses its name."""
        if ev.button() != Qt.LeftButton:
            return
        i = self.point_at(self.view.mapSceneToView(ev.scenePos()))
        if i is not None:
            self._choose(i)

    def _choose(self, i: int) -> None:
        name = self.layout_shown.names[i]
        self.status.setText(f"{self.kind.capitalize()} set to {name!r}.")
        self.name_chosen.emit(self.kind, name)


def open_label_map(window, kind: str = "artist") -> LabelMapWindow:
    """Show MainWindow ``window``'s map on ``kind``'s tab, asking the session for the loaded model's map unless it is
    shown or on its way; a chosen name fills the song editor's field and the status bar says so."""
    session = window.session
    if getattr(window, "label_map", None) is None:
        window.label_map = LabelMapWindow()
        session.label_map_ready.connect(window.label_map.set_map)
        session.model_ready.connect(lambda _info: _model_changed(window))
        window.label_map.name_chosen.connect(lambda k, name: _use_name(window, k, name))
    map_window = window.label_map
    if not map_window.layouts and not map_window.waiting:
        map_window.set_computing()
        session.request_label_map()
    map_window.show_kind(kind)
    map_window.show()
    map_window.raise_()
    map_window.activateWindow()
    return map_window


def _model_changed(window) -> None:
    """Another model: its map replaces the shown one (asked for now while the window is open, else on next open)."""
    if window.label_map.isVisible():
        window.label_map.set_computing()
        window.session.request_label_map()
    else:
        window.label_map.set_map(None)


def _use_name(window, kind: str, name: str) -> None:
    field = window.editor.artist if kind == "artist" else window.editor.genre
    field.setText(name)
    window.statusBar().showMessage(f"{kind.capitalize()} set to {name!r} from the map.", 8000)
