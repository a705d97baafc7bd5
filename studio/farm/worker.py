"""The farm's actor: one per GPU (or CPU slot), holding its model set loaded once, running one unit at a time.

Every call runs under the thread policy of ``cascade.run_take`` on the device ``cascade.pick_device`` chooses for the
take's spec, so a unit's floats are those of the in-process run. Errors a user can cause come back as a
:class:`UnitFailed` value; a lost worker is the driver's to handle (it re-runs the unit elsewhere).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Optional

import numpy as np
import ray  # imported only once cluster.require_ray() has found it


@dataclass(frozen=True)
class UnitFailed:
    """A unit stopped on an error the user can act on; ``message`` names the cause and the fix."""

    message: str


CANCELLED = "cancelled"  # what a unit returns when its job was stopped


class EngineWorker:
    """Runs the engine's units for the driver; ``status`` and ``stop`` answer while a unit runs."""

    def __init__(self, models):
        self.models = models  # a ModelSet recipe: networks load on first use and stay loaded
        self.doing = "idle"
        self.units_done = 0
        self.stopped: set = set()  # run ids whose work must stop
        self._labels: dict = {}

    # -- control (a concurrency group of its own: answered while a unit runs) ------------------------------------
    @ray.method(concurrency_group="control")
    def status(self) -> dict:
        """Where this worker runs and what it is doing."""
        ctx = ray.get_runtime_context()
        return {"name": ctx.get_actor_name(), "node": ctx.get_node_id()[:12], "host": socket.gethostname(),
                "pid": os.getpid(), "gpus": [str(g) for g in ray.get_gpu_ids()], "doing": self.doing,
                "units_done": self.units_done, "models": self.models.name}

    @ray.method(concurrency_group="control")
    def stop(self, run_id: str) -> None:
        """Stop the units of job ``run_id``: the running one at its next step, later ones before they start."""
        self.stopped.add(run_id)

    def ready(self) -> str:
        """Answers once the actor is up (the driver hands it work only then)."""
        return socket.gethostname()

    # -- units ---------------------------------------------------------------------------------------------------
    def _setting(self, spec):
        """The device and thread policy of an in-process run of ``spec`` on this worker."""
        from studio.engine.cascade import cpu_threads, pick_device

        device = pick_device(spec)
        if self.models.device != device:
            self.models.to(device)
        width = self.models.prior(self.models.levels - 1).cfg.width
        return device, cpu_threads(device, width)

    def _info(self, prior, spec):
        key = (prior.cfg.level, spec.artist, spec.genre, spec.lyrics)
        if key not in self._labels:
            self._labels[key] = prior.resolve_labels(spec.artist, spec.genre, spec.lyrics)
        return self._labels[key]

    def _guarded(self, what: str, fn):
        """Run ``fn`` as the one unit in progress; the user's errors come back as UnitFailed."""
        import torch

        from studio.engine.cascade import OutOfMemory
        from studio.engine.checkpoints import CheckpointError
        from studio.engine.sampling import Cancelled
        from studio.engine.spec import SpecError

        self.doing = what
        try:
            return fn()
        except Cancelled:
            return CANCELLED
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            return UnitFailed(f"out of GPU memory on {socket.gethostname()} ({what}); lower max_batch in the spec "
                              f"or use larger GPUs. The take is saved up to its last window: resume it later.")
        except (SpecError, CheckpointError, OutOfMemory, ValueError, FileNotFoundError) as exc:
            return UnitFailed(f"{what}: {exc}")
        finally:
            self.doing = "idle"
            self.units_done += 1

    def sample(self, run_id: str, spec_dict: dict, seed: int, total_length: int, unit, context: np.ndarray,
               upper: Optional[np.ndarray]):
        """(B, n_new) int64 tokens of ``unit`` (a schedule.WindowUnit), CANCELLED, or UnitFailed."""
        from studio.engine.cascade import sample_dtype
        from studio.engine.spec import SongSpec
        from studio.engine.window_unit import sample_window_rows
        from studio.engine.windows import Window

        def run():
            if run_id in self.stopped:
                return CANCELLED
            spec = SongSpec.from_dict(spec_dict)
            device, threads = self._setting(spec)
            prior = self.models.prior(unit.level)
            dtype = sample_dtype(device, prior.cfg, spec.precision)
            with threads:
                prior = self.models.sampling_prior(unit.level, dtype)
                gen = sample_window_rows(prior, self._info(prior, spec), spec, seed, Window(unit.start, unit.end),
                                         unit.have, np.array(context), None if upper is None else np.array(upper),
                                         unit.candidates, total_length, device, dtype,
                                         cancel=lambda: run_id in self.stopped)
                while True:
                    try:
                        next(gen)
                    except StopIteration as stop:
                        return stop.value

        return self._guarded(f"level {unit.level} window {unit.window + 1} candidates "
                             f"{', '.join(map(str, unit.candidates))}", run)

    def decode(self, spec_dict: dict, codes: np.ndarray, level: int):
        """(N, T_L * hop) float32 audio of a finished level (``cascade.decode_codes``), or UnitFailed."""
        from studio.engine.cascade import decode_codes
        from studio.engine.spec import SongSpec

        def run():
            _, threads = self._setting(SongSpec.from_dict(spec_dict))
            with threads:
                return decode_codes(self.models, np.array(codes), level)

        return self._guarded(f"decoding level {level}", run)

    def align(self, spec_dict: dict, codes: np.ndarray, total_length: int):
        """(matrices, lyrics) of the top level's lyric alignment as the in-process run writes them; None where the
        model has no alignment layer or the song no lyrics; or UnitFailed."""
        from studio.engine.alignment import lyric_alignment
        from studio.engine.cascade import sample_dtype
        from studio.engine.spec import SongSpec

        def run():
            spec = SongSpec.from_dict(spec_dict)
            device, threads = self._setting(spec)
            level = self.models.levels - 1
            prior = self.models.prior(level)
            dtype = sample_dtype(device, prior.cfg, spec.precision)
            info = self._info(prior, spec)
            if prior.cfg.alignment_layer is None or not info.lyric_tokens:
                return None
            with threads:
                prior = self.models.sampling_prior(level, dtype)
                mats = lyric_alignment(prior, np.maximum(codes, 0), info, total_length, 0, spec.hop_fraction[level])
            return mats, [info.lyrics_clean] * len(mats)

        return self._guarded("lyric alignment", run)
