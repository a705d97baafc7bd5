"""Resumable training state and the run folder's log.

A run folder holds:

* ``train_state.pt``: model, optimizer, step and every RNG, as a torch zip of tensors and plain Python values only,
  loaded with ``weights_only=True`` (no code can run on loading); written to a temporary name and renamed;
* ``model/``: the network in the project's format (``<stem>.safetensors`` + ``.json``), loadable by
  ``load_checkpoint``, refreshed at every checkpoint;
* ``log.jsonl``: one JSON object per logged step (step, losses, seconds, learning rate).
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

STATE_FILE = "train_state.pt"
LOG_FILE = "log.jsonl"

Progress = Callable[[int, int, dict], None]  # (step, total steps, latest losses)


class TrainError(RuntimeError):
    """A training run that cannot go on; the message names the cause and the fix."""


@dataclass
class RunOptions:
    """What every trainer takes from the CLI."""

    out: Path
    steps: int = 1000
    batch: int = 8
    lr: float = 3e-4
    warmup: int = 100
    device: str = "auto"  # auto | cpu | cuda
    seed: int = 0
    log_every: int = 10
    ckpt_every: int = 200
    ckpt_seconds: float = 300.0  # also checkpoint when this much wall time passed since the last one
    resume: bool = False
    max_seconds: Optional[float] = None  # stop (with a checkpoint) after this much wall time
    threads: int = 0


def model_file(src: "str | Path", stem: str) -> Path:
    """``src`` itself, or ``src/<stem>.safetensors`` when it is a model folder (``stem``: vqvae, prior_level_0, ...)."""
    p = Path(src)
    return p / f"{stem}.safetensors" if p.is_dir() else p


def pick_device(name: str) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise TrainError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu.")
        return torch.device("cuda")
    return torch.device("cpu")


def autocast(device: torch.device):
    """bf16 autocast on CUDA GPUs that support it; a no-op context on CPU."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def lr_at(step: int, base: float, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to 10% of ``base`` at ``total``."""
    if step < warmup:
        return base * (step + 1) / warmup
    frac = min(1.0, (step - warmup) / max(1, total - warmup))
    return float(base * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * frac))))


def rng_state(np_rng: np.random.Generator) -> dict:
    st = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
          "python_pos": random.getstate()[2],
          "numpy": json.dumps(np_rng.bit_generator.state)}
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def set_rng_state(st: dict, np_rng: np.random.Generator) -> None:
    torch.set_rng_state(st["torch"])
    random.setstate((3, tuple(st["python"]), st["python_pos"]))
    np_rng.bit_generator.state = json.loads(st["numpy"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def save_state(out: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, step: int, np_rng,
               extra: Optional[dict] = None) -> Path:
    """Write ``train_state.pt`` atomically (tensors and plain values only)."""
    out.mkdir(parents=True, exist_ok=True)
    payload = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "opt": opt.state_dict(), "step": int(step), "rng": rng_state(np_rng), "extra": extra or {}}
    tmp = out / (STATE_FILE + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, out / STATE_FILE)
    return out / STATE_FILE


def load_state(out: Path) -> dict:
    """Read ``train_state.pt`` with the weights-only unpickler. Raises TrainError."""
    path = out / STATE_FILE
    if not path.is_file():
        raise TrainError(f"{path}: no training state to resume. Fix: drop --resume to start a new run in {out}.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure here means a damaged or foreign file
        raise TrainError(f"{path}: cannot resume ({type(exc).__name__}: {str(exc)[:200]}). Fix: delete it to "
                         f"start over, or resume from a copy.") from None


class RunLog:
    """Appends one JSON line per logged step and forwards it to an optional progress callback."""

    def __init__(self, out: Path, total: int, progress: Optional[Progress] = None):
        out.mkdir(parents=True, exist_ok=True)
        self.path = out / LOG_FILE
        self.total = total
        self.progress = progress
        self.t0 = time.time()

    def write(self, step: int, values: dict) -> dict:
        rec = {"step": int(step), "time": round(time.time() - self.t0, 2),
               **{k: (round(float(v), 5) if isinstance(v, (float, int, np.floating)) else v)
                  for k, v in values.items()}}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        if self.progress is not None:
            self.progress(step, self.total, rec)
        return rec


def read_log(out: Path) -> list[dict]:
    path = Path(out) / LOG_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Checkpointer:
    """Decides when to checkpoint: every ``every`` steps, every ``seconds`` of wall time, and at the end."""

    def __init__(self, every: int, seconds: float):
        self.every, self.seconds, self.last = every, seconds, time.time()

    def due(self, step: int) -> bool:
        if (self.every and step % self.every == 0) or time.time() - self.last >= self.seconds:
            self.last = time.time()
            return True
        return False
