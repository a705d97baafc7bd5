"""`studio bench [MODEL]`: time the sampler on this machine and project how long a song takes."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", default="demo", help="model name or folder (default: demo)")
    p.add_argument("--seconds", type=float, default=10.0, help="song length to project (default 10 s)")
    p.add_argument("--candidates", type=int, default=1, help="candidates sampled together (default 1)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where to time, as a song spec's 'device' (default: auto, a CUDA GPU where present)")
    p.add_argument("--steps", type=int, default=32, help="decode steps timed per level (default 32)")


def run(args) -> int:
    """Print one JSON line per level (``time_prior``'s figures), then the projection for the whole song. A level
    is timed with the step a render of the song would run: compiled where compiling pays and the compiled step is
    already in this machine's cache (``eager_ms_per_step`` then gives the other), else the eager step."""
    from studio.engine.cascade import StepPlan, cpu_threads, pick_device, sample_dtype
    from studio.engine.checkpoints import CheckpointError
    from studio.engine.modelset import ModelSet
    from studio.engine.sampling_defaults import fill_model_defaults
    from studio.engine.spec import SongSpec, SpecError, token_at
    from studio.engine.speed import projected_seconds, time_prior

    try:
        # the spec a render of this song would carry: it checks the numbers and holds the sampler's windowing
        spec = SongSpec(seconds=args.seconds, model=args.model, candidates=args.candidates, device=args.device,
                        seed=0)
        device = pick_device(spec)
        models = ModelSet.named(spec.model).to(device)
        fill_model_defaults(spec, models)  # the model's filter, as a render's: it names the compiled step
        priors = {level: models.prior(level) for level in range(models.levels)}
    except (SpecError, CheckpointError, RuntimeError) as exc:  # RuntimeError: out of device memory
        print(f"error: {exc}", file=sys.stderr)
        return 2
    top = models.levels - 1
    figs = {}
    for level in range(top, -1, -1):
        prior = priors[level]
        dtype = sample_dtype(device, prior.cfg, spec.precision)  # as a render of the spec samples this level
        with cpu_threads(device, prior.cfg.width):
            eager = time_prior(f"level_{level}", prior, spec.candidates, device, dtype, args.steps,
                               spec.hop_fraction[level], compiled=False, top_k=spec.top_k, top_p=spec.top_p)
            steps = token_at(spec.seconds, models.sr, models.hop_lengths[level])
            plan = StepPlan.decide(device, prior.cfg, spec.candidates, dtype, spec, steps, eager["ms_per_step"] / 1e3)
            figs[level] = time_prior(f"level_{level}", prior, spec.candidates, device, dtype, args.steps,
                                     spec.hop_fraction[level], True, spec.top_k, spec.top_p) \
                if plan.compiled and plan.warm else eager
        print(json.dumps({**figs[level], "eager_ms_per_step": eager["ms_per_step"]}))
    n_ctx = {level: prior.cfg.n_ctx for level, prior in priors.items()}

    def projected(levels) -> float:
        return projected_seconds(figs, models.sr, models.hop_lengths, n_ctx, spec.hop_fraction,
                                 {lv: lv for lv in levels}, spec.seconds)

    print(json.dumps({"model": models.name, "seconds_of_audio": spec.seconds, "candidates": spec.candidates,
                      "projected_top_level_s": round(projected([top]), 1),
                      "projected_all_levels_s": round(projected(figs), 1)}))
    return 0
