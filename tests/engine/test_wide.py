"""Wide (pseudo-stereo) takes on the tiny reference models: one top level, two upsamplings with their own streams."""

import numpy as np
import pytest
import soundfile as sf

from studio.engine.cascade import run_take
from studio.engine.events import LevelDone, WindowDone
from studio.engine.jobs import new_take, upsample_take
from studio.engine.spec import MAX_CANDIDATES, SongSpec, SpecError
from studio.engine.takes import Take
from studio.engine.wide import partner_stream, wide_take
from tests.conftest import tiny_model_set_or_skip
from tests.sampler.conftest import SPEC

SECONDS = 8192 / 44100  # one top window; 256 level-1 and 1024 level-0 tokens


def run(take, models, cancel=None):
    return list(run_take(take, models, cancel))


@pytest.fixture(scope="module")
def models():
    return tiny_model_set_or_skip()


@pytest.fixture(scope="module")
def song(models, tmp_path_factory):
    """(top-level take with two candidates, its wide version of candidate 2, run uninterrupted)."""
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("wide")
    top = new_take(SongSpec(seconds=SECONDS, candidates=2, levels="top", **SPEC), root / "top", models)
    assert not run(top, models)[-1].error
    wide = wide_take(Take.load(top.path), 1, root / "wide", models)
    events = run(wide, models)
    assert not events[-1].error and not events[-1].cancelled
    assert [e.level for e in events if isinstance(e, LevelDone)] == [1, 0]
    return top, Take.load(wide.path)


def test_both_rows_share_the_candidates_top_level_and_differ_below(song):
    top, wide = song
    assert wide.record.status == "done" and wide.plan.kind == "wide" and wide.record.parent == top.record.id
    assert wide.plan.candidates == [1, partner_stream(1)]
    assert partner_stream(MAX_CANDIDATES - 1) not in range(MAX_CANDIDATES)  # never a real candidate's stream
    t2 = wide.codes(2)
    assert t2.shape == (2, 64) and (t2 == top.codes(2)[1]).all()  # both rows: exactly the parent's candidate 2
    # the top level is done when the take is made (it can be continued or joined like any take): the parent's audio
    assert wide.record.levels_done == [2, 1, 0]
    parent_top = sf.read(str(top.audio_path(2, 1)))[0]
    assert all(np.array_equal(sf.read(str(wide.audio_path(2, row)))[0], parent_top) for row in (0, 1))
    for level, n in ((1, 256), (0, 1024)):
        codes = wide.codes(level)
        assert codes.shape == (2, n) and codes.min() >= 0
        assert (codes[0] != codes[1]).mean() > 0.5  # two streams: the rows differ almost everywhere
        assert wide.audio_path(level, 0).is_file() and wide.audio_path(level, 1).is_file()


def test_left_side_is_the_plain_upsampling_of_the_candidate(song, models, tmp_path):
    top, wide = song
    up = upsample_take(Take.load(top.path), tmp_path / "up", models, [1])
    assert not run(up, models)[-1].error
    for level in (1, 0):
        assert (wide.codes(level)[0] == Take.load(up.path).codes(level)[0]).all()


def test_same_request_same_wide_take(song, models, tmp_path):
    top, wide = song
    again = wide_take(Take.load(top.path), 1, tmp_path / "again", models)
    assert not run(again, models)[-1].error
    for level in range(3):
        assert (Take.load(again.path).codes(level) == wide.codes(level)).all()


def test_cancelled_then_resumed_equals_uninterrupted(song, models, tmp_path):
    top, wide = song
    cut = wide_take(Take.load(top.path), 1, tmp_path / "cut", models)
    stop = {"now": False}
    for event in run_take(cut, models, lambda: stop["now"]):
        stop["now"] |= isinstance(event, WindowDone) and event.level == 0  # cancel inside level 0's second window
    stopped = Take.load(cut.path)
    assert stopped.record.status == "cancelled" and stopped.record.levels_done == [2, 1]
    assert 0 < (stopped.codes(0) >= 0).sum() < stopped.codes(0).size
    events = run(stopped, models)
    assert not events[-1].error and not events[-1].cancelled
    for level in range(3):
        assert (Take.load(cut.path).codes(level) == wide.codes(level)).all()


def test_refused_while_the_top_level_is_unfinished(models, tmp_path):
    top = new_take(SongSpec(seconds=SECONDS, candidates=1, levels="top", **SPEC), tmp_path / "top", models)
    steps = {"n": 0}

    def cancel():
        steps["n"] += 1
        return steps["n"] > 10

    assert run(top, models, cancel)[-1].cancelled
    with pytest.raises(SpecError, match="not finished; resume the take"):
        wide_take(Take.load(top.path), 0, tmp_path / "wide", models)
    with pytest.raises(SpecError, match="candidates 1-1, not 2"):
        wide_take(Take.load(top.path), 1, tmp_path / "wide", models)
    assert not (tmp_path / "wide").exists()  # nothing made
