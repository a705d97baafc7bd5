"""Render a guarded note list through a General MIDI soundfont with FluidSynth, in-process.

Nothing here waits for silence: the output length is fixed in advance (last note end + all-notes-off + a fixed
tail, never more than the cap), so a note that somehow stays on cannot make a render run on.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np
import soundfile  # noqa: F401  (see below)

# Import order matters for byte-identical output: libfluidsynth decodes .sf3 samples through libsndfile, and which
# libsndfile it binds to (Debian's or the one bundled with the soundfile wheel) depends on whether soundfile was
# loaded first; the decoded samples then differ in the last bit. Loading soundfile here, before FluidSynth is ever
# imported, makes every process (main or worker) bind the same way.

from studio.data.errors import DataBuildError
from studio.data.notes import NoteEvent, guard_notes

TAIL_S = 1.5  # release and reverb after the last note, then the render stops
GAIN = 0.25  # FluidSynth master gain; loud enough, below int16 clipping for dense quartets
SOUNDFONT_ENV = "STUDIO_SOUNDFONT"
# Debian packages with MIT-licensed General MIDI soundfonts, smallest and fastest first (DEMO_DATA.md section 2).
SOUNDFONT_CANDIDATES = (
    ("/usr/share/sounds/sf3/FluidR3Mono_GM.sf3", "fluidr3mono-gm-soundfont", "MIT"),
    ("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3", "musescore-general-soundfont-small", "MIT"),
    ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "fluid-soundfont-gm", "MIT"),
)


def find_soundfont(explicit: str | os.PathLike | None = None) -> Path:
    """The soundfont to render with: ``explicit``, else $STUDIO_SOUNDFONT, else the first Debian one installed."""
    if explicit or os.environ.get(SOUNDFONT_ENV):
        path = Path(explicit or os.environ[SOUNDFONT_ENV])
        if not path.is_file():
            raise DataBuildError(f"soundfont {path} does not exist. Fix: pass an existing .sf2/.sf3 file, or "
                                 "apt-get install fluidr3mono-gm-soundfont.")
        return path
    for candidate, _package, _licence in SOUNDFONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise DataBuildError("no General MIDI soundfont found (looked for " +
                         ", ".join(c for c, _, _ in SOUNDFONT_CANDIDATES) +
                         "). Fix: apt-get install fluidr3mono-gm-soundfont, or pass --soundfont PATH.")


def soundfont_licence(path: Path) -> str:
    """'<package>, <licence>' for a known Debian soundfont, else 'user-supplied'."""
    for candidate, package, licence in SOUNDFONT_CANDIDATES:
        if Path(candidate).name == path.name:
            return f"{path.name} from Debian package {package}, {licence}"
    return f"{path.name}, user-supplied (licence not checked)"


def _fluidsynth():
    try:
        import fluidsynth
    except (ImportError, OSError) as exc:  # the module imports, then fails to find libfluidsynth
        raise DataBuildError(f"FluidSynth is unavailable ({exc}). Fix: pip install pyfluidsynth and "
                             "apt-get install libfluidsynth3.") from exc
    return fluidsynth


class Renderer:
    """Renders note lists at one sample rate. One instance per process: the soundfont is decoded once.

    A fresh FluidSynth synth is made for every render (cheap, the samples stay cached by the first one), so no
    reverb or voice state leaks from one item into the next and renders are byte-identical run to run.
    """

    def __init__(self, soundfont: Path, sr: int):
        self.fluidsynth = _fluidsynth()
        self.soundfont, self.sr = str(soundfont), sr
        self._keeper = self._new_synth()  # holds the decoded samples in FluidSynth's cache

    def _new_synth(self):
        synth = self.fluidsynth.Synth(gain=GAIN, samplerate=float(self.sr))
        sfid = synth.sfload(self.soundfont)
        if sfid < 0:
            raise DataBuildError(f"FluidSynth could not load {self.soundfont}. Fix: reinstall the soundfont "
                                 "package or pass another --soundfont.")
        return synth, sfid

    def render(self, notes: list[NoteEvent], max_seconds: float) -> np.ndarray:
        """Mono float32 audio of the notes, at most ``max_seconds + TAIL_S`` long.

        Args:
            notes: note events (guarded again here, so any list is safe).
            max_seconds: the length cap; notes are cut there.
        Returns:
            float32 array, shape (samples,), values in [-1, 1].
        """
        notes = guard_notes(notes, max_seconds)
        if not notes:
            return np.zeros(int(TAIL_S * self.sr), np.float32)
        synth, sfid = self._new_synth()
        try:
            messages = []  # (sample, order, kind, channel, a, b); offs before program changes before ons
            programs: dict[int, int] = {}
            for n in notes:
                if n.channel != 9 and programs.get(n.channel) != n.program:
                    messages.append((round(n.start * self.sr), 1, "program", n.channel, n.program, 0))
                    programs[n.channel] = n.program
                messages.append((round(n.start * self.sr), 2, "on", n.channel, n.pitch, n.velocity))
                messages.append((round(n.end * self.sr), 0, "off", n.channel, n.pitch, 0))
            messages.sort()
            end = max(m[0] for m in messages)
            total = end + int(TAIL_S * self.sr)
            chunks, pos = [], 0
            for sample, _order, kind, channel, a, b in messages:
                if sample > pos:
                    chunks.append(self._write(synth, sample - pos))
                    pos = sample
                if kind == "program":
                    synth.program_select(channel, sfid, 0, a)
                elif kind == "on":
                    synth.noteon(channel, a, b)
                else:
                    synth.noteoff(channel, a)
            for channel in range(16):
                synth.cc(channel, 123, 0)  # all notes off
            chunks.append(self._write(synth, total - pos))
        finally:
            synth.delete()
        return np.clip(np.concatenate(chunks), -1.0, 1.0)  # as the int16 output was

    def _write(self, synth, n: int) -> np.ndarray:
        """The next ``n`` samples, mono float32, written as floats.

        Not through pyfluidsynth's ``get_samples``: that calls ``fluid_synth_write_s16``, which adds dither noise from
        a table FluidSynth fills with libc's ``rand()`` once per process, so the bytes depended on whatever else in
        the process had called ``rand()`` or ``srand()`` before (a build in a test process differed from one in fresh
        worker processes). ``fluid_synth_write_float`` adds no dither.
        """
        left, right = np.zeros(n, np.float32), np.zeros(n, np.float32)
        status = self.fluidsynth._fl.fluid_synth_write_float(
            ctypes.c_void_p(synth.synth), ctypes.c_int(n), left.ctypes.data_as(ctypes.c_void_p), 0, 1,
            right.ctypes.data_as(ctypes.c_void_p), 0, 1)
        if status != 0:
            raise DataBuildError("FluidSynth failed to render. Fix: reinstall libfluidsynth3.")
        return (left + right) * np.float32(0.5)
