"""Exporting a take for a DAW, read back from the files: rate, bit depth, loudness, tags, the 1-based candidate in the
recipe, the .lrc timed from the alignment; the per-project export settings; a dropped export's recipe."""

import json
import re

import numpy as np
import pytest
import soundfile as sf

from studio.audio.export import ExportError, read_recipe
from studio.audio.mastering import ExportOptions, integrated_loudness
from studio.state.export_job import DRAG_FOLDER, RECIPE_VERSION, export_take, recipe_candidate, render_for_drag
from studio.state.export_settings import (SETTINGS_FILE, ExportSettings, load_export_settings, save_export_settings,
                                          with_folder)
from studio.state.recipe_drop import read_dropped
from tests.audio.conftest import LYRICS, make_take

DAW = ExportOptions(sample_rate=48000, bit_depth=24, loudness=-14.0, fade_in=0.1, fade_out=0.2)


def test_export_for_a_daw_reads_back_rate_depth_loudness_tags_and_lyrics(tmp_path):
    take = make_take(tmp_path / "0001-generate")
    out = tmp_path / "song.wav"
    done = export_take(take.path, 1, None, out, options=DAW, lyrics=True)
    assert done.path == out and done.master.note == "" and done.lrc_note == ""
    assert done.master.loudness == pytest.approx(-14.0, abs=0.05)
    data, sr = sf.read(out, dtype="float64")
    with sf.SoundFile(out) as f:
        assert (f.samplerate, f.subtype, f.channels, f.frames) == (48000, "PCM_24", 1, 96000)
        assert f.artist == "Alan Jackson" and f.genre == "Country" and "seed 11" in f.title
    assert abs(integrated_loudness(data, sr) + 14.0) < 0.5
    assert data[0] == 0.0 and abs(data[-1]) < 1e-6  # the fades
    recipe = read_recipe(out)
    assert recipe["recipe_version"] == RECIPE_VERSION == 2
    assert recipe["candidate"] == 2 and recipe_candidate(recipe) == 1 and recipe["seed_stream"] == 1
    assert recipe["export"] == {"sample_rate": 48000, "bit_depth": 24, "loudness": -14.0, "fade_in": 0.1,
                                "fade_out": 0.2}
    lrc = done.lrc.read_text(encoding="utf-8").splitlines()
    assert done.lrc == tmp_path / "song.lrc"
    assert lrc[:4] == ["[ti:song]", "[ar:Alan Jackson]", "[length:00:02.00]", "[re:Jukebox Studio]"]
    tokens = round(2.0 * 44100 / 128)
    starts = [0, LYRICS.index("sing"), LYRICS.index("and")]
    seconds = [-(-i * tokens // len(LYRICS)) * 128 / 44100 for i in starts]
    assert lrc[4:] == [f"[00:{s:05.2f}]{text}" for s, text in
                       zip(seconds, ["Ride the long road home", "sing it loud tonight", "and the last line"])]


def test_candidate_numbers_of_old_and_new_recipes_are_read_unambiguously():
    assert recipe_candidate({"candidate": 1}) == 1  # before the version field: counted from 0
    assert recipe_candidate({"recipe_version": 2, "candidate": 1}) == 0
    assert recipe_candidate({"recipe_version": 2, "candidate": 0}) is None
    assert recipe_candidate({"candidate": "2"}) is None and recipe_candidate({}) is None


def test_an_upsampled_take_takes_its_lyrics_from_the_take_it_upsampled(tmp_path):
    parent = make_take(tmp_path / "0001-generate")
    up = make_take(tmp_path / "0002-upsample", candidates=1, kind="upsample", parent=parent)
    done = export_take(up.path, 0, None, tmp_path / "up.flac", lyrics=True)
    assert done.lrc is not None and done.lrc.read_text().splitlines()[4] == "[00:00.00]Ride the long road home"
    assert read_recipe(done.path)["candidate"] == 1
    bare = make_take(tmp_path / "0003-generate", alignment=False)
    done = export_take(bare.path, 0, None, tmp_path / "bare.wav", lyrics=True)
    assert done.lrc is None and not (tmp_path / "bare.lrc").exists()
    assert done.note.endswith("No .lrc was written: this take has no lyric alignment (its model sings no lyrics, or "
                              "the top level is unfinished).")


def test_unchanged_export_keeps_the_takes_samples(tmp_path):
    take = make_take(tmp_path / "0001-generate")
    done = export_take(take.path, 0, 2, tmp_path / "raw.flac")
    data, sr = sf.read(done.path, dtype="float32")
    ref, _ = sf.read(take.audio_path(2, 0), dtype="float32")
    assert sr == 44100 and sf.info(done.path).subtype == "PCM_16"
    np.testing.assert_allclose(data, ref, atol=2 / 32768)
    assert done.master.loudness is None and done.lrc is None


def test_drag_render_lands_in_the_projects_cache(tmp_path):
    take = make_take(tmp_path / "takes" / "0001-generate")
    done = render_for_drag(take.path, 1, tmp_path, ExportOptions(sample_rate=48000))
    assert done.path == tmp_path / DRAG_FOLDER / "0001-generate-c2.wav"
    assert sf.info(done.path).samplerate == 48000 and read_recipe(done.path)["candidate"] == 2
    with pytest.raises(ExportError, match="has no audio for candidate 3 at any level"):
        render_for_drag(take.path, 2, tmp_path)


def test_export_settings_are_remembered_per_project(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    assert load_export_settings(project) == ExportSettings()
    assert ExportSettings().folder_in(project) == project / "exports"
    chosen = with_folder(ExportSettings(fmt="flac", lyrics=False, options=DAW), tmp_path / "bounces", project)
    assert save_export_settings(project, chosen) is None
    saved = json.loads((project / SETTINGS_FILE).read_text())
    assert saved["folder"] == str(tmp_path / "bounces") and saved["options"]["sample_rate"] == 48000
    assert load_export_settings(project) == chosen
    assert with_folder(chosen, project / "exports", project).folder == ""  # the default stays relative
    (project / SETTINGS_FILE).write_text('{"options": {"bit_depth": 20}}')
    assert load_export_settings(project) == ExportSettings()  # a bad file falls back to the defaults
    assert re.match(r"The export choices could not be saved in '.*export\.json': ",
                    save_export_settings(tmp_path / "missing", chosen))


def test_a_dropped_export_offers_its_settings_or_a_primed_continuation(tmp_path):
    take = make_take(tmp_path / "0001-generate")
    done = export_take(take.path, 1, None, tmp_path / "song.wav", options=DAW)
    dropped = read_dropped(done.path)
    assert dropped.describe() == (f"song.wav was made by Jukebox Studio: Alan Jackson, Country, seed 11, candidate 2 "
                                  f"of take {take.record.id}.")
    assert dropped.settings_spec() == take.record.spec
    primed = dropped.primed_spec()
    assert primed["prime"] == {"file": str(done.path), "start": 0.0, "end": None} and primed["seconds"] == 4.0
    assert primed["lyrics"] == LYRICS and primed["seed"] == 11
    plain = tmp_path / "plain.wav"
    sf.write(plain, np.zeros(4410, dtype=np.float32), 44100)
    assert read_dropped(plain) is None and read_dropped(tmp_path / "nothing.wav") is None
