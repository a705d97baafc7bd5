"""The studio's torch-free readouts and the sampler apply the same rules, on the tiny reference model set: the song
length the timing signal sees, and the part of the lyrics each top-level window reads."""

import pytest

from studio.engine.cascade import song_lengths
from studio.engine.spec import SongSpec, SpecError
from studio.state.lyric_window import window_span_for
from studio.workers.model_info import describe

LYRICS = "I met a traveller from an antique land, who said: two vast and trunkless legs of stone\n" * 3


@pytest.fixture(scope="module")
def models():
    from tests.conftest import tiny_model_set_or_skip

    return tiny_model_set_or_skip()


@pytest.fixture(scope="module")
def info(models):
    return describe(models, "tiny")


@pytest.mark.parametrize("seconds, song_seconds", [(0.37, None), (0.37, 90.0), (0.743, 30.5), (2.0, 2.0)])
def test_editor_and_sampler_see_the_same_song_length(models, info, seconds, song_seconds):
    _, total = song_lengths(SongSpec(seconds, song_seconds=song_seconds), models)
    assert info.song_samples(seconds, song_seconds) == total
    min_samples = info.min_duration * info.sr
    assert total == max(int(max(seconds, song_seconds or 0) * info.sr), int(-(-min_samples // 1)))


def test_a_song_too_long_to_place_is_a_spec_error(models, info):
    with pytest.raises(SpecError, match="longer than this model can place"):
        song_lengths(SongSpec(1.0, song_seconds=info.max_duration + 1), models)


def test_editor_highlights_the_lyrics_the_sampler_reads(models, info):
    prior = models.prior(info.top)
    cfg = prior.cfg
    assert info.n_lyric_tokens < len(LYRICS)  # the windows see different parts of the text
    labels = prior.resolve_labels("Alan Jackson", "Country", LYRICS)
    assert labels.lyrics_clean == LYRICS  # every character readable: cleaned and typed positions coincide
    _, total = song_lengths(SongSpec(0.37, song_seconds=60.0), models)
    spans = []
    for start in (0, 1000, 4000, 9000, 20600):  # top tokens into the 60 s song (20671 in all)
        _, idx = prior.labeller.window_y(labels, total, 0, start, cfg.raw_to_tokens, cfg.n_ctx)
        span = window_span_for(LYRICS, info, 0.37, 60.0, start)
        assert span == (idx[0], idx[-1] + 1)
        spans.append(span)
    assert spans[0][0] == 0 and spans[-1][1] == len(LYRICS) and len(set(spans)) == len(spans)
