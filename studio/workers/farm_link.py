"""The sampler process's link to a Ray cluster ("Run jobs on: a Ray cluster at ADDRESS", docs/FARM.md).

Ray lives in the sampler process only, and only once a job or a connection test names a cluster: a local job never
imports it. One cluster at a time: naming another address leaves the one joined before.
"""

from __future__ import annotations

from typing import Callable, Iterator

from studio.workers.events import FarmChecked

_joined = {"address": None}  # the address this process is connected to (None: not connected)


def join(address: str, start_local: bool = True):
    """The ``ray`` module connected to the cluster at ``address``; FarmUnavailable (its message names the fix) when
    Ray is missing or the cluster cannot be reached. ``start_local``: "auto" may start a cluster on this machine."""
    from studio.farm.cluster import connect, require_ray

    ray = require_ray()
    if ray.is_initialized() and _joined["address"] != address:
        ray.shutdown()
    connected = connect(address, start_local=start_local)
    _joined["address"] = address
    return connected


def check(address: str) -> FarmChecked:
    """Join the cluster at ``address`` (never starting one) and describe it in one line."""
    from studio.farm.cluster import FarmUnavailable, cluster_status

    try:
        status = cluster_status(join(address, start_local=False))
    except FarmUnavailable as exc:
        _joined["address"] = None
        return FarmChecked(address, False, str(exc))
    alive = [n for n in status["nodes"] if n["alive"]]
    return FarmChecked(address, True, f"Connected to {address}: {len(alive)} node{'s' if len(alive) != 1 else ''}, "
                                      f"{status['gpus']:g} GPU{'s' if status['gpus'] != 1 else ''}, "
                                      f"{status['cpus']:g} CPUs ({status['free_cpus']:g} free).")


def farm_events(take, models, address: str, cancel: Callable[[], bool]) -> Iterator:
    """The engine's events of ``take`` run on the cluster at ``address`` (joined already by :func:`join`), in the
    order ``cascade.run_take`` would send them, with a ``UnitStarted`` for each unit a worker begins."""
    from studio.farm.job import run_on_farm

    for _, event in run_on_farm([take], models, address, cancel=cancel):
        yield event
