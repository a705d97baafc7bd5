"""export_audio writes every available format atomically, with the recipe in its tags and in a sidecar."""

import json

import numpy as np
import pytest
import soundfile as sf

from studio.audio import (
    AudioLoadError, ExportError, available_formats, export_audio, load_audio, read_recipe, sidecar_path,
)
from tests.audio.conftest import sine

SR = 44100
RECIPE = {
    "model": "demo",
    "artist": "Björk",
    "genre": "Art pop",
    "lyrics": "Ünïcode lyrics, line after line\n" * 120,  # about 4 KB: more than WAV tags can hold
    "temperatures": [0.98, 0.99, 0.99],
    "seed": 7,
    "parents": ["take-0001", "take-0002"],
}


@pytest.fixture
def stereo():
    return np.stack([sine(440, SR, 0.5, 0.5), sine(660, SR, 0.5, 0.25)])  # (2, T)


def test_wav_and_flac_are_always_available():
    formats = available_formats()
    assert formats[:2] == ["wav", "flac"]
    assert set(formats) <= {"wav", "flac", "ogg", "mp3"}
    assert ("mp3" in formats) == ("MP3" in sf.available_formats())  # this libsndfile encodes what it lists


@pytest.mark.parametrize("fmt", available_formats())
def test_every_format_round_trips_audio_tags_and_recipe(tmp_path, stereo, fmt):
    path = tmp_path / f"song.{fmt}"
    result = export_audio(path, stereo, SR, recipe=RECIPE)
    assert result.path == path and result.format == fmt and result.clipped == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"song.{fmt}", f"song.{fmt}.json"]  # no temp files left

    with sf.SoundFile(path) as f:
        assert (f.samplerate, f.channels, f.frames) == (SR, 2, stereo.shape[1])
        assert f.title.startswith("Jukebox Studio take (") and "seed 7" in f.title
        assert f.genre == "Art pop"
        raw_comment = f.comment
        comment = json.loads(raw_comment)
        data = f.read(dtype="float32").T  # (2, T)
    if fmt in ("wav", "flac"):
        assert np.max(np.abs(data - stereo)) <= 1 / 32768 + 1e-7
    else:  # lossy: the tones survive, not the samples
        assert np.sqrt(np.mean(data[0] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)

    if fmt == "wav":
        assert result.metadata == "shortened" and "at most 2000 characters" in result.note
        assert 1000 < len(raw_comment) <= 2000
        assert comment["seed"] == 7 and comment["lyrics"].endswith("...") and "song.wav.json" in comment["_truncated"]
    else:
        assert result.metadata == "full" and result.note == ""
        assert comment == RECIPE

    sidecar = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    assert sidecar["recipe"] == RECIPE
    assert sidecar["audio"] == {"file": f"song.{fmt}", "format": fmt, "sr": SR, "channels": 2, "seconds": 0.5}
    assert read_recipe(path) == RECIPE


def test_recipe_is_read_from_the_tags_when_the_sidecar_is_gone(tmp_path, stereo):
    export_audio(tmp_path / "a.flac", stereo, SR, recipe=RECIPE)
    sidecar_path(tmp_path / "a.flac").unlink()
    assert read_recipe(tmp_path / "a.flac") == RECIPE


def test_damaged_sidecar_falls_back_to_the_tags(tmp_path, stereo):
    export_audio(tmp_path / "a.flac", stereo, SR, recipe=RECIPE)
    sidecar_path(tmp_path / "a.flac").write_text("{ not json", encoding="utf-8")
    assert read_recipe(tmp_path / "a.flac") == RECIPE


def test_damaged_sidecar_and_no_tags_is_an_error(tmp_path, stereo):
    sf.write(tmp_path / "plain.wav", stereo.T, SR)
    sidecar_path(tmp_path / "plain.wav").write_text("[1, 2", encoding="utf-8")
    with pytest.raises(AudioLoadError, match="sidecar 'plain.wav.json' is damaged .* holds no recipe"):
        read_recipe(tmp_path / "plain.wav")


def test_without_recipe_no_sidecar_and_a_stale_one_is_removed(tmp_path, stereo):
    path = tmp_path / "take.wav"
    export_audio(path, stereo, SR, recipe={"seed": 1})
    result = export_audio(path, stereo[0], SR)
    assert result.sidecar is None and result.metadata == "none"
    assert not sidecar_path(path).exists()
    assert read_recipe(path) is None
    assert sf.info(path).channels == 1


def test_values_are_clamped_and_counted(tmp_path):
    audio = np.array([0.0, 1.5, -2.0, np.nan, 0.25] * 100, dtype=np.float32)
    result = export_audio(tmp_path / "loud.flac", audio, SR)
    assert result.clipped == 300
    back = load_audio(tmp_path / "loud.flac", SR)
    assert back[:5] == pytest.approx([0.0, 32767 / 32768, -1.0, 0.0, 0.25], abs=1e-6)


def test_fmt_overrides_the_extension(tmp_path, stereo):
    result = export_audio(tmp_path / "take.audio", stereo, SR, fmt="FLAC")
    assert result.format == "flac" and sf.info(result.path).format == "FLAC"


def test_failed_export_leaves_the_existing_file_untouched(tmp_path, stereo):
    path = tmp_path / "keep.wav"
    path.write_bytes(b"precious")
    with pytest.raises(ExportError, match=r"Could not write FLAC .* at 700000 Hz with 1 channel\(s\) \(.*sample rate"):
        export_audio(path, stereo[:1], 700000, fmt="flac")  # libsndfile's FLAC encoder refuses 700 kHz
    assert path.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]


def test_unknown_extension_lists_the_choices(tmp_path, stereo):
    with pytest.raises(ExportError, match=r"Cannot tell the export format from 'x\.xyz'; end the name with one of "
                                          r"\.wav, \.flac"):
        export_audio(tmp_path / "x.xyz", stereo, SR)
    with pytest.raises(ExportError, match="Unknown export format 'aac'; choose one of wav, flac"):
        export_audio(tmp_path / "x.wav", stereo, SR, fmt="aac")


def test_missing_folder(tmp_path, stereo):
    with pytest.raises(ExportError, match="does not exist; choose an existing folder"):
        export_audio(tmp_path / "no" / "such" / "x.wav", stereo, SR)


def test_time_major_audio_is_caught(tmp_path, stereo):
    with pytest.raises(ValueError, match=r"got \(22050, 2\); for \(T, channels\) arrays pass audio\.T"):
        export_audio(tmp_path / "x.wav", stereo.T, SR)


def test_recipe_must_be_json(tmp_path, stereo):
    with pytest.raises(ValueError, match="recipe cannot be saved: .*object.*keep only str, number"):
        export_audio(tmp_path / "x.wav", stereo, SR, recipe={"bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_numpy_values_in_the_recipe_are_stored_as_plain_json(tmp_path, stereo):
    recipe = {"seed": np.int64(3), "temps": np.array([0.5, 0.25])}
    export_audio(tmp_path / "x.flac", stereo, SR, recipe=recipe)
    assert read_recipe(tmp_path / "x.flac") == {"seed": 3, "temps": [0.5, 0.25]}


@pytest.mark.skipif("ogg" not in available_formats(), reason="this libsndfile cannot write Ogg Vorbis")
def test_ogg_rate_guard_keeps_libvorbis_from_crashing(tmp_path, stereo):
    with pytest.raises(ExportError, match="cannot store 384000 Hz audio \\(at most 192000 Hz\\); export as WAV"):
        export_audio(tmp_path / "x.ogg", stereo, 384000)
