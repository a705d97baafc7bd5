"""Farm speed: wall time of one take (4 candidates of the demo model by default, one candidate per unit) rendered in
this process, then on a local Ray cluster with 1 and with 2 workers, and the farm's overhead per unit of work.

    python benchmarks/farm_speed.py                       # 4 candidates, 2 s, top level only
    python benchmarks/farm_speed.py --seconds 4 --levels all --workers 1 2 4

Prints one JSON line per run and a last line with the overhead per unit: (1-worker farm time - in-process time) /
units, i.e. what a unit costs beyond its sampling (sending codes, the result back, the driver's writes), less what the
in-process run spends per take that the farm does not (timing steps for its ETA): it can come out negative. Farm times
are of a second take on workers already up with the model loaded; starting them and the first take are printed
apart. On a machine with GPUs the workers take one GPU each; otherwise one CPU slot each (the cluster gets as many
slots as the most workers asked for).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def render(models, spec, folder, pool=None):
    """Seconds to render ``spec`` into ``folder``: in process, or on the farm workers of ``pool``."""
    from studio.engine.cascade import run_take
    from studio.engine.jobs import new_take

    take = new_take(spec, folder, models)
    t0 = time.perf_counter()
    if pool is None:
        end = list(run_take(take, models))[-1]
    else:
        from studio.farm.driver import FarmDriver

        end = [ev for _, ev in FarmDriver(pool).run([take], models)][-1]
    assert not end.error and not end.cancelled, end
    return time.perf_counter() - t0, take


def started_pool(ray, models, n):
    """A pool of ``n`` workers, every one up; and the seconds that took."""
    from studio.farm.pool import WorkerPool

    t0 = time.perf_counter()
    pool = WorkerPool(ray, models, n)
    while pool.starting:
        done, _ = ray.wait(list(pool.starting), num_returns=1)
        pool.started(done[0])
    return pool, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="demo")
    ap.add_argument("--candidates", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--levels", choices=("top", "all"), default="top")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()

    import ray

    from studio.engine.modelset import ModelSet
    from studio.engine.spec import SongSpec
    from studio.farm.cluster import NAMESPACE

    models = ModelSet.named(args.model)
    spec = dict(seconds=args.seconds, model=args.model, candidates=args.candidates, levels=args.levels, seed=1,
                max_batch=[1, 1, 1])
    ray.init(num_cpus=max(args.workers), include_dashboard=False, _node_ip_address="127.0.0.1", namespace=NAMESPACE,
             logging_level="ERROR", log_to_driver=False)
    root = Path(tempfile.mkdtemp(prefix="farm_speed_"))
    render(models, SongSpec(**spec), root / "local-first")  # loads the model and times its steps (for the ETA) once
    local_s, take = render(models, SongSpec(**spec), root / "local")
    units = sum(take.record.windows_done.values()) * args.candidates
    print(json.dumps({"run": "in process", "seconds": round(local_s, 2), "units": units}))
    one_s = None
    for n in args.workers:
        pool, start_s = started_pool(ray, models, n)
        first_s, _ = render(models, SongSpec(**spec), root / f"farm{n}-first", pool)  # workers load the model
        wall, _ = render(models, SongSpec(**spec), root / f"farm{n}", pool)
        pool.close()
        one_s = wall if n == 1 else one_s
        print(json.dumps({"run": f"farm, {n} worker(s)", "seconds": round(wall, 2), "units": units,
                          "workers_start_s": round(start_s, 2), "first_take_s": round(first_s, 2)}))
    if one_s is not None:
        print(json.dumps({"overhead_per_unit_ms": round(1000 * (one_s - local_s) / max(1, units), 1)}))
    ray.shutdown()


if __name__ == "__main__":
    main()
