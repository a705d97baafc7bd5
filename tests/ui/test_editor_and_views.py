"""Song editor checks against the model's own tables, the waveform and code views, the player without a device."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from studio.audio.player import Player
from studio.state.lyric_window import clean_to_typed, typed_span, window_lyric_span
from studio.state.playback import Playback
from studio.ui.code_view import CodeLevelView
from studio.ui.transport import TransportBar
from studio.ui.waveform_view import WaveformView


def test_artist_genre_completion_and_unknown_warning(qtbot, studio):
    window, session, _ = studio
    ed = window.editor
    model = ed.artist.completer().model()
    names = [model.index(i, 0).data() for i in range(model.rowCount())]
    assert names == list(session.info.artists) and "alan_jackson" in names
    ed.artist.completer().setCompletionPrefix("jackso")
    assert "alan_jackson" in [ed.artist.completer().completionModel().index(i, 0).data()
                              for i in range(ed.artist.completer().completionCount())]
    qtbot.keyClicks(ed.artist, "Alan Jacksn")
    qtbot.keyClicks(ed.genre, "Country")
    assert ed.label_warnings() == ["Unknown artist 'Alan Jacksn': the model will use 'unknown'. Did you mean "
                                   "'alan jackson', 'janet jackson' or 'wanda jackson'?"]
    ed.artist.setText("Alan Jackson")
    assert ed.label_warnings() == []
    ed.genre.setText("Countyr")
    assert ed.label_warnings() == ["Unknown genre word 'countyr': the model will use 'unknown' for it. Did you mean "
                                   "'country'?"]


def test_an_unknown_name_offers_the_nearest_ones_and_a_click_fills_the_field(qtbot, studio):
    window, session, _ = studio
    ed = window.editor
    ed.artist.clear()
    qtbot.keyClicks(ed.artist, "Mozrat")
    hint = ed.label_warning.text()
    assert "Unknown artist 'Mozrat'" in hint and '<a href="artist:wolfgang amadeus mozart">' in hint
    ed.label_warning.linkActivated.emit("artist:wolfgang amadeus mozart")  # what clicking the link sends
    assert ed.artist.text() == "wolfgang amadeus mozart" and ed.label_warnings() == []
    assert session.info.labeller.resolve(ed.spec()["artist"], "").artist_id > 0
    ed.genre.clear()
    qtbot.keyClicks(ed.genre, "Blues Rokc")
    assert '<a href="genre:rock">rock</a>' in ed.label_warning.text()
    ed.label_warning.linkActivated.emit("genre:rock")
    assert ed.genre.text() == "Blues rock" and ed.label_warnings() == []


def test_the_editor_speaks_of_quality_and_keeps_the_figures_in_details(qtbot, studio):
    window, session, _ = studio
    ed = window.editor
    assert [ed.levels.itemText(i) for i in range(ed.levels.count())] == ["Preview (quick sketch)",
                                                                         "Full quality (slower)"]
    ed.levels.setFocus()
    qtbot.keyClick(ed.levels, Qt.Key_Down)  # Preview -> Full, as a user picks it with the keyboard
    assert ed.spec()["levels"] == "all"
    qtbot.keyClick(ed.levels, Qt.Key_Up)
    assert ed.spec()["levels"] == "top"
    status = ed.model_status.text()
    assert " Hz" not in status and "params" not in status and "window" not in status
    assert not ed.details.isVisible() and not ed.hardware_label.isVisible() and not ed.temps[2].isVisible()
    qtbot.mouseClick(ed.details_button, Qt.LeftButton)
    assert ed.details.isVisible() and ed.hardware_label.isVisible() and ed.temps[0].isVisible()
    assert f"{session.info.sr} Hz" in ed.model_figures.text() and "params" in ed.hardware_label.text()
    qtbot.mouseClick(ed.details_button, Qt.LeftButton)
    assert not ed.details.isVisible()


def test_lyrics_marks_unreadable_characters_and_the_window_span(qtbot, studio):
    window, session, _ = studio
    ed = window.editor
    text = "Snow \u2603 falls on the town, " * 6
    ed.seconds.setValue(0.743)
    ed.song_seconds.setValue(90)
    ed.lyrics.setFocus()
    ed.lyrics.insertPlainText(text)  # pasted: QTest cannot type characters beyond Latin-1
    assert [c for _, c in ed.lyrics.unreadable] == ["\u2603"] * 6
    assert [p for p, _ in ed.lyrics.unreadable] == [i for i, c in enumerate(text) if c == "\u2603"]
    assert "cannot read" in ed.window_label.text() and "\u2603" in ed.window_label.text()
    span = ed.lyrics.window_span
    n_tokens = session.info.n_lyric_tokens
    clean_len = len(clean_to_typed(text, session.info.labeller.vocab.chars))
    assert span is not None and span[0] == 0
    assert span == typed_span(text, session.info.labeller.vocab.chars, window_lyric_span(
        clean_len, n_tokens, int(90 * 44100), 0, session.info.n_ctx[2] * 128))
    # lyrics spread over the whole 90 s song: a window at 45 s sees the middle of the text
    later = ed.show_window(int(45 * 44100 / 128))
    assert later[0] > span[0] and later[0] < len(text) / 2 < later[1]


def test_priming_clip_by_drop_and_range(qtbot, studio, tmp_path):
    window, _, _ = studio
    sr = 22050
    t = np.arange(sr * 3) / sr
    path = tmp_path / "clip.wav"
    sf.write(path, (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    ev = QDropEvent(QPointF(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(ev)
    prime = window.editor.spec()["prime"]
    assert prime == {"file": str(path.resolve()), "start": 0.0, "end": None}
    window.editor.prime.region.setRegion((1.0, 2.5))
    assert window.editor.spec()["prime"] == {"file": str(path.resolve()), "start": 1.0, "end": 2.5}
    bad = tmp_path / "notes.txt"
    bad.write_text("not audio")
    assert not window.editor.prime.set_file(str(bad))
    assert window.errors and "notes.txt" in window.errors[-1]
    assert window.editor.spec()["prime"]["start"] == 1.0  # the previous clip is kept


def test_waveform_draws_peaks_seeks_and_loops(qtbot):
    view = WaveformView()
    qtbot.addWidget(view)
    view.resize(900, 200)
    view.show()
    sr = 44100
    audio = (0.8 * np.sin(2 * np.pi * 3 * np.arange(240 * sr) / sr)).astype(np.float32)  # four minutes
    view.set_audio(audio, sr)
    x, y = view.curve_hi.getData()
    assert len(x) <= 2 * view.vb.width() and y.max() > 0.79  # peaks per pixel, not 10 million points
    view.vb.setXRange(10.0, 10.5, padding=0)
    view.redraw()
    x, _ = view.curve_hi.getData()
    assert x[0] >= 9.99 and x[-1] <= 10.51
    with qtbot.waitSignal(view.seek_requested) as blocker:
        view.vb.clicked.emit(12.25)
    assert blocker.args == [12.25]
    with qtbot.waitSignal(view.region_selected) as blocker:
        view.vb.dragged.emit(30.0, 45.0, True)
    assert blocker.args == [30.0, 45.0] and view.selection() == (30.0, 45.0)
    view.zoom_selection()
    (a, b), _ = view.vb.viewRange()
    assert a < 30.0 < 45.0 < b < 46.0
    view.zoom_fit()
    (a, b), _ = view.vb.viewRange()
    assert (a, b) == (0.0, 240.0)
    view.set_spectrogram(True)
    assert view.spec_image.image is not None and not view.curve_hi.isVisible()


def test_waveform_draws_a_stereo_take_as_two_lanes(qtbot):
    """A wide take's (2, T) audio: left drawn above, right below, each at its own amplitude; back to mono, one lane."""
    view = WaveformView()
    qtbot.addWidget(view)
    view.resize(900, 200)
    view.show()
    sr = 8000
    t = np.arange(4 * sr) / sr
    left, right = 0.8 * np.sin(2 * np.pi * 5 * t), 0.2 * np.sin(2 * np.pi * 7 * t)
    view.set_audio(np.stack([left, right]).astype(np.float32), sr)
    assert view.channels == 2 and view.duration == 4.0 and "left above, right below" in view.plotItem.titleLabel.text
    top, bottom = view.lane_centres()
    assert top > 0.79 and bottom < -0.79  # each lane has room for the loudest channel
    (_, hi_l), (_, lo_l) = view.lanes[0][1].getData(), view.lanes[0][0].getData()
    (_, hi_r), (_, lo_r) = view.lanes[1][1].getData(), view.lanes[1][0].getData()
    assert abs(hi_l.max() - (top + 0.8)) < 0.01 and abs(lo_l.min() - (top - 0.8)) < 0.01
    assert abs(hi_r.max() - (bottom + 0.2)) < 0.01 and abs(lo_r.min() - (bottom - 0.2)) < 0.01
    (y0, y1) = view.vb.viewRange()[1]
    assert y0 <= lo_r.min() and hi_l.max() <= y1  # both lanes in view
    view.set_spectrogram(True)
    assert view.spec_image.image is not None and not any(item.isVisible() for lane in view.lanes for item in lane)
    view.set_spectrogram(False)
    view.set_audio(left.astype(np.float32), sr)
    gone = view.lanes[1][1].getData()[0]
    assert view.channels == 1 and view.lane_centres() == [0.0] and (gone is None or len(gone) == 0)
    assert "stereo" not in view.plotItem.titleLabel.text


def test_code_view_hover_and_current_window(qtbot):
    view = CodeLevelView()
    qtbot.addWidget(view)
    codes = {2: np.array([[5, 6, -1, -1]]), 1: np.full((1, 16), 7), 0: -np.ones((1, 64), dtype=np.int64)}
    view.set_codes(codes, (8, 32, 128), 44100)
    t = 1.5 * 128 / 44100
    assert view.describe(t, view._y0(2) + 0.5) == f"level 2 · {t:.3f} s · candidate 1 · code 6"
    assert view.describe(3.5 * 128 / 44100, view._y0(2) + 0.5).endswith("not sampled")
    assert view.describe(t, view._y0(0) + 0.5).endswith("not sampled")
    view.set_current((2, 0, 4, 2))
    x, _ = view.context_edge.getData()
    assert list(x) == [2 * 128 / 44100] * 2


def test_no_audio_device_disables_transport_with_a_message(qtbot):
    player = Player(device=987654)
    playback = Playback(player)
    bar = TransportBar(playback)
    qtbot.addWidget(bar)
    assert not bar.play_button.isEnabled() and not bar.stop_button.isEnabled()
    assert "Audio playback is unavailable" in bar.device_message.text()
    assert bar.retry_button.isVisibleTo(bar)
    playback.load(np.zeros(44100, dtype=np.float32), 44100)
    playback.toggle()  # nothing plays, nothing raises
    playback.seek(0.5)
    assert abs(playback.position - 0.5) < 1e-3
    playback.close()


def test_hardware_check_shown_next_to_the_model_picker(qtbot, studio):
    window, session, _ = studio
    info = session.info
    assert info.hardware_fits and len(info.hardware) == 4  # the machine line, then one line per level
    assert "CPU RAM" in info.hardware[0] or "cuda" in info.hardware[0]
    assert all("up to" in line for line in info.hardware[1:])
    shown = window.editor.hardware_label.text().splitlines()
    assert shown == [line.strip() for line in info.hardware]
    assert "Fits this machine" in window.editor.model_status.text()


def test_the_editor_samples_with_the_models_own_temperatures_unless_the_user_sets_them(qtbot, studio):
    from dataclasses import replace

    window, session, _ = studio
    ed = window.editor
    assert session.info.temperature == (0.99, 0.99, 0.98)  # the tiny model has no sampling.json: the reference's
    assert [ed.temps[lv].value() for lv in (0, 1, 2)] == [0.99, 0.99, 0.98]
    assert ed.spec()["temperature"] is None  # the model's own: the engine fills them in
    ed.set_model_info(replace(session.info, temperature=(0.9, 0.85, 0.99)))  # a model with measured defaults
    assert [ed.temps[lv].value() for lv in (0, 1, 2)] == [0.9, 0.85, 0.99]
    assert ed.spec()["temperature"] is None
    ed.show_details(True)
    ed.temps[1].selectAll()
    qtbot.keyClicks(ed.temps[1], "0.7")
    assert ed.spec()["temperature"] == [0.9, 0.7, 0.99]  # the user's value wins
