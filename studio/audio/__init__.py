"""Audio for Jukebox Studio, Qt-free (numpy, soundfile, sounddevice): loading, resampling, export with the recipe,
peaks and spectrograms for drawing, and the player.

Nothing in this package imports Qt or pyqtgraph; tests/audio/test_no_qt.py checks it.
"""

from studio.audio.export import (
    EXPORT_FORMATS,
    ExportError,
    ExportFormat,
    ExportResult,
    available_formats,
    export_audio,
    read_recipe,
    sidecar_path,
)
from studio.audio.io import AudioInfo, AudioLoadError, audio_info, load_audio, readable_formats
from studio.audio.peaks import PeakPyramid, spectrogram
from studio.audio.player import Player, PlayerState
from studio.audio.resample import resample

__all__ = [
    "EXPORT_FORMATS", "AudioInfo", "AudioLoadError", "ExportError", "ExportFormat", "ExportResult", "PeakPyramid",
    "Player", "PlayerState", "audio_info", "available_formats", "export_audio", "load_audio", "read_recipe",
    "readable_formats", "resample", "sidecar_path", "spectrogram",
]
