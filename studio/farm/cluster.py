"""Connecting to Ray and describing the cluster: its nodes, GPUs and the studio's workers."""

from __future__ import annotations

import os
import socket

NAMESPACE = "jukebox-studio"  # the studio's named workers live here, so `studio farm status` can find them
WORKER_PREFIX = "jukebox-worker-"
INSTALL = "pip install 'jukebox-studio[farm]'"


class FarmUnavailable(RuntimeError):
    """Ray is missing or the cluster cannot be reached; the message says what to do."""


def require_ray():
    """The ``ray`` module, or FarmUnavailable naming the install command."""
    try:
        import ray
    except ImportError:
        raise FarmUnavailable(f"the render farm needs Ray, which is not installed: {INSTALL}") from None
    return ray


def connect(address: str = "auto", start_local: bool = True):
    """Join the cluster at ``address`` (host:port or ray://host:port). ``auto`` joins the cluster this machine is part
    of (`ray start`), or, when there is none and ``start_local``, starts one on this machine with its CPUs and GPUs.
    Returns the ``ray`` module; FarmUnavailable when Ray is missing or the cluster cannot be reached."""
    ray = require_ray()
    if ray.is_initialized():
        return ray
    unreachable = _unreachable(address)
    if unreachable:  # Ray itself would retry for minutes before it says so
        raise FarmUnavailable(f"no Ray cluster is reachable at {address!r} ({unreachable}); start one there with "
                              f"`ray start --head` (docs/FARM.md), or check the address and that its port is open.")
    options = {"namespace": NAMESPACE, "logging_level": "ERROR", "log_to_driver": False}
    try:
        try:
            ray.init(address=address, **options)
        except ConnectionError:
            if address != "auto" or not start_local:
                raise
            # a cluster of this machine only: its workers do the job the user is waiting for, so they run at the
            # studio's priority, not at Ray's default nice 15 (starved by any other busy process)
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(include_dashboard=False, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "on this machine" if address == "auto" else f"at {address!r}"
        raise FarmUnavailable(f"no Ray cluster is reachable {where} ({str(exc).splitlines()[0]}); start one with "
                              f"`ray start --head` (docs/FARM.md), or check the address.") from None
    return ray


def _unreachable(address: str, timeout_s: float = 5.0) -> str:
    """Why nothing answers at ``address`` (host:port or ray://host:port), or '' when something does (or for auto)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        return ""
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        return f"nothing answers on {host}:{port}: {exc.strerror or type(exc).__name__}"
    return ""


def cluster_status(ray) -> dict:
    """Nodes (address, CPUs, GPUs, alive), totals and what each studio worker is doing, as plain data."""
    nodes = [{"address": n.get("NodeManagerAddress"), "alive": bool(n.get("Alive")),
              "cpus": n.get("Resources", {}).get("CPU", 0), "gpus": n.get("Resources", {}).get("GPU", 0)}
             for n in ray.nodes()]
    workers = []
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry.get("namespace") != NAMESPACE or not entry.get("name", "").startswith(WORKER_PREFIX):
            continue
        try:
            handle = ray.get_actor(entry["name"], namespace=NAMESPACE)
            workers.append(ray.get(handle.status.remote(), timeout=10))
        except Exception as exc:  # a worker that died or answers slowly is shown as such, not raised
            workers.append({"name": entry["name"], "doing": f"not answering ({type(exc).__name__})"})
    total, free = ray.cluster_resources(), ray.available_resources()
    return {"nodes": nodes, "cpus": total.get("CPU", 0), "gpus": total.get("GPU", 0),
            "free_cpus": free.get("CPU", 0), "free_gpus": free.get("GPU", 0),
            "workers": sorted(workers, key=lambda w: w.get("name", ""))}
