"""Without an audio device the transport says so in its own room: the window keeps its width and the song panel its
room (the message once squeezed the panel into a horizontal scroll bar)."""

from __future__ import annotations

from PySide6.QtWidgets import QScrollArea

from studio.audio.player import Player
from studio.state.playback import Playback


def _window(qtbot, settings, player):
    from studio.state.session import StudioSession
    from studio.ui.main_window import MainWindow

    session = StudioSession(settings, playback=Playback(player), autosave_ms=3_600_000)
    window = MainWindow(session, settings, modal_errors=False)
    qtbot.addWidget(window)
    window.resize(1500, 920)  # the studio's own first size
    window.show()
    qtbot.waitExposed(window)
    return window, session


def test_the_no_device_message_keeps_the_window_and_the_song_panel(qtbot, settings):
    window, session = _window(qtbot, settings, Player(device=987654))  # no such device
    message = window.transport.device_message
    assert message.isVisible() and message.text().startswith("Audio playback is unavailable")
    song = window.findChild(QScrollArea)
    assert song.widget() is window.editor
    assert window.width() == 1500 and not song.horizontalScrollBar().isVisible()
    assert message.width() > 200 and message.height() < 2 * message.fontMetrics().height()  # one line, in view
    assert window.transport.height() <= window.transport.sizeHint().height()
    assert message.toolTip() == message.text()  # all of it, where the line cuts it short
    session.shutdown()
