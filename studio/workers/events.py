"""The sampler's own events: what its process reports that is not an engine event. Frozen, picklable, no Qt, no torch.

The sampler process puts these, and the engine's events (:mod:`studio.engine.events`), on one queue in the order they
happen; :class:`studio.workers.sampling_worker.SamplingWorker` relays them all as one signal to the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import numpy as np

if TYPE_CHECKING:
    from studio.engine.label_map import LabelLayout
    from studio.workers.model_info import ModelInfo


@dataclass(frozen=True)
class ModelsReady:
    """A model set was loaded (not sent for the quiet reload of a restarted process)."""

    info: "ModelInfo"


@dataclass(frozen=True)
class ModelsFailed:
    """A model set could not be loaded; ``message`` names the cause and the fix."""

    message: str


@dataclass(frozen=True)
class TakeCreated:
    """The job made its take folder (or opened it, to resume): from now on the take is on disk."""

    take_dir: str
    kind: str  # generate | continue | upsample | resume


@dataclass(frozen=True)
class JobFailed:
    """The job could not start (bad spec, missing parent, no model...): no take was run."""

    message: str


@dataclass(frozen=True)
class PreviewAudio:
    """Audio decoded from the codes sampled so far, so new windows can be heard before the level finishes."""

    take_dir: str
    level: int
    audio: np.ndarray = field(repr=False)  # (N, samples) float32, silent where no codes exist yet
    sr: int
    upto: float  # seconds of the song sampled so far at this level


@dataclass(frozen=True)
class SamplerStopped:
    """The sampler could not finish what it was doing: it caught an error (``pid`` None: the process still serves),
    or its process ``pid`` died (the next request starts a fresh one that reloads the model)."""

    message: str
    pid: Optional[int] = None


def crashed(exc: BaseException) -> SamplerStopped:
    """An error the engine did not turn into a message of its own (a bug, memory): the process goes on serving."""
    return SamplerStopped(f"The sampler stopped with an error ({type(exc).__name__}: {exc}). Takes are kept on disk: "
                          f"select the take and press Resume to go on; if it happens again, lower the length or the "
                          f"candidates.")


def died(pid: int, exitcode: Optional[int]) -> SamplerStopped:
    """The process ended without a word (killed for lack of memory, a crash in a native library)."""
    why = " (killed, most often for lack of memory)" if exitcode is not None and exitcode < 0 else ""
    return SamplerStopped(f"The sampler process stopped unexpectedly, exit code {exitcode}{why}. Nothing you made is "
                          f"lost: takes are on disk and a stopped one resumes with Resume. The model is reloaded on "
                          f"the next job.", pid)


@dataclass(frozen=True)
class FarmChecked:
    """The answer to "Test connection": the cluster at ``address`` as one line (nodes, GPUs, CPUs), or why not."""

    address: str
    ok: bool
    message: str


@dataclass(frozen=True)
class LabelMap:
    """The loaded model's artist and genre map (:mod:`studio.engine.label_map`), or why there is none.

    ``artists``, ``genres``: a LabelLayout each (names, ids, x, y as numpy arrays), None with ``message`` set.
    """

    model: str
    artists: Optional["LabelLayout"] = None
    genres: Optional["LabelLayout"] = None
    message: str = ""
