"""Skips for the data-builder tests: they need music21, pyfluidsynth + libfluidsynth, a GM soundfont, abc2midi,
espeak-ng and sox. CI installs them with the apt packages in .ci/apt-packages.txt and
``pip install -e '.[test,data]'``."""

from __future__ import annotations

import shutil

import pytest

FIX = ("Fix: apt-get install libfluidsynth3 fluidr3mono-gm-soundfont abcmidi espeak-ng sox, "
       "then pip install -e '.[data]'.")


def missing_tools() -> str:
    """Why the builder cannot run here, or "" when it can."""
    try:
        import music21  # noqa: F401
    except ImportError:
        return "music21 is not installed"
    try:
        import fluidsynth  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"pyfluidsynth/libfluidsynth unavailable ({exc})"
    from studio.data.errors import DataBuildError
    from studio.data.synth import find_soundfont

    try:
        find_soundfont()
    except DataBuildError:
        return "no General MIDI soundfont"
    for exe in ("abc2midi", "espeak-ng", "sox"):
        if not shutil.which(exe):
            return f"{exe} is not installed"
    return ""


@pytest.fixture(scope="session")
def builder_tools() -> None:
    reason = missing_tools()
    if reason:
        pytest.skip(f"data builder tools missing: {reason}. {FIX}")


@pytest.fixture(scope="session")
def tiny_set(tmp_path_factory, builder_tools):
    """The --tiny set with seed 0, built once per test session: (BuildResult, progress calls)."""
    from studio.data import build_dataset

    calls = []
    out = tmp_path_factory.mktemp("tiny") / "set"
    result = build_dataset(out, seed=0, tiny=True, progress=lambda done, want, msg: calls.append((done, want, msg)))
    return result, calls
