"""Seconds from a fresh `python` process to the studio's main window on screen (issue #13: under 2 s warm).

Each run is a new process that builds the window as `python main.py` does (a throwaway project and settings, the
bundled model loading in the sampler process), shows it, and exits once Qt has painted it. The first run warms the
disk cache; the figure is the median of the rest. The sampler process is started but its model load is not waited
for (the window is usable before it). Offscreen unless DISPLAY is set.

    python benchmarks/startup.py --runs 6
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time
from PySide6.QtCore import QTimer
from studio.ui.app import _app, build_window, temporary_settings
app = _app()
session, window = build_window(temporary_settings(), sys.argv[1], "demo", modal_errors=False)
window.show()
def painted():
    if window.isVisible() and window.windowHandle() is not None and window.windowHandle().isExposed():
        print("SHOWN", flush=True)
        sys.stdout.flush()
        session.shutdown()
        app.quit()
    else:
        QTimer.singleShot(5, painted)
QTimer.singleShot(0, painted)
app.exec()
"""


def one_run(project: str) -> float:
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, project], stdout=subprocess.PIPE, text=True, env=env)
    shown = None
    for line in proc.stdout:
        if line.strip() == "SHOWN":
            shown = time.perf_counter() - t0
            break
    proc.wait(timeout=120)
    return shown if shown is not None else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            seconds = one_run(str(Path(tmp) / f"project{i}"))
            times.append(seconds)
            print(f"run {i + 1}: window shown after {seconds:.2f} s{' (cold: not counted)' if i == 0 else ''}")
    warm = times[1:] or times
    print(f"median of {len(warm)} warm runs: {statistics.median(warm):.2f} s (goal: under 2 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
