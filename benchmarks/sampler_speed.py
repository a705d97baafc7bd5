"""Sampler speed: what the sampler runs (``iter_sample_window``: priming a window, then decode steps), per prior.

Prints one JSON line per figure: ms per step, seconds to prime a window (and, in float32, what its projections'
matrix products alone take: ``prime_matmuls_s``), aten calls per step (eager), with the compiled step and without.
A prior sampled in a dtype other than float32 also gets, on its first line, how far the step's logits are from
float32's on the same weights (``logits_err_vs_fp32``, a share of the logits' spread, and ``top_token_agrees``).
On CPU it times the bundled demo priors and width-512 official-shaped networks (random weights, n_ctx 2048: an
upsampler's attention pattern, and the 5b top level's 8 heads), at batch 1 and 3; at official sizes it needs a GPU.

    python benchmarks/sampler_speed.py                           # CPU: demo + width-512 shapes
    python benchmarks/sampler_speed.py --only demo --render 10   # also a whole 10 s demo render, all levels
    python benchmarks/sampler_speed.py --device cuda --official  # GPU: 5b, 5b_lyrics, 1b_lyrics, upsampler
    python benchmarks/sampler_speed.py --root ../base --no-compile   # the same figures for another checkout
    python benchmarks/sampler_speed.py --only shaped --precision fp32   # the width-512 shapes in float32
    python benchmarks/sampler_speed.py --only demo --prime-only --root ../base   # priming alone, another checkout

``--precision`` (auto, fp32, bf16: a song spec's 'precision') sets the dtype of the width-512 shapes and the official
sizes through ``cascade.sample_dtype``, as a render samples them (auto: bf16 on GPUs and, on CPUs with native bf16,
for priors 512 wide); the demo priors keep the device's default. Each line says its "dtype".

``--root`` imports ``studio`` from another checkout (for before/after comparisons: alternate the two and take
medians); there the old API is used where this one is missing.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

REFERENCE_BATCH = {"5b": 3, "5b_lyrics": 3, "1b_lyrics": 16, "upsampler": 16}
REFERENCE_MS = {"5b": 79.2, "5b_lyrics": 132.3, "1b_lyrics": 70.1, "upsampler": 84.5}  # PERFORMANCE.md, H100


def shaped_configs():
    from studio.engine.configs import PriorConfig

    return {
        "upsampler-shaped w512": PriorConfig(level=0, n_ctx=2048, width=512, depth=16, heads=1, blocks=32,
                                             bins=2048, cond_width=128, cond_depth=2),
        "5b-shaped w512": PriorConfig(level=2, n_ctx=2048, width=512, depth=24, heads=8, blocks=32, bins=2048,
                                      min_duration=10.0, max_duration=600.0),
    }


def _drain(gen):
    """sampling.run_window, here too because --root may point at a checkout that lacks it."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def _window(prior, ctx, n, cond, batch, dtype, compiled, sampling=None):
    """iter_sample_window in this checkout's API (seeds) or the older one (torch generators); ``sampling`` the
    engine's sampling module of the checkout timed (default: the one imported as ``studio``)."""
    if sampling is None:
        from studio.engine import sampling

    params = inspect.signature(sampling.iter_sample_window).parameters
    if "compiled" in params:  # drawing the classes a render draws (a lyrics top level: its music codes only)
        allowed = sampling.allowed_classes(prior.cfg) if hasattr(sampling, "allowed_classes") else None
        return sampling.iter_sample_window(prior, ctx, n, cond, list(range(batch)), 0.99, dtype=dtype,
                                           chunk_size=sampling.priming_chunk(prior.cfg), compiled=compiled,
                                           allowed=allowed)
    gens = [torch.Generator(device=ctx.device).manual_seed(i) for i in range(batch)]
    return sampling.iter_sample_window(prior, ctx, n, cond, gens, 0.99, dtype=dtype,
                                       chunk_size=sampling.priming_chunk(prior.cfg))


DTYPE_NAMES = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16", torch.int8: "int8"}


def pick_dtype(cfg, device, precision):
    """The dtype a render samples a prior of ``cfg`` in (``cascade.sample_dtype``); ``precision`` None, or a checkout
    without that rule (--root): the device's default, bf16 on GPU and float32 on CPU."""
    from studio.engine import cascade

    rule = getattr(cascade, "sample_dtype", None)
    if precision is not None and rule is not None and "precision" in inspect.signature(rule).parameters:
        return rule(device, cfg, precision)
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def aten_calls_per_step(prior, batch, device, dtype) -> int:
    """Aten operator calls of one eager decode step (profiler, top-level and nested)."""
    from torch.profiler import ProfilerActivity, profile

    from studio.engine.speed import synthetic_conditioning

    cond = synthetic_conditioning(prior, batch, device)
    ctx = torch.randint(0, prior.cfg.bins, (batch, 64), device=device)
    gen = _window(prior, ctx, 12, cond, batch, dtype, False)
    for _ in range(4):
        next(gen)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(4):
            next(gen)
    return sum(e.count for e in prof.key_averages() if e.key.startswith("aten::")) // 4


def prime_window(sampling, prior, ctx, cond, dtype) -> None:
    """One priming, as ``iter_sample_window`` does it before its first step: the window's decoder (made once and
    reused by this checkout, made per window by older ones) takes ``ctx``. ``sampling`` is the engine's sampling
    module of the checkout being timed (another one's, in interleaved.py)."""
    chunk = sampling.priming_chunk(prior.cfg)
    with torch.no_grad():
        if hasattr(sampling, "window_decoder"):
            sampling.window_decoder(prior, cond, dtype).prime(ctx, chunk)
        else:  # the checkout before the one attention path
            sampling.CachedDecoder(prior, ctx.shape[0], cond, dtype).prime(ctx, chunk)


def time_priming(prior, ctx, cond, dtype, device, repeats: int = 5, budget_s: float = 2.0,
                 most: int = 31) -> float:
    """Seconds to prime a window (:func:`prime_window`), median of at least ``repeats`` primings, more (up to
    ``most``) while they fit in ``budget_s``: a demo priming takes milliseconds and its median of five moved by a
    third between runs on a noisy VM. (``first_token_s``, the first step's surplus over a later one, also counts
    what a first step does once a window: the eager step's block of noise.)"""
    from studio.engine import sampling
    from studio.engine.speed import sync

    times = []
    while len(times) < repeats or (len(times) < most and sum(times) < budget_s):
        t0 = time.perf_counter()
        prime_window(sampling, prior, ctx, cond, dtype)
        sync(device)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


class _MatmulShapes(torch.overrides.TorchFunctionMode):
    """Records the shapes of every ``addmm`` (a projection's matrix product) a pass makes."""

    def __init__(self):
        super().__init__()
        self.shapes = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.addmm:
            self.shapes.append(tuple(tuple(a.shape) for a in args[:3]))
        return func(*args, **(kwargs or {}))


def time_matmuls(prior, ctx, cond, dtype, device, repeats: int = 5) -> float:
    """Seconds that priming's projections alone take: the ``addmm`` calls of one priming pass, replayed on tensors
    of the same shapes and dtype (median of ``repeats``). What no attention layout can save: the floor under
    ``prime_s`` in float32 on the CPU."""
    from studio.engine import sampling
    from studio.engine.speed import sync

    rec = _MatmulShapes()
    with torch.no_grad(), rec:
        sampling.window_decoder(prior, cond, dtype).prime(ctx, sampling.priming_chunk(prior.cfg))
    dt = sampling.activation_dtype(dtype)
    calls = [tuple(torch.randn(s, dtype=dt, device=device) for s in shapes) for shapes in rec.shapes]
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        for b, x, w in calls:
            torch.addmm(b, x, w)
        sync(device)
        times.append(time.perf_counter() - t0)
    return sorted(times[1:])[repeats // 2]


LOGIT_CHECK_PRIMED, LOGIT_CHECK_STEPS = 256, 8  # the dtype check: steps after a primed context


def step_logits(prior, ctx, cond, dtype):
    """The step's logits (N, 8, V) after priming the lyric prefix and 256 music tokens of ``ctx``, as ``dtype``
    samples them; None in a checkout without the check's function (--root)."""
    from studio.engine import sampling

    if "dtype" not in inspect.signature(getattr(sampling, "teacher_forced_step_logits", lambda: 0)).parameters:
        return None
    n = min(prior.cfg.prefix_len + LOGIT_CHECK_PRIMED, ctx.shape[1] - LOGIT_CHECK_STEPS)
    return sampling.teacher_forced_step_logits(prior, ctx[:, :n + LOGIT_CHECK_STEPS], cond, n,
                                               sampling.priming_chunk(prior.cfg), dtype=dtype).float()


def against_fp32(got, ref) -> dict:
    """How far the sampling dtype's logits are from float32's on the same weights: the largest difference as a
    share of the logits' spread, and how often both pick the same top token."""
    return {"logits_err_vs_fp32": round(float((got - ref).abs().max() / ref.std()), 4),
            "top_token_agrees": round(float((got.argmax(-1) == ref.argmax(-1)).float().mean()), 3)}


def hop_fraction(level: int) -> float:
    """The hop fraction a level is sampled with: 0.5 below the top level, 0.125 at it (the official settings)."""
    return 0.5 if level < 2 else 0.125


def window_context(prior, batch, device, steps, hop_fraction):
    """The conditioning and the primed context of a window after the first: ``n_ctx - hop`` known tokens, as the
    sampler primes them (fewer where ``steps`` would not fit after them)."""
    from studio.engine.speed import synthetic_conditioning

    cfg = prior.cfg
    n_prime = min(cfg.n_ctx_total - int(hop_fraction * cfg.n_ctx), cfg.n_ctx_total - steps - 2)
    return synthetic_conditioning(prior, batch, device), torch.randint(0, cfg.bins, (batch, n_prime), device=device)


def priming_figures(prior, ctx, cond, dtype, device) -> dict:
    """``prime_tokens``, ``prime_s`` and, in float32 on this checkout's decoder, ``prime_matmuls_s``."""
    from studio.engine import sampling

    out = {"prime_tokens": ctx.shape[1], "prime_s": round(time_priming(prior, ctx, cond, dtype, device), 5)}
    if hasattr(sampling, "window_decoder") and dtype == torch.float32:
        out["prime_matmuls_s"] = round(time_matmuls(prior, ctx, cond, dtype, device), 5)
    return out


def time_prime_only(name, prior, batch, device, dtype, steps, hop_fraction) -> dict:
    """Priming alone (``--prime-only``), after a warm-up: :func:`priming_figures`."""
    from studio.engine import sampling

    cond, ctx = window_context(prior, batch, device, steps, hop_fraction)
    sampling.cast_for_sampling(prior, dtype)
    time_priming(prior, ctx, cond, dtype, device, repeats=3, budget_s=0.0)  # warm-up
    return {"prior": name, "dtype": DTYPE_NAMES[dtype], "batch": batch,
            **priming_figures(prior, ctx, cond, dtype, device)}


def time_window(name, prior, batch, device, dtype, steps, hop_fraction, compiled) -> dict:
    from studio.engine import sampling
    from studio.engine.speed import sync

    cond, ctx = window_context(prior, batch, device, steps, hop_fraction)
    checked = dtype != torch.float32 and not getattr(prior, "needs_reload_for", lambda d: True)(torch.float32)
    ref = step_logits(prior, ctx, cond, torch.float32) if checked else None  # before the weights are cast
    sampling.cast_for_sampling(prior, dtype)
    if device.type == "cuda":  # peak memory while sampling, not while the float32 weights were held
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    _drain(_window(prior, ctx[:, :1], 2, cond, batch, dtype, compiled))  # warm-up (compiles where compiled)
    sync(device)
    prepare = time.perf_counter() - t0
    gen = _window(prior, ctx, steps, cond, batch, dtype, compiled)
    t0 = time.perf_counter()
    next(gen)
    sync(device)
    t1 = time.perf_counter()
    _drain(gen)
    sync(device)
    ms = (time.perf_counter() - t1) / (steps - 1) * 1000
    out = {"prior": name, "dtype": DTYPE_NAMES[dtype], "batch": batch, "compiled": bool(compiled),
           "ms_per_step": round(ms, 3), **priming_figures(prior, ctx, cond, dtype, device),
           "first_token_s": round(t1 - t0 - ms / 1000, 4), "prepare_s": round(prepare, 2)}
    if ref is not None:
        out.update(against_fp32(step_logits(prior, ctx, cond, dtype), ref))
    if device.type == "cuda":
        out["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return out


def demo_render(seconds: float, compiled) -> dict:
    """Wall time of a whole demo render (3 candidates, all levels) through the cascade, as `studio render` runs it
    in a new process (``wall_s``), and of a second render in the same process (``again_s``), as the studio's sampler
    process runs every job after its first (the model and the compiled steps already loaded)."""
    from studio.engine import cascade
    from studio.engine.jobs import new_take
    from studio.engine.modelset import ModelSet
    from studio.engine.spec import SongSpec

    if hasattr(cascade, "step_compile"):  # None: the default (compile where it pays), not the previous run's choice
        cascade.step_compile.set_enabled(compiled)
    models = ModelSet.named("demo")
    spec = SongSpec.from_dict({"model": "demo", "seconds": seconds, "artist": "Trad. Irish (O'Neill)",
                               "genre": "reel", "candidates": 3, "seed": 5})
    walls = []
    for again in range(2):
        with tempfile.TemporaryDirectory() as tmp:
            take = new_take(spec, Path(tmp) / "take", models)
            t0 = time.perf_counter()
            for ev in cascade.run_take(take, models):
                if type(ev).__name__ == "JobDone" and ev.error:
                    raise RuntimeError(ev.error)
            walls.append(time.perf_counter() - t0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # the spec's device "auto"
    dtypes = sorted({DTYPE_NAMES[pick_dtype(models.prior(lv).cfg, device, "auto")] for lv in range(models.levels)})
    return {"render_seconds": seconds, "dtype": "+".join(dtypes), "candidates": 3, "compiled": compiled,
            "wall_s": round(walls[0], 2), "again_s": round(walls[1], 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", help="import studio from this checkout (default: this one)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--official", action="store_true", help="official sizes (needs a GPU with ~40 GB)")
    ap.add_argument("--only", choices=["demo", "shaped", "render"],
                    help="only the demo priors, the width-512 shapes, or the render (--render)")
    ap.add_argument("--models", help="with --official: only these, comma-separated (default: all four)")
    ap.add_argument("--batches", default="1,3")
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (1 is fastest for small models)")
    ap.add_argument("--no-compile", action="store_true", help="time the eager step only")
    ap.add_argument("--compiled-only", action="store_true", help="time the compiled step only")
    ap.add_argument("--prime-only", action="store_true",
                    help="time priming alone (prime_s, median of up to 31): no steps, nothing compiled")
    ap.add_argument("--calls", action="store_true", help="also count aten calls per eager step")
    ap.add_argument("--render", type=float, default=0.0, help="also time a whole demo render of this many seconds")
    ap.add_argument("--precision", choices=["auto", "fp32", "bf16", "int8"], default="auto",
                    help="dtype of the width-512 shapes and official sizes, as a spec's 'precision' (default auto)")
    args = ap.parse_args()
    root = Path(args.root or Path(__file__).resolve().parents[1]).resolve()
    if not (root / "studio").is_dir():
        ap.error(f"--root {args.root}: no studio package there (give a checkout of this project)")
    sys.path.insert(0, str(root))
    import studio

    if Path(studio.__file__).resolve().parents[1] != root:
        ap.error(f"studio was imported from {Path(studio.__file__).parent}, not {root}")
    from studio.engine import official_config
    from studio.engine.speed import random_prior

    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    if device.type == "cpu":
        try:  # what the sampler process sets before sampling on the CPU (cascade.cpu_threads)
            from studio.engine.allocator import keep_freed_memory
            keep_freed_memory()
        except ImportError:  # a checkout from before it
            pass
    modes = [False] if args.no_compile else [True] if args.compiled_only else [False, True]
    if args.render:
        for c in ([False] if args.no_compile else [False, None]):
            print(json.dumps(demo_render(args.render, c)), flush=True)
    priors = {}
    if args.only == "render":
        return 0
    if args.official:
        for name, (model, level) in {"upsampler": ("5b", 0), "1b_lyrics": ("1b_lyrics", 2), "5b": ("5b", 2),
                                     "5b_lyrics": ("5b_lyrics", 2)}.items():
            if args.models and name not in args.models.split(","):
                continue
            priors[name] = (lambda m=model, lv=level: random_prior(official_config(m, lv), device),
                            [REFERENCE_BATCH[name]], hop_fraction(level), args.precision)
    else:
        batches = [int(b) for b in args.batches.split(",")]
        if args.only != "shaped":
            from studio.engine.modelset import ModelSet
            ms = ModelSet.named("demo")
            for lv in range(3):
                priors[f"demo_level_{lv}"] = (lambda lv=lv: ms.prior(lv).to(device), batches,
                                              hop_fraction(lv), None)
        if args.only != "demo":
            for name, cfg in shaped_configs().items():
                priors[name] = (lambda c=cfg: random_prior(c, device), batches, hop_fraction(cfg.level),
                                args.precision)
    for name, (make, batches, hop, precision) in priors.items():
        prior = make()
        dtype = pick_dtype(prior.cfg, device, precision)
        for batch in batches:
            if args.prime_only:
                print(json.dumps(time_prime_only(name, prior, batch, device, dtype, args.steps, hop)), flush=True)
                continue
            for compiled in modes:
                f = time_window(name, prior, batch, device, dtype, args.steps, hop, compiled)
                if args.calls and not compiled:
                    f["aten_calls_per_step"] = aten_calls_per_step(prior, batch, device, dtype)
                if name in REFERENCE_MS:
                    f["speedup_vs_reference"] = round(REFERENCE_MS[name] / f["ms_per_step"], 1)
                print(json.dumps(f), flush=True)
        del prior
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
