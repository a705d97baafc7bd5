"""Qt event-loop latency while the tiny model samples a whole song in the real main window.

A QTimer fires every 10 ms on the GUI thread; each firing records how late it came. Prints one JSON line with the max
and p99 lateness (the studio's budget is 50 ms), the number of samples and how long the job ran.

    QT_QPA_PLATFORM=offscreen python benchmarks/ui_latency.py [--seconds 0.743] [--candidates 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.743, help="song length (tiny model: 0.743 s = 2 top windows)")
    parser.add_argument("--candidates", type=int, default=3)
    parser.add_argument("--interval-ms", type=int, default=10)
    args = parser.parse_args()

    import numpy as np
    import torch
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.ui.app import temporary_settings
    from tests.conftest import tiny_model_set

    torch.set_num_threads(1)
    models = tiny_model_set()
    if models is None:
        print(json.dumps({"error": "tiny model fixtures not found (../shared/fixtures/jukebox-tiny)"}))
        return 2
    app = QApplication.instance() or QApplication([])
    from studio.state.session import StudioSession
    from studio.ui.main_window import MainWindow

    settings = temporary_settings()
    session = StudioSession(settings, preview_interval=float(os.environ.get("PREVIEW_S", "0.5")))
    window = MainWindow(session, settings, modal_errors=False)
    window.resize(1500, 920)
    window.show()
    window.open_project(tempfile.mkdtemp(prefix="latency-"), create=True)
    ready = []
    session.model_ready.connect(ready.append)
    session.load_model(models)
    t0 = time.monotonic()
    while not ready and time.monotonic() - t0 < 60:
        app.processEvents()
        time.sleep(0.01)
    window.editor.set_spec({"seconds": args.seconds, "artist": "Alan Jackson", "genre": "Country",
                            "lyrics": "Ride the long road home tonight, sing it loud and sing it right.",
                            "candidates": args.candidates, "levels": "all", "seed": 7, "song_seconds": 90})

    lateness: list[float] = []
    stamps: list[float] = []  # when each firing came, seconds after the timer started
    clock = QElapsedTimer()
    expected = {"t": 0.0}
    timer = QTimer()
    timer.setInterval(args.interval_ms)

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        lateness.append(max(0.0, now - expected["t"]))
        stamps.append(now / 1000.0)
        expected["t"] = now + args.interval_ms

    timer.timeout.connect(tick)
    done = []
    counts = {"windows": 0, "progress": 0}
    session.job_ended.connect(done.append)
    session.worker.window_done.connect(lambda _e: counts.__setitem__("windows", counts["windows"] + 1))
    session.worker.progress.connect(lambda _e: counts.__setitem__("progress", counts["progress"] + 1))
    clock.start()
    expected["t"] = args.interval_ms
    timer.start()
    session.job_ended.connect(lambda _d: (timer.stop(), app.quit()))  # closing the app is not part of the run
    QTimer.singleShot(600_000, app.quit)
    QTimer.singleShot(0, window.generate)
    job_t0 = time.monotonic()
    import gc

    gc.freeze()  # as the studio does before its event loop starts (studio/ui/app.py)
    app.exec()
    job_s = time.monotonic() - job_t0
    timer.stop()
    window.close()
    late = np.asarray(lateness[1:] or [0.0])
    worst = int(np.argmax(late)) + 1 if len(lateness) > 1 else 0
    print(json.dumps({"benchmark": "ui_latency", "max_ms": round(float(late.max()), 2),
                      "p99_ms": round(float(np.percentile(late, 99)), 2),
                      "mean_ms": round(float(late.mean()), 2), "samples": int(late.size),
                      "max_at_s": round(stamps[worst], 3) if stamps else None,
                      "job_seconds": round(job_s, 2), "windows": counts["windows"], "progress_signals": counts["progress"],
                      "status": "cancelled" if done and done[0].cancelled else "done" if done else "timeout",
                      "budget_ms": 50, "ok": bool(late.max() < 50)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
