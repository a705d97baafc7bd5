"""The step loop every trainer shares: learning-rate schedule, clipping, logging, checkpoints, resume, cancel."""

from __future__ import annotations

import logging
import math
import time
from typing import Callable, Optional

import numpy as np
import torch

from .state import (Checkpointer, Progress, RunLog, RunOptions, TrainError, load_state, lr_at, save_state,
                    set_rng_state)

log = logging.getLogger(__name__)

# step_fn(np_rng, step) -> (loss tensor to minimise, dict of floats to log)
StepFn = Callable[[np.random.Generator, int], "tuple[torch.Tensor, dict]"]


def make_optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=0.0, eps=1e-8)


def run_loop(model: torch.nn.Module, opts: RunOptions, step_fn: StepFn, export: Callable[[int], None],
             progress: Optional[Progress] = None, cancel: Optional[Callable[[], bool]] = None,
             extra: Optional[dict] = None, grad_clip: float = 1.0) -> int:
    """Train ``model`` up to ``opts.steps`` (resuming from the run folder when asked); returns the last step.

    ``export(step)`` writes the loadable model files; it runs at every checkpoint and at the end. ``extra`` is
    stored with the state (plain values only) and must match on resume.
    """
    out = opts.out
    np_rng = np.random.default_rng(opts.seed)
    torch.manual_seed(opts.seed)
    opt = make_optimizer(model, opts.lr)
    start = 0
    if opts.resume:
        st = load_state(out)
        if extra and st.get("extra", {}).get("kind") != extra.get("kind"):
            raise TrainError(f"{out}: the saved run is a {st['extra'].get('kind')!r} run, not {extra['kind']!r}. "
                             f"Fix: resume with the same command, or choose another --out.")
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        set_rng_state(st["rng"], np_rng)
        start = int(st["step"])
        log.info("resumed %s at step %d", out, start)
    runlog = RunLog(out, opts.steps, progress)
    ckpt = Checkpointer(opts.ckpt_every, opts.ckpt_seconds)
    t_start = time.time()
    step = start
    model.train()
    acc: dict = {}
    n_acc = 0
    while step < opts.steps:
        if cancel is not None and cancel():
            log.info("cancelled at step %d", step)
            if step > start:
                save_state(out, model, opt, step, np_rng, extra)
                export(step)
            break
        lr = lr_at(step, opts.lr, opts.warmup, opts.steps)
        for g in opt.param_groups:
            g["lr"] = lr
        loss, logs = step_fn(np_rng, step)
        if not torch.isfinite(loss):
            raise TrainError(f"the loss became {float(loss)} at step {step}. Fix: lower --lr, or resume from the "
                             f"last checkpoint (its weights are still finite).")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        step += 1
        for k, v in {"loss": float(loss.detach()), "grad_norm": float(gnorm), **logs}.items():
            if isinstance(v, (int, float)) and math.isfinite(v):
                acc[k] = acc.get(k, 0.0) + v
        n_acc += 1
        if step % opts.log_every == 0 or step == opts.steps:
            runlog.write(step, {**{k: v / n_acc for k, v in acc.items()}, "lr": lr})
            acc, n_acc = {}, 0
        timed_out = opts.max_seconds is not None and time.time() - t_start >= opts.max_seconds
        if ckpt.due(step) or step == opts.steps or timed_out:
            save_state(out, model, opt, step, np_rng, extra)
            export(step)
        if timed_out:
            log.info("stopping at step %d after %.0f s (--max-minutes)", step, time.time() - t_start)
            break
    if step == start and start > 0:
        export(step)
    return step
