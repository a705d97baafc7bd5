"""Regenerate-from-here and join on the tiny reference models: kept codes exact, new codes sampled, resumable."""

import numpy as np
import pytest
import soundfile as sf

from studio.engine.cascade import run_take
from studio.engine.jobs import new_take
from studio.engine.spec import SongSpec, SpecError
from studio.engine.take_edits import join_takes, regenerate_take
from studio.engine.takes import Take
from tests.conftest import tiny_model_set_or_skip
from tests.sampler.conftest import SPEC, TINY_SECONDS

HOP = 128  # top-level samples per token
SEAM = (0.05, 0.08)  # the tiny models' windows are 0.05 s (level 1) and 0.01 s (level 0) long


def run(take, models, cancel=None):
    events = list(run_take(take, models, cancel))
    return events[-1]


def cancel_after(steps):
    seen = {"n": 0}

    def cancel():
        seen["n"] += 1
        return seen["n"] > steps
    return cancel


@pytest.fixture(scope="module")
def models():
    return tiny_model_set_or_skip()


@pytest.fixture(scope="module")
def songs(models, tmp_path_factory):
    """Two finished takes of every level (seeds 11 and 12, one candidate each), and one of the top level only."""
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("songs")
    out = []
    for name, seed, levels in (("a", 11, "all"), ("b", 12, "all"), ("top", 13, "top")):
        spec = SongSpec(seconds=TINY_SECONDS, candidates=1, levels=levels, **{**SPEC, "seed": seed})
        take = new_take(spec, root / name, models)
        assert not run(take, models).error
        out.append(Take.load(take.path))
    return out


def test_regenerate_keeps_the_prefix_exactly_and_samples_the_rest_anew(songs, models, tmp_path):
    a = songs[0]
    take = regenerate_take(a, 0.2, tmp_path / "r", models, [0], count=2, seed=5)
    at_tok = int(0.2 * 44100) // HOP  # 68
    assert take.record.at_seconds == pytest.approx(at_tok * HOP / 44100)
    assert take.plan.kind == "regenerate" and take.plan.levels == [2] and take.record.parent == a.record.id
    assert take.spec.seed == 5 != a.spec.seed and take.spec.candidates == 2
    assert not run(take, models).error
    take = Take.load(take.path)
    top, parent = take.codes(2), a.codes(2)[0]
    assert top.shape == (2, 128) and (top[:, :at_tok] == parent[:at_tok]).all()
    assert (top[:, at_tok:] >= 0).all()
    assert (top[:, at_tok:] != parent[at_tok:]).mean() > 0.5  # a new seed: the new part is another continuation
    assert (top[0, at_tok:] != top[1, at_tok:]).mean() > 0.5  # and each candidate its own
    for level, ratio in ((1, 4), (0, 16)):  # the lower levels kept up to the same time, unsampled after it
        codes = take.codes(level)
        assert (codes[:, :at_tok * ratio] == a.codes(level)[0, :at_tok * ratio]).all()
        assert (codes[:, at_tok * ratio:] == -1).all()
    assert sf.info(str(take.audio_path(2, 1))).frames == 128 * HOP


def test_regenerate_every_level_samples_the_lower_levels_after_the_point(songs, models, tmp_path):
    a = songs[0]
    take = regenerate_take(a, 0.3, tmp_path / "r", models, [0], count=1, levels="all", seed=6)
    at_tok = int(0.3 * 44100) // HOP
    assert take.plan.levels == [2, 1, 0]
    assert not run(take, models).error
    take = Take.load(take.path)
    assert take.record.levels_done == [2, 1, 0]
    for level, ratio in ((2, 1), (1, 4), (0, 16)):
        codes = take.codes(level)[0]
        assert codes.min() >= 0 and (codes[:at_tok * ratio] == a.codes(level)[0, :at_tok * ratio]).all()
        assert (codes[at_tok * ratio:] != a.codes(level)[0, at_tok * ratio:]).mean() > 0.5


def test_regenerate_cancelled_then_resumed_equals_uninterrupted(songs, models, tmp_path):
    a = songs[0]
    whole = regenerate_take(a, 0.1, tmp_path / "whole", models, [0], count=2, seed=7)
    assert not run(whole, models).error
    cut = regenerate_take(a, 0.1, tmp_path / "cut", models, [0], count=2, seed=7)
    assert run(cut, models, cancel_after(60)).cancelled
    partial = Take.load(cut.path).codes(2)
    assert 0 < (partial < 0).sum() < partial.size - 34 * 2
    assert not run(Take.load(cut.path), models).error
    assert (Take.load(cut.path).codes(2) == Take.load(whole.path).codes(2)).all()


@pytest.mark.parametrize("at,cands,count,message", [
    (0.0, [0], None, "after the start"), (-1.0, [0], None, "after the start"),
    (TINY_SECONDS, [0], None, "inside the take"), (0.001, [0], None, "inside the take"),
    (0.2, [1], None, "one of the take's 1 candidates"), (0.2, [0, 0], None, "one of the take's"),
    (0.2, [0], 0, "'candidates' must be")])
def test_regenerate_refuses_bad_input_before_making_a_folder(songs, models, tmp_path, at, cands, count, message):
    with pytest.raises(SpecError, match=message):
        regenerate_take(songs[0], at, tmp_path / "r", models, cands, count=count)
    assert not (tmp_path / "r").exists()


def spliced(first, at_tok, second, s_tok, level, ratio):
    return np.concatenate([first.codes(level)[0, :at_tok * ratio], second.codes(level)[0, s_tok * ratio:]])


def test_join_splices_the_top_level_and_resamples_the_lower_levels_across_the_seam(songs, models, tmp_path):
    a, b, _ = songs
    take = join_takes(a, 0, 0.2, b, 0, 0.1, tmp_path / "j", models, seam=SEAM)
    at_tok, s_tok = int(0.2 * 44100) // HOP, int(0.1 * 44100) // HOP  # 68, 34
    n_top = at_tok + 128 - s_tok
    assert take.spec.seconds == pytest.approx(n_top * HOP / 44100) and int(take.spec.seconds * 44100) == n_top * HOP
    rec = take.record
    assert take.plan.kind == "join" and take.plan.levels == [1, 0] and rec.parent == a.record.id
    assert rec.joined == {"id": b.record.id, "path": str(b.path), "candidate": 0,
                          "seconds": pytest.approx(s_tok * HOP / 44100)}
    assert rec.at_seconds == pytest.approx(at_tok * HOP / 44100) and rec.levels_done == [2]
    assert take.plan.range_seconds == pytest.approx([rec.at_seconds - SEAM[0], rec.at_seconds + SEAM[1]])
    assert sf.info(str(take.audio_path(2, 0))).frames == n_top * HOP  # the splice plays at once
    regions = {}
    for level, ratio in ((1, 4), (0, 16)):
        codes = take.codes(level)[0]
        hole = np.flatnonzero(codes < 0)
        assert hole[0] == at_tok * ratio and (np.diff(hole) == 1).all()  # one stretch from the seam on
        end_of_seam = -(-int((rec.at_seconds + SEAM[1]) * 44100) // models.hop_lengths[level])
        assert hole[-1] + 1 >= end_of_seam
        regions[level] = (hole[0], hole[-1] + 1)
    assert not run(take, models).error
    take = Take.load(take.path)
    assert (take.codes(2)[0] == spliced(a, at_tok, b, s_tok, 2, 1)).all()  # the two slices, exactly
    for level, ratio in ((1, 4), (0, 16)):
        codes, lo, hi = take.codes(level)[0], *regions[level]
        splice = spliced(a, at_tok, b, s_tok, level, ratio)
        assert codes.shape == (n_top * ratio,) and codes.min() >= 0  # the seam region fully sampled
        assert (codes[:lo] == splice[:lo]).all() and (codes[hi:] == splice[hi:]).all()
        assert (codes[lo:hi] != splice[lo:hi]).mean() > 0.5
    assert take.record.levels_done == [2, 1, 0]
    assert sf.info(str(take.audio_path(0, 0))).frames == n_top * HOP


def test_join_with_a_top_level_only_take_samples_its_lower_levels_throughout(songs, models, tmp_path):
    a, _, top_only = songs
    take = join_takes(a, 0, 0.2, top_only, 0, 0.0, tmp_path / "j", models, seam=SEAM)
    assert take.plan.range_seconds is None
    assert (take.codes(1) == -1).all() and (take.codes(0) == -1).all()
    assert not run(take, models).error
    take = Take.load(take.path)
    at_tok = int(0.2 * 44100) // HOP
    assert (take.codes(2)[0] == spliced(a, at_tok, top_only, 0, 2, 1)).all()
    assert take.codes(1).min() >= 0 and take.codes(0).min() >= 0 and take.record.levels_done == [2, 1, 0]


def test_join_cancelled_then_resumed_equals_uninterrupted(songs, models, tmp_path):
    a, b, _ = songs
    whole = join_takes(a, 0, 0.15, b, 0, 0.2, tmp_path / "whole", models, seam=SEAM)
    assert not run(whole, models).error
    cut = join_takes(a, 0, 0.15, b, 0, 0.2, tmp_path / "cut", models, seam=SEAM)
    assert run(cut, models, cancel_after(150)).cancelled
    assert (Take.load(cut.path).codes(0) < 0).any()
    assert not run(Take.load(cut.path), models).error
    for level in (2, 1, 0):
        assert (Take.load(cut.path).codes(level) == Take.load(whole.path).codes(level)).all()


def test_join_refuses_bad_input_before_making_a_folder(songs, models, tmp_path):
    a, b, _ = songs
    unfinished = new_take(SongSpec(seconds=TINY_SECONDS, candidates=1, levels="top", **SPEC), tmp_path / "u", models)
    assert run(unfinished, models, cancel_after(10)).cancelled
    cases = [((a, 0, 0.2, Take.load(unfinished.path), 0, 0.0), "second take \\(u\\) has no finished top level"),
             ((a, 0, 0.0, b, 0, 0.1), "the seam must be a time"),
             ((a, 0, 0.5, b, 0, 0.1), "the seam must lie inside the first take"),
             ((a, 0, 0.2, b, 0, TINY_SECONDS), "must lie inside it"),
             ((a, 0, 0.2, b, 3, 0.1), "second take \\(b\\) has candidates 1-1, not 4")]
    for args, message in cases:
        with pytest.raises(SpecError, match=message):
            join_takes(*args, tmp_path / "j", models)
        assert not (tmp_path / "j").exists()
    other = Take.load(b.path)
    other.record.model = "another-model"  # a take of another model, as its record says
    with pytest.raises(SpecError, match="is from 'another-model'"):
        join_takes(a, 0, 0.2, other, 0, 0.1, tmp_path / "j", models)
    assert not (tmp_path / "j").exists()


def test_a_tokens_time_reads_back_as_that_token_on_every_level():
    """``token_time`` and ``token_at`` are the one time <-> token rule: every token's start time reads back as the
    same token (float rounding never lands it on the token before), and on a lower level as the same instant."""
    from studio.engine.spec import token_at, token_time

    for sr, hops in ((44100, (8, 32, 128)), (22050, (4, 16, 64)), (44100, (5, 15, 135))):
        for tok in range(0, 5000, 7):
            t = token_time(tok, sr, hops[-1])
            assert token_at(t, sr, hops[-1]) == tok
            assert token_at(t, sr, hops[0]) == tok * hops[-1] // hops[0]
            assert token_at(t + 0.5 * hops[-1] / sr, sr, hops[-1]) == tok  # inside the token
            assert token_at(t + 0.5 * hops[-1] / sr, sr, hops[-1], round_up=True) == tok + 1  # the end of a range
