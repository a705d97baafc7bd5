"""A farm job from start to end: join the cluster, start the workers, run the takes, end the workers."""

from __future__ import annotations

from typing import Callable, Iterator, Optional

from .cluster import connect


def run_on_farm(takes: list, models, address: str = "auto", workers: Optional[int] = None,
                cancel: Optional[Callable[[], bool]] = None) -> Iterator[tuple]:
    """``(take, event)`` pairs of every take in ``takes`` run on the cluster at ``address`` (see ``cluster.connect``),
    on at most ``workers`` workers (default: one per GPU, or per CPU slot where the cluster has no GPU).

    Raises FarmUnavailable before any work when Ray is missing or the cluster cannot be reached.
    """
    ray = connect(address)
    from .driver import FarmDriver
    from .pool import WorkerPool

    pool = WorkerPool(ray, models, workers)
    try:
        yield from FarmDriver(pool).run(takes, models, cancel)
    finally:
        pool.close()
