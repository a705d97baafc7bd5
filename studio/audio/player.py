"""Audio playback on sounddevice (PortAudio), Qt-free.

The audio thread's callback only copies from a preallocated float32 buffer and advances an integer index: no locks,
no allocation, no Qt. The GUI thread changes the player by replacing whole attributes (each read or write of one
attribute is atomic under the GIL) and polls ``position`` with a QTimer.

Where playback is impossible (PortAudio missing, no output device, the device refuses to open) the player goes to
``PlayerState.UNAVAILABLE`` with ``unavailable_reason`` set to one sentence naming the cause and the fix; from then on
play/pause/stop do nothing and nothing raises, while load/seek/loop keep their bookkeeping so a UI still shows a cursor.
"""

from __future__ import annotations

import enum
import weakref

import numpy as np

from studio.audio.resample import check_rate, resample

__all__ = ["Player", "PlayerState"]


def _import_sounddevice():
    """(module, None), or (None, error) when PortAudio's shared library cannot be loaded."""
    try:
        import sounddevice
    except OSError as err:
        return None, err
    return sounddevice, None


sd, _IMPORT_ERROR = _import_sounddevice()

_MIN_LOOP_SECONDS = 0.01  # shorter loops would be a buzz, and are almost always a mis-drag

_PLAYERS: "weakref.WeakSet[Player]" = weakref.WeakSet()  # every live player, to know whether a stream is open


def _rescan_devices() -> bool:
    """Make PortAudio list the devices again; True when it did.

    PortAudio reads the device list once, when it is initialised, so a device plugged in after start stays invisible
    until it is re-initialised. Re-initialising closes every stream, so it is done only while no player has one open.
    """
    if sd is None or any(p._stream is not None for p in _PLAYERS):
        return False
    try:
        sd._terminate()  # noqa: SLF001 - sounddevice's own pair for this; no public re-scan exists
        sd._initialize()  # noqa: SLF001
    except Exception:  # noqa: BLE001 - PortAudioError: _open() then reports "no device" with the fix
        return False
    return True


class PlayerState(enum.Enum):
    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"
    UNAVAILABLE = "unavailable"


class Player:
    """Plays one mono buffer at a time, with seek and an optional loop region.

    Args:
        device: sounddevice output device (index or name); None for the system default.
        samplerate: stream rate in Hz; None for the device's default rate. Loaded audio is resampled to it.

    Attributes:
        unavailable_reason: '' while playback works, else one sentence naming the cause and the fix.
    """

    def __init__(self, device=None, samplerate: int | None = None) -> None:
        self.unavailable_reason = ""
        self._device = device
        self._requested_rate = samplerate
        self._rate = int(samplerate) if samplerate else 44100  # replaced by the stream's own rate once open
        self._stream = None
        self._state = PlayerState.STOPPED  # set by the controls; PLAYING reads STOPPED once the callback has ended
        self._source: tuple[np.ndarray, int] | None = None  # what load() was given, kept for retry()
        # Read by the audio callback; only ever replaced whole by the GUI thread.
        self._buf = np.zeros((0, 1), dtype=np.float32)  # (T, 1) mono or (T, 2) stereo, at self._rate
        self._channels = 1  # the open stream's output channels (1 or 2)
        self._idx = 0  # next frame to play
        self._loop_frames = (0, 0)  # (start, end) in frames; end == 0: no loop
        self._loop_seconds: tuple[float, float] | None = None
        self._halt = True  # callback outputs silence and holds the index
        self._ended = False  # set by the callback when it reaches the end of the buffer (and stops the stream)
        _PLAYERS.add(self)
        self._open()

    # ---------------------------------------------------------------- device
    def _fail(self, reason: str) -> None:
        self.unavailable_reason = reason
        self._state = PlayerState.UNAVAILABLE
        self._halt = True
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close(ignore_errors=True)
            except Exception:  # noqa: BLE001 - closing a broken stream must not raise
                pass

    def _open(self) -> None:
        if sd is None:
            self._fail(f"Audio playback is unavailable because the PortAudio library could not be loaded "
                       f"({_IMPORT_ERROR}); install it (Debian/Ubuntu: sudo apt install libportaudio2) and restart.")
            return
        try:
            info = sd.query_devices(self._device, "output")
            channels = min(2, int(info["max_output_channels"]))
            if channels < 1:
                raise ValueError("the device has no output channels")
        except Exception as err:  # noqa: BLE001 - PortAudioError, ValueError, KeyError: all mean "no device"
            self._fail(f"Audio playback is unavailable because no audio output device was found ({err}); connect or "
                       f"enable speakers or headphones, then retry.")
            return
        rate = int(self._requested_rate or info["default_samplerate"])
        try:
            self._stream = sd.OutputStream(samplerate=rate, channels=channels, dtype="float32", device=self._device,
                                           callback=self._callback)
        except Exception as err:  # noqa: BLE001 - any failure to open means "unavailable", never a crash
            self._fail(f"Audio playback is unavailable because the output device could not be opened ({err}); close "
                       f"other programs using it or choose another output device, then retry.")
            return
        self._rate = int(self._stream.samplerate)
        self._channels = channels
        self._state = PlayerState.STOPPED
        self.unavailable_reason = ""

    def retry(self) -> bool:
        """Try to open the output device again (e.g. after headphones were connected, which PortAudio sees only once
        re-initialised: see :func:`_rescan_devices`); True when playback works."""
        if self._state is not PlayerState.UNAVAILABLE or self._stream is not None:
            return self._state is not PlayerState.UNAVAILABLE
        position, loop = self.position, self._loop_seconds  # in seconds: the device rate may differ from before
        _rescan_devices()
        self._open()
        if self._state is PlayerState.UNAVAILABLE:
            return False
        if self._source is not None:
            self.load(*self._source)
            self.seek(position)
            if loop is not None:
                self.set_loop(*loop)
        return True

    def close(self) -> None:
        """Stop and release the output device. The player is UNAVAILABLE afterwards."""
        self._fail("The player was closed; create a new Player to play audio.")

    # ------------------------------------------------------------- callback
    def _callback(self, outdata, frames, time_info, status) -> None:
        """PortAudio's audio thread: copy `frames` frames (mono to every output channel, stereo to left and right),
        wrapping at the loop end."""
        if self._halt:
            outdata.fill(0)
            return
        buf = self._buf
        n = len(buf)
        i = self._idx
        loop_start, loop_end = self._loop_frames
        done = 0
        while done < frames:
            limit = loop_end if i < loop_end else n  # inside the loop play to its end, otherwise to the buffer's end
            take = min(frames - done, limit - i)
            if take > 0:
                outdata[done:done + take] = buf[i:i + take]  # (take, 1) broadcast to the channels, or (take, 2)
                done += take
                i += take
            if i >= limit:
                if limit == loop_end and loop_start < loop_end:
                    i = loop_start
                    continue
                outdata[done:].fill(0)
                self._idx = min(i, n)
                self._ended = True
                raise sd.CallbackStop
        self._idx = i

    # -------------------------------------------------------------- control
    def load(self, audio: np.ndarray, sr: int, keep_position: bool = False) -> None:
        """Replace the buffer with ``audio``, resampled to the device rate.

        Args:
            audio: float (T,) mono, or (C, T): two channels play left and right on a stereo device, anything else
                (or any (C, T) on a mono device) is mixed to mono by the mean.
            sr: its sample rate in Hz.
            keep_position: keep the play position (clamped) and keep playing if playing: instant A/B switching
                between candidates. Otherwise playback stops and the position goes to 0.
                A loop region is kept when it still fits inside the new audio.
        Raises:
            ValueError: audio is not (T,) or (C, T), or sr is not a positive whole number (a caller bug).
        """
        sr = check_rate("sr", sr)
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim == 2 and not (x.shape[0] == 2 and self._channels == 2):
            x = x.mean(axis=0, dtype=np.float32)  # (C, T) -> (T,)
        if x.ndim not in (1, 2):
            raise ValueError(f"Player.load takes audio shaped (T,) or (C, T), got shape {np.shape(audio)}")
        x = np.nan_to_num(np.atleast_2d(x), nan=0.0, posinf=0.0, neginf=0.0)  # (C, T), C = 1 or 2
        self._source = (x, sr)
        position = self.position
        if not keep_position:
            self.stop()
        if self._state is PlayerState.UNAVAILABLE:
            self._rate = sr
        buf = np.ascontiguousarray(np.stack([resample(c, sr, self._rate) for c in x], axis=1),
                                   dtype=np.float32)  # (T', C) preallocated, owned
        loop = self._loop_seconds
        self._loop_frames = (0, 0)
        self._buf = buf
        self._idx = min(int(round(position * self._rate)), len(buf)) if keep_position else 0
        self._loop_seconds = None
        if loop is not None and loop[1] <= self.duration + 1e-9:
            self.set_loop(*loop)

    def play(self) -> None:
        """Start or resume playback from ``position`` (from the start when at the end; from the loop start when a
        loop is set and the position is outside it)."""
        if self.state in (PlayerState.UNAVAILABLE, PlayerState.PLAYING) or len(self._buf) == 0:
            return
        loop_start, loop_end = self._loop_frames
        if loop_end and not loop_start <= self._idx < loop_end:
            self._idx = loop_start
        elif self._idx >= len(self._buf):
            self._idx = 0
        self._ended = False
        self._halt = False
        try:
            if not self._stream.stopped:  # a stream that ended by CallbackStop must be stopped before restarting
                self._stream.stop()
            self._stream.start()
        except Exception as err:  # noqa: BLE001 - the device vanished: degrade, never crash
            self._fail(f"Audio playback stopped because the output device failed ({err}); reconnect it or choose "
                       f"another output device, then retry.")
            return
        self._state = PlayerState.PLAYING

    def _halt_stream(self) -> None:
        self._halt = True  # silences the callback at once; the stream then stops
        if self._stream is not None:
            try:
                self._stream.stop()
            except Exception as err:  # noqa: BLE001
                self._fail(f"Audio playback stopped because the output device failed ({err}); reconnect it or "
                           f"choose another output device, then retry.")

    def pause(self) -> None:
        """Pause, keeping the position."""
        if self.state is PlayerState.PLAYING:
            self._halt_stream()
            if self._state is not PlayerState.UNAVAILABLE:
                self._state = PlayerState.PAUSED

    def stop(self) -> None:
        """Stop and return the position to the start (0 s)."""
        if self.state is PlayerState.UNAVAILABLE:
            self._idx = 0
            return
        self._halt_stream()
        self._idx = 0
        if self._state is not PlayerState.UNAVAILABLE:
            self._state = PlayerState.STOPPED

    def seek(self, seconds: float) -> None:
        """Move the play position to ``seconds`` (clamped to [0, duration]); playback continues from there."""
        if not np.isfinite(seconds):
            return
        self._idx = int(np.clip(round(float(seconds) * self._rate), 0, len(self._buf)))

    def set_loop(self, start: float, end: float) -> None:
        """Loop [start, end) seconds while playing (clamped to the audio). When the position is past the loop it
        jumps to the loop start; before the loop, playback runs into it and then stays inside.

        Raises:
            ValueError: the region is shorter than 10 ms after clamping (a caller bug: check the drag first).
        """
        duration = self.duration
        s, e = float(np.clip(start, 0.0, duration)), float(np.clip(end, 0.0, duration))
        if not e - s >= _MIN_LOOP_SECONDS:
            raise ValueError(f"a loop must span at least {_MIN_LOOP_SECONDS * 1000:.0f} ms inside the audio "
                             f"(0 to {duration:.3f} s), got [{start}, {end})")
        f0, f1 = int(round(s * self._rate)), int(round(e * self._rate))
        self._loop_seconds = (s, e)
        self._loop_frames = (f0, f1)
        if self._idx >= f1:
            self._idx = f0

    def clear_loop(self) -> None:
        """Play straight through again."""
        self._loop_frames = (0, 0)
        self._loop_seconds = None

    # ------------------------------------------------------------- readouts
    @property
    def state(self) -> PlayerState:
        """STOPPED, PLAYING, PAUSED or UNAVAILABLE; playback that reached the end reads STOPPED (position at the end).
        Reading it changes nothing."""
        if self._state is PlayerState.PLAYING and self._ended:
            return PlayerState.STOPPED
        return self._state

    @property
    def position(self) -> float:
        """Play position in seconds (poll it from a QTimer)."""
        return self._idx / self._rate

    @property
    def duration(self) -> float:
        """Length of the loaded audio in seconds (0.0 when nothing is loaded)."""
        return len(self._buf) / self._rate

    @property
    def samplerate(self) -> int:
        """The output stream's rate in Hz (the loaded audio is resampled to it)."""
        return self._rate

    @property
    def loop(self) -> tuple[float, float] | None:
        """The loop region (start, end) in seconds, or None."""
        return self._loop_seconds

    def __enter__(self) -> "Player":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
