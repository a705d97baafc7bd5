"""Export preparation for a DAW: rate changes through the band-limited resampler, fades, BS.1770 loudness
normalisation with a peak ceiling, and the bit depth the file is written with, read back from the files."""

import numpy as np
import pytest
import soundfile as sf

from studio.audio.export import ExportError, export_audio
from studio.audio.mastering import PEAK_CEILING, ExportOptions, integrated_loudness, master
from studio.audio.resample import resample
from tests.audio.conftest import sine

SR = 44100


def _tone_peak_hz(x: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * sr / len(x))


def test_resampling_to_48k_keeps_the_tone_and_the_length():
    x = sine(1000, SR, 1.0, 0.5)
    out, report = master(x, SR, ExportOptions(sample_rate=48000, loudness=None))
    assert report.sr == 48000 and out.shape == (48000,) and out.dtype == np.float32
    assert _tone_peak_hz(out, 48000) == pytest.approx(1000, abs=1.0)
    # the resampled sine matches the analytic one away from the edges
    np.testing.assert_allclose(out[2000:-2000], sine(1000, 48000, 1.0, 0.5)[2000:-2000], atol=2e-3)


@pytest.mark.parametrize("target", [-14.0, -20.0])
def test_loudness_reaches_the_target_and_survives_a_24_bit_file(tmp_path, target):
    stereo = np.stack([sine(220, SR, 5.0, 0.05), sine(330, SR, 5.0, 0.04)])  # (2, T), quiet: about -28 LUFS
    before = integrated_loudness(stereo, SR)
    assert -29 < before < -27
    out, report = master(stereo, SR, ExportOptions(sample_rate=48000, bit_depth=24, loudness=target))
    assert report.note == "" and report.loudness == pytest.approx(target, abs=0.05)
    assert report.gain_db == pytest.approx(target - integrated_loudness(resample(stereo, SR, 48000), 48000), abs=0.05)
    path = tmp_path / "loud.wav"
    export_audio(path, out, report.sr, bit_depth=24)
    data, sr = sf.read(path, dtype="float64")
    assert sr == 48000 and sf.info(path).subtype == "PCM_24" and data.shape == (240000, 2)
    assert abs(integrated_loudness(data.T, sr) - target) < 0.5


def test_a_target_that_would_clip_stops_at_the_peak_ceiling():
    x = sine(440, SR, 3.0, 0.02)
    x[SR] = 0.9  # one spike: the level is low, the peak high
    out, report = master(x, SR, ExportOptions(loudness=-14.0))
    assert np.max(np.abs(out)) == pytest.approx(PEAK_CEILING, rel=1e-4)
    assert report.loudness < -20 and report.loudness == pytest.approx(integrated_loudness(out, SR), abs=0.05)
    assert report.note.startswith(f"Loudness reached {report.loudness:.1f} LUFS, not -14: louder would clip")


def test_too_short_to_measure_is_left_as_it_is_with_a_note():
    x = sine(440, SR, 0.3, 0.2)
    out, report = master(x, SR, ExportOptions(loudness=-14.0))
    np.testing.assert_array_equal(out, x)
    assert report.loudness is None and report.gain_db == 0.0
    assert report.note == ("Loudness was left as it is: the audio is 0.30 s long (it needs 0.4 s), so it has no "
                           "measurable loudness.")


def test_fades_shape_the_start_and_the_end():
    x = np.ones(SR, dtype=np.float32) * 0.5
    out, _ = master(x, SR, ExportOptions(loudness=None, fade_in=0.5, fade_out=0.25))
    assert out[0] == 0.0 and out[-1] == 0.0
    assert out[SR // 4] == pytest.approx(0.25, abs=1e-4)  # half way into the fade in
    assert out[SR // 2] == pytest.approx(0.5) and out[SR - SR // 4 - 1] == pytest.approx(0.5, abs=1e-4)
    assert out[SR - SR // 8] == pytest.approx(0.25, abs=1e-3)  # half way out


def test_options_refuse_what_no_file_can_hold():
    with pytest.raises(ValueError, match="bit_depth must be one of"):
        ExportOptions(bit_depth=20)
    with pytest.raises(ValueError, match="loudness must be between"):
        ExportOptions(loudness=3.0)
    with pytest.raises(ValueError, match="sample_rate must be a positive whole number"):
        ExportOptions(sample_rate=0)


@pytest.mark.parametrize("fmt,depth,subtype", [("wav", 16, "PCM_16"), ("wav", 24, "PCM_24"), ("wav", 32, "FLOAT"),
                                               ("flac", 24, "PCM_24")])
def test_bit_depth_is_the_files_own(tmp_path, fmt, depth, subtype):
    path = tmp_path / f"a.{fmt}"
    x = sine(440, SR, 0.2, 0.5)
    export_audio(path, x, SR, bit_depth=depth)
    assert sf.info(path).subtype == subtype
    assert np.max(np.abs(sf.read(path, dtype="float32")[0] - x)) <= 1 / 2 ** (depth - 1) + 1e-7


def test_flac_refuses_float_with_the_fix(tmp_path):
    with pytest.raises(ExportError, match=r"FLAC \(lossless\) cannot store 32-bit audio; choose 16 or 24 bits, or "
                                          r"WAV for 32-bit float\."):
        export_audio(tmp_path / "a.flac", sine(440, SR, 0.2), SR, bit_depth=32)
    assert list(tmp_path.iterdir()) == []
