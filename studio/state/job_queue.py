"""Jobs waiting for the sampler: what the user asked for while another job ran, started one after another.

Each entry keeps a recipe of its request, not the request itself, so its take folder is chosen when it starts (a
folder chosen at queue time could collide with one made in between). Recipes are plain JSON, so the queue is saved
with the project and offered back after a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from studio.engine.takes import PLAN_KINDS
from studio.workers.sampling_worker import JobRequest

KINDS = PLAN_KINDS + ("resume",)  # a new take of one of the plan kinds, or an unfinished take resumed
RECIPE_FIELDS = ("spec", "parent", "seconds", "candidates", "range_seconds", "at_seconds", "other", "other_candidate",
                 "other_seconds", "folder")  # JobRequest's, as JSON


@dataclass(frozen=True)
class PendingJob:
    """One job waiting: ``recipe`` holds the JobRequest fields it needs (``folder`` only to resume a take)."""

    kind: str  # one of KINDS
    label: str  # what the queue list shows, e.g. "Generate: Alan Jackson, country, 20 s"
    recipe: dict = field(default_factory=dict)

    def request(self, project) -> JobRequest:
        """The request to run now; a new take gets a fresh folder in ``project`` (a :class:`Project`)."""
        r = self.recipe
        folder = r["folder"] if self.kind == "resume" else str(project.new_take_folder(self.kind))
        return JobRequest(self.kind, folder, spec=r.get("spec"), parent=r.get("parent"), seconds=r.get("seconds"),
                          candidates=tuple(r["candidates"]) if r.get("candidates") is not None else None,
                          range_seconds=tuple(r["range_seconds"]) if r.get("range_seconds") is not None else None,
                          at_seconds=r.get("at_seconds"), other=r.get("other"), other_candidate=r.get("other_candidate"),
                          other_seconds=r.get("other_seconds"))

    def to_json(self) -> dict:
        return {"kind": self.kind, "label": self.label, "recipe": dict(self.recipe)}

    @classmethod
    def from_json(cls, value) -> Optional["PendingJob"]:
        """The job a saved entry describes, or None for an entry that is not one (a hand-edited or damaged file)."""
        if not isinstance(value, dict) or value.get("kind") not in KINDS or not isinstance(value.get("label"), str):
            return None
        recipe = value.get("recipe")
        if not isinstance(recipe, dict) or set(recipe) - set(RECIPE_FIELDS):
            return None
        if value["kind"] == "resume" and not isinstance(recipe.get("folder"), str):
            return None
        if value["kind"] != "resume" and "folder" in recipe:
            return None
        return cls(value["kind"], value["label"], dict(recipe))


def load_jobs(values) -> list[PendingJob]:
    """The jobs of a saved queue (``project.json``'s list), skipping entries that do not describe one."""
    jobs = [PendingJob.from_json(v) for v in values] if isinstance(values, list) else []
    return [job for job in jobs if job is not None]


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

    def to_json(self) -> list[dict]:
        return [job.to_json() for job in self.items]
