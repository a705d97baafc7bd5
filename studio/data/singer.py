"""A crude singer: espeak-ng speaks each syllable on one flat pitch, sox moves it to the note and fits its length.

espeak-ng with SSML ``<prosody range="0Hz">`` speaks on a fixed pitch (DEMO_DATA.md section 4); the base pitch of a
voice is measured once, then sox shifts each syllable by the cents to the score's note and stretches it (WSOLA
``tempo -s``) to the note's length. The result is robotic but on pitch and on time, which is what the lyric
conditioning of the demo model needs.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from functools import lru_cache

import numpy as np
import soundfile as sf

from studio.data.errors import DataBuildError
from studio.data.notes import Syllable

VOICES = {"de": "de+f2", "it": "it+f2", "fr": "fr+f2", "en": "en+f3", "la": "it+f2"}  # soprano-range variants
SILENCE_DB = -40.0  # espeak's lead-in and trail below this are trimmed
MAX_SHIFT_CENTS = 2400  # beyond two octaves the voice is unusable; such notes are folded by octaves
_TIMEOUT_S = 20


def require_tools() -> tuple[str, str]:
    """Paths of espeak-ng and sox, or a DataBuildError with the fix."""
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    if not espeak or not sox:
        missing = " and ".join(n for n, p in (("espeak-ng", espeak), ("sox", sox)) if not p)
        raise DataBuildError(f"{missing} not installed, so lyrics cannot be sung. "
                             "Fix: apt-get install espeak-ng sox (or build with --no-vocals).")
    return espeak, sox


def _speak(text: str, voice: str) -> tuple[np.ndarray, int]:
    espeak, _ = require_tools()
    ssml = f'<speak><prosody range="0Hz">{_xml_escape(text)}</prosody></speak>'
    out = subprocess.run([espeak, "-v", voice, "-m", "-p", "99", "-s", "150", "--stdout", ssml], capture_output=True,
                         timeout=_TIMEOUT_S, check=False).stdout
    if not out:
        return np.zeros(0, np.float32), 22050
    audio, sr = sf.read(io.BytesIO(out), dtype="float32")
    return _trim(audio), sr


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _trim(audio: np.ndarray) -> np.ndarray:
    if audio.size == 0:
        return audio
    loud = np.nonzero(np.abs(audio) > 10 ** (SILENCE_DB / 20))[0]
    return audio[loud[0]:loud[-1] + 1] if loud.size else audio[:0]


def estimate_f0(audio: np.ndarray, sr: int, fmin: float = 70.0, fmax: float = 900.0) -> float:
    """Fundamental frequency (Hz) of a steady voiced sound by autocorrelation of its middle part."""
    mid = audio[len(audio) // 4: len(audio) // 4 + int(0.1 * sr)].astype(np.float64)
    mid = mid - mid.mean()
    if mid.size < sr / fmin * 2:
        return 0.0
    corr = np.correlate(mid, mid, "full")[mid.size - 1:]
    lo, hi = int(sr / fmax), int(sr / fmin)
    return sr / (lo + int(np.argmax(corr[lo:hi])))


@lru_cache(maxsize=16)
def base_pitch(voice: str) -> float:
    """The flat pitch (Hz) a voice speaks on, measured on a sustained vowel."""
    audio, sr = _speak("laaa", voice)
    f0 = estimate_f0(audio, sr)
    if f0 <= 0:
        raise DataBuildError(f"espeak-ng voice '{voice}' produced no measurable pitch. "
                             "Fix: reinstall espeak-ng-data or build with --no-vocals.")
    return f0


def _sox_fit(audio: np.ndarray, sr_in: int, cents: float, seconds: float, sr: int) -> np.ndarray:
    """Shift by cents, stretch to ``seconds``, resample to ``sr``, with sox (no dither: repeatable output)."""
    _, sox = require_tools()
    shifted_len = len(audio) / sr_in
    factor = min(max(shifted_len / max(seconds, 0.05), 0.1), 10.0)
    buf = io.BytesIO()
    sf.write(buf, audio, sr_in, format="WAV", subtype="FLOAT")
    cmd = [sox, "-D", "-t", "wav", "-", "-t", "wav", "-e", "floating-point", "-b", "32", "-",
           "pitch", f"{cents:.1f}", "tempo", "-s", f"{factor:.4f}", "rate", str(sr)]
    out = subprocess.run(cmd, input=buf.getvalue(), capture_output=True, timeout=_TIMEOUT_S, check=False).stdout
    if not out:
        return np.zeros(0, np.float32)
    result, _ = sf.read(io.BytesIO(out), dtype="float32")
    return result


def sing(syllables: list[Syllable], language: str, sr: int, length: int) -> np.ndarray:
    """A vocal track: each syllable spoken, moved to its note's pitch, fitted to its span and placed at its onset.

    Args:
        syllables: timed syllables with MIDI pitches.
        language: espeak-ng language ("de", "it", "fr", "en", "la").
        sr: output sample rate.
        length: output length in samples.
    Returns:
        float32 array, shape (length,).
    """
    voice = VOICES.get(language, "en+f3")
    base = base_pitch(voice)
    track = np.zeros(length, np.float32)
    fade = max(int(0.01 * sr), 1)
    for s in syllables:
        audio, sr_in = _speak(s.text.strip("-_,.;:!?'\"()[]‿ "), voice)
        if audio.size < 32:
            continue
        target = 440.0 * 2 ** ((s.pitch - 69) / 12)
        cents = 1200 * math.log2(target / base)
        while abs(cents) > MAX_SHIFT_CENTS:
            cents -= math.copysign(1200, cents)
        span = max(s.end - s.start, 0.08)
        sung = _sox_fit(audio, sr_in, cents, span, sr)
        start = int(round(s.start * sr))
        sung = sung[: max(0, min(len(sung), length - start, int(span * sr)))]
        if sung.size == 0:
            continue
        ramp = min(fade, sung.size // 2)
        if ramp:
            window = np.ones(sung.size, np.float32)
            window[:ramp] = np.linspace(0, 1, ramp, dtype=np.float32)
            window[-ramp:] = np.linspace(1, 0, ramp, dtype=np.float32)
            sung = sung * window
        track[start:start + sung.size] += sung
    return track
