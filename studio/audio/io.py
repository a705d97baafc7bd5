"""Loading audio files: any format libsndfile reads, any channel count, any rate, optionally just a time range; and
encoding a take's audio as WAV bytes, for a writer that stores them atomically.

Everything a user can get wrong (a missing file, a file libsndfile cannot decode, a range outside the file) raises
``AudioLoadError`` with one message that names the file, the cause and the fix.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from studio.audio.resample import (
    check_rate,
    filter_half_width,
    resample,
    resample_positions,
    resampled_length,
)

__all__ = ["AudioInfo", "AudioLoadError", "audio_info", "load_audio", "readable_formats", "resample", "wav_bytes"]

_WHOLE_READ_FORMATS = ("MP3",)  # containers libsndfile only decodes right in one read from the start

# Formats users recognise, listed first in error messages when this libsndfile reads them.
_COMMON_FORMATS = ("WAV", "FLAC", "OGG", "MP3", "AIFF", "CAF", "W64", "RF64")


class AudioLoadError(Exception):
    """A file could not be loaded as audio; the message names the file, the cause and the fix."""


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, without decoding it.

    Attributes:
        frames: samples per channel.
        sr: sample rate in Hz.
        channels: channel count.
        seconds: frames / sr.
        format: libsndfile's container name, e.g. "WAV", "FLAC", "OGG", "MP3".
        subtype: libsndfile's encoding name, e.g. "PCM_16", "VORBIS", "MPEG_LAYER_III".
    """

    frames: int
    sr: int
    channels: int
    seconds: float
    format: str
    subtype: str = ""


def readable_formats() -> list[str]:
    """The container formats this machine's libsndfile reads, common ones first (e.g. ["WAV", "FLAC", ...])."""
    available = sf.available_formats()
    common = [name for name in _COMMON_FORMATS if name in available]
    return common + sorted(name for name in available if name not in common)


def _formats_sentence() -> str:
    names = readable_formats()
    shown = ", ".join(names[:6])
    rest = len(names) - 6
    more = f" and {rest} more" if rest > 0 else ""
    return f"Jukebox Studio reads {shown}{more} (not AAC/M4A or video files)"


def check_audio_path(path) -> Path:
    """Return path as a Path, or raise AudioLoadError when it is not an existing regular file."""
    p = Path(os.fspath(path)).expanduser()
    if not p.exists():
        raise AudioLoadError(f"Audio file not found: '{p}'. Check the path, or choose the file again.")
    if p.is_dir():
        raise AudioLoadError(f"'{p}' is a folder, not an audio file. Choose an audio file inside it.")
    return p


def read_failure(err: BaseException) -> str:
    """libsndfile's reason a file did not open, to go in brackets inside a sentence (its own full stop dropped)."""
    return (getattr(err, "error_string", None) or str(err)).strip().rstrip(".")


def open_audio(p: Path) -> sf.SoundFile:
    """Open p for reading, turning libsndfile's failures into AudioLoadError."""
    try:
        return sf.SoundFile(str(p))
    except (sf.LibsndfileError, RuntimeError) as err:
        cause = read_failure(err)
        raise AudioLoadError(
            f"Could not read '{p.name}' as audio ({cause}). {_formats_sentence()}; "
            f"convert the file to WAV or FLAC (e.g. with Audacity) and try again."
        ) from err
    except OSError as err:
        raise AudioLoadError(f"Could not open '{p}': {err.strerror or err}. Check that you may read the file.") from err


def audio_info(path) -> AudioInfo:
    """Describe an audio file (frames, rate, channels, length, format) without decoding its samples.

    Raises:
        AudioLoadError: the file is missing or libsndfile cannot read it.
    """
    p = check_audio_path(path)
    with open_audio(p) as f:
        return AudioInfo(
            frames=int(f.frames), sr=int(f.samplerate), channels=int(f.channels),
            seconds=f.frames / f.samplerate if f.samplerate else 0.0, format=f.format, subtype=f.subtype,
        )


def _frame_range(p: Path, info: AudioInfo, start, end) -> tuple[int, int]:
    """Turn [start, end) seconds into [s0, s1) frames of the file, or raise AudioLoadError saying what is wrong."""
    length = f"{info.seconds:.3f} s"
    if start is not None and (not np.isfinite(start) or start < 0):
        raise AudioLoadError(f"The range start {start} s in '{p.name}' is before the file begins; use a start >= 0.")
    if end is not None and not np.isfinite(end):
        raise AudioLoadError(f"The range end {end} s in '{p.name}' is not a number; use an end <= {length}.")
    t0 = 0.0 if start is None else float(start)
    t1 = info.seconds if end is None else float(end)
    if t0 >= info.seconds:
        raise AudioLoadError(
            f"The range starts at {t0:.3f} s but '{p.name}' is only {length} long; choose a start before {length}."
        )
    if t1 <= t0:
        raise AudioLoadError(
            f"The range [{t0:.3f} s, {t1:.3f} s) of '{p.name}' is empty; choose an end after the start."
        )
    s0 = int(round(t0 * info.sr))
    s1 = int(round(t1 * info.sr))
    if s1 > info.frames:
        raise AudioLoadError(
            f"The range ends at {t1:.3f} s but '{p.name}' is only {length} long; choose an end of at most {length}."
        )
    if s1 <= s0:
        raise AudioLoadError(
            f"The range [{t0:.6f} s, {t1:.6f} s) of '{p.name}' is shorter than one sample; choose a longer range."
        )
    return s0, s1


def _read_frames(f: sf.SoundFile, r0: int, r1: int) -> np.ndarray:
    """Frames [r0, r1) of a freshly opened file as float32 (frames, channels).

    libsndfile 1.2's MP3 decoder lands hundreds of samples off on seek, and corrupts the samples after the first
    partial read (tests/audio/test_io.py compares ranges with whole loads), so MP3 is decoded from the start in one
    read and then sliced.
    """
    if f.format in _WHOLE_READ_FORMATS:
        return f.read(r1, dtype="float32", always_2d=True)[r0:]
    f.seek(r0)
    return f.read(r1 - r0, dtype="float32", always_2d=True)


def load_audio(path, sr: int, start: float | None = None, end: float | None = None) -> np.ndarray:
    """Read an audio file as mono float32 at ``sr``, optionally only the range [start, end) seconds.

    Channels are mixed to mono by their mean; the rate is converted with ``resample``'s anti-aliased filter. A range is
    in the file's own time, and is read with filter context from either side, so a range equals the same stretch of a
    whole-file load (up to rounding of the range's start to the file's sample grid).

    Args:
        path: file path (str or PathLike).
        sr: wanted sample rate in Hz.
        start: range start in seconds (None: the file's start).
        end: range end in seconds (None: the file's end).

    Returns:
        float32 (T,) with T = ceil((s1 - s0) * sr / file_sr), where [s0, s1) are the range's frames in the file.

    Raises:
        AudioLoadError: missing file, unreadable or corrupt file, empty range, range outside the file.
        ValueError: sr is not a positive whole number.
    """
    sr = check_rate("sr", sr)
    p = check_audio_path(path)
    with open_audio(p) as f:
        info = AudioInfo(int(f.frames), int(f.samplerate), int(f.channels), f.frames / max(f.samplerate, 1), f.format)
        if info.frames <= 0:
            raise AudioLoadError(f"'{p.name}' contains no audio samples; choose another file.")
        s0, s1 = _frame_range(p, info, start, end)
        pad = filter_half_width(info.sr, sr)
        r0, r1 = max(0, s0 - pad), min(info.frames, s1 + pad)  # read context for the resampling filter
        try:
            block = _read_frames(f, r0, r1)  # (frames, channels)
        except (sf.LibsndfileError, RuntimeError) as err:
            raise AudioLoadError(
                f"'{p.name}' is damaged: decoding failed at {r0 / info.sr:.3f} s ({err}). "
                f"Re-export or re-download the file and try again."
            ) from err
    if len(block) == 0:
        raise AudioLoadError(f"'{p.name}' is damaged: no samples could be decoded. Re-export the file and try again.")
    mono = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]  # (frames,)
    if info.sr == sr:
        out = mono[s0 - r0:s1 - r0]
        if len(out) < s1 - s0:  # the file held fewer samples than its header promised: pad with silence
            out = np.concatenate([out, np.zeros(s1 - s0 - len(out), np.float32)])
        return np.ascontiguousarray(out, dtype=np.float32)
    n_out = resampled_length(s1 - s0, info.sr, sr)
    return resample_positions(mono, info.sr, sr, s0 - r0, n_out)


def wav_bytes(samples: np.ndarray, sr: int) -> bytes:
    """Mono float samples (T,), clipped to [-1, 1], as the bytes of a 16-bit PCM WAV file at ``sr`` Hz.

    Encoded in memory, so the caller writes the file in one atomic, fsynced step (a disk error is then an ``OSError``
    of that write, never a half-written WAV).
    """
    buf = io.BytesIO()
    sf.write(buf, np.clip(samples, -1.0, 1.0).astype(np.float32), int(sr), subtype="PCM_16", format="WAV")
    return buf.getvalue()
