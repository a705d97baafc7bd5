"""The farm's workers: one long-lived actor per GPU of the cluster (or per CPU slot where it has no GPU)."""

from __future__ import annotations

import uuid

from .cluster import NAMESPACE, WORKER_PREFIX
from .worker import EngineWorker


class WorkerPool:
    """Starts the workers, hands out idle ones, replaces lost ones; :meth:`close` ends them."""

    def __init__(self, ray, models, workers: int | None = None):
        self.ray, self.models = ray, models
        gpus = int(ray.cluster_resources().get("GPU", 0))
        slots = gpus or int(ray.cluster_resources().get("CPU", 1))
        self.size = max(1, min(workers, slots) if workers else slots)
        self.per_worker = {"num_gpus": 1} if gpus else {"num_cpus": 1}
        self.actor_class = ray.remote(concurrency_groups={"control": 1})(EngineWorker)  # status, stop
        self.starting: dict = {}  # ready() ref -> actor, until the actor is up
        self.idle: list = []
        self.labels: dict = {}  # actor -> "worker N on HOST", what the studio shows of it
        self.spawned = 0
        for _ in range(self.size):
            self.spawn()

    def spawn(self) -> None:
        actor = self.actor_class.options(name=f"{WORKER_PREFIX}{uuid.uuid4().hex[:8]}", namespace=NAMESPACE,
                                         **self.per_worker).remote(self.models)
        self.spawned += 1
        self.labels[actor] = f"worker {self.spawned}"
        self.starting[actor.ready.remote()] = actor

    def started(self, ref) -> bool:
        """Take note of a ``ready`` answer (or a failed start, which is replaced); True if ``ref`` was one."""
        actor = self.starting.pop(ref, None)
        if actor is None:
            return False
        try:
            host = self.ray.get(ref)
            self.labels[actor] = f"{self.labels[actor]} on {host}"
            self.idle.append(actor)
        except self.ray.exceptions.RayError:
            self.labels.pop(actor, None)
            self.spawn()
        return True

    def lost(self, actor) -> None:
        """``actor`` died (killed, out of memory, node lost): end it for good and start a replacement."""
        try:
            self.ray.kill(actor, no_restart=True)
        except Exception:  # already gone
            pass
        self.labels.pop(actor, None)
        self.spawn()

    def all_actors(self) -> list:
        return list(self.idle) + list(self.starting.values())

    def close(self) -> None:
        for actor in self.all_actors():
            self.ray.kill(actor, no_restart=True)
        self.idle, self.starting, self.labels = [], {}, {}
