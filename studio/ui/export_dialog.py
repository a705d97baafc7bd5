"""The export dialog: which audio (final or one level, which candidate), the format, and where."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QVBoxLayout)

from studio.audio.export import EXPORT_FORMATS, available_formats


class ExportDialog(QDialog):
    """``choice()`` -> (candidate, level or None for final, path, format name)."""

    def __init__(self, take_name: str, n_candidates: int, levels_with_audio, candidate: int, folder: str,
                 parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Export {take_name}")
        self.formats = available_formats()
        self.format_combo = QComboBox()
        for name in self.formats:
            self.format_combo.addItem(EXPORT_FORMATS[name].label, name)
        self.level_combo = QComboBox()
        self.level_combo.addItem("Final (best level available)", None)
        for lv in sorted(levels_with_audio):
            self.level_combo.addItem(f"Level {lv}" + (" (top, coarse)" if lv == max(levels_with_audio) else ""), lv)
        self.candidate = QSpinBox(minimum=1, maximum=max(1, n_candidates), value=candidate + 1)
        self.path = QLineEdit(str(Path(folder) / f"{take_name}-c{candidate + 1}.{self.formats[0]}"))
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.candidate.valueChanged.connect(self._format_changed)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Audio", self.level_combo)
        form.addRow("Candidate", self.candidate)
        form.addRow("Format", self.format_combo)
        form.addRow("File", row)
        note = QLabel("The whole recipe (model, artist, genre, lyrics, temperatures, seed, lineage) goes into the "
                      "file's metadata and a .json sidecar beside it."
                      + ("" if "mp3" in self.formats else " MP3 is not offered: this libsndfile cannot write it."))
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(buttons)
        self._take_name = take_name

    def _format_changed(self) -> None:
        fmt = self.format_combo.currentData()
        p = Path(self.path.text())
        stem = p.stem
        if stem.startswith(self._take_name):
            stem = f"{self._take_name}-c{self.candidate.value()}"
        self.path.setText(str(p.with_name(stem + EXPORT_FORMATS[fmt].extension)))

    def _browse(self) -> None:
        fmt = self.format_combo.currentData()
        ext = EXPORT_FORMATS[fmt].extension
        path, _ = QFileDialog.getSaveFileName(self, "Export as", self.path.text(), f"{fmt.upper()} (*{ext})")
        if path:
            self.path.setText(path if path.lower().endswith(ext) else path + ext)

    def choice(self) -> tuple:
        return (self.candidate.value() - 1, self.level_combo.currentData(), self.path.text(),
                self.format_combo.currentData())
