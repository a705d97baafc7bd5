"""Render one song spec over several seeds and candidates and print the listening statistics' spread.

    python tools/render_stats.py [--models models/demo] [--artist "Trad. Irish (O'Neill)"] [--genre reel]
                                 [--seeds 8-13] [--candidates 3] [--seconds 8] [--json OUT.json]

The model card's "reel renders" rows: every candidate of every seed is rendered through all levels (the model's own
sampling defaults, loudness-normalised as the studio plays them) and measured with ``evaluate_demo.stats``; the
median and quartiles of onsets per 10 s, tonal share (energy in the 20 strongest bins), centroid and loudness are
printed, so two model folders can be compared on the same seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from evaluate_demo import level0_candidates, stats  # noqa: E402
from studio.engine.jobs import new_take  # noqa: E402
from studio.engine.modelset import ModelSet  # noqa: E402
from studio.engine.spec import SongSpec  # noqa: E402

KEYS = ("onsets_per_10s", "top20_energy_fraction", "centroid_hz", "rms_dbfs")


def seed_range(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def spread(rows: list[dict]) -> dict:
    out = {}
    for k in KEYS:
        q1, med, q3 = np.percentile([r[k] for r in rows], [25, 50, 75])
        out[k] = {"median": round(float(med), 3), "q1": round(float(q1), 3), "q3": round(float(q3), 3)}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=str(ROOT.parent / "models" / "demo"))
    ap.add_argument("--artist", default="Trad. Irish (O'Neill)")
    ap.add_argument("--genre", default="reel")
    ap.add_argument("--seeds", default="8-13", help="first-last seed (inclusive)")
    ap.add_argument("--candidates", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--json", default=None, help="also write every render's statistics here")
    args = ap.parse_args(argv)
    models = ModelSet.from_folder(args.models, name="eval")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seed_range(args.seeds):
            spec = SongSpec(seconds=args.seconds, artist=args.artist, genre=args.genre, lyrics="",
                            candidates=args.candidates, seed=seed, song_seconds=60.0, device="cpu")
            for i, x in enumerate(level0_candidates(new_take(spec, Path(tmp) / f"seed_{seed}", models), models)):
                rows.append({"seed": seed, "candidate": i, **stats(x, models.sr)})
                print(json.dumps(rows[-1]), flush=True)
    summary = {"models": args.models, "renders": len(rows), **spread(rows)}
    print(json.dumps(summary))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "renders": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
