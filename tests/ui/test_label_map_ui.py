"""The Artist and Genre Map on the real window and the tiny model: opened from the song editor, laid out by the
sampler process, searched by typing, and a click (or Enter) fills the song editor's field."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from tests.conftest import FIXTURES, IDS
from tests.ui.conftest import Recorder

N_ARTISTS, N_GENRES = 40, 25  # the tables cut down, so the sampler lays the map out in a moment


def cut_tables(folder, n_artists: int, n_genres: int):
    """The tiny model's v2 id tables keeping ids up to ``n_artists`` / ``n_genres`` (the embedding rows stay)."""
    folder.mkdir()
    for kind, n in (("artist", n_artists), ("genre", n_genres)):
        lines = (IDS / f"v2_{kind}_ids.txt").read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if line and int(line.rpartition(";")[2]) <= n]
        (folder / f"v2_{kind}_ids.txt").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def studio_map(qtbot, tmp_path, settings, monkeypatch):
    """(window, session) on the tiny model with cut-down tables; the map cache in tmp_path (inherited by the
    sampler process through XDG_CACHE_HOME)."""
    if not FIXTURES.is_dir():
        pytest.skip(f"reference fixtures not found at {FIXTURES} (needed for the tiny model)")
    import torch

    from studio.engine.modelset import ModelSet
    from studio.state.session import StudioSession
    from studio.ui.main_window import MainWindow

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    torch.set_num_threads(1)
    models = ModelSet(FIXTURES / "vqvae" / "checkpoint.pth.tar",
                      {0: FIXTURES / "upsampler_level_0" / "checkpoint.pth.tar",
                       1: FIXTURES / "upsampler_level_1" / "checkpoint.pth.tar",
                       2: FIXTURES / "prior_5b_lyrics" / "checkpoint.pth.tar"}, name="tiny-map",
                      ids_dir=cut_tables(tmp_path / "ids", N_ARTISTS, N_GENRES))
    session = StudioSession(settings, autosave_ms=3_600_000)
    window = MainWindow(session, settings, modal_errors=False)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    with qtbot.waitSignal(session.model_ready, timeout=600_000):
        session.load_model(models)
    yield window, session
    if getattr(window, "label_map", None) is not None:
        window.label_map.close()
    session.sampler.shutdown()
    session.playback.close()


def pixel_of(map_window, i: int) -> QPoint:
    """Where point ``i`` of the shown layout is on the plot's viewport."""
    shown = map_window.layout_shown
    scene = map_window.view.mapViewToScene(QPointF(float(shown.x[i]), float(shown.y[i])))
    pos = map_window.plot.mapFromScene(scene)
    return QPoint(round(pos.x()), round(pos.y()))


def move_pointer(widget, pos: QPoint) -> None:
    """A real mouse move over ``widget`` (QTest's mouseMove sends none on the offscreen platform)."""
    global_pos = QPointF(widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, QMouseEvent(QEvent.MouseMove, QPointF(pos), global_pos, Qt.NoButton, Qt.NoButton,
                                               Qt.NoModifier))


def loneliest(map_window) -> int:
    """The point farthest (on screen) from any other: a click on it cannot land on a neighbour."""
    pix = np.array([[p.x(), p.y()] for p in (pixel_of(map_window, i) for i in range(len(map_window.layout_shown.x)))])
    d = np.sqrt(((pix[:, None] - pix[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return int(d.min(1).argmax())


def test_the_map_opens_from_the_editor_and_a_click_sets_the_artist(qtbot, studio_map, tmp_path):
    window, session = studio_map
    with qtbot.waitSignal(session.label_map_ready, timeout=600_000) as ready:
        qtbot.mouseClick(window.editor.map_buttons["artist"], Qt.LeftButton)
        map_window = window.label_map
        assert map_window.isVisible() and "Computing the map" in map_window.status.text()
    event = ready.args[0]
    assert event.model == "tiny-map" and event.message == ""
    # the rows the cut-down tables name, each by its own id; 'unknown' (id 0) is not on the map
    assert event.artists.ids.tolist() == list(range(1, N_ARTISTS + 1))
    assert event.genres.ids.tolist() == list(range(1, N_GENRES + 1))
    labeller = session.info.labeller
    assert all(labeller.artists[n.replace(" ", "_")] == i for n, i in zip(event.artists.names, event.artists.ids))
    assert map_window.kind == "artist" and len(map_window.points.data) == N_ARTISTS
    assert len(list((tmp_path / "cache" / "jukebox-studio" / "label-maps").glob("*.json"))) == 2
    written = {item.textItem.toPlainText() for item in map_window.names if item.isVisible()}
    assert written == set(map_window.layout_shown.names)  # a small map writes every name beside its point

    # the pointer over a point shows its name; a click puts the name in the artist field, and the status bar says so
    qtbot.waitUntil(lambda: map_window.view.viewPixelSize()[0] > 0, timeout=600_000)
    target = loneliest(map_window)
    name = map_window.layout_shown.names[target]
    assert map_window.label.textItem.toPlainText() == ""
    move_pointer(map_window.plot.viewport(), pixel_of(map_window, target))
    assert map_window.label.textItem.toPlainText() == name
    qtbot.mouseClick(map_window.plot.viewport(), Qt.LeftButton, pos=pixel_of(map_window, target))
    assert window.editor.artist.text() == name
    assert name in window.statusBar().currentMessage()

    # typing highlights the names holding the text and centres on them; Enter uses the best of them
    word = name.split()[0]
    qtbot.keyClicks(map_window.search, word)
    expected = [i for i, n in enumerate(map_window.layout_shown.names) if word in n]
    assert map_window.hits.tolist() == expected and len(map_window.highlight.data) == len(expected)
    (x0, x1), (y0, y1) = map_window.view.viewRange()
    shown = map_window.layout_shown
    assert all(x0 <= shown.x[i] <= x1 and y0 <= shown.y[i] <= y1 for i in expected)
    written = {item.textItem.toPlainText() for item in map_window.names if item.isVisible()}
    assert written == {shown.names[i] for i in expected}  # while searching, only the matches are named
    window.editor.artist.clear()
    qtbot.keyClick(map_window.search, Qt.Key_Return)
    assert window.editor.artist.text() in [shown.names[i] for i in expected]
    assert window.editor.label_warnings() == []  # the model knows the name the map gave


def test_the_genre_tab_sets_the_genre_and_reopening_asks_nothing_again(qtbot, studio_map):
    window, session = studio_map
    with qtbot.waitSignal(session.label_map_ready, timeout=600_000):
        window.actions_by_name["label_map"].trigger()  # Models > Artist and Genre Map...
    map_window = window.label_map
    bar = map_window.tabs
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(1).center())
    assert map_window.kind == "genre" and len(map_window.points.data) == N_GENRES
    qtbot.waitUntil(lambda: map_window.view.viewPixelSize()[0] > 0, timeout=600_000)
    target = loneliest(map_window)
    qtbot.mouseClick(map_window.plot.viewport(), Qt.LeftButton, pos=pixel_of(map_window, target))
    assert window.editor.genre.text() == map_window.layout_shown.names[target]
    assert window.editor.artist.text() == ""

    # closed and opened again from the genre field: the map is shown at once, the sampler is not asked again
    map_window.close()
    recorder = Recorder(session)
    qtbot.mouseClick(window.editor.map_buttons["genre"], Qt.LeftButton)
    assert window.label_map is map_window and map_window.isVisible() and map_window.kind == "genre"
    assert len(map_window.points.data) == N_GENRES and not map_window.waiting
    assert recorder.of("error") == []
