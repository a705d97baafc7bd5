"""Audio for Jukebox Studio, Qt-free (numpy, soundfile, sounddevice): loading, resampling, export with the recipe,
peaks and spectrograms for drawing, and the player.

Nothing in this package imports Qt or pyqtgraph (pyproject.toml's import-linter contracts and tests/audio/test_no_qt.py
check it). The names are imported on first use, so that ``import studio.audio.io`` (the sampler process reads a
priming clip with it) loads no sounddevice: only the player needs PortAudio.
"""

from __future__ import annotations

# eager, as the function shadows its module's name here (numpy only); the rest is imported on first use
from studio.audio.resample import resample

__all__ = [
    "EXPORT_FORMATS", "AudioInfo", "AudioLoadError", "ExportError", "ExportFormat", "ExportResult", "PeakPyramid",
    "Player", "PlayerState", "audio_info", "available_formats", "export_audio", "load_audio", "read_recipe",
    "readable_formats", "resample", "sidecar_path", "spectrogram",
]


def __getattr__(name: str):
    if name in ("EXPORT_FORMATS", "ExportError", "ExportFormat", "ExportResult", "available_formats", "export_audio",
                "read_recipe", "sidecar_path"):
        from . import export as home
    elif name in ("AudioInfo", "AudioLoadError", "audio_info", "load_audio", "readable_formats"):
        from . import io as home
    elif name in ("PeakPyramid", "spectrogram"):
        from . import peaks as home
    elif name in ("Player", "PlayerState"):
        from . import player as home
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(home, name)
