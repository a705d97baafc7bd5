"""A wide take exports as stereo (row 0 left, row 1 right), mastered as one signal; read back from the files."""

import numpy as np
import pytest
import soundfile as sf

from studio.audio.export import ExportError, read_recipe
from studio.audio.mastering import ExportOptions, integrated_loudness
from studio.state.export_job import channels_label, export_take
from tests.audio.conftest import make_take

STEREO = "Stereo (wide: two upsamplings)"


@pytest.fixture
def wide(tmp_path):
    """A finished wide take: row 0 a 440 Hz sine at 0.1, row 1 an 880 Hz sine at 0.2 (levels 2 and 0)."""
    return make_take(tmp_path / "0002-wide", kind="wide")


@pytest.mark.parametrize("fmt,rate,depth,subtype,lufs", [("wav", 48000, 24, "PCM_24", -14.0),
                                                         ("flac", 44100, 16, "PCM_16", -20.0)])
def test_a_wide_take_is_written_as_stereo_at_the_rate_depth_and_loudness_asked(wide, tmp_path, fmt, rate, depth,
                                                                               subtype, lufs):
    out = tmp_path / f"wide.{fmt}"
    options = ExportOptions(sample_rate=rate, bit_depth=depth, loudness=lufs, fade_in=0.1, fade_out=0.2)
    done = export_take(wide.path, 1, None, out, options=options)
    with sf.SoundFile(out) as f:
        assert (f.channels, f.samplerate, f.subtype, f.frames) == (2, rate, subtype, 2 * rate)
    data, sr = sf.read(out, dtype="float64")  # (T, 2)
    assert abs(integrated_loudness(data.T, sr) - lufs) < 0.5  # BS.1770 over both channels
    assert done.master.loudness == pytest.approx(lufs, abs=0.05)
    assert not np.allclose(data[:, 0], data[:, 1], atol=1e-3)
    assert (data[0] == 0.0).all() and np.abs(data[-1]).max() < 1e-6  # the fades, on both channels
    recipe = read_recipe(out)
    assert recipe["channels"] == STEREO and recipe["channel_streams"] == [0, 1] and recipe["candidate"] == 1
    assert recipe["level"] == 0


def test_each_channel_is_its_row_with_one_gain_for_both(wide, tmp_path):
    out = tmp_path / "wide.wav"
    done = export_take(wide.path, 0, 0, out, options=ExportOptions(bit_depth=32, loudness=-18.0))
    data, sr = sf.read(out, dtype="float64")
    left, _ = sf.read(wide.audio_path(0, 0), dtype="float64")
    right, _ = sf.read(wide.audio_path(0, 1), dtype="float64")
    gain = 10 ** (done.master.gain_db / 20)
    assert sr == 44100 and gain != pytest.approx(1.0, abs=0.1)
    np.testing.assert_allclose(data[:, 0], left * gain, atol=1e-6)
    np.testing.assert_allclose(data[:, 1], right * gain, atol=1e-6)
    both = np.stack([left, right])
    assert done.master.gain_db == pytest.approx(-18.0 - integrated_loudness(both, sr), abs=1e-6)


def test_other_takes_stay_mono_and_say_so(tmp_path):
    take = make_take(tmp_path / "0001-generate")
    out = tmp_path / "mono.flac"
    export_take(take.path, 1, None, out, options=ExportOptions(bit_depth=16, loudness=-14.0))
    assert sf.info(out).channels == 1
    recipe = read_recipe(out)
    assert recipe["channels"] == "Mono" == channels_label("upsample") and recipe["channel_streams"] == [1]
    assert channels_label("wide") == STEREO


def test_a_wide_take_missing_a_side_names_what_to_do(wide, tmp_path):
    wide.audio_path(0, 1).unlink()
    with pytest.raises(ExportError, match="no audio for both sides of this wide take at level 0 yet; finish"):
        export_take(wide.path, 0, 0, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()
