from pathlib import Path

import pytest

from studio.engine.labels import (Labeller, lyric_vocab, nearest_names, normalise_v2, readable, relevant_lyric_tokens,
                                  search_names, song_total_length, window_lyric_span)


@pytest.fixture
def v2(ids_env):
    return Labeller.from_dir(ids_env, "v2", 5, 512)


@pytest.fixture
def v3(ids_env):
    return Labeller.from_dir(ids_env, "v3", 1, 384)


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


def test_lyric_window_span_edges():
    # no longer than the window: all of it, the tokens left-padded
    assert window_lyric_span(3, 4, 100, 50, 10) == (0, 3)
    assert window_lyric_span(4, 4, 100, 90, 10) == (0, 4)
    assert relevant_lyric_tokens([7, 8, 9, 10], 4, 100, 90, 10) == ([7, 8, 9, 10], [0, 1, 2, 3])
    # centred on the window's middle, clamped to the lyrics at both ends, an odd window included
    assert window_lyric_span(20, 6, 100, 40, 10) == (6, 12)  # middle at 45% -> character 9
    assert window_lyric_span(20, 5, 100, 0, 10) == (0, 5)
    assert window_lyric_span(20, 5, 100, 90, 10) == (15, 20)
    assert relevant_lyric_tokens(list(range(100, 120)), 5, 100, 90, 10) == ([115, 116, 117, 118, 119],
                                                                           [15, 16, 17, 18, 19])


def test_lyric_window_span_is_the_samplers_window():
    full, sr = list(range(1, 1001)), 44100
    for offset_s in (0, 60, 120, 200, 239):
        _, idx = relevant_lyric_tokens(full, 384, 240 * sr, offset_s * sr, 786432)
        assert window_lyric_span(len(full), 384, 240 * sr, offset_s * sr, 786432) == (idx[0], idx[-1] + 1)


def test_typed_positions_follow_the_cleaning():
    v2 = lyric_vocab(False)
    text = "Ça—b\\{\u2603z"  # C-cedilla -> C, em dash -> two hyphens, backslash -> newline, { and snowman dropped
    assert v2.clean(text) == "Ca--b\nz"
    assert v2.typed_positions(text) == [0, 1, 2, 2, 3, 4, 7]
    assert v2.typed_positions("") == [] and v2.clean("") == ""


def test_song_total_length():
    assert song_total_length(10.0, None, 100, None) == 1000  # the song is what is generated
    assert song_total_length(10.0, 90.0, 100, None) == 9000  # the whole song
    assert song_total_length(10.0, 5.0, 100, None) == 1000  # never shorter than what is generated
    assert song_total_length(1.0, None, 100, 2.345) == 235  # at least the model's shortest song, rounded up
    assert song_total_length(0.743, 90.0, 44100, 17.84) == 90 * 44100


def test_unknown_names_suggest_the_nearest_known_ones(v2, v3):
    info = v3.resolve("Alan Jacksn", "Countyr")
    assert [(u.kind, u.name, u.suggestions[0]) for u in info.unknown] == [("artist", "Alan Jacksn", "alan jackson"),
                                                                        ("genre", "Countyr", "country")]
    assert info.warnings[0].startswith("Unknown artist 'Alan Jacksn': the model will use 'unknown'. Did you mean "
                                       "'alan jackson', ")
    assert nearest_names("Mozrat", v2.artist_names())[0] == "wolfgang_amadeus_mozart"
    assert nearest_names("", v2.artist_names()) == [] and nearest_names("Zzqxw", v2.artist_names()) == []
    assert v2.resolve("", "Rokc").unknown[0].suggestions[0] == "rock"
    assert v2.model == ""  # tables from $JUKEBOX_IDS_DIR: no model folder to name in the message


def test_bundled_model_tables_answer_the_readme_artist():
    """'Bach' is not a name the demo model knows; the message offers its Bachs and the command listing them."""
    ids = Path(__file__).resolve().parents[2] / "models" / "demo" / "ids"
    demo = Labeller.from_dir(ids, "v2", 1, 0)
    assert demo.model == "demo"
    bach = demo.resolve("Bach", "chorale")
    assert bach.artist_id == 0 and bach.unknown[0].suggestions[:2] == ("c_p_e_bach", "johann_sebastian_bach")
    assert bach.warnings == ["Unknown artist 'Bach': the model will use 'unknown'. Did you mean 'c p e bach', "
                             "'johann sebastian bach' or 'amy beach'? List them: studio models labels demo --artists "
                             "--search bach"]
    readable_name = readable(bach.unknown[0].suggestions[1])
    assert readable_name == "johann sebastian bach" and demo.resolve(readable_name, "chorale").warnings == []
    assert search_names("BACH", demo.artist_names()) == ["c_p_e_bach", "johann_sebastian_bach"]
