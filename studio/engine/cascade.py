"""The whole cascade as a generator of events: top level, then the upsamplers, window by window.

``run_take`` drives a take folder to completion: windows already on disk are skipped, so the same call resumes a
take that was cancelled, crashed or ran out of memory. Every finished window is written before the next starts. It
holds the take's lock for the whole run, clears what killed writers left, and checks the take's files against its
record first, re-making what it can (:mod:`.take_check`).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterator, Optional

import numpy as np
import torch

from . import memory, step_compile
from .allocator import keep_freed_memory
from .alignment import lyric_alignment
from .atomic_files import DiskWriteError, remove_stale_temps
from .chunked_decode import decode_in_chunks
from .configs import PriorConfig
from .events import (AlignmentReady, Event, JobDone, JobPlanned, LevelDone, Preparing, Progress, Warning_,
                     WindowDone)
from .loudness import set_loudness
from .modelset import ModelSet
from .priming import prime_codes
from .render_eq import equalise
from .sampling import Cancelled, activation_dtype, priming_chunk
from .spec import SongSpec, SpecError, song_lengths, token_at
from .speed import measured_rates
from .take_check import check_take, repair
from .take_lock import TakeLock, TakeLocked
from .takes import Take, TakeStatus
from .window_unit import sample_window_rows
from .windows import level_windows, sampled_prefix, tokens_to_sample


class OutOfMemory(RuntimeError):
    pass


def pick_device(spec: SongSpec) -> torch.device:
    if spec.device == "cuda" or (spec.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise SpecError("a CUDA GPU was asked for (device \"cuda\") but none is available; set device to "
                            "\"cpu\" or \"auto\".")
        return torch.device("cuda")
    return torch.device("cpu")


# Sampling in reduced precision on a CPU pays only for wide priors. Measured on an AMD EPYC Zen 4 core (avx512_bf16,
# one thread): a (1792x512)@(512x512) matmul takes 4.4 ms in bf16 against 11.6 ms in float32. Width-512 priors
# (benchmarks/sampler_speed.py --only shaped) primed a 5b-shaped window in 0.55 s in bf16 instead of 0.98 s. A decode
# step reads every weight once, so there int8 weights (bf16 activations) gain most: the compiled upsampler-shaped
# step took 1.9 ms with int8 weights, 4.6 ms in bf16, 6.1 ms in float32 (batch 1). Rounding the weights to int8 moved
# the demo priors' held-out bits per token by less than 0.003 at every level (5.432 / 3.742 / 3.660 in float32).
# At the demo's width 128 neither gained anything measurable, and the demo and the test fixtures stay float32,
# exact against the reference's numbers.
CPU_REDUCED_MIN_WIDTH = 512
PRECISION_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "int8": torch.int8}  # torch.int8: int8 weights,
# bf16 activations (layers.Conv1D.quantize)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices natively (oneDNN: avx512_bf16 or AMX), not emulated."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # noqa: BLE001 - a torch built without oneDNN, or without this query
        return False


def sample_dtype(device: torch.device, cfg: PriorConfig, precision: str = "auto") -> torch.dtype:
    """The dtype a prior of config ``cfg`` samples in on ``device``, for a spec's ``precision``: "fp32", "bf16" or
    "int8" (``torch.int8``: int8 weights, bf16 activations) as asked; "auto": bf16 on GPUs that support it, int8
    weights on a CPU with native bf16 matmuls for priors at least ``CPU_REDUCED_MIN_WIDTH`` wide, float32
    otherwise."""
    if precision != "auto":
        return PRECISION_DTYPES[precision]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    if device.type == "cpu" and cfg.width >= CPU_REDUCED_MIN_WIDTH and cpu_has_native_bf16():
        return torch.int8
    return torch.float32


def init_codes(take: Take, models: ModelSet, spec: SongSpec, n_samples: int) -> None:
    """Create the code arrays (-1 = to sample), filling the priming clip's codes where the spec has one."""
    n = len(take.plan.candidates)
    for level in range(models.levels):
        if take.has_codes(level):
            continue
        take.write_codes(level, -np.ones((n, n_samples // models.hop_lengths[level]), dtype=np.int64))
    if spec.prime is not None and take.plan.kind == "generate":
        zs = prime_codes(models, spec.prime, n_samples)
        for level, z in enumerate(zs):
            codes = take.codes(level)
            if (codes[:, : z.shape[1]] >= 0).all():
                continue
            codes[:, : z.shape[1]] = z[None, 0]
            take.write_codes(level, codes)


class _Clock:
    """Seconds per token per level, measured as the job runs, for the ETA."""

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self.now = now
        self.t0 = now()
        self.rate: dict[int, float] = {}
        self.waits: dict[int, float] = {}  # level -> seconds its step's preparation will take before it samples
        self.window_start, self.first_step = self.t0, None

    def elapsed(self) -> float:
        return self.now() - self.t0

    def eta(self, remaining: dict[int, int]) -> float:
        known = list(self.rate.values())
        if not known:
            return float("nan")
        fallback = max(known)
        return sum(n * self.rate.get(lv, fallback) + (self.waits.get(lv, 0.0) if n > 0 else 0.0)
                   for lv, n in remaining.items())

    def window_begun(self) -> None:
        self.window_start, self.first_step = self.now(), None

    def stepped(self, step: int, n_steps: int) -> None:
        if self.first_step is None:
            self.first_step = (step, n_steps, self.now())

    def window_done(self, level: int, n_new: int, prepared: bool) -> None:
        """The level's rate from the window just sampled. A window whose first step prepared the sampler (compiled
        or loaded its step) is timed from that step on: counted in, the preparation would put the ETA out by its
        length times the windows left (55 minutes for a 6 s render)."""
        end = self.now()
        if not prepared:
            self.rate[level] = (end - self.window_start) / max(1, n_new)
        elif self.first_step is not None and self.first_step[1] > self.first_step[0]:
            step, n_steps, t1 = self.first_step
            self.rate[level] = (end - t1) * n_steps / (n_steps - step) / max(1, n_new)


@dataclass(frozen=True)
class StepPlan:
    """How a level's decode step runs in a job: compiled or not (``step_compile.pays``), the graph's key, and the
    preparation (compiling, or loading a warm graph) it waits for before its first step."""
    sig: Optional[str] = None
    compiled: bool = False
    wait: float = 0.0
    warm: bool = False

    @classmethod
    def decide(cls, device, cfg, batch: int, dtype, spec, steps: int, eager_s_per_step: float) -> "StepPlan":
        if not steps or not step_compile.wanted(device):
            return cls()
        sig = step_compile.signature(asdict(cfg), batch, dtype, device.type, spec.top_k, spec.top_p)
        compiled = step_compile.pays(device, sig, steps, eager_s_per_step)
        return cls(sig, compiled, step_compile.expected_compile_s(device, sig) if compiled else 0.0,
                   step_compile.is_warm(sig))

    def seconds_per_step(self, device, eager_s_per_step: float) -> float:
        """The step's expected seconds: the eager step's measured, divided by the compiled step's usual gain."""
        return eager_s_per_step / step_compile.speedup(device) if self.compiled else eager_s_per_step


class cpu_threads:
    """Small networks decode faster on one thread: per-step matrices are tiny and threads only contend. The VQ-VAE's
    narrow convolutions too: a level's audio decodes in chunks, one thread each, on every core (:meth:`cores`). On the
    CPU the C allocator also keeps freed memory (``allocator.keep_freed_memory``)."""

    def __init__(self, device: torch.device, width: int):
        self.cpu = device.type == "cpu"
        self.n = 1 if self.cpu and width <= 1024 else None

    @staticmethod
    def cores() -> int:
        """The cores this process may run on."""
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

    def __enter__(self):
        if self.cpu:
            keep_freed_memory()  # process-wide and kept: later windows reuse freed tensors' pages
        self.before = torch.get_num_threads()
        if self.n:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        torch.set_num_threads(self.before)


def run_take(take: Take, models: ModelSet, cancel: Optional[Callable[[], bool]] = None) -> Iterator[Event]:
    """Drive ``take`` to completion, yielding events. Resumable: call again on the same folder.

    A take another process is writing, or whose folder refuses the lock file, ends in one ``JobDone`` with the
    error, the take untouched."""
    spec = take.spec
    device = torch.device("cpu")
    try:
        device = pick_device(spec)
        width = models.prior(models.levels - 1).cfg.width
    except Exception:  # reported by _run_take below
        width = 0
    try:
        with TakeLock(take.path), cpu_threads(device, width):
            yield from _run_take(take, models, cancel)
    except (TakeLocked, DiskWriteError) as exc:  # raised taking the lock, before anything was written
        yield JobDone(str(take.path), error=str(exc))


def _run_take(take: Take, models: ModelSet, cancel: Optional[Callable[[], bool]]) -> Iterator[Event]:
    cancel = cancel or (lambda: False)
    try:
        take.record = Take.load(take.path).record  # as the last writer left it: it may have moved on since it was read
    except (FileNotFoundError, ValueError) as exc:  # gone, or a damaged take.json: left as it is for the user
        yield JobDone(str(take.path), error=str(exc))
        return
    spec, plan = take.spec, take.plan
    try:
        device = pick_device(spec)
        models.to(device)
        dtypes = {lv: sample_dtype(device, models.prior(lv).cfg, spec.precision) for lv in plan.levels}
        total_length, faults = prepare_take(take, models)
        for fault in faults:
            yield Warning_(str(fault))
        take.set_status(TakeStatus.RUNNING)
        deferred = yield from _run_levels(take, models, spec, plan, device, dtypes, total_length, cancel)
        take.set_status(TakeStatus.DONE)
    except Cancelled:
        _record_stop(take, TakeStatus.CANCELLED)
        yield JobDone(str(take.path), cancelled=True)
        return
    except (SpecError, ValueError, OutOfMemory, FileNotFoundError, RuntimeError) as exc:
        _record_stop(take, TakeStatus.FAILED, str(exc))
        yield JobDone(str(take.path), error=str(exc))
        return
    except OSError as exc:  # the disk refused a write (full, read-only, permissions): say which file and the fix
        msg = f"{exc}, then resume the take (it is kept up to its last window)."
        _record_stop(take, TakeStatus.FAILED, msg)
        yield JobDone(str(take.path), error=msg)
        return
    except Exception as exc:  # a bug: keep the take, write the traceback beside it, tell the caller
        msg = (f"unexpected {type(exc).__name__}: {exc}. The take is kept up to its last window; "
               f"{_save_details(take, exc)} (please report them).")
        _record_stop(take, TakeStatus.FAILED, msg)
        yield JobDone(str(take.path), error=msg)
        return
    yield JobDone(str(take.path), compile_deferred=tuple(sorted(deferred)))


def prepare_take(take: Take, models: ModelSet) -> tuple[int, list]:
    """What every writer of a take does before sampling (this module and the farm's driver), holding its lock: clear
    what killed writers left, check the files against the record and re-make what can be re-made, fill the codes
    not sampled yet (encoding a priming clip). Returns the song's length in samples and the faults found."""
    remove_stale_temps(take.path)
    n_samples, total_length = song_lengths(take.spec, models)
    faults = check_take(take, models)
    repair(take, faults)
    init_codes(take, models, take.spec, n_samples)
    return total_length, faults


def _record_stop(take: Take, status: TakeStatus, error: Optional[str] = None) -> None:
    """Record why the job stopped, if the disk lets us; if not, the record still says "running", which resumes too."""
    try:
        take.set_status(status, error)
    except OSError:
        pass


def _save_details(take: Take, exc: Exception) -> str:
    """Write ``exc``'s traceback to the take's ``error.log``; where the details are, in words."""
    import traceback

    log = take.path / "error.log"
    try:
        log.write_text("".join(traceback.format_exception(exc)))
    except OSError as err:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return (f"the details could not be written to {log} ({err.strerror or err}); it was raised at "
                f"{last.filename}:{last.lineno} in {last.name}")
    return f"the details are in {log}"


def plan_windows(take, models, plan, spec):
    """Each planned level's windows and its number of tokens to sample (the farm's driver schedules the same)."""
    todo, tokens = {}, {}
    for level in plan.levels:
        prior_cfg = models.prior(level).cfg
        codes = take.codes(level)
        total = codes.shape[1]
        lo, hi = 0, total
        if plan.range_seconds is not None and level != models.levels - 1:
            lo = token_at(plan.range_seconds[0], models.sr, models.hop_lengths[level])
            hi = min(total, token_at(plan.range_seconds[1], models.sr, models.hop_lengths[level], round_up=True))
            up = prior_cfg.cond_upsample
            lo = lo // up * up
        hop = max(1, int(spec.hop_fraction[level] * prior_cfg.n_ctx))
        wins = level_windows(total, prior_cfg.n_ctx, hop, lo, hi)
        todo[level] = wins
        tokens[level] = total
    return todo, tokens


def _run_levels(take, models, spec, plan, device, dtypes, total_length, cancel):
    """Sample the plan's levels, top first; ``dtypes`` is each level's sampling dtype (:func:`sample_dtype`)."""
    windows, tokens = plan_windows(take, models, plan, spec)
    clock = _Clock()
    current = {lv: take.codes(lv) for lv in range(models.levels)}  # in memory for the job; each window saves it
    todo = {lv: [w for w in ws if sampled_prefix(current[lv], w) < w.end - w.start]
            for lv, ws in windows.items()}
    batches = {lv: min(len(plan.candidates), max(1, int(spec.max_batch[lv]))) for lv in plan.levels if todo[lv]}
    n_batches = {lv: -(-len(plan.candidates) // b) for lv, b in batches.items()}

    def left(lv, ws) -> int:
        """Tokens still to sample in windows ``ws`` of level ``lv``."""
        return tokens_to_sample(current[lv], ws)

    eta = 0.0
    rates = measured_rates(models, device, dtypes, batches, spec.hop_fraction, spec.top_k, spec.top_p)
    steps: dict[int, StepPlan] = {}
    for lv, (per_token, prime_s) in rates.items():
        n = left(lv, todo[lv])
        steps[lv] = StepPlan.decide(device, models.prior(lv).cfg, batches[lv], dtypes[lv], spec, n * n_batches[lv],
                                    per_token)
        clock.rate[lv] = steps[lv].seconds_per_step(device, per_token) * n_batches[lv]
        clock.waits[lv] = steps[lv].wait
        eta += n * clock.rate[lv] + len(todo[lv]) * prime_s * n_batches[lv] + steps[lv].wait
    yield JobPlanned(tuple(plan.levels), {lv: [(w.start, w.end) for w in ws] for lv, ws in windows.items()},
                     tokens, len(plan.candidates), eta)
    clock.t0 = time.monotonic()

    def remaining_tokens(from_level, from_window):
        rem = {}
        for lv in plan.levels[plan.levels.index(from_level):]:
            start = from_window if lv == from_level else 0
            rem[lv] = left(lv, windows[lv][start:])
        return rem

    warned, deferred = set(), set()
    for level in plan.levels:
        dtype = dtypes[level]
        prior = models.sampling_prior(level, dtype)
        info = prior.resolve_labels(spec.artist, spec.genre, spec.lyrics)
        for msg in info.warnings:
            if msg not in warned:
                warned.add(msg)
                yield Warning_(msg)
        codes = current[level]
        upper = current.get(level + 1)
        ws = windows[level]
        step = steps.get(level, StepPlan())
        compiled, ran_compiled = step.compiled, False
        clock.waits.pop(level, None)  # from here the ETA counts what the preparation leaves, not the preparation
        if step.sig is not None and not compiled and not step.warm:
            deferred.add(level)  # worth compiling for the next job, out of this one's way (warm_up.py)
        if compiled and step.wait:
            what = "loading its compiled step" if step.warm else "compiling its step, first time only"
            about = f"about {step.wait:.0f} s" if step.wait >= 1.5 else "a second or so"
            yield Preparing(level, f"preparing the sampler for level {level} ({what}, {about})", step.wait)
        for wi, w in enumerate(ws):
            have = sampled_prefix(codes, w)
            if have >= w.end - w.start:
                continue
            n_new = (w.end - w.start) - have
            rem = remaining_tokens(level, wi)
            clock.window_begun()

            def progress(step, n_steps, _wi=wi, _rem=rem):
                clock.stepped(step, n_steps)
                left = dict(_rem)
                left[level] = left.get(level, 0) - step * n_new // max(1, n_steps)
                return Progress(level, _wi, len(ws), step, n_steps, clock.elapsed(), clock.eta(left))

            new = yield from _sample_window_batched(prior, take, spec, level, w, have, n_new, codes, upper,
                                                    info, total_length, device, dtype, cancel, progress, compiled)
            if compiled and step_compile.wanted(device):  # it compiled and ran: the cache is warm now
                step_compile.mark_warm(step.sig)
            codes[:, w.start + have:w.end] = new
            take.write_tokens(level, codes, w.start + have, w.end)  # durable before the record counts the window
            take.record.windows_done[level] = take.record.windows_done.get(level, 0) + 1
            take.save()
            clock.window_done(level, n_new, prepared=compiled and not ran_compiled)
            ran_compiled = ran_compiled or compiled
            yield WindowDone(level, wi, len(ws), w.start, w.end, codes[:, w.start:w.end].copy())
        if cancel():  # the level's codes are saved; decoding and the alignment are redone on resume
            raise Cancelled()
        audio = decode_codes(models, codes, level)
        take.write_audio(level, audio)
        if level not in take.record.levels_done:
            take.record.levels_done.append(level)
        take.save()
        yield LevelDone(level, codes.copy(), audio, models.sr)
        if level == models.levels - 1 and prior.cfg.alignment_layer is not None and info.lyric_tokens:
            mats = lyric_alignment(prior, np.maximum(codes, 0), info, total_length, 0, spec.hop_fraction[level],
                                   cancel)
            take.write_alignment(mats, [info.lyrics_clean] * len(mats))
            yield AlignmentReady(tuple(mats), tuple([info.lyrics_clean] * len(mats)))
    return deferred


def _sample_window_batched(prior, take, spec, level, w, have, n_new, codes, upper, info, total_length, device,
                           dtype, cancel, progress, compiled=False):
    """Sample one window for every candidate in batches of the level's limit; halves the batch on GPU OOM."""
    cands = take.plan.candidates
    limit = batch_limit(prior, int(spec.max_batch[level]), device, dtype, priming_chunk(prior.cfg, spec.chunk_size))
    if limit < min(len(cands), int(spec.max_batch[level])):
        yield Warning_(f"level {level}: {limit} candidate(s) at a time fit in the free memory of {device}")
    result = np.zeros((len(cands), n_new), dtype=np.int64)
    rows_all = list(range(len(cands)))
    i = 0
    while i < len(rows_all):
        rows = rows_all[i:i + limit]
        try:
            n_batches = -(-len(cands) // limit)
            done_before = (i // limit) * n_new
            gen = sample_window_rows(prior, info, spec, take.record.seed, w, have,
                                     codes[rows, w.start:w.start + have], None if upper is None else upper[rows],
                                     [cands[r] for r in rows], total_length, device, dtype, cancel, compiled)
            while True:
                try:
                    step = next(gen)
                except StopIteration as stop:
                    toks = stop.value
                    break
                yield progress(done_before + step, n_batches * n_new)
            result[rows] = toks
            i += len(rows)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            if limit == 1:
                raise OutOfMemory(f"out of GPU memory at level {level} even with one candidate at a time; "
                                  f"close other GPU programs or use a smaller model. The take is saved up to the "
                                  f"last window: resume it later.") from None
            limit = max(1, limit // 2)
            yield Warning_(f"out of GPU memory at level {level}: retrying with batches of {limit}")
    return result


def batch_limit(prior, wanted: int, device: torch.device, dtype: torch.dtype, chunk_size=None) -> int:
    """How many candidates fit at once beside the loaded weights: the KV cache and activations per sample against
    the device's free memory (less a margin, ``memory.USABLE_FRACTION``). Raises OutOfMemory, before sampling, if
    none fits."""
    name = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[activation_dtype(dtype)]
    one = memory.estimate(prior.cfg, 1, name, priming_chunk(prior.cfg, chunk_size), vqvae=None)
    per_sample = one.kv_cache + one.activations  # the KV cache as the sampler allocates it
    if device.type == "cuda":
        free = torch.cuda.mem_get_info(device)[0]
    else:
        free = memory.available_memory("cpu").available
    fit = int(free * memory.USABLE_FRACTION // max(1, per_sample))
    if fit < 1:
        raise OutOfMemory(f"level {prior.cfg.level} needs about {per_sample / 2**30:.1f} GiB per candidate but "
                          f"{device} has {free / 2**30:.1f} GiB free; close other programs or use a smaller "
                          f"model. The take is saved; resume it when memory is free.")
    return max(1, min(wanted, fit))


@torch.no_grad()
def decode_codes(models: ModelSet, codes: np.ndarray, level: int) -> np.ndarray:
    """(N, T_L) codes (-1 = silence) -> (N, T_L * hop) float32 audio through the model's render EQ (render_eq.py)
    at the render loudness (loudness.py)."""
    vq = models.vqvae
    audio = decode_in_chunks(vq, np.maximum(codes, 0), level, cores=cpu_threads.cores())  # chunks side by side
    audio = equalise(models, audio, level)
    return set_loudness(audio, np.repeat(codes >= 0, models.hop_lengths[level], axis=1))
