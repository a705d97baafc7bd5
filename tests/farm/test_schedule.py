"""The farm's schedule on its own (no Ray): the in-process batches, windows of a batch in sequence, upsampling as soon
as the codes above exist, and a plan that can never finish named as such."""

import numpy as np

from studio.engine.windows import level_windows
from studio.farm.schedule import LevelLayout, TakeSchedule, batches


def schedule(n_candidates=3, max_batch=(1, 1, 1), top_tokens=16):
    # a top level of 16 tokens in windows of 8 (hop 4); a middle level 4x longer whose windows of 8 see 2 tokens above
    top = LevelLayout(2, 8, None, tuple(level_windows(top_tokens, 8, 4)))
    mid = LevelLayout(1, 8, 4, tuple(level_windows(top_tokens * 4, 8, 8)))
    codes = {2: -np.ones((n_candidates, top_tokens), np.int64), 1: -np.ones((n_candidates, top_tokens * 4), np.int64),
             0: -np.ones((n_candidates, top_tokens * 16), np.int64)}
    return TakeSchedule({2: top, 1: mid}, [2, 1], codes, [5, 6, 7][:n_candidates], [*max_batch])


def test_batches_are_the_in_process_batches():
    assert batches(5, 2) == [(0, 1), (2, 3), (4,)]
    assert batches(3, 16) == [(0, 1, 2)]
    s = schedule(max_batch=(16, 16, 1))  # per level 0, 1, 2
    assert [(u.level, u.rows, u.candidates) for u in s.ready()] == [(2, (0,), (5,)), (2, (1,), (6,)), (2, (2,), (7,))]
    s = schedule(max_batch=(2, 2, 2))
    assert [u.rows for u in s.ready()] == [(0, 1), (2,)]


def test_a_batch_runs_its_windows_in_sequence_with_the_context_it_has():
    s = schedule()
    first = s.ready()[0]
    assert (first.window, first.start, first.end, first.have) == (0, 0, 8, 0)
    s.start(first)
    assert [u.rows for u in s.ready()] == [(1,), (2,)]  # the busy batch offers nothing more
    assert not s.complete(first, np.full((1, 8), 3))  # the window is not done for every row yet
    nxt = s.ready()[0]
    assert (nxt.rows, nxt.window, nxt.start, nxt.have, nxt.n_new) == ((0,), 1, 4, 4, 4)  # the overlap is its context


def test_upsampling_starts_as_soon_as_the_codes_above_exist():
    s = schedule()
    for u in s.ready():  # every candidate's first top window
        s.start(u)
        s.complete(u, np.full((1, u.n_new), 1))
    ready = s.ready()
    mid = [u for u in ready if u.level == 1]
    assert not s.level_sampled(2)  # the top level is far from finished ...
    assert [(u.rows, u.window) for u in mid] == [((0,), 0), ((1,), 0), ((2,), 0)]  # ... and the middle one runs
    assert s.windows_done == {2: 1, 1: 0}


def test_a_level_whose_upper_codes_will_never_come_is_named():
    s = schedule()
    s.levels = [1]  # only the middle level, with no top codes under it
    assert s.ready() == []
    assert "level 2 has no codes under tokens 0-8 of level 1" in s.stuck()
