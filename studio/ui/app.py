"""`studio gui` / `python main.py`: open the desktop studio, or render it offscreen to a PNG (``--screenshot``)."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

DEFAULT_PROJECT = Path.home() / "Jukebox Studio" / "Untitled"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", metavar="DIR", help="open this project folder (created when missing)")
    parser.add_argument("--model", metavar="NAME_OR_DIR", help="model to load: 'demo' or a model folder")
    parser.add_argument("--screenshot", metavar="PATH", help="render the main window offscreen to PATH (PNG), exit")
    parser.add_argument("--state", choices=("empty", "generating", "finished", "presenter"), default="finished",
                        help="with --screenshot: the state to show (generating/finished run the model on the "
                             "project's saved song when it has no finished take)")
    parser.add_argument("--size", default="1500x920", help="with --screenshot: window size, WIDTHxHEIGHT")


def _app():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("JukeboxStudio")
    app.setApplicationName("Jukebox Studio")
    return app


def build_window(settings, project: Optional[str], model: Optional[str], modal_errors: bool = True,
                 preview_interval: float = 1.0):
    """The session and the main window, with a project opened and a model loading."""
    from studio.state.session import StudioSession
    from studio.ui.main_window import MainWindow

    session = StudioSession(settings, preview_interval=preview_interval)
    window = MainWindow(session, settings, modal_errors=modal_errors)
    recent = session.project.recent()
    folder = project or (recent[0] if recent else str(DEFAULT_PROJECT))
    window.open_project(folder, create=True)
    saved = session.project.project.data.get("model") if session.project.project else None
    source = model or saved or settings.value("last_model") or "demo"
    window.editor.add_model_source(str(source))
    window.editor.set_model_status(f"Loading {source}...")
    session.load_model(str(source))
    return session, window


def run(args) -> int:
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from studio.ui.screenshot import take_screenshot

        return take_screenshot(args)
    from PySide6.QtCore import QSettings, QTimer

    from studio.ui.error_dialog import ErrorReporter

    app = _app()
    settings = QSettings()
    session, window = build_window(settings, args.project, args.model)
    reporter = ErrorReporter(window)
    reporter.install()
    window.show()
    QTimer.singleShot(300, window.prompt_recovery)
    # Everything imported and built so far lives for the whole session: move it out of the collector's reach, so a
    # full collection later scans what the session makes, not the ~300,000 objects of torch, Qt and pyqtgraph (a
    # full scan of those freezes the window for 50-150 ms on a small machine).
    gc.freeze()
    code = app.exec()
    reporter.uninstall()
    return int(code)


def temporary_settings():
    """Settings in a throwaway INI file (screenshots and tests never touch the user's settings)."""
    from PySide6.QtCore import QSettings

    path = Path(tempfile.mkdtemp(prefix="studio-settings-")) / "settings.ini"
    return QSettings(str(path), QSettings.IniFormat)
