"""The demo training set: built from the music21 corpus (see shared/design/DEMO_DATA.md) and read back for training.

``build_dataset(out, seed, tiny, max_hours, sr, progress=...)`` makes a set; ``Dataset(out)`` reads one. Both are
imported lazily so that ``import studio.data`` needs neither music21 nor FluidSynth.
"""

from __future__ import annotations

from studio.data.errors import DataBuildError

__all__ = ["DataBuildError", "Dataset", "build_dataset"]


def __getattr__(name: str):
    if name == "build_dataset":
        from studio.data.build import build_dataset

        return build_dataset
    if name == "Dataset":
        from studio.data.reader import Dataset

        return Dataset
    raise AttributeError(f"module 'studio.data' has no attribute {name!r}")
