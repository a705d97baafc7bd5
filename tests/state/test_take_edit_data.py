"""What a regenerated or joined take borrows from its parent's audio, and how the tree and the waveform name it.

Real take folders (records, code arrays, WAVs); the child's codes equal its parent's everywhere, so only the borrowing
rule (not chance) decides where the parent's audio may stand in for the child's.
"""

from __future__ import annotations

import numpy as np
import pytest

from studio.engine.spec import SongSpec
from studio.engine.takes import Take, TakePlan
from studio.state.take_data import load_take_data, summarize

SR, HOPS = 12800, (16, 64, 256)  # 50 top-level tokens a second


def _take(folder, kind: str, parent: Take | None = None, audio_levels=(0, 1, 2)) -> Take:
    """A 2 s take of one candidate whose codes are the same pattern in every take, with audio of ``audio_levels``."""
    take = Take.create(folder, SongSpec(seconds=2.0, candidates=1, seed=1), TakePlan(kind, [2], [0]), "demo", SR,
                       list(HOPS), parent=parent.record.id if parent else None)
    if parent is not None:
        take.record.parent_path = str(parent.path)
    n = 2 * SR
    for level, hop in enumerate(HOPS):
        take.write_codes(level, (np.arange(n // hop) % 7)[None])
        if level in audio_levels:
            take.write_audio(level, np.full((1, n), 0.1 * (level + 1), dtype=np.float32))
    return take


@pytest.fixture
def parent(tmp_path):
    return _take(tmp_path / "song", "generate")


def test_a_regenerated_take_borrows_its_parents_levels_only_before_the_point(parent, tmp_path):
    child = _take(tmp_path / "again", "regenerate", parent, audio_levels=())
    child.record.at_seconds = 0.5
    child.save()
    data = load_take_data(child.path)
    for level, hop in enumerate(HOPS):
        _, sampled = data.borrowed[level][0]
        assert sampled.sum() == int(0.5 * SR) // hop and sampled[: int(0.5 * SR) // hop].all()
    assert summarize(child).marker == (0.5, "regenerated from here")
    assert " · new from 0:00.5 · " in summarize(child).label


def test_a_joined_take_borrows_nothing_and_names_its_second_parent(parent, tmp_path):
    second = _take(tmp_path / "other", "generate")
    child = _take(tmp_path / "joined", "join", parent, audio_levels=(2,))
    child.record.at_seconds = 1.3
    child.record.joined = {"id": second.record.id, "path": str(second.path), "candidate": 0, "seconds": 0.5}
    child.save()
    data = load_take_data(child.path)
    assert data.borrowed == {}
    assert data.best_level == 2 and data.preview_ranges(0) == ((0.0, 2.0),)  # its own top level, nothing else
    summary = summarize(child)
    assert summary.parent == parent.record.id and " · joined with other at 0:01.3 · " in summary.label
    assert summary.marker == (1.3, "seam: other from 0:00.5")
