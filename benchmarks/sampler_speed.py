"""Sampler speed: ms per decode step and seconds to prime a window, per prior, plus projected wall time.

Prints one JSON line per figure. At official sizes it needs a GPU (random weights, bf16); on CPU it times the tiny
reference configs and the bundled demo model.

    python benchmarks/sampler_speed.py                       # CPU: tiny + demo
    python benchmarks/sampler_speed.py --device cuda --official   # GPU: 5b, 5b_lyrics, 1b_lyrics, upsampler
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.engine import official_config  # noqa: E402
from studio.engine.speed import projected_seconds, random_prior, time_prior  # noqa: E402

REFERENCE_BATCH = {"5b": 3, "5b_lyrics": 3, "1b_lyrics": 16, "upsampler": 16}
REFERENCE_MS = {"5b": 79.2, "5b_lyrics": 132.3, "1b_lyrics": 70.1, "upsampler": 84.5}  # PERFORMANCE.md, H100


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--official", action="store_true", help="official sizes (needs a GPU with ~40 GB)")
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (1 is fastest for small models)")
    args = ap.parse_args()
    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    torch.set_num_threads(args.threads)
    figs = {}
    if args.official:
        for name, (model, level) in {"upsampler": ("5b", 0), "1b_lyrics": ("1b_lyrics", 2), "5b": ("5b", 2),
                                     "5b_lyrics": ("5b_lyrics", 2)}.items():
            prior = random_prior(official_config(model, level), device)
            f = time_prior(name, prior, REFERENCE_BATCH[name], device, dtype, args.steps,
                           0.5 if level < 2 else 0.125)
            f["speedup_vs_reference"] = round(REFERENCE_MS[name] / f["ms_per_step"], 1)
            figs[name] = f
            print(json.dumps(f), flush=True)
            del prior
            if device.type == "cuda":
                torch.cuda.empty_cache()
        for top in ("5b", "5b_lyrics", "1b_lyrics"):
            n_ctx = {0: 8192, 1: 8192, 2: 6144 if top == "1b_lyrics" else 8192}
            s = projected_seconds(figs, 44100, [8, 32, 128], n_ctx, [0.5, 0.5, 0.125],
                                  {2: top, 1: "upsampler", 0: "upsampler"})
            print(json.dumps({"projection": f"one minute of audio, {top}, all levels", "device": str(device),
                              "seconds": round(s, 1), "reference_seconds": 11 * 3600}))
        return 0
    sets = {}
    fixtures = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "jukebox-tiny"
    if fixtures.is_dir():
        from studio.engine import load_checkpoint
        sets["tiny"] = {lv: load_checkpoint(fixtures / f / "checkpoint.pth.tar")
                        for lv, f in [(0, "upsampler_level_0"), (1, "upsampler_level_1"), (2, "prior_5b_lyrics")]}
    demo = Path(__file__).resolve().parents[1] / "models" / "demo"
    if (demo / "prior_level_2.safetensors").is_file():
        from studio.engine.modelset import ModelSet
        ms = ModelSet.from_folder(demo)
        sets["demo"] = {lv: ms.prior(lv) for lv in range(3)}
    for set_name, priors in sets.items():
        for level, prior in priors.items():
            f = time_prior(f"{set_name}_level_{level}", prior.to(device), 1, device, dtype, args.steps,
                           0.5 if level < 2 else 0.125)
            print(json.dumps(f), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
