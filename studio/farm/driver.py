"""The farm's driver: runs many takes on a pool of workers, in dependency order, and is the only writer of their
folders. It yields ``(take, event)`` pairs, the events of ``cascade.run_take`` (progress is reported per unit, with no
ETA), so a terminal or the studio shows a farm job as it shows a local one.

Faults: a unit whose worker is lost (killed, out of memory, node gone) runs again on another worker, and the lost
worker is replaced; a unit lost ``MAX_LOSSES`` times fails its take (kept, resumable). Cancelling stops every unit of
the cluster at its next step, keeps every finished unit's codes and leaves the takes resumable.
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional

from studio.engine.atomic_files import DiskWriteError
from studio.engine.events import JobDone, UnitStarted
from studio.engine.take_lock import TakeLocked
from studio.engine.takes import TakeStatus

from .take_run import TakeRun
from .worker import CANCELLED, UnitFailed

MAX_LOSSES = 3  # times one unit may lose its worker before its take fails
POLL_S = 0.2  # how often the driver looks at the cancel flag while units run

# what preparing a take raises for a cause the user can fix; the take is left as it is (its record may be unreadable)
_ERRORS = (ValueError, RuntimeError, OSError, TakeLocked, DiskWriteError)


class FarmDriver:
    """Runs takes on ``pool`` (a :class:`~studio.farm.pool.WorkerPool`)."""

    def __init__(self, pool):
        self.pool, self.ray = pool, pool.ray
        self.out: dict = {}  # object ref -> (actor, run, kind, arg)
        self.losses: dict = {}  # (take path, kind, arg) -> times its worker was lost

    def run(self, takes: list, models, cancel: Optional[Callable[[], bool]] = None) -> Iterator[tuple]:
        """Drive every take in ``takes`` to its end (resumable ones continue where they stopped)."""
        cancel = cancel or (lambda: False)
        runs = []
        for take in takes:
            try:
                run = TakeRun(take, models)
            except _ERRORS as exc:
                yield take, JobDone(str(take.path), error=str(exc))
                continue
            runs.append(run)
            yield take, run.planned
            for ev in run.warning_events():
                yield take, ev
        active = list(runs)
        while active:
            if cancel():
                for run in active:
                    self._stop(run, cancelled=True)
            yield from self._dispatch(active)
            for run in active:
                why = run.stuck()
                if why:
                    run.stop(error=why)
            for run in [r for r in active if r.out == 0 and (r.stopping is not None or r.finished())]:
                active.remove(run)
                yield run.take, self._end(run)
            if not active:
                break
            waiting = list(self.out) + list(self.pool.starting)
            done, _ = self.ray.wait(waiting, num_returns=1, timeout=POLL_S) if waiting else ([], [])
            for ref in done:
                if self.pool.started(ref):
                    continue
                yield from self._answer(ref)

    def _dispatch(self, active: list) -> Iterator[tuple]:
        """Hand idle workers what may start; yields a (take, UnitStarted) per sampling unit sent."""
        for run in active:
            while self.pool.idle:
                job = run.next_job()
                if job is None:
                    break
                actor = self.pool.idle.pop(0)
                kind, arg = job
                if kind == "sample":
                    context, upper = run.unit_inputs(arg)
                    ref = actor.sample.remote(run.run_id, run.spec_dict, run.seed, run.total_length, arg, context,
                                              upper)
                    n_windows = len(run.schedule.layouts[arg.level].windows)
                    yield run.take, UnitStarted(arg.level, arg.window, n_windows, tuple(arg.candidates),
                                                self.pool.labels.get(actor, "a worker"))
                elif kind == "decode":
                    ref = actor.decode.remote(run.spec_dict, run.schedule.codes[arg], arg)
                else:
                    ref = actor.align.remote(run.spec_dict, run.schedule.codes[run.top], run.total_length)
                run.sent(kind, arg)
                self.out[ref] = (actor, run, kind, arg)

    def _answer(self, ref) -> Iterator[tuple]:
        actor, run, kind, arg = self.out.pop(ref)
        ex = self.ray.exceptions
        try:
            result = self.ray.get(ref)
        except (ex.RayActorError, ex.WorkerCrashedError, ex.NodeDiedError, ex.ObjectLostError,
                ex.OutOfMemoryError) as exc:
            self.pool.lost(actor)
            run.unsent(kind, arg)
            key = (str(run.take.path), kind, arg)
            self.losses[key] = self.losses.get(key, 0) + 1
            if self.losses[key] >= MAX_LOSSES:
                self._stop(run, error=f"{kind} {arg} lost its worker {MAX_LOSSES} times (last: {type(exc).__name__}); "
                                      f"check the cluster (`studio farm status`), then resume the take.")
            return
        except ex.RayTaskError as exc:  # a bug in the engine: keep the take and the details, as a local run does
            self.pool.idle.append(actor)
            run.unsent(kind, arg)
            (run.take.path / "error.log").write_text(str(exc))
            self._stop(run, error=f"unexpected error on a farm worker: {type(exc.cause).__name__}: {exc.cause}. "
                                  f"The take is kept up to its last window; the details are in "
                                  f"{run.take.path / 'error.log'} (please report them).")
            return
        self.pool.idle.append(actor)
        if isinstance(result, UnitFailed) or (isinstance(result, str) and result == CANCELLED):
            run.unsent(kind, arg)
            if isinstance(result, UnitFailed):
                self._stop(run, error=result.message)
            return
        try:
            if kind == "sample":
                events = run.sampled(arg, result)
            elif kind == "decode":
                events = run.decoded(arg, result)
            else:
                events = run.aligned_with(result)
        except (OSError, ValueError) as exc:  # the disk refused a write, or the take changed behind the job's back
            self._stop(run, error=f"{exc}, then resume the take (it is kept up to its last window).")
            return
        for ev in events:
            yield run.take, ev

    def _stop(self, run: TakeRun, cancelled: bool = False, error: Optional[str] = None) -> None:
        """End ``run``'s job: its units out stop at their next step; what they finished is kept."""
        if run.stopping is not None:
            return
        run.stop(cancelled, error)
        for actor, other, _, _ in self.out.values():
            if other is run:
                actor.stop.remote(run.run_id)

    def _end(self, run: TakeRun) -> JobDone:
        try:
            return self._record_end(run)
        finally:
            run.release()

    @staticmethod
    def _record_end(run: TakeRun) -> JobDone:
        take, why = run.take, run.stopping or {"cancelled": False, "error": None}
        status = (TakeStatus.CANCELLED if why["cancelled"] else TakeStatus.FAILED if why["error"] else
                  TakeStatus.DONE)
        try:
            take.set_status(status, why["error"])
        except OSError as exc:  # the record still says "running", which resumes too
            if status is TakeStatus.DONE:
                return JobDone(str(take.path), error=f"{exc}, then resume the take to record that it is done.")
        return JobDone(str(take.path), cancelled=why["cancelled"], error=why["error"])
