"""The Player on a real PortAudio stream (an ALSA null device is enough), its callback sample by sample, and the
UNAVAILABLE path with every way of failing simulated."""

import os
import subprocess
import sys
import textwrap
import time
import types

import numpy as np
import pytest

import studio.audio.player as player_mod
from studio.audio import Player, PlayerState
from tests.audio.conftest import sine
from tests.conftest import REPO


def wait_for(condition, timeout=5.0):
    """Poll condition() every 2 ms like a GUI timer would; True once it holds, False after timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.002)
    return False


@pytest.fixture
def player():
    p = Player()
    if p.state is PlayerState.UNAVAILABLE:
        pytest.skip(f"no output stream opens on this machine: {p.unavailable_reason} "
                    f"(CI writes ~/.asoundrc with an ALSA null device so one does)")
    yield p
    p.close()


# ---------------------------------------------------------------- real stream
def test_plays_to_the_end_and_stops_there(player):
    player.load(sine(440, 22050, 0.3), 22050)
    assert player.state is PlayerState.STOPPED and player.position == 0.0
    assert player.duration == pytest.approx(0.3, abs=1 / player.samplerate)
    player.play()
    assert player.state in (PlayerState.PLAYING, PlayerState.STOPPED)  # a null device may already be done
    assert wait_for(lambda: player.state is PlayerState.STOPPED)
    assert player.position == pytest.approx(player.duration)
    player.play()  # from the end, play starts over
    assert wait_for(lambda: player.state is PlayerState.STOPPED)
    assert player.position == pytest.approx(player.duration)


def test_reading_the_state_changes_nothing(player):
    player.load(sine(440, 22050, 0.2), 22050)
    player.play()
    assert wait_for(lambda: player._ended)  # the callback reached the end and stopped the stream
    before = dict(vars(player))
    assert [player.state, player.state] == [PlayerState.STOPPED, PlayerState.STOPPED]
    assert player.position == pytest.approx(0.2, abs=1 / player.samplerate)
    assert vars(player) == before
    player.play()  # the end read as STOPPED: play starts over
    assert player.state is PlayerState.PLAYING or player._ended
    assert wait_for(lambda: player.state is PlayerState.STOPPED)


def test_loop_wraps_pause_holds_stop_rewinds(player):
    player.load(sine(440, 44100, 2.0), 44100)
    player.seek(1.5)
    player.set_loop(0.5, 0.55)  # position past the loop: jumps to its start
    assert player.position == pytest.approx(0.5, abs=1e-4) and player.loop == (0.5, 0.55)
    player.play()
    seen = []
    wait_for(lambda: seen.append(player.position) or len(seen) > 150, timeout=2.0)
    assert player.state is PlayerState.PLAYING  # a 2 s buffer without the loop would be over by now on a null device
    assert all(0.5 - 1e-6 <= p <= 0.55 + 1e-6 for p in seen)
    assert any(b < a for a, b in zip(seen, seen[1:]))  # the position went back: the loop wrapped

    player.pause()
    held = player.position
    time.sleep(0.05)
    assert player.state is PlayerState.PAUSED and player.position == held

    player.clear_loop()
    player.play()
    assert wait_for(lambda: player.state is PlayerState.STOPPED)
    assert player.position == pytest.approx(2.0, abs=1e-4)  # without the loop it ran out
    player.play()
    player.stop()
    assert player.state is PlayerState.STOPPED and player.position == 0.0


def test_audio_is_resampled_to_the_device_rate_and_position_stays_in_seconds():
    p = Player(samplerate=48000)
    if p.state is PlayerState.UNAVAILABLE:
        pytest.skip(p.unavailable_reason)
    try:
        assert p.samplerate == 48000
        p.load(sine(1000, 44100, 2.0, 0.5), 44100)
        assert len(p._buf) == 96000 and p.duration == pytest.approx(2.0)
        expected = sine(1000, 48000, 2.0, 0.5)
        assert np.max(np.abs(p._buf[200:-200, 0] - expected[200:-200])) < 1e-4  # same tone, not pitched up
        p.seek(1.25)
        assert p.position == pytest.approx(1.25, abs=1 / 48000)
        p.play()
        assert wait_for(lambda: p.state is PlayerState.STOPPED)
        assert p.position == pytest.approx(2.0, abs=1 / 48000)
    finally:
        p.close()


def test_load_with_keep_position_switches_takes_in_place(player):
    player.load(sine(440, 44100, 2.0), 44100)
    player.set_loop(1.0, 1.5)
    player.seek(1.2)
    player.load(sine(660, 44100, 1.8), 44100, keep_position=True)
    assert player.position == pytest.approx(1.2, abs=1e-4) and player.loop == (1.0, 1.5)
    player.load(sine(660, 44100, 1.2), 44100)  # loop no longer fits, position resets
    assert player.position == 0.0 and player.loop is None


# ------------------------------------------------------ callback, sample by sample
@pytest.mark.skipif(player_mod.sd is None, reason="sounddevice needs PortAudio for CallbackStop")
def test_callback_copies_wraps_and_ends(player):
    ramp = np.arange(1000, dtype=np.float32) / 1000  # every sample distinct
    player.load(ramp, player.samplerate)
    out = np.full((64, 2), 9.0, dtype=np.float32)

    player._callback(out, 64, None, None)  # halted: silence, index held
    assert np.all(out == 0) and player._idx == 0

    player._halt = False
    player._idx = 100
    player._callback(out, 64, None, None)
    assert np.array_equal(out[:, 0], ramp[100:164]) and np.array_equal(out[:, 1], out[:, 0])
    assert player._idx == 164

    player._loop_frames = (200, 230)
    player._idx = 220
    player._callback(out, 64, None, None)  # 10 to the loop end, 30 from its start, 24 more
    assert np.array_equal(out[:, 0], np.concatenate([ramp[220:230], ramp[200:230], ramp[200:224]]))
    assert player._idx == 224

    player._loop_frames = (0, 0)
    player._idx = 980
    with pytest.raises(player_mod.sd.CallbackStop):
        player._callback(out, 64, None, None)
    assert np.array_equal(out[:20, 0], ramp[980:]) and np.all(out[20:] == 0)
    assert player._idx == 1000 and player._ended


@pytest.mark.skipif(player_mod.sd is None, reason="sounddevice needs PortAudio for CallbackStop")
def test_two_channels_play_left_and_right_on_a_stereo_device(player):
    if player._channels != 2:
        pytest.skip(f"the output device here has {player._channels} channel(s)")
    left = np.arange(1000, dtype=np.float32) / 1000
    right = -left
    player.load(np.stack([left, right]), player.samplerate)
    assert player._buf.shape == (1000, 2) and player.duration == pytest.approx(1000 / player.samplerate)
    player._halt, player._idx = False, 100
    out = np.zeros((64, 2), dtype=np.float32)
    player._callback(out, 64, None, None)
    assert np.array_equal(out[:, 0], left[100:164]) and np.array_equal(out[:, 1], right[100:164])


@pytest.mark.skipif(player_mod.sd is None, reason="sounddevice needs PortAudio for CallbackStop")
def test_two_channels_are_mixed_on_a_mono_device_and_three_everywhere(player):
    left = np.arange(1000, dtype=np.float32) / 1000
    player._channels = 1  # as _open() leaves it for a one-channel device
    player.load(np.stack([left, left * 0.5]), player.samplerate)
    assert player._buf.shape == (1000, 1) and np.allclose(player._buf[:, 0], left * 0.75)
    player._channels = 2
    player.load(np.stack([left, left, left * 0.4]), player.samplerate)
    assert player._buf.shape == (1000, 1) and np.allclose(player._buf[:, 0], left * 0.8)


# ------------------------------------------------------------ unavailable paths
class FakeStream:
    """Stands in for sounddevice.OutputStream; `fail_start` makes start() raise like a vanished device."""

    fail_start = False

    def __init__(self, samplerate, channels, dtype, device, callback):
        self.samplerate, self.stopped = samplerate, True

    def start(self):
        if self.fail_start:
            raise RuntimeError("Error starting stream: Unanticipated host error [PaErrorCode -9999]")
        self.stopped = False

    def stop(self):
        self.stopped = True

    def close(self, ignore_errors=True):
        self.stopped = True


def fake_sounddevice(**overrides):
    class PortAudioError(Exception):
        pass

    fake = types.SimpleNamespace(
        PortAudioError=PortAudioError, CallbackStop=type("CallbackStop", (Exception,), {}),
        query_devices=lambda device=None, kind=None: {"max_output_channels": 2, "default_samplerate": 48000.0},
        OutputStream=FakeStream,
    )
    for name, value in overrides.items():
        setattr(fake, name, value)
    return fake


def assert_every_method_is_a_safe_no_op(p):
    assert p.state is PlayerState.UNAVAILABLE
    p.load(sine(440, 44100, 1.0), 44100)
    p.play()
    p.seek(0.25)
    assert p.position == pytest.approx(0.25) and p.duration == pytest.approx(1.0)  # the cursor still works
    p.set_loop(0.1, 0.2)
    p.pause()
    p.clear_loop()
    p.stop()
    p.close()
    assert p.state is PlayerState.UNAVAILABLE


def raise_(error):
    def fail(*args, **kwargs):
        raise error
    return fail


def test_stream_that_cannot_open(monkeypatch):
    fake = fake_sounddevice()
    fake.OutputStream = raise_(fake.PortAudioError("Error opening OutputStream: Device unavailable [PaErrorCode -9985]"))
    monkeypatch.setattr(player_mod, "sd", fake)
    p = Player()
    assert p.unavailable_reason == (
        "Audio playback is unavailable because the output device could not be opened (Error opening OutputStream: "
        "Device unavailable [PaErrorCode -9985]); close other programs using it or choose another output device, "
        "then retry.")
    assert_every_method_is_a_safe_no_op(p)


def test_retry_opens_the_device_once_it_is_back(monkeypatch):
    fake = fake_sounddevice()
    fake.OutputStream = raise_(fake.PortAudioError("Error opening OutputStream: Device unavailable"))
    monkeypatch.setattr(player_mod, "sd", fake)
    p = Player()
    p.load(sine(440, 44100, 1.0), 44100)
    p.seek(0.5)
    assert p.retry() is False and p.state is PlayerState.UNAVAILABLE
    fake.OutputStream = FakeStream  # the device came back, at 48 kHz
    assert p.retry() is True
    assert p.state is PlayerState.STOPPED and p.unavailable_reason == ""
    assert p.samplerate == 48000 and len(p._buf) == 48000 and p.position == pytest.approx(0.5)


def test_portaudio_library_missing(monkeypatch):
    monkeypatch.setattr(player_mod, "sd", None)
    monkeypatch.setattr(player_mod, "_IMPORT_ERROR", OSError("PortAudio library not found"))
    p = Player()
    assert "PortAudio library could not be loaded (PortAudio library not found)" in p.unavailable_reason
    assert "sudo apt install libportaudio2" in p.unavailable_reason
    assert_every_method_is_a_safe_no_op(p)


def test_no_output_device(monkeypatch):
    fake = fake_sounddevice()
    fake.query_devices = raise_(fake.PortAudioError("Error querying device -1"))
    monkeypatch.setattr(player_mod, "sd", fake)
    p = Player()
    assert p.unavailable_reason.startswith("Audio playback is unavailable because no audio output device was found")
    assert "connect or enable speakers or headphones" in p.unavailable_reason
    assert_every_method_is_a_safe_no_op(p)


def test_device_that_fails_when_playback_starts(monkeypatch):
    monkeypatch.setattr(player_mod, "sd", fake_sounddevice())
    monkeypatch.setattr(FakeStream, "fail_start", True)
    p = Player()
    assert p.state is PlayerState.STOPPED
    p.load(sine(440, 44100, 1.0), 44100)
    assert len(p._buf) == 48000  # resampled to the (fake) device's 48 kHz
    p.play()
    assert p.state is PlayerState.UNAVAILABLE
    assert "output device failed (Error starting stream" in p.unavailable_reason
    assert_every_method_is_a_safe_no_op(p)


# ---------------------------------------------------------------- a device plugged in after start

PLUG_IN = textwrap.dedent("""
    import os
    from pathlib import Path

    from studio.audio import Player

    asoundrc = Path(os.environ["HOME"]) / ".asoundrc"
    playing = Player()  # the default device, open
    phones = Player(device="studio_phones")  # not there yet
    print(phones.state.value)
    with asoundrc.open("a") as rc:  # plugged in: ALSA now has it, PortAudio has not seen it yet
        rc.write('pcm.studio_phones { type null hint { show on description "Studio phones" } }\\n')
    print(phones.retry(), phones.state.value, playing.state.value)  # no re-scan under an open stream
    playing.close()
    print(phones.retry(), phones.state.value)
""")


def test_retry_finds_a_device_plugged_in_after_start(tmp_path):
    """Real PortAudio on ALSA: a device defined after the player started appears once Retry re-initialises PortAudio,
    which it does only while no player has a stream open (re-initialising would close it). Run in its own process
    with its own ALSA configuration (HOME), so this process's PortAudio and the user's ~/.asoundrc are untouched."""
    if player_mod.sd is None or "ALSA" not in {api["name"] for api in player_mod.sd.query_hostapis()}:
        pytest.skip("devices are made here as ALSA configuration: needs PortAudio with its ALSA host API")
    (tmp_path / ".asoundrc").write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
    result = subprocess.run([sys.executable, "-c", PLUG_IN], cwd=REPO, check=False, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["unavailable", "False unavailable stopped", "True stopped"]
