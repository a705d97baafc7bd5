"""Jobs waiting for the sampler: what the user asked for while another job ran, started one after another.

Each entry keeps how to build its request, not the request itself, so its take folder is chosen when it starts (a
folder chosen at queue time could collide with one made in between).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class PendingJob:
    kind: str  # generate / continue / upsample / resume
    label: str  # what the queue list shows, e.g. "Generate: Alan Jackson, country, 20 s"
    build: Callable  # () -> JobRequest, called when the job starts


class JobQueue:
    """First in, first out; the user can remove any entry or clear them all."""

    def __init__(self):
        self.items: list[PendingJob] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(self, job: PendingJob) -> int:
        self.items.append(job)
        return len(self.items)

    def pop(self) -> PendingJob | None:
        return self.items.pop(0) if self.items else None

    def remove(self, index: int) -> PendingJob | None:
        return self.items.pop(index) if 0 <= index < len(self.items) else None

    def clear(self) -> None:
        self.items.clear()

    def labels(self) -> list[str]:
        return [job.label for job in self.items]
