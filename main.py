"""Start Jukebox Studio: `python main.py` opens the window; `--screenshot PATH` renders it offscreen."""

from studio.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["gui", *__import__("sys").argv[1:]]))
