"""Compiling the decode step: ``torch.compile(fullgraph=True)`` where it pays, with its cache kept on disk.

The step (``sampling.sample_step_keyed``) has fixed shapes, so it compiles to one graph per prior and batch. On a GPU
the compiled step runs as a CUDA graph (mode ``reduce-overhead``). On the CPU, inductor writes C++ and needs a C++
compiler, so without one the eager step runs; there each graph is compiled ahead of time and kept on disk whole,
dynamo's trace included, so a later process loads it rather than tracing the step again (see
:class:`_Precompiled`). Compiled code is kept under :func:`cache_dir`, so only the first render on a machine pays
the full compile.

Turned off by ``studio render --no-compile``, the studio's Models menu ("Compile the Sampler's Step"), or
``JUKEBOX_COMPILE=0``; ``JUKEBOX_COMPILE=always`` compiles every step (benchmarks, warming the cache).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import json
import os
import shutil
import sys
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Optional

import torch

from .atomic_files import atomic_write_bytes
from .paths import user_cache_dir

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
    return not off_here()


def off_here() -> bool:
    """``JUKEBOX_COMPILE=0``: this machine compiles nothing unasked (the default where no setting is given, and no
    steps are compiled in the background after a job; see warm_up.py). The test suite sets it."""
    return os.environ.get("JUKEBOX_COMPILE", "1").strip().lower() in ("0", "false", "no", "off")


def forced() -> bool:
    """``JUKEBOX_COMPILE=always``: compile every step, paying or not (benchmarks; warming the cache)."""
    return os.environ.get("JUKEBOX_COMPILE", "").strip().lower() == "always"


def cache_dir() -> Path:
    """Where compiled steps are kept between runs (inductor's cache)."""
    return user_cache_dir() / "compiled"


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


# Measured with benchmarks/sampler_speed.py on the 2-core CI-class machine (demo priors, batch 1 and 3, the other
# core busy): compiling a step ahead of time (_Precompiled) took 7-23 s a graph with an empty cache (width 512:
# 15-30 s), and 0.7-3.6 s with it warm (the first graph of a process pays ~3 s of compiler start-up); the compiled
# step was 3-4.5x faster at demo size, 3-4x at width 512 with int8 weights. A GPU step (CUDA graph) gains more.
# Compiling runs only when the steps it speeds up save more than it costs; a job that skips a cold compile has it
# done in the background afterwards (warm_up.py).
COMPILE_S = {("cpu", False): 30.0, ("cpu", True): 1.5, ("cuda", False): 90.0, ("cuda", True): 15.0}
SPEEDUP = {"cpu": 3.0, "cuda": 4.0}
_ran_here: set = set()


@functools.cache
def engine_source_hash() -> str:
    """A hash of the engine's source files. The step is traced from them and shaped by settings in them (such as
    SMALL_MM_ROWS, which the traced source does not show), so any change (an upgrade, an edit) retires the graphs
    compiled before it and their warm markers: a render after an upgrade plans for compiling, not for loading."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _hash(*parts) -> str:
    return hashlib.sha256(repr(tuple(repr(p) for p in parts)).encode()).hexdigest()[:24]


def signature(*parts) -> str:
    """Key of one compiled graph: the network's config, batch, dtype and sampling options, this torch and this
    engine's source."""
    return _hash(torch.__version__, engine_source_hash(), *parts)


def _marker(sig: str) -> Path:
    return cache_dir() / "warm" / sig


def is_warm(sig: str) -> bool:
    """True when this graph has been compiled on this machine before (its code is in the cache)."""
    return sig in _ran_here or _marker(sig).exists()


def _kind(device: torch.device) -> str:
    """The compile path a device takes: "cuda" (CUDA graphs) or "cpu" (inductor's C++)."""
    return "cuda" if device.type == "cuda" else "cpu"


def _cost_key(device: torch.device, warm: bool) -> str:
    return f"{_kind(device)}-{'load' if warm else 'compile'}"


def _costs_file() -> Path:
    return cache_dir() / "prepare_seconds.json"


def _recorded_costs() -> dict:
    """What ``prepare_seconds.json`` holds: {} when there is none yet or it is damaged."""
    try:
        seen = json.loads(_costs_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return seen if isinstance(seen, dict) else {}


def _compile_cost(device: torch.device, warm: bool) -> float:
    """Seconds to compile the step (``warm``: to load it compiled): the last one measured on this machine, else
    :data:`COMPILE_S`."""
    seen = _recorded_costs().get(_cost_key(device, warm))
    if isinstance(seen, (int, float)) and 0 < seen < 24 * 3600:
        return float(seen)
    return COMPILE_S[(_kind(device), warm)]


def record_compile_cost(device: torch.device, warm: bool, seconds: float) -> None:
    """Keep how long preparing the step took here (compiling it, or with ``warm`` loading it), for the next
    estimate and the next decision whether compiling pays. Recorded where the graph is made, which knows which of
    the two happened (a warm marker can outlive its graph: an edited engine, another window's shapes)."""
    seen = _recorded_costs()
    seen[_cost_key(device, warm)] = round(float(seconds), 1)
    try:
        _costs_file().parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(_costs_file(), json.dumps(seen).encode())
    except OSError:
        pass  # a read-only cache only costs the estimate


def pays(device: torch.device, sig: str, steps: int, eager_s_per_step: float) -> bool:
    """Whether compiling the step for ``steps`` decode steps saves more time than compiling costs."""
    if sig in _ran_here or forced():
        return True
    saved = steps * eager_s_per_step * (1.0 - 1.0 / speedup(device))
    return saved > _compile_cost(device, is_warm(sig))


def speedup(device: torch.device) -> float:
    """The compiled step's usual gain over the eager step, for estimates before it has run."""
    return SPEEDUP[_kind(device)]


def expected_compile_s(device: torch.device, sig: str) -> float:
    """Seconds the step's preparation is expected to take before a level's first step (none once it ran here)."""
    return 0.0 if sig in _ran_here else _compile_cost(device, is_warm(sig))


def mark_warm(sig: str) -> None:
    """Remember that this graph compiled (so later processes count on the warm cache); once per process."""
    if sig in _ran_here:
        return
    _ran_here.add(sig)
    try:
        _marker(sig).parent.mkdir(parents=True, exist_ok=True)
        _marker(sig).touch()
    except OSError:
        pass  # a read-only cache only costs the estimate


def step_function(fn: Callable, device: torch.device, requested: Optional[bool] = None,
                  key_of: Optional[Callable[..., Any]] = None) -> Callable:
    """``fn`` compiled for ``device`` when wanted, else ``fn`` itself. A compile that fails is reported once on
    stderr and the eager step runs from then on. ``key_of(*args)`` names the graph a call needs (what the step is
    specialised on); with it, CPU graphs are compiled ahead of time and kept on disk whole."""
    if not wanted(device, requested):
        return fn
    kind = device.type
    if kind not in _compiled:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir()))
        if kind == "cpu" and key_of is not None:
            _compiled[kind] = _Precompiled(fn, key_of, kind)
        else:
            if kind == "cpu":
                _decompose_small_matmuls()
            mode = "reduce-overhead" if kind == "cuda" else None
            _compiled[kind] = _Guarded(torch.compile(fn, fullgraph=True, dynamic=False, mode=mode), fn, kind)
    return _compiled[kind]


# A decode step multiplies a few rows (the batch) by each weight matrix. On the CPU, inductor can write such a
# product as a fused loop instead of calling the BLAS kernel, whose fixed cost per call dominates at these sizes
# (measured on the demo priors: the compiled step 1.35-1.7x faster). With three rows the fused loop, one
# accumulator per 16 outputs, waits on its own additions; BLAS was faster there (Xeon, demo b3: 0.35 / 0.35 / 0.82
# against 0.41 / 0.40 / 0.98 ms at levels 0 / 1 / 2). Its pass takes thresholds from module
# globals read at import, so they are set on the module as well as in the config. Saved graphs do not see a change
# here (it is not in the traced source); the graphs' key holds the engine's source (engine_source_hash).
SMALL_MM_ROWS = 1  # up to this many rows (batch x 1 position): one candidate; 3 candidates ran faster on BLAS
SMALL_MM_COLS = 4096  # the other two dimensions up to this (width 512 and its 4x MLP)


def _decompose_small_matmuls() -> None:
    try:
        from torch._inductor import config
        from torch._inductor.fx_passes import decompose_mem_bound_mm as pass_module
    except ImportError:  # another torch: the step stays correct, only less fast
        return
    options = dict(config.post_grad_fusion_options)
    options["decompose_mm_pass"] = {"cpu_max_first_dimension_decomposition": SMALL_MM_ROWS,
                                    "cpu_max_other_dimension_decomposition": SMALL_MM_COLS}
    config.post_grad_fusion_options = options
    pass_module.cpu_max_first_dimension_decomposition = SMALL_MM_ROWS
    pass_module.cpu_max_other_dimension_decomposition = SMALL_MM_COLS


class _Guarded:
    """The compiled step, falling back to the eager one if compiling fails."""

    def __init__(self, compiled: Callable, eager: Callable, kind: str):
        self.compiled, self.eager, self.kind = compiled, eager, kind

    def __call__(self, *args):
        if _failed.get(self.kind):
            return self.eager(*args)
        try:
            return self.compiled(*args)
        except torch.cuda.OutOfMemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - any compiler failure: keep sampling, uncompiled
            _give_up(self.kind, exc)
            return self.eager(*args)


def _give_up(kind: str, exc: BaseException) -> None:
    """Report a failed compile once; the eager step runs on this device kind from then on."""
    _failed[kind] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    print(f"jukebox-studio: the sampler's step could not be compiled ({_failed[kind][:200]}); "
          f"running it uncompiled", file=sys.stderr)


# -- CPU: graphs compiled ahead of time, kept on disk whole --------------------------------------------------
# With only inductor's cache warm, every new process still traces the step through dynamo for each graph: measured
# on a warm 10 s demo render (3 graphs), 5.6 s of its 17.7 s. A graph compiled with ``aot_compile`` is saved with
# its trace, guards and code and loads in a fraction of that. The file is keyed by what the step is specialised on,
# this torch, the thread count and the CPU's instruction set (the C++ is built for them), and it is only used while
# the engine source it was traced from is unchanged. Like inductor's own cache beside it, the file is a pickle in
# the user's cache folder, written only by this code.
def graph_file(key: Any) -> Path:
    cpu = torch.backends.cpu.get_cpu_capability()
    return cache_dir() / "steps" / f"{signature(key, torch.get_num_threads(), cpu)}.bin"


def sources_unchanged(graph) -> bool:
    """Whether every function the graph was traced from still has the source it had (else it is traced again)."""
    for src in graph.source_info().inlined_sources:
        try:
            module = sys.modules.get(src.module) or importlib.import_module(src.module)
            lines = inspect.getsourcelines(module)[0][src.firstlineno - 1:src.lastlineno - 1]
        except (ImportError, OSError, TypeError):
            return False
        if hashlib.sha256("".join(lines).encode()).hexdigest() != src.checksum:
            return False
    return True


def _load_graph(path: Path, args: tuple):
    """The saved graph for ``args``, or None when there is none or it is stale, damaged or for other inputs."""
    try:
        if not path.exists():
            return None
        _trust_probed_isas()
        with open(path, "rb") as fh:
            graph = torch.compiler.load_compiled_function(fh)
        _remember_probed_isas()
        if not (sources_unchanged(graph) and graph.guard_check(*args)):
            return None
        os.utime(path)  # in use: kept by prune_stale
        return graph
    except Exception:  # noqa: BLE001 - missing, damaged, or from another torch: compiled again
        return None


def _compile_graph(fn: Callable, path: Path, args: tuple):
    _decompose_small_matmuls()  # a compiler pass: imported here, so that a process that only loads graphs skips it
    from torch._inductor import config

    # the step's inputs are fixed-shape buffers whose guards are checked once per decoder (see _Precompiled): the
    # wrapper's per-call checks of every input's size and stride (~230 a demo top-prior step) cost 5-7 % of a step
    with config.patch(size_asserts=False):
        graph = torch.compile(fn, fullgraph=True, dynamic=False).aot_compile((args, {}))
    _remember_probed_isas()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.{os.getpid()}.part")  # whole or absent: another process may be loading it
        graph.save_compiled_function(str(part))
        os.replace(part, path)
    except OSError:
        pass  # a read-only or full cache: this process still runs the graph; the next compiles it again
    prune_stale()
    return graph


STALE_DAYS = 60  # why: a graph not loaded for two months is most likely of an engine or a torch since replaced


def prune_stale(now: Optional[float] = None) -> int:
    """Delete the saved graphs and warm markers not used for ``STALE_DAYS`` (a load or a run touches them): every
    upgrade of the engine or of torch leaves its predecessor's graphs behind, about 2 MB each. Runs after a compile,
    which is rare. Returns how many files went."""
    cutoff = (time.time() if now is None else now) - STALE_DAYS * 86400
    gone = 0
    for folder in (cache_dir() / "steps", cache_dir() / "warm"):
        for path in folder.glob("*") if folder.is_dir() else ():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    gone += 1
            except OSError:
                pass  # another process removed it, or a read-only cache
    return gone


# Loading a graph's kernels, inductor first checks which of the CPU's vector instruction sets its compiler can
# build and load, by compiling a probe for each and loading it in a new Python process: 1.15 s of the 2.0 s a new
# process took to load its first graph (measured, demo top prior). The answer only changes with the machine, the
# compiler or torch, so the first compile here writes it down, and later processes trust the CPU's flags
# (inductor's ``cpp.vec_isa_ok``) when they name the same instruction sets the probes passed.
def _isa_file() -> Path:
    compiler = next(filter(None, map(shutil.which, (os.environ.get("CXX", "g++"), "g++", "c++", "clang++"))), None)
    return cache_dir() / "isa" / _hash(torch.__version__, torch.backends.cpu.get_cpu_capability(), compiler)


def _named_isas() -> list:
    """The vector instruction sets inductor knows that the CPU's flags name (raises on another torch or CPU)."""
    from torch._inductor import cpu_vec_isa as isa

    flags = isa.x86_isa_checker()
    return [str(v) for v in isa.supported_vec_isa_list if all(f in flags for f in str(v).split())]


def _remember_probed_isas() -> None:
    """After inductor probed (a compile, or a load that checked), write down what passed."""
    try:
        from torch._inductor.cpu_vec_isa import valid_vec_isa_list

        path = _isa_file()
        if path.exists() or not valid_vec_isa_list.cache_info().currsize:
            return
        named = _named_isas()
        if named and [str(v) for v in valid_vec_isa_list()] == named:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(named))
    except Exception:  # noqa: BLE001 - not x86, another torch, a read-only cache: later loads probe again
        pass


def _trust_probed_isas() -> None:
    try:
        from torch._inductor import config

        path = _isa_file()
        if config.cpp.vec_isa_ok is None and path.exists() and path.read_text().split("\n") == _named_isas():
            config.cpp.vec_isa_ok = True
    except Exception:  # noqa: BLE001 - inductor probes as usual
        pass


class _Precompiled:
    """The CPU step: one graph per key, loaded from disk when saved before, else compiled and saved.

    A graph's guards are checked when its key first meets a new first argument (the decoder), not on every call:
    checking them cost 0.16 ms a call (measured, demo top prior, batch 3), half a demo upsampler step. The other
    arguments are fixed-shape tensors and constants that the key already describes."""

    def __init__(self, eager: Callable, key_of: Callable[..., Any], kind: str):
        self.eager, self.key_of, self.kind = eager, key_of, kind
        self.graphs: dict = {}
        self.checked: dict = {}  # key -> weak reference to the first argument its guards last passed for
        self.loaded = 0  # graphs this process took from disk rather than compiling (tests, benchmarks)

    def __call__(self, *args):
        if _failed.get(self.kind):
            return self.eager(*args)
        try:
            key = self.key_of(*args)
            graph = self.graphs.get(key)
            if graph is None:
                path = graph_file(key)
                t0 = time.monotonic()
                graph = _load_graph(path, args)
                loaded = graph is not None
                if loaded:
                    self.loaded += 1
                else:
                    graph = _compile_graph(self.eager, path, args)
                record_compile_cost(torch.device("cpu"), loaded, time.monotonic() - t0)
                self.graphs[key] = graph
            seen = self.checked.get(key)
            if seen is None or seen() is not args[0]:
                if not graph.guard_check(*args):
                    raise RuntimeError("the compiled step does not fit its inputs")
                self.checked[key] = weakref.ref(args[0])
            return getattr(graph, "fn", graph)(*args)
        except Exception as exc:  # noqa: BLE001 - any compiler failure: keep sampling, uncompiled
            _give_up(self.kind, exc)
            return self.eager(*args)
