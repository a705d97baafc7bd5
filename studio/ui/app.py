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
    parser.add_argument("--take", metavar="NAME", help="with --screenshot: the take to show (a folder name under the "
                                                       "project's takes/), instead of the newest finished one")
    parser.add_argument("--dialog", choices=("export", "map"), help="with --screenshot --state finished: capture "
                                                                    "this window over the take instead of the main one")


def missing_xcb_packages(plugin: Optional[Path] = None) -> list[str]:
    """Debian/Ubuntu packages of the libraries Qt's xcb platform plugin needs and cannot find (``ldd``), [] when it
    can load or cannot be checked. The plugin's own library, libQt6XcbQpa, is checked with it."""
    import shutil
    import subprocess

    if plugin is None:
        import PySide6

        qt = Path(PySide6.__file__).parent / "Qt"
        plugin = qt / "plugins" / "platforms" / "libqxcb.so"
    ldd = shutil.which("ldd")
    if ldd is None or not Path(plugin).is_file():
        return []
    out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=False).stdout
    return sorted({debian_package(line.split()[0]) for line in out.splitlines() if "not found" in line})


# Libraries Qt's xcb plugin loads whose Debian package is not named after them by the rule in debian_package
_PACKAGE_OF = {"libc.so.6": "libc6", "libm.so.6": "libc6", "libdl.so.2": "libc6", "libpthread.so.0": "libc6",
               "libgcc_s.so.1": "libgcc-s1", "libz.so.1": "zlib1g", "libGLdispatch.so.0": "libglvnd0",
               "libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0",
               "libbrotlicommon.so.1": "libbrotli1", "libbrotlidec.so.1": "libbrotli1"}


def debian_package(soname: str) -> str:
    """The Debian package that ships ``soname``: libxcb-icccm.so.4 -> libxcb-icccm4, libxkbcommon-x11.so.0 ->
    libxkbcommon-x11-0 (a hyphen where the name ends in a digit), lower case; the few named otherwise are listed."""
    if soname in _PACKAGE_OF:
        return _PACKAGE_OF[soname]
    name, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    return (name + ("-" if name[-1:].isdigit() and version else "") + version).lower()


def xcb_problem(plugin: Optional[Path] = None) -> Optional[str]:
    """The message for an X11 desktop whose xcb plugin (``plugin``: Qt's own by default) cannot load (Qt would abort
    with a hint that names no package), or None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM", "xcb").split(":")[0] != "xcb":
        return None
    if os.environ.get("WAYLAND_DISPLAY") and "QT_QPA_PLATFORM" not in os.environ:
        return None  # Qt chooses Wayland
    missing = missing_xcb_packages(plugin)
    if not missing:
        return None
    return (f"Jukebox Studio cannot open its window: Qt's X11 (xcb) platform plugin needs libraries that are not "
            f"installed. Install them with:\n\n    sudo apt install {' '.join(missing)}\n\nthen start it again.")


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
    problem = xcb_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtCore import QSettings, QTimer

    from studio.ui.error_dialog import ErrorReporter

    app = _app()
    settings = QSettings()
    session, window = build_window(settings, args.project, args.model)
    reporter = ErrorReporter(window)
    reporter.install()
    window.closed.connect(app.quit)  # the studio ends with its window, whatever other top-level widget is left
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
