"""Start Jukebox Studio: `python main.py` opens the window; `--screenshot PATH` renders it offscreen."""

import multiprocessing
import sys

from studio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the sampler runs in a spawned process; a frozen build needs this first
    raise SystemExit(main(["gui", *sys.argv[1:]]))
