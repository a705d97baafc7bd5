"""The --tiny build, end to end: files, durations, labels, lyrics, licences, determinism, the reader."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from studio.data.build import TINY_SECONDS
from studio.data.errors import DataBuildError
from studio.data.synth import TAIL_S


def _items(out):
    return [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]


def test_tiny_set_files_and_durations(tiny_set):
    import soundfile as sf

    result, calls = tiny_set
    out = result.out
    for name in ("items.jsonl", "artists.txt", "genres.txt", "README.md", "LICENSES.md", "build.json"):
        assert (out / name).is_file(), name
    items = _items(out)
    assert len(items) == 8 and result.skipped == []
    assert sorted(p.name for p in (out / "audio").iterdir()) == sorted(i["path"].split("/")[1] for i in items)
    for item in items:
        info = sf.info(str(out / item["path"]))
        assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
        assert info.frames == pytest.approx(item["seconds"] * 22050, abs=1)
        assert 2.0 < item["seconds"] <= TINY_SECONDS + TAIL_S + 1e-6
    assert {i["split"] for i in items} == {"train", "heldout"}
    assert len(calls) == 8 and calls[-1][0] == pytest.approx(result.hours * 3600, abs=0.01)


def test_labels_and_id_tables(tiny_set):
    out = tiny_set[0].out
    items = _items(out)
    artists = [line.split(";") for line in (out / "artists.txt").read_text().splitlines()]
    genres = [line.split(";") for line in (out / "genres.txt").read_text().splitlines()]
    assert artists[0] == ["unknown", "0"] and genres[0] == ["unknown", "0"]
    artist_ids, genre_ids = {n: int(i) for n, i in artists}, {n: int(i) for n, i in genres}
    assert sorted(artist_ids.values()) == list(range(len(artists)))
    for item in items:
        assert artist_ids[item["artist"]] == item["artist_id"] > 0
        assert genre_ids[item["genre"]] == item["genre_id"] > 0
    by_collection = {i["collection"]: i for i in items}
    assert by_collection["bach"]["artist"] == "Johann Sebastian Bach"
    assert by_collection["bach"]["genre"] == "chorale"
    assert by_collection["oneills1850"]["artist"] == "Trad. Irish (O'Neill)"
    assert by_collection["josquin"]["genre"] == "chanson"
    assert len(artist_ids) - 1 >= 6 and len(genre_ids) - 1 >= 4


def test_lyric_timing_lies_inside_the_clip(tiny_set):
    items = _items(tiny_set[0].out)
    sung = [i for i in items if i["lyric_timing"]]
    assert len(sung) >= 2  # the two chorales at least
    for item in sung:
        starts = [t0 for t0, _, _ in item["lyric_timing"]]
        assert starts == sorted(starts)
        for t0, t1, word in item["lyric_timing"]:
            assert 0.0 <= t0 < t1 <= item["seconds"] and word
        assert item["lyrics"] == " ".join(w for _, _, w in item["lyric_timing"])
        assert item["language"] in ("de", "fr", "it", "en")
    for item in items:
        if item["collection"] in ("oneills1850", "airdsAirs", "ryansMammoth", "miscFolk"):
            assert item["lyric_timing"] == [] and item["lyrics"] == ""


def test_licences_and_no_restricted_source(tiny_set):
    from studio.data.catalog import restricted_sources

    out = tiny_set[0].out
    restricted = restricted_sources()
    for item in _items(out):
        path = item["source"].removeprefix("music21 corpus: ").split("#")[0]
        assert not path.startswith(("palestrina/", "essenFolksong/"))
        assert path not in restricted
        assert "MIT" in item["licence"] and item["attribution"]
    licences = (out / "LICENSES.md").read_text()
    assert "palestrina/*" in licences and "bach/bwv277.krn" in licences
    assert "GPL-2.0-or-later" in licences  # the Josquin encodings


def test_same_seed_same_bytes_other_seed_other_items(tiny_set, tmp_path):
    from studio.data import build_dataset

    first = _items(tiny_set[0].out)
    again = build_dataset(tmp_path / "again", seed=0, tiny=True, workers=2)
    assert _items(again.out) == first  # same works, labels, timings and audio sha1
    for item in first:
        assert (tiny_set[0].out / item["path"]).read_bytes() == (again.out / item["path"]).read_bytes()
    other = build_dataset(tmp_path / "other", seed=1, tiny=True, vocals=False, sr=16000)
    assert [i["source"] for i in other.items] != [i["source"] for i in first]
    assert {i["sr"] for i in other.items} == {16000}
    assert all(i["lyric_timing"] == [] for i in other.items)


def test_vocals_are_in_the_mix(tiny_set):
    from studio.data.reader import Dataset
    from studio.data.singer import estimate_f0

    ds = Dataset(tiny_set[0].out)
    audio, sr, item = next((a, s, i) for a, s, i in ds if i["collection"] == "bach" and i["lyric_timing"])
    t0, t1, _ = max(item["lyric_timing"], key=lambda w: w[1] - w[0])
    assert estimate_f0(audio[int(t0 * sr):int(t1 * sr)], sr) > 0


def test_reader_crops(tiny_set):
    from studio.data.reader import Dataset

    ds = Dataset(tiny_set[0].out, split="train")
    assert 0 < len(ds) < 8
    seen = list(ds.crops(2.0, seed=3, count=12))
    assert seen == [] or all(a.shape == (44100,) and a.dtype == np.float32 and sr == 22050 for a, sr, _ in seen)
    for _, _, item in seen:
        assert 0.0 <= item["offset"] <= item["seconds"]
        for t0, t1, _ in item["lyric_timing"]:
            assert 0.0 <= t0 < t1 <= 2.0 + 1e-9
    again = [(i["id"], i["offset"]) for _, _, i in ds.crops(2.0, seed=3, count=12)]
    assert again == [(i["id"], i["offset"]) for _, _, i in seen]
    assert any(np.abs(a).max() > 0.05 for a, _, _ in seen)


def test_bad_input_gets_one_clear_message(tiny_set, tmp_path, capsys):
    from studio.cli import main
    from studio.data import Dataset, build_dataset

    with pytest.raises(DataBuildError, match="not empty.*Fix"):
        build_dataset(tiny_set[0].out, tiny=True)
    with pytest.raises(DataBuildError, match="sample rate 1000 Hz.*Fix"):
        build_dataset(tmp_path / "x", tiny=True, sr=1000)
    with pytest.raises(DataBuildError, match="no items.jsonl.*Fix"):
        Dataset(tmp_path)
    assert main(["data", "build", str(tiny_set[0].out), "--tiny"]) == 1
    assert "is not empty" in capsys.readouterr().err
    assert main(["data", "info", str(tiny_set[0].out)]) == 0
    assert "8 items" in capsys.readouterr().out


RENDER_IN_A_FRESH_PROCESS = """
import ctypes, hashlib, sys
from studio.data.notes import NoteEvent
from studio.data.synth import Renderer, find_soundfont
libc = ctypes.CDLL(None)
for _ in range(int(sys.argv[1])):  # what another library in the process might have done before the first render
    libc.rand()
audio = Renderer(find_soundfont(), 22050).render([NoteEvent(0.0, 1.0, 60, 90, 0, 0), NoteEvent(0.5, 1.5, 67, 90, 1, 40)], 3.0)
print("RESULT", hashlib.sha1(audio.tobytes()).hexdigest(), float(abs(audio).max()))
"""


def test_render_bytes_do_not_depend_on_the_process_random_state(builder_tools):
    """FluidSynth's 16-bit output adds dither drawn from libc rand(); the renderer must not depend on it."""
    # FluidSynth may print its own warnings to stdout (on CI: no audio driver), so read only the marked line
    outs = [subprocess.run([sys.executable, "-c", RENDER_IN_A_FRESH_PROCESS, str(n)], capture_output=True, text=True,
                           check=True).stdout for n in (0, 0, 1, 1000)]
    runs = [next(line.split()[1:] for line in out.splitlines() if line.startswith("RESULT ")) for out in outs]
    assert float(runs[0][1]) > 0.01  # it made sound
    assert {r[0] for r in runs} == {runs[0][0]}
