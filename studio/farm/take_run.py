"""One take's job on the farm, seen from the driver: its schedule over the take's codes, and every write to its folder.

The driver is the only writer of a take folder, and it writes what ``cascade.run_take`` writes, in the same files:
codes after every unit, the record after every finished window, the audio of each level once the level is sampled
(levels in plan order), the lyric alignment after the top level. A cancel or a lost driver leaves a take that
``studio resume`` (or the farm) finishes.
"""

from __future__ import annotations

import time
import uuid

from studio.engine.cascade import plan_windows, prepare_take
from studio.engine.events import AlignmentReady, JobPlanned, LevelDone, Progress, Warning_, WindowDone
from studio.engine.take_lock import TakeLock
from studio.engine.takes import Take, TakeStatus

from .schedule import LevelLayout, TakeSchedule, WindowUnit


class TakeRun:
    """The farm job of one take. ``next_job`` says what may be sent to a worker; ``sampled``, ``decoded`` and
    ``aligned_with`` record what came back."""

    def __init__(self, take, models):
        """Prepare ``take`` as the in-process run does: its lock taken, its record re-read, its files checked (what
        can be re-made is cleared), codes initialised, the priming clip encoded, status running.

        Raises what ``cascade.run_take`` reports as the job's end: TakeLocked, DiskWriteError, ValueError (a damaged
        record or files), SpecError, FileNotFoundError."""
        self.take, self.run_id = take, uuid.uuid4().hex
        self.lock = TakeLock(take.path)
        self.lock.__enter__()
        try:
            self._prepare(take, models)
        except BaseException:
            self.release()
            raise

    def _prepare(self, take, models) -> None:
        take.record = Take.load(take.path).record  # as the last writer left it
        spec, plan = take.spec, take.plan
        self.spec_dict, self.seed = spec.to_dict(), int(take.record.seed)
        self.sr = models.sr
        self.total_length, faults = prepare_take(take, models)
        windows, tokens = plan_windows(take, models, plan, spec)
        layouts = {}
        for level in plan.levels:
            cfg = models.prior(level).cfg
            layouts[level] = LevelLayout(level, cfg.n_ctx, None if cfg.is_top else cfg.cond_upsample,
                                         tuple(windows[level]))
        codes = {level: take.codes(level) for level in range(models.levels)}
        self.schedule = TakeSchedule(layouts, plan.levels, codes, plan.candidates, spec.max_batch)
        self.top = models.levels - 1
        self.warnings = [str(f) for f in faults]
        for level in plan.levels:
            for msg in models.prior(level).resolve_labels(spec.artist, spec.genre, spec.lyrics).warnings:
                if msg not in self.warnings:
                    self.warnings.append(msg)
        spans = {lv: [(w.start, w.end) for w in ws] for lv, ws in windows.items()}
        self.planned = JobPlanned(tuple(plan.levels), spans, tokens, len(plan.candidates), float("nan"))
        self.finalised: list = []  # plan levels whose audio is written
        self.decoding = None  # the level being decoded
        self.aligned = self.top not in plan.levels  # alignment is written after the top level only
        self.aligning = False
        self.out = 0  # jobs sent and not answered
        self.stopping = None  # None, or the JobDone fields the job ends with once nothing is out
        self.t0 = time.monotonic()
        take.set_status(TakeStatus.RUNNING)

    # -- what to send ----------------------------------------------------------------------------------------------
    def next_job(self):
        """("sample", unit) | ("decode", level) | ("align", None), or None while nothing may start."""
        if self.stopping is not None:
            return None
        ready = self.schedule.ready()
        if ready:
            return "sample", ready[0]
        left = [lv for lv in self.schedule.levels if lv not in self.finalised]
        if left and self.decoding is None and self.schedule.level_sampled(left[0]):
            return "decode", left[0]
        if not self.aligned and not self.aligning and self.schedule.level_sampled(self.top):
            return "align", None
        return None

    def sent(self, kind: str, arg) -> None:
        self.out += 1
        if kind == "sample":
            self.schedule.start(arg)
        elif kind == "decode":
            self.decoding = arg
        else:
            self.aligning = True

    def unsent(self, kind: str, arg) -> None:
        """A job came back without a result (cancelled, or its worker was lost): it may be sent again."""
        self.out -= 1
        if kind == "sample":
            self.schedule.abandon(arg)
        elif kind == "decode":
            self.decoding = None
        else:
            self.aligning = False

    def unit_inputs(self, unit: WindowUnit):
        """The codes a worker needs for ``unit``: (B, have) context and the level above's rows (or None)."""
        rows = list(unit.rows)
        context = self.schedule.codes[unit.level][rows, unit.start:unit.start + unit.have]
        lay = self.schedule.layouts[unit.level]
        if lay.cond_upsample is None:
            return context, None
        return context, self.schedule.codes[unit.level + 1][rows, :(unit.start + lay.n_ctx) // lay.cond_upsample]

    # -- what came back --------------------------------------------------------------------------------------------
    def sampled(self, unit: WindowUnit, tokens) -> list:
        """Store a unit's tokens: codes on disk now, the record when the window is finished. Returns the events."""
        self.out -= 1
        level, n_windows = unit.level, len(self.schedule.layouts[unit.level].windows)
        window_done = self.schedule.complete(unit, tokens)
        codes = self.schedule.codes[level]
        self.take.write_tokens(level, codes, unit.start + unit.have, unit.end)  # durable before the window counts
        events = [Progress(level, unit.window, n_windows, unit.n_new, unit.n_new, self.elapsed(), float("nan"))]
        if window_done:
            rec = self.take.record
            rec.windows_done[level] = rec.windows_done.get(level, 0) + 1
            self.take.save()
            events.append(WindowDone(level, unit.window, n_windows, unit.start, unit.end,
                                     codes[:, unit.start:unit.end].copy()))
        return events

    def decoded(self, level: int, audio) -> list:
        self.out -= 1
        self.decoding = None
        self.take.write_audio(level, audio)
        if level not in self.take.record.levels_done:
            self.take.record.levels_done.append(level)
        self.take.save()
        self.finalised.append(level)
        return [LevelDone(level, self.schedule.codes[level].copy(), audio, self.sr)]

    def aligned_with(self, result) -> list:
        self.out -= 1
        self.aligning, self.aligned = False, True
        if result is None:
            return []
        mats, lyrics = result
        self.take.write_alignment(mats, lyrics)
        return [AlignmentReady(tuple(mats), tuple(lyrics))]

    # -- where it stands -------------------------------------------------------------------------------------------
    def finished(self) -> bool:
        return self.aligned and len(self.finalised) == len(self.schedule.levels)

    def stop(self, cancelled: bool = False, error=None) -> None:
        """End the job once its jobs out have come back (the first reason given wins)."""
        if self.stopping is None:
            self.stopping = {"cancelled": cancelled, "error": error}

    def stuck(self):
        """Why this job can never finish, when nothing is out and nothing may start."""
        if self.out or self.stopping is not None or self.finished() or self.next_job() is not None:
            return None
        return self.schedule.stuck() or "nothing left to run but the take is not finished"

    def release(self) -> None:
        """Let go of the take's lock (once the job has ended)."""
        self.lock.__exit__(None, None, None)

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def warning_events(self) -> list:
        return [Warning_(m) for m in self.warnings]
