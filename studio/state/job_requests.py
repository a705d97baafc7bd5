"""What the user asks the sampler for: a new song, or a new take made from the selected one (continue, upsample,
regenerate from a time, join with another take, a wide stereo version), or resuming a take.

Each request is checked here, on the GUI thread, against what the studio knows (the project, the loaded model, the
selected take and candidate) and refused with one message naming the fix; what passes becomes a
:class:`~studio.state.job_queue.PendingJob` that starts now or waits in the queue. The model's own checks run again
in the sampler process before any take folder is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from studio.engine.spec import SongSpec, SpecError
from studio.state.job_queue import PendingJob


class JobRequests:
    """The request methods of :class:`~studio.state.session.StudioSession` (its mixin: it provides ``project``,
    ``info``, ``take``, ``candidate``, ``running_take``, ``error`` and ``_submit``)."""

    def generate(self, spec: dict) -> bool:
        if not self._ensure_project():
            return False
        if self.info is None:
            self.error.emit("No model is loaded: pick one in the Model list (or Models > Choose model folder...).")
            return False
        spec = dict(spec)
        try:
            SongSpec.from_dict(spec)  # every field's type and range, before anything is queued or made
        except SpecError as exc:
            self.error.emit(f"The song cannot be generated: {exc}")
            return False
        label = (f"Generate: {spec.get('artist') or 'unknown'}, {spec.get('genre') or 'unknown'}, "
                 f"{float(spec.get('seconds', 0)):g} s")
        return self._submit(PendingJob("generate", label, {"spec": spec}))

    def _parent_and_candidates(self, action: str):
        take = self.take
        if take is None:
            self.error.emit(f"Select a take in the takes browser to {action} it.")
            return None
        if not take.summary.top_done:
            self.error.emit(f"Take {take.summary.name} has no finished top level yet: resume it before you {action} it.")
            return None
        return take, [self.candidate]

    def continue_selected(self, seconds: float) -> bool:
        if not self._ensure_project() or (found := self._parent_and_candidates("continue")) is None:
            return False
        take, cands = found
        if seconds <= take.summary.seconds:
            self.error.emit(f"A continuation must be longer than its take ({take.summary.seconds:.2f} s): "
                            f"raise the length next to Continue.")
            return False
        return self._submit(PendingJob("continue", f"Continue {take.summary.name} to {seconds:g} s", {
            "parent": take.summary.path, "seconds": float(seconds), "candidates": list(cands)}))

    def upsample_selected(self, range_seconds: Optional[tuple] = None) -> bool:
        if not self._ensure_project() or (found := self._parent_and_candidates("upsample")) is None:
            return False
        take, cands = found
        rng = [float(range_seconds[0]), float(range_seconds[1])] if range_seconds else None
        where = f" {rng[0]:.1f}-{rng[1]:.1f} s" if rng else ""
        return self._submit(PendingJob("upsample", f"Upsample {take.summary.name}{where}", {
            "parent": take.summary.path, "candidates": list(cands), "range_seconds": rng}))

    def make_wide_selected(self) -> bool:
        """Queue a wide (pseudo-stereo) version of the chosen candidate: its top level upsampled twice, left and right."""
        take = self.take
        if not self._ensure_project():
            return False
        if take is None:
            self.error.emit("Select a take in the takes browser to make a wide stereo version of it.")
            return False
        top = take.codes.get(len(take.hop_lengths) - 1)
        if top is None or self.candidate >= len(top) or (top[self.candidate] < 0).any():
            self.error.emit(f"Candidate {self.candidate + 1} of take {take.summary.name} has no finished top level "
                            f"yet: resume the take, then make the wide version.")
            return False
        return self._submit(PendingJob("wide", f"Wide stereo {take.summary.name} c{self.candidate + 1}", {
            "parent": take.summary.path, "candidates": [self.candidate]}))

    def takes_with_top(self) -> list:
        """The project's takes with a finished top level: what a take can be joined with."""
        return [t for t in self.project.takes if t.top_done]

    def regenerate_selected(self, at_seconds: float) -> bool:
        """Queue a new take: the chosen candidate kept up to ``at_seconds``, the rest sampled with a new seed."""
        if not self._ensure_project() or (found := self._parent_and_candidates("regenerate")) is None:
            return False
        take, cands = found
        if not 0 < at_seconds < take.summary.seconds:
            self.error.emit(f"Regenerate from a time inside take {take.summary.name} (0-{take.summary.seconds:.2f} s):"
                            f" move the playhead there first.")
            return False
        return self._submit(PendingJob("regenerate", f"Regenerate {take.summary.name} from {at_seconds:.1f} s", {
            "parent": take.summary.path, "candidates": list(cands), "at_seconds": float(at_seconds)}))

    def join_selected(self, other_take_dir: str, other_candidate: int, at_seconds: float,
                      other_seconds: float) -> bool:
        """Queue a new take: the chosen candidate up to ``at_seconds``, then ``other_take_dir``'s candidate
        ``other_candidate`` from ``other_seconds`` on, its lower levels sampled again across the seam."""
        if not self._ensure_project() or (found := self._parent_and_candidates("join")) is None:
            return False
        take, cands = found
        other = next((t for t in self.takes_with_top() if t.path == str(other_take_dir)), None)
        problem = (f"choose a take of this project with a finished top level to join {take.summary.name} with"
                   if other is None else
                   f"the seam must lie inside take {take.summary.name} (0-{take.summary.seconds:.2f} s)"
                   if not 0 < at_seconds < take.summary.seconds else
                   f"the time in take {other.name} must lie inside it (0-{other.seconds:.2f} s)"
                   if not 0 <= other_seconds < other.seconds else
                   f"take {other.name} has candidates 1-{other.n_candidates}"
                   if not 0 <= other_candidate < other.n_candidates else None)
        if problem:
            self.error.emit(f"Cannot join: {problem}.")
            return False
        return self._submit(PendingJob("join", f"Join {take.summary.name} at {at_seconds:.1f} s with {other.name} "
                                               f"from {other_seconds:.1f} s", {
            "parent": take.summary.path, "candidates": list(cands), "at_seconds": float(at_seconds),
            "other": other.path, "other_candidate": int(other_candidate), "other_seconds": float(other_seconds)}))

    def resume(self, take_dir: str) -> bool:
        if not self._ensure_project():
            return False
        if self.info is None:
            self.error.emit("Load the take's model first (Model list), then resume.")
            return False
        if str(take_dir) == self.running_take:
            self.error.emit(f"{Path(take_dir).name} is being sampled right now: nothing to resume.")
            return False
        return self._submit(PendingJob("resume", f"Resume {Path(take_dir).name}", {"folder": str(take_dir)}))
