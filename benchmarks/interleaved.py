"""Priming a window (or the eager decode step), this checkout against another, interleaved in one process (demo
priors, one thread).

Timed in separate processes (``sampler_speed.py --prime-only --root``), a demo priming's median moved by a quarter
between runs on a shared virtual machine, more than the change being measured. Here every priming (or step) of the
other checkout is paired with one of this checkout (their order alternating), on the same weights and the same
context, and the figure is the median of the pairs' ratios, with its quartiles. The other checkout's ``studio`` package is
copied into a temporary folder as ``studio_before`` (its absolute imports renamed) so that both load side by side.

The C allocator's setting is process-wide: both checkouts run with this one's (``allocator.keep_freed_memory``,
which the sampler sets on the CPU), or with ``--glibc-defaults`` both with glibc's defaults, what a checkout from
before that setting ran with.

    python benchmarks/interleaved.py --before ../before                 # the sampler's priming (n_ctx - hop)
    python benchmarks/interleaved.py --before ../before --full-window   # n_ctx - 2 tokens
    python benchmarks/interleaved.py --before ../before --step          # the eager decode step (300 pairs)
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sampler_speed import _window, hop_fraction, prime_window, window_context  # noqa: E402

ALIAS = "studio_before"
STEPS = 48  # steps a window must still fit after its primed context, as sampler_speed.py --steps
STEP_WINDOW = 400  # --step: tokens a window samples after 64 known ones (a new window's priming is not timed apart)
IMPORT = re.compile(r"^(\s*(?:from|import)\s+)studio(?=[\s.])", re.MULTILINE)


def import_other(checkout: Path, into: Path):
    """The other checkout's ``studio`` package, loaded as ``studio_before`` from a renamed copy in ``into``."""
    copy = into / ALIAS
    shutil.copytree(checkout / "studio", copy, ignore=shutil.ignore_patterns("__pycache__", "ui"))
    for path in copy.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(IMPORT.sub(rf"\g<1>{ALIAS}", text), encoding="utf-8")
    if (checkout / "models").is_dir():  # the bundled demo model, found beside the package
        (into / "models").symlink_to((checkout / "models").resolve())
    sys.path.insert(0, str(into))
    return importlib.import_module(ALIAS)


def demo_prior(pkg, level: int):
    return importlib.import_module(f"{pkg.__name__}.engine.modelset").ModelSet.named("demo").prior(level)


def conditioning(pkg, prior, batch: int):
    torch.manual_seed(0)
    return importlib.import_module(f"{pkg.__name__}.engine.speed").synthetic_conditioning(prior, batch,
                                                                                         torch.device("cpu"))


def stepper(sampling, prior, ctx, cond):
    """A function that runs one eager decode step of a window after ``ctx`` (a new window when one ends)."""
    state = {"gen": None}

    def step():
        try:
            next(state["gen"])
        except (StopIteration, TypeError):  # the window ended, or none yet
            state["gen"] = _window(prior, ctx, STEP_WINDOW, cond, ctx.shape[0], torch.float32, False, sampling)
            next(state["gen"])
    return step


def interleave(pairs: int, before, now) -> dict:
    """Medians of ``pairs`` timings of each, and the median and quartiles of the pairs' ratios (before / now)."""
    for _ in range(20):  # warm-up: decoders made, pages touched
        before(), now()
    times = {"before": [], "now": []}
    for i in range(pairs):
        for name, fn in (("before", before), ("now", now)) if i % 2 else (("now", now), ("before", before)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    ratios = [b / n for b, n in zip(times["before"], times["now"])]
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return {"before_ms": round(statistics.median(times["before"]) * 1e3, 2),
            "now_ms": round(statistics.median(times["now"]) * 1e3, 2),
            "ratio": round(statistics.median(ratios), 2), "ratio_q1": round(q1, 2), "ratio_q3": round(q3, 2),
            "pairs": pairs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="a checkout of this project to compare against")
    ap.add_argument("--levels", default="0,1,2")
    ap.add_argument("--batches", default="1,3")
    ap.add_argument("--pairs", type=int, default=100, help="pairs per prior and batch (level 2: half as many)")
    ap.add_argument("--full-window", action="store_true", help="prime n_ctx - 2 tokens, not the sampler's n_ctx - hop")
    ap.add_argument("--step", action="store_true", help="time the eager decode step instead (3x the pairs)")
    ap.add_argument("--glibc-defaults", action="store_true", help="leave the C allocator as glibc sets it")
    args = ap.parse_args()
    checkout = Path(args.before).resolve()
    if not (checkout / "studio").is_dir():
        ap.error(f"--before {args.before}: no studio package there (give a checkout of this project)")
    torch.set_num_threads(1)
    import studio
    from studio.engine import sampling
    from studio.engine.allocator import keep_freed_memory

    if not args.glibc_defaults:
        keep_freed_memory()
    with tempfile.TemporaryDirectory() as tmp:
        other = import_other(checkout, Path(tmp))
        other_sampling = importlib.import_module(f"{ALIAS}.engine.sampling")
        for level in map(int, args.levels.split(",")):
            prior, old_prior = demo_prior(studio, level), demo_prior(other, level)
            try:  # the same weights where the two checkouts name them alike (timing does not depend on them)
                same = not old_prior.load_state_dict(prior.state_dict(), strict=False).missing_keys
            except RuntimeError:  # shapes differ: each keeps its own bundled model's
                same = False
            hop = hop_fraction(level)
            sampling.cast_for_sampling(prior, torch.float32)
            for batch in map(int, args.batches.split(",")):
                old_cond = conditioning(other, old_prior, batch)
                pairs = args.pairs if level < 2 else args.pairs // 2
                if args.step:
                    cond = conditioning(studio, prior, batch)
                    ctx = torch.randint(0, prior.cfg.bins, (batch, 64))
                    fig = interleave(3 * pairs, stepper(other_sampling, old_prior, ctx, old_cond),
                                     stepper(sampling, prior, ctx, cond))
                else:
                    cond, ctx = window_context(prior, batch, torch.device("cpu"), 0 if args.full_window else STEPS,
                                               0.0 if args.full_window else hop)
                    fig = interleave(pairs,
                                     lambda: prime_window(other_sampling, old_prior, ctx, old_cond, torch.float32),
                                     lambda: prime_window(sampling, prior, ctx, cond, torch.float32))
                print(json.dumps({"prior": f"demo_level_{level}", "batch": batch,
                                  "timed": "eager step" if args.step else f"priming {ctx.shape[1]} tokens",
                                  "same_weights": same, **fig}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
