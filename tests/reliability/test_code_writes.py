"""Each window's codes are written in place (never the whole level again), in an order that a kill at any moment
leaves a take that resumes to the same codes as an uninterrupted run."""

from __future__ import annotations

import numpy as np
import pytest

from studio.engine.cascade import run_take
from studio.engine.code_store import save_codes, write_tokens
from studio.engine.takes import Take
from studio.engine.windows import level_windows, sampled_prefix
from tests.reliability.conftest import files, interrupted_take


def test_a_window_is_written_in_place_to_the_bytes_a_whole_save_would_hold(tmp_path):
    path = tmp_path / "codes_l0.npy"
    codes = -np.ones((3, 5000), np.int64)
    save_codes(path, codes)
    inode = path.stat().st_ino
    codes[:, 1024:2048] = np.arange(3 * 1024).reshape(3, 1024) % 256
    write_tokens(path, codes, 1024, 2048)
    assert path.stat().st_ino == inode  # the same file, not a rewritten copy
    save_codes(tmp_path / "whole.npy", codes)
    assert path.read_bytes() == (tmp_path / "whole.npy").read_bytes()


def test_a_codes_file_changed_behind_the_writer_is_refused(tmp_path):
    path = tmp_path / "codes_l0.npy"
    np.save(path, np.zeros((2, 100), np.float64))
    with pytest.raises(ValueError, match=r"codes_l0\.npy changed while the take was being written \(it holds "
                                         r"float64 \(2, 100\), not int64 \(2, 100\)\)"):
        write_tokens(path, np.zeros((2, 100), np.int64), 0, 10)


def _next_window(models, take, level):
    """The first window of ``level`` the take has not fully sampled, and how much of it it has."""
    codes, spec = take.codes(level), take.spec
    n_ctx = models.prior(level).cfg.n_ctx
    for w in level_windows(codes.shape[1], n_ctx, max(1, int(spec.hop_fraction[level] * n_ctx))):
        have = sampled_prefix(codes, w)
        if have < w.end - w.start:
            return w, have
    raise AssertionError("the level is complete")


TORN = {  # how far a window's write got when the writer was killed (columns [a, end) were being written)
    "all but the first column": lambda c, a, end: c.__setitem__((slice(None), slice(a + 1, end)), 1),
    "all but the first column of one candidate": lambda c, a, end: (
        c.__setitem__((slice(None), slice(a + 1, end)), 1), c.__setitem__((0, a), 1)),
    "a few columns in the middle": lambda c, a, end: c.__setitem__((slice(None), slice((a + end) // 2, end)), 1),
}


@pytest.mark.parametrize("torn", sorted(TORN))
@pytest.mark.parametrize("windows,level", [(2, 1), (12, 0)])  # killed in the middle level, in the bottom one
def test_a_window_torn_by_a_kill_is_sampled_again_to_the_same_codes(models, finished, tmp_path, torn, windows,
                                                                    level):
    take = interrupted_take(models, tmp_path / "take", after_windows=windows)
    assert min(lv for lv in range(3) if (take.codes(lv) >= 0).any()) == level
    w, have = _next_window(models, take, level)
    codes = take.codes(level)
    marks = np.zeros_like(codes)
    TORN[torn](marks, w.start + have, w.end)
    assert marks.any()
    codes = np.where(marks == 1, (finished.codes(level) + 1) % 256, codes)  # tokens no uninterrupted run holds
    np.save(take.codes_path(level), codes)
    assert not list(run_take(Take.load(take.path), models))[-1].error
    now, before = files(take.path), files(finished.path)
    now.pop("take.json"), before.pop("take.json")
    assert now == before
