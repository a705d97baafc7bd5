"""Seconds of CPU compute per second of audio for the demo model through all three levels (one JSON line).

    python benchmarks/demo_cpu.py [--seconds 10] [--models models/demo] [--random] [--threads N]

``--random`` times the demo configs with random weights (for choosing sizes before a model is trained).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.engine.cascade import run_take  # noqa: E402
from studio.engine.jobs import new_take  # noqa: E402
from studio.engine.modelset import ModelSet  # noqa: E402
from studio.engine.spec import SongSpec  # noqa: E402


def random_demo_folder(folder: Path) -> Path:
    """Write randomly initialised demo networks and small label tables into ``folder``."""
    from studio.engine.demo_config import demo_config
    from studio.engine.loading import build, save_model

    torch.manual_seed(0)
    for name, level in [("vqvae", "vqvae"), ("prior_level_0", 0), ("prior_level_1", 1), ("prior_level_2", 2)]:
        save_model(build(demo_config(level)), folder / name)
    ids = folder / "ids"
    ids.mkdir(parents=True, exist_ok=True)
    (ids / "v2_artist_ids.txt").write_text("unknown;0\njohann_sebastian_bach;1\n")
    (ids / "v2_genre_ids.txt").write_text("unknown;0\nchorale;1\n")
    return folder


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--models", default=str(Path(__file__).resolve().parents[1] / "models" / "demo"))
    ap.add_argument("--random", action="store_true", help="random weights at the demo sizes")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--artist", default="Johann Sebastian Bach")
    ap.add_argument("--genre", default="chorale")
    ap.add_argument("--lyrics", default="Nun danket alle Gott mit Herzen, Mund und Haenden")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = random_demo_folder(Path(tmp) / "demo") if args.random else Path(args.models)
        models = ModelSet.from_folder(folder, name="demo")
        for level in range(3):
            models.prior(level)
        models.vqvae
        spec = SongSpec(seconds=args.seconds, artist=args.artist, genre=args.genre, lyrics=args.lyrics,
                        candidates=1, seed=1, device="cpu")
        take = new_take(spec, Path(tmp) / "take", models)
        per_level: dict = {}
        t0 = last = time.perf_counter()
        for ev in run_take(take, models):
            name = type(ev).__name__
            if name == "LevelDone":
                now = time.perf_counter()
                per_level[f"level_{ev.level}_s"] = round(now - last, 2)
                last = now
        wall = time.perf_counter() - t0
    print(json.dumps({"benchmark": "demo_cpu", "audio_s": args.seconds, "compute_s": round(wall, 2),
                      "compute_s_per_audio_s": round(wall / args.seconds, 3), **per_level,
                      "weights": "random" if args.random else str(folder), "threads": torch.get_num_threads(),
                      "cpu": platform.processor() or platform.machine(), "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
