"""Offscreen screenshots of the main window in its main states: empty, generating, finished (and presenter mode).

``generating`` starts the project's saved song on the loaded model and captures once the top level is done and the
middle level is under way; ``finished`` selects the newest finished take, or the one ``--take`` names (generating one
first when the project has none) and shows its codes, alignment and waveform; ``--dialog export`` or ``map`` captures
the export dialog or the artist and genre map over it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from studio.state.take_data import TakeStatus

TIMEOUT_MS = 240_000


def take_screenshot(args) -> int:
    from PySide6.QtCore import QTimer

    from studio.ui.app import _app, build_window, temporary_settings

    app = _app()
    settings = temporary_settings()
    session, window = build_window(settings, args.project, args.model, modal_errors=False, preview_interval=0.3)
    w, h = (int(v) for v in args.size.lower().split("x"))
    window.resize(w, h)
    window.show()
    out = Path(args.screenshot)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"code": 1}
    seen = {"windows": 0}

    target = {"widget": window}

    def grab(message: str = "") -> None:
        if message:
            window.statusBar().showMessage(message)
        app.processEvents()
        ok = target["widget"].grab().save(str(out), "PNG")
        result["code"] = 0 if ok else 1
        print(f"wrote {out}" if ok else f"could not write {out}", file=sys.stderr if not ok else sys.stdout)
        session.cancel()
        window.close()
        app.quit()

    def finished_takes():
        return [t for t in session.project.takes if t.status is TakeStatus.DONE]

    def show_finished() -> None:
        done = finished_takes()
        named = [t for t in done if Path(t.path).name == args.take]
        if args.take and not named:
            print(f"note: no finished take named {args.take!r} in the project; showing the newest", file=sys.stderr)
        best = named[0] if named else max(done, key=lambda t: (t.kind == "upsample", t.created))
        session.project.select(best.path)
        if args.state == "presenter":
            presenter = window.open_presenter()
            presenter.resize(w, h)
            presenter.playlist.setCurrentRow(presenter.paths().index(best.path))
            target["widget"] = presenter
        session.playback.seek(min(best.seconds * 0.45, best.seconds))
        if not args.take:
            window.waveform.set_region((best.seconds * 0.2, best.seconds * 0.7))
        if args.dialog == "export":
            from studio.ui.export_flow import export_dialog_for

            target["widget"] = dialog = export_dialog_for(window)
            dialog.resize(max(640, dialog.sizeHint().width()), dialog.sizeHint().height())
            dialog.show()
        elif args.dialog == "map":
            target["widget"] = window.open_label_map("artist")
            session.label_map_ready.connect(lambda _event: QTimer.singleShot(600, grab))
            return
        QTimer.singleShot(600, grab)

    def on_model(_info) -> None:
        if args.state == "empty":
            QTimer.singleShot(300, grab)
        elif args.state in ("finished", "presenter") and finished_takes():
            show_finished()
        else:
            window.generate()

    def on_window(event) -> None:
        seen["windows"] += 1
        if args.state == "generating" and event.level < 2 and event.window >= event.n_windows // 3:
            session.window_done.disconnect(on_window)
            QTimer.singleShot(250, grab)

    def on_done(done) -> None:
        if args.state in ("finished", "presenter") and not done.error and not done.cancelled:
            show_finished()

    def on_model_failed(text: str) -> None:
        if args.state != "empty":
            print(f"note: {text} (capturing the window as it is)", file=sys.stderr)
        QTimer.singleShot(300, grab)

    session.model_ready.connect(on_model)
    session.model_failed.connect(on_model_failed)
    session.window_done.connect(on_window)  # the session's signals fire on the GUI thread
    session.job_ended.connect(on_done)
    QTimer.singleShot(TIMEOUT_MS, lambda: grab("screenshot timed out"))
    app.exec()
    session.sampler.shutdown()
    return result["code"]
