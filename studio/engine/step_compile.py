"""Compiling the decode step: ``torch.compile(fullgraph=True)`` where it pays, with its cache kept on disk.

The step (``sampling.sample_step``) has fixed shapes, so it compiles to one graph per prior and batch. On a GPU
the compiled step runs as a CUDA graph (mode ``reduce-overhead``); on the CPU, inductor writes C++ and needs a C++
compiler, so without one the eager step runs. Compiled code is cached under :func:`cache_dir`, so only the first
render on a machine pays the full compile; later processes load it.

Turned off by ``studio render --no-compile``, the studio's Settings menu, or ``JUKEBOX_COMPILE=0``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Optional

import torch

_setting: Optional[bool] = None  # None: the environment decides (JUKEBOX_COMPILE), default on
_compiled: dict = {}
_failed: dict = {}


def set_enabled(flag: Optional[bool]) -> None:
    """Turn the compiled step on or off for this process (None: back to the default)."""
    global _setting
    _setting = flag


def enabled() -> bool:
    if _setting is not None:
        return _setting
    return os.environ.get("JUKEBOX_COMPILE", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_dir() -> Path:
    """Where compiled steps are kept between runs (inductor's cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jukebox-studio" / "compiled"


def unavailable_reason(device: torch.device) -> Optional[str]:
    """Why the step cannot be compiled here, or None."""
    if sys.platform == "win32" and device.type == "cpu":
        return "compiling on Windows CPUs is not supported by this PyTorch"
    if device.type == "cpu" and not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        return "no C++ compiler found (install g++ to compile the sampler's step)"
    return None


def wanted(device: torch.device, requested: Optional[bool] = None) -> bool:
    """Whether the compiled step runs for this device: the caller's choice, else the setting, where possible."""
    want = enabled() if requested is None else requested
    return bool(want) and unavailable_reason(device) is None and not _failed.get(device.type)


def is_ready(device: torch.device) -> bool:
    """True once this process has compiled a step for the device (later calls start at once)."""
    return device.type in _compiled and getattr(_compiled[device.type], "ran", False)


def step_function(fn: Callable, device: torch.device, requested: Optional[bool] = None) -> Callable:
    """``fn`` compiled for ``device`` when wanted, else ``fn`` itself. A compile that fails is reported once on
    stderr and the eager step runs from then on."""
    if not wanted(device, requested):
        return fn
    kind = device.type
    if kind not in _compiled:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir()))
        mode = "reduce-overhead" if kind == "cuda" else None
        _compiled[kind] = _Guarded(torch.compile(fn, fullgraph=True, dynamic=False, mode=mode), fn, kind)
    return _compiled[kind]


class _Guarded:
    """The compiled step, falling back to the eager one if compiling fails."""

    def __init__(self, compiled: Callable, eager: Callable, kind: str):
        self.compiled, self.eager, self.kind = compiled, eager, kind
        self.ran = False

    def __call__(self, *args):
        if _failed.get(self.kind):
            return self.eager(*args)
        try:
            out = self.compiled(*args)
        except torch.cuda.OutOfMemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - any compiler failure: keep sampling, uncompiled
            _failed[self.kind] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            print(f"jukebox-studio: the sampler's step could not be compiled ({_failed[self.kind][:200]}); "
                  f"running it uncompiled", file=sys.stderr)
            return self.eager(*args)
        self.ran = True
        return out
