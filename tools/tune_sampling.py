"""Measure, per level, the sampling temperature whose renders come closest to real held-out audio, and write the
model folder's ``sampling.json`` (the defaults the CLI and the studio use when a spec sets none).

    python tools/tune_sampling.py --data /work/data/demo [--models models/demo] [--temps 0.8,0.9,0.99]
                                  [--genres reel,chorale] [--seconds 4] [--top-p 0] [--write]

Bottom-up, on one held-out clip per genre (the middle ``--seconds`` of each), the levels below the one being
tuned at the temperatures already chosen:

* level 0 upsamples the clip's real level-1 codes;
* level 1 upsamples the clip's real top-level codes (level 0 at its chosen temperature);
* level 2 renders the whole cascade from scratch with the clip's artist and genre.

Each render is read with ``tools/evaluate_demo.py``'s statistics and scored by its distance to the same clip's real
audio over tonal share, onset rate, spectral centroid and loudness (each difference divided by the scale in
:data:`SCALES`, then the root mean square); the temperature with the smallest mean distance wins. Seeded: reruns
give the same figures on the same machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluate_demo import level0_audio, mean_stats, stats  # noqa: E402

from studio.engine.jobs import new_take  # noqa: E402
from studio.engine.modelset import ModelSet  # noqa: E402
from studio.engine.sampling_defaults import SamplingDefaults, sampling_file, write_sampling_defaults  # noqa: E402
from studio.engine.spec import SongSpec  # noqa: E402
from studio.train.data import AudioSet, load_audio_set  # noqa: E402

# what one unit of distance is for each statistic: 0.05 of tonal share (the gap the issue accepts), 4 onsets per
# 10 s, a quarter octave of centroid, 3 dB of loudness
SCALES = {"top20_energy_fraction": 0.05, "onsets_per_10s": 4.0, "centroid_hz": 0.25, "rms_dbfs": 3.0}


def distance(render: dict, real: dict) -> float:
    """Root mean square of the scaled differences of :data:`SCALES`' statistics (the centroid's in octaves)."""
    diffs = []
    for key, scale in SCALES.items():
        if key == "centroid_hz":
            d = np.log2(max(render[key], 1.0) / max(real[key], 1.0))
        else:
            d = render[key] - real[key]
        diffs.append(d / scale)
    return float(np.sqrt(np.mean(np.square(diffs))))


def pick_clips(held: AudioSet, n_samples: int, genres: list) -> list:
    """The first held-out clip of each genre in ``genres`` that is at least ``n_samples`` long."""
    long = [c for c in held.clips if len(c.audio) >= n_samples]
    picked = [next((c for c in long if c.genre == g), None) for g in genres]
    missing = [g for g, c in zip(genres, picked) if c is None]
    if missing:
        raise SystemExit(f"no held-out clip of {', '.join(missing)} is long enough; choose other --genres")
    return picked


def render(models: ModelSet, clip, zs: list, keep_from: int, temps: list, top_p: float, seconds: float,
           folder: Path, seed: int) -> np.ndarray:
    """Level-0 audio of a take whose levels ``keep_from``.. hold the clip's real codes ``zs`` (3 = none kept)."""
    spec = SongSpec(seconds=seconds, artist=clip.artist, genre=clip.genre, candidates=1, seed=seed,
                    song_seconds=60.0, device="cpu", temperature=list(temps), top_k=0, top_p=top_p)
    take = new_take(spec, folder, models)
    for level in range(keep_from, 3):
        take.write_codes(level, zs[level])
    return level0_audio(take, models)


@torch.no_grad()
def tune(models: ModelSet, held: AudioSet, temps: list, genres: list, seconds: float, top_p: float,
         tmp: Path, log=print) -> tuple[list, dict]:
    """(chosen temperature per level 0, 1, 2; the measurements behind them)."""
    vq, sr = models.vqvae, models.sr
    n = int(seconds * sr) // vq.hop_lengths[-1] * vq.hop_lengths[-1]
    picked = pick_clips(held, n, genres)
    crops = [c.audio[len(c.audio) // 2 - n // 2:][:n].copy() for c in picked]
    codes = [[z.numpy() for z in vq.encode(torch.from_numpy(x)[None])] for x in crops]
    real = [stats(x, sr) for x in crops]
    chosen = [0.99, 0.99, 0.98]
    measured: dict = {"clips": [f"{c.name} ({c.artist}, {c.genre})" for c in picked], "seconds_each": seconds,
                      "top_p": top_p, "scales": SCALES, "real": mean_stats(real), "levels": {}}
    for level in (0, 1, 2):
        rows = {}
        for t in temps:
            trial = list(chosen)
            trial[level] = t
            t0 = time.time()
            got = [stats(render(models, c, zs, level + 1, trial, top_p, seconds, tmp / f"l{level}_{t}_{i}", 11 + i),
                         sr) for i, (c, zs) in enumerate(zip(picked, codes))]
            dist = float(np.mean([distance(g, r) for g, r in zip(got, real)]))
            rows[f"{t:g}"] = {"distance": round(dist, 3), **mean_stats(got)}
            log(f"level {level} temperature {t:g}: distance {dist:.3f} ({time.time() - t0:.0f} s) {mean_stats(got)}")
        best = min(rows, key=lambda k: rows[k]["distance"])
        chosen[level] = float(best)
        measured["levels"][str(level)] = {"chosen": chosen[level], "trials": rows}
    return chosen, measured


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the built demo set (studio data build)")
    ap.add_argument("--models", default=str(ROOT / "models" / "demo"))
    ap.add_argument("--temps", default="0.8,0.9,0.99", help="temperatures to try at every level")
    ap.add_argument("--genres", default="reel,chorale,string quartet", help="one held-out clip of each")
    ap.add_argument("--seconds", type=float, default=4.0, help="seconds rendered per clip")
    ap.add_argument("--top-p", type=float, default=0.0, help="nucleus filter used for every render (0 = off)")
    ap.add_argument("--write", action="store_true", help="write MODELS/sampling.json")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    models = ModelSet.from_folder(args.models, name="demo")
    held = load_audio_set(args.data, models.sr, keep=lambda it: it["split"] == "heldout")
    temps = [float(t) for t in args.temps.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        chosen, measured = tune(models, held, temps, args.genres.split(","), args.seconds, args.top_p, Path(tmp))
    print(json.dumps({"temperature": chosen, "top_p": args.top_p, "measured": measured}), flush=True)
    if args.write:
        path = write_sampling_defaults(sampling_file(models), SamplingDefaults(tuple(chosen), 0, args.top_p),
                                       measured)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
