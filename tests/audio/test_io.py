"""load_audio / audio_info on real files: channel mixing, resampling, range reading and every error message."""

import numpy as np
import pytest
import soundfile as sf

from studio.audio import AudioInfo, AudioLoadError, audio_info, load_audio, readable_formats
from tests.audio.conftest import sine

TOL = 1e-3  # 24-bit FLAC quantisation plus resampling error stay far below this


def test_audio_info_describes_the_file(stereo_flac):
    info = audio_info(stereo_flac)
    assert info == AudioInfo(frames=96000, sr=48000, channels=2, seconds=2.0, format="FLAC", subtype="PCM_24")


def test_stereo_48k_flac_is_mixed_to_mono_and_resampled(stereo_flac):
    y = load_audio(stereo_flac, 44100)
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == 88200
    expected = sine(440, 44100, 2.0, amp=0.4)  # mean of 0.5 and 0.3 amplitude channels
    assert np.max(np.abs(y[200:-200] - expected[200:-200])) < TOL


def test_native_rate_returns_the_exact_channel_mean(stereo_flac):
    y = load_audio(stereo_flac, 48000)
    data, _ = sf.read(stereo_flac, dtype="float32")  # (T, 2)
    assert np.array_equal(y, data.mean(axis=1, dtype=np.float32))


def test_range_is_read_in_file_time_and_resampled_without_edge_artefacts(stereo_flac):
    y = load_audio(stereo_flac, 44100, start=0.5, end=1.25)
    assert len(y) == 33075  # 0.75 s at 44.1 kHz
    expected = sine(440, 44100, 0.75, amp=0.4, t0=0.5)
    # The range was read with filter context from either side, so even its first and last samples are right.
    assert np.max(np.abs(y - expected)) < TOL


def test_open_ended_ranges(stereo_flac):
    head = load_audio(stereo_flac, 48000, end=0.25)
    tail = load_audio(stereo_flac, 48000, start=1.75)
    whole = load_audio(stereo_flac, 48000)
    assert np.array_equal(head, whole[:12000])
    assert np.array_equal(tail, whole[84000:])


def test_three_channel_int16_wav_at_22050(tmp_path):
    path = tmp_path / "three.wav"
    chans = np.stack([sine(300, 22050, 1.0, a) for a in (0.6, 0.3, 0.0)], axis=1)  # (T, 3)
    sf.write(path, chans, 22050, subtype="PCM_16")
    y = load_audio(path, 44100)
    assert len(y) == 44100
    assert np.max(np.abs(y[400:-400] - sine(300, 44100, 1.0, 0.3)[400:-400])) < 2e-4 + 1 / 32768


def test_lossy_formats_keep_length_and_pitch(tmp_path):
    for fmt in ("OGG", "MP3"):
        if fmt not in sf.available_formats():
            continue
        path = tmp_path / f"clip.{fmt.lower()}"
        sf.write(path, sine(1000, 44100, 1.0, 0.5), 44100, format=fmt)
        y = load_audio(path, 22050)
        assert len(y) == 22050, fmt
        spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
        assert np.argmax(spectrum) * 22050 / len(y) == pytest.approx(1000, abs=2), fmt


def test_missing_file(tmp_path):
    with pytest.raises(AudioLoadError, match=r"Audio file not found: .*nothing\.wav.*Check the path"):
        load_audio(tmp_path / "nothing.wav", 44100)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(AudioLoadError, match="is a folder, not an audio file"):
        audio_info(tmp_path)


def test_corrupt_file_names_the_file_and_the_supported_formats(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x00\x00 this is not really audio " * 20)
    with pytest.raises(AudioLoadError) as err:
        load_audio(path, 44100)
    message = str(err.value)
    assert "'broken.wav'" in message
    assert ".)" not in message and "..." not in message  # libsndfile's full stop dropped inside the brackets
    assert "reads WAV, FLAC, OGG" in message
    assert "convert the file to WAV or FLAC" in message


def test_unsupported_container_says_what_to_do(tmp_path):
    path = tmp_path / "song.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(200))
    with pytest.raises(AudioLoadError, match=r"Could not read 'song\.m4a'.*not AAC/M4A.*convert"):
        audio_info(path)


def test_readable_formats_lists_common_ones_first():
    names = readable_formats()
    assert names[:3] == ["WAV", "FLAC", "OGG"]
    assert len(names) == len(set(names)) == len(sf.available_formats())


@pytest.mark.parametrize("start, end, expected", [
    (1.0, 1.0, r"range \[1\.000 s, 1\.000 s\) of 'take\.flac' is empty; choose an end after the start"),
    (1.5, 0.5, r"is empty; choose an end after the start"),
    (-0.5, 1.0, r"before the file begins; use a start >= 0"),
    (2.5, None, r"starts at 2\.500 s but 'take\.flac' is only 2\.000 s long"),
    (0.5, 3.0, r"ends at 3\.000 s but 'take\.flac' is only 2\.000 s long; choose an end of at most 2\.000 s"),
    (0.5, 0.5000001, r"shorter than one sample"),
])
def test_bad_ranges(stereo_flac, start, end, expected):
    with pytest.raises(AudioLoadError, match=expected):
        load_audio(stereo_flac, 44100, start=start, end=end)


def test_bad_target_rate(stereo_flac):
    with pytest.raises(ValueError, match="sr must be a positive whole number"):
        load_audio(stereo_flac, 0)


@pytest.mark.parametrize("fmt", [f for f in ("FLAC", "OGG", "MP3") if f in sf.available_formats()])
def test_range_equals_the_same_stretch_of_a_whole_load(tmp_path, fmt):
    # libsndfile 1.2's MP3 seek lands hundreds of samples off and its second read of a file is corrupt (bit
    # reservoir lost); load_audio must inherit neither.
    path = tmp_path / f"long.{fmt.lower()}"
    sf.write(path, sine(440, 44100, 3.0, 0.5), 44100, format=fmt)
    whole = load_audio(path, 44100)
    assert np.array_equal(load_audio(path, 44100, start=2.0, end=2.5), whole[88200:110250])



def test_file_without_samples(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), 44100)
    with pytest.raises(AudioLoadError, match="'empty.wav' contains no audio samples; choose another file"):
        load_audio(path, 44100)
