"""`studio bench [MODEL]`: time the sampler on this machine and project how long a song takes."""

from __future__ import annotations

import argparse
import json

import torch


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", default="demo", help="model name or folder (default: demo)")
    p.add_argument("--seconds", type=float, default=10.0, help="song length to project (default 10 s)")
    p.add_argument("--candidates", type=int, default=1)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--steps", type=int, default=32)


def run(args) -> int:
    from .engine.cascade import sample_dtype
    from .engine.checkpoints import CheckpointError
    from .engine.modelset import ModelSet
    from .engine.speed import projected_seconds, time_prior

    try:
        models = ModelSet.named(args.model)
        device = torch.device(args.device)
        models.to(device)
    except (CheckpointError, RuntimeError) as exc:
        print(f"error: {exc}")
        return 2
    dtype = sample_dtype(device)
    threads = torch.get_num_threads()
    figs, n_ctx = {}, {}
    for level in range(models.levels - 1, -1, -1):
        prior = models.prior(level)
        if device.type == "cpu" and prior.cfg.width <= 1024:
            torch.set_num_threads(1)
        f = time_prior(f"level_{level}", prior, args.candidates, device, dtype, args.steps,
                       0.125 if level == models.levels - 1 else 0.5, compiled=False)
        torch.set_num_threads(threads)
        figs[level] = f
        n_ctx[level] = prior.cfg.n_ctx
        print(json.dumps(f))
    keys = {lv: lv for lv in figs}
    total = projected_seconds(figs, models.sr, models.hop_lengths, n_ctx, [0.5, 0.5, 0.125], keys, args.seconds)
    top = projected_seconds(figs, models.sr, models.hop_lengths, n_ctx, [0.5, 0.5, 0.125],
                            {models.levels - 1: models.levels - 1}, args.seconds)
    print(json.dumps({"model": models.name, "seconds_of_audio": args.seconds, "candidates": args.candidates,
                      "projected_top_level_s": round(top, 1), "projected_all_levels_s": round(total, 1)}))
    return 0
