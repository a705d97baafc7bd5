import pytest

from studio.engine.labels import Labeller, lyric_vocab, normalise_v2, relevant_lyric_tokens


@pytest.fixture
def v2(ids_env):
    return Labeller.from_dir(ids_env, "v2", 5, 512, 1048576)


@pytest.fixture
def v3(ids_env):
    return Labeller.from_dir(ids_env, "v3", 1, 384, 786432)


def test_v2_genre_bag_of_words(v2):
    assert v2.resolve("", "Blues Rock").genre_ids == [2, 8]
    assert v2.resolve("", "R&B").genre_ids == [17, 18]


def test_v2_artist_normalised_without_transliteration(v2):
    assert normalise_v2("Céline Dion") == "c_line_dion"
    assert v2.resolve("Céline Dion", "pop").artist_id == v2.artists["c_line_dion"] != 0


def test_v3_exact_lowercase(v3):
    info = v3.resolve("Alan Jackson", "Country")
    assert info.artist_id == 6785 and info.genre_ids == [507]
    assert v3.resolve("", "Blues Rock").genre_ids == [282]
    assert v3.artists["speaker"] == 7896


def test_unknown_names_are_reported_not_swallowed(v2, v3):
    info = v2.resolve("Definitely Not A Band", "Zzzcore")
    assert info.artist_id == 0 and info.genre_ids == [0]
    assert any("Unknown artist" in w for w in info.warnings)
    assert any("Unknown genre" in w for w in info.warnings)
    assert v3.resolve("Alan Jackson", "Country").warnings == []


def test_lyric_cleaning_both_vocabularies():
    text = "Café — “quoted” naïve\\line2 +plus+ {x} <y> 5%"
    assert lyric_vocab(False).clean(text) == 'Cafe -- "quoted" naive\nline2 +plus+ x y 5'
    assert lyric_vocab(True).clean(text) == 'Cafe -- "quoted" naive\nline2 plus x y 5'
    v2 = lyric_vocab(False)
    assert v2.n_vocab == 80 and lyric_vocab(True).n_vocab == 79
    assert v2.tokenise("Az0 \n") == [1, 52, 53, 77, 79]
    assert lyric_vocab(True).tokenise("'\n") == [70, 78]
    assert [c for _, c in v2.outside("a{b}%é")] == ["{", "}", "%"]  # é transliterates to e


def test_lyric_window_examples():
    full = list(range(1, 1001))
    sr = 44100
    for offset_s, first in [(0, 0), (60, 95), (120, 345), (200, 616)]:
        toks, idx = relevant_lyric_tokens(full, 384, 240 * sr, offset_s * sr, 786432)
        assert idx[0] == first and idx[-1] == first + 383 and len(toks) == 384
    toks, idx = relevant_lyric_tokens([5, 6], 4, 100, 0, 10)
    assert toks == [0, 0, 5, 6] and idx == [-1, -1, 0, 1]
