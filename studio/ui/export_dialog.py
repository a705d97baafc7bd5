"""The export dialog: which audio (final or one level, which candidate), the format and how a DAW wants it (rate, bit
depth, loudness, fades), the lyrics file, and where, with the full destination shown before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout)

from studio.audio.export import EXPORT_FORMATS, available_formats
from studio.audio.mastering import DEFAULT_LUFS, ExportOptions
from studio.state.export_job import WIDE_KIND, channels_label
from studio.state.export_settings import ExportSettings

COMMON_RATES = (44100, 48000)
DEPTH_LABELS = {16: "16-bit", 24: "24-bit", 32: "32-bit float"}


@dataclass(frozen=True)
class ExportChoice:
    """What the user chose: candidate (0-based), level (None: the finest available), the file, the settings to
    remember, and whether this export writes the lyrics file."""

    candidate: int
    level: Optional[int]
    path: Path
    settings: ExportSettings
    lyrics: bool


class ExportDialog(QDialog):
    """``choice()`` -> ExportChoice; ``settings`` are the project's remembered export choices; ``kind`` the take's
    plan kind (a wide take's two rows are the file's two channels, so no candidate is chosen then)."""

    def __init__(self, take_name: str, n_candidates: int, levels_with_audio, candidate: int,
                 settings: ExportSettings, folder: "str | Path", source_sr: int, has_alignment: bool, parent=None,
                 kind: str = "generate"):
        super().__init__(parent)
        self.setWindowTitle(f"Export {take_name}")
        self._take_name = take_name
        self._keep_lyrics = settings.lyrics  # remembered for the next take even when this one has no lyrics
        self.formats = available_formats()
        opts = settings.options
        self.level_combo = QComboBox()
        self.level_combo.addItem("Final (best level available)", None)
        for lv in sorted(levels_with_audio):
            self.level_combo.addItem(f"Level {lv}" + (" (top, coarse)" if lv == max(levels_with_audio) else ""), lv)
        self.candidate = QSpinBox(minimum=1, maximum=max(1, n_candidates), value=candidate + 1)
        stereo = kind == WIDE_KIND
        self.candidate.setEnabled(not stereo)
        if stereo:
            self.candidate.setToolTip("Both sides of this wide take are exported: 1 left, 2 right")
        self.channels = QLabel(channels_label(kind))
        self.format_combo = QComboBox()
        for name in self.formats:
            self.format_combo.addItem(EXPORT_FORMATS[name].label, name)
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(settings.fmt)))
        self.rate_combo = QComboBox()
        for rate in sorted({*COMMON_RATES, int(source_sr)}):
            self.rate_combo.addItem(f"{rate / 1000:g} kHz" + (" (as generated)" if rate == source_sr else ""), rate)
        self.rate_combo.setCurrentIndex(max(0, self.rate_combo.findData(opts.sample_rate or int(source_sr))))
        self.depth_combo = QComboBox()
        self._wanted_depth = opts.bit_depth
        self.normalise = QCheckBox("Normalise to")
        self.normalise.setChecked(opts.loudness is not None)
        self.lufs = QDoubleSpinBox(decimals=1, minimum=-40.0, maximum=-5.0, singleStep=0.5, suffix=" LUFS",
                                   value=opts.loudness if opts.loudness is not None else DEFAULT_LUFS)
        self.lufs.setToolTip("Integrated loudness (ITU-R BS.1770); peaks are kept under -1 dBFS")
        self.normalise.toggled.connect(self.lufs.setEnabled)
        self.lufs.setEnabled(self.normalise.isChecked())
        self.fade_in = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=30.0, singleStep=0.1, suffix=" s",
                                      value=opts.fade_in)
        self.fade_out = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=30.0, singleStep=0.1, suffix=" s",
                                       value=opts.fade_out)
        self.lyrics = QCheckBox("Lyrics as .lrc, timed from the lyric alignment")
        self.lyrics.setChecked(settings.lyrics and has_alignment)
        self.lyrics.setEnabled(has_alignment)
        if not has_alignment:
            self.lyrics.setToolTip("This take has no lyric alignment (its model sings no lyrics)")
        self.folder = QLineEdit(str(folder))
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        self.name = QLineEdit(f"{take_name}-stereo" if stereo else f"{take_name}-c{candidate + 1}")
        self.destination = QLabel()
        self.destination.setWordWrap(True)
        self.destination.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self._build_layout(browse)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.candidate.valueChanged.connect(self._candidate_changed)
        for edit in (self.folder, self.name):
            edit.textChanged.connect(self._show_destination)
        self.lyrics.toggled.connect(self._show_destination)
        self._format_changed()

    def _build_layout(self, browse: QPushButton) -> None:
        loud = QHBoxLayout()
        loud.addWidget(self.normalise)
        loud.addWidget(self.lufs, 1)
        fades = QHBoxLayout()
        fades.addWidget(QLabel("in"))
        fades.addWidget(self.fade_in, 1)
        fades.addWidget(QLabel("out"))
        fades.addWidget(self.fade_out, 1)
        where = QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("Audio", self.level_combo)
        form.addRow("Candidate", self.candidate)
        form.addRow("Channels", self.channels)
        form.addRow("Format", self.format_combo)
        form.addRow("Sample rate", self.rate_combo)
        form.addRow("Bit depth", self.depth_combo)
        form.addRow("Loudness", loud)
        form.addRow("Fade", fades)
        form.addRow("", self.lyrics)
        form.addRow("Folder", where)
        form.addRow("File name", self.name)
        note = QLabel("The whole recipe (model, artist, genre, lyrics, temperatures, seed, candidate, lineage) goes "
                      "into the file's metadata and a .json sidecar beside it; drop the file on the takes browser to "
                      "use its settings again."
                      + ("" if "mp3" in self.formats else " MP3 is not offered: this libsndfile cannot write it."))
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.export_button = buttons.button(QDialogButtonBox.Ok)
        self.export_button.setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.destination)
        lay.addWidget(note)
        lay.addWidget(buttons)

    # -- reactions ---------------------------------------------------------------------------------------------------
    def _format_changed(self) -> None:
        spec = EXPORT_FORMATS[self.format_combo.currentData()]
        current = self.depth_combo.currentData() or self._wanted_depth
        self.depth_combo.clear()
        for depth, _subtype in spec.depths:
            self.depth_combo.addItem(DEPTH_LABELS[depth], depth)
        if not spec.depths:
            self.depth_combo.addItem("set by the encoder (lossy)", None)
        index = self.depth_combo.findData(current)
        self.depth_combo.setCurrentIndex(index if index >= 0 else self.depth_combo.count() - 1)
        self.depth_combo.setEnabled(bool(spec.depths))
        self._show_destination()

    def _candidate_changed(self, value: int) -> None:
        if self.name.text().startswith(f"{self._take_name}-c"):
            self.name.setText(f"{self._take_name}-c{value}")

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def path(self) -> Path:
        """The full destination: folder / name + the format's extension."""
        ext = EXPORT_FORMATS[self.format_combo.currentData()].extension
        stem = self.name.text().strip()
        stem = stem[: -len(ext)] if stem.lower().endswith(ext) else stem
        return Path(self.folder.text().strip()).expanduser() / (stem + ext)

    def _show_destination(self) -> None:
        ok = bool(self.name.text().strip()) and bool(self.folder.text().strip())
        self.export_button.setEnabled(ok)
        if not ok:
            self.destination.setText("Name the file and its folder.")
            return
        target = self.path()
        extra = f" and {target.with_suffix('.lrc').name}" if self.lyrics.isChecked() else ""
        self.destination.setText(f"Saves to: {target}{extra}")

    def choice(self) -> ExportChoice:
        depth = self.depth_combo.currentData()
        options = ExportOptions(sample_rate=self.rate_combo.currentData(),
                                bit_depth=depth if depth is not None else self._wanted_depth,
                                loudness=self.lufs.value() if self.normalise.isChecked() else None,
                                fade_in=self.fade_in.value(), fade_out=self.fade_out.value())
        lyrics = self.lyrics.isChecked() if self.lyrics.isEnabled() else self._keep_lyrics  # a take without lyrics
        settings = ExportSettings(folder=self.folder.text().strip(), fmt=self.format_combo.currentData(),
                                  lyrics=lyrics, options=options)
        return ExportChoice(self.candidate.value() - 1, self.level_combo.currentData(), self.path(), settings,
                            self.lyrics.isChecked())
