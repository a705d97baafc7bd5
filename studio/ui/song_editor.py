"""The song editor: model, artist and genre (completed from the model's own tables, an unknown name answered with the
nearest ones), lyrics, length, candidates, quality (Preview / Full), seed and the priming clip; the engineering figures
(window, sample rate, memory per level, per-level temperatures) sit in a collapsed Details panel. It produces a plain
spec dict; the sampler validates and runs it.
"""

from __future__ import annotations

import html
import random
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from studio.state.lyric_window import window_span_for
from studio.ui.lyrics_edit import LyricsEdit
from studio.ui.prime_clip import PrimeClip

CHOOSE_FOLDER = "Choose model folder..."
QUALITIES = ("Preview (quick sketch)", "Full quality (slower)")  # spec levels "top", "all", in that order


def _completer(names, parent) -> QCompleter:
    c = QCompleter(list(names), parent)
    c.setCaseSensitivity(Qt.CaseInsensitive)
    c.setFilterMode(Qt.MatchContains)
    c.setMaxVisibleItems(12)
    return c


class SongEditor(QWidget):
    model_requested = Signal(str)  # a model name or folder to load; CHOOSE_FOLDER asks the window for a folder
    map_requested = Signal(str)  # "artist" or "genre": show the artist and genre map on that tab
    generate_requested = Signal()
    spec_changed = Signal()
    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.info = None
        self.model_combo = QComboBox()
        self.model_combo.addItems(["demo", CHOOSE_FOLDER])
        self.model_combo.activated.connect(self._model_activated)
        self.model_status = QLabel("No model loaded.")
        self.model_status.setWordWrap(True)
        self.hardware_label = QLabel("")  # the hardware check next to the model picker
        self.hardware_label.setWordWrap(True)
        self.hardware_label.setStyleSheet("color: #666; font-size: 8pt;")
        self.artist = QLineEdit(placeholderText="Artist (type to search the model's list)")
        self.genre = QLineEdit(placeholderText="Genre")
        self.label_warning = QLabel("")  # unknown names, with the nearest known ones as links that fill the field
        self.label_warning.setWordWrap(True)
        self.label_warning.setTextFormat(Qt.RichText)
        self.label_warning.setStyleSheet("color: #b35c00;")
        self.label_warning.linkActivated.connect(self._use_suggestion)
        self._label_messages: list[str] = []
        self.lyrics = LyricsEdit()
        self.lyrics.setMinimumHeight(110)
        self.window_label = QLabel("")
        self.window_label.setWordWrap(True)
        self.seconds = QDoubleSpinBox(decimals=3, minimum=0.05, maximum=1200.0, value=20.0, suffix=" s")
        self.song_seconds = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=1200.0, value=0.0, suffix=" s")
        self.song_seconds.setSpecialValueText("same as length")
        self.song_seconds.setToolTip("The whole song's length, which places this part in time (lyrics, timing).")
        self.candidates = QSpinBox(minimum=1, maximum=16, value=3)
        self.candidates.setToolTip("How many versions to write side by side; audition them and keep the best")
        self.levels = QComboBox()  # the quality: spec levels "top" (Preview) or "all" (Full)
        self.levels.addItems(list(QUALITIES))
        self.levels.setToolTip("Preview writes a quick sketch (the model's top level only); upsample the candidate "
                               "you like to full quality later, or choose Full to write every level now")
        self.temps = {}
        temp_row = QHBoxLayout()
        for level, default in ((2, 0.98), (1, 0.99), (0, 0.99)):
            spin = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=2.0, singleStep=0.01, value=default)
            spin.setToolTip(f"Sampling temperature of level {level} ({'top' if level == 2 else 'upsampler'})")
            self.temps[level] = spin
            temp_row.addWidget(QLabel(f"L{level}"))
            temp_row.addWidget(spin)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=random.SystemRandom().randrange(2**31))
        self.reroll = QPushButton("New seed")
        self.reroll.clicked.connect(lambda: self.seed.setValue(random.SystemRandom().randrange(2**31)))
        self.lock_seed = QCheckBox("Keep")
        self.lock_seed.setToolTip("Keep this seed for the next generation (otherwise a new one is drawn each time)")
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.lock_seed)
        seed_row.addWidget(self.reroll)
        self.prime = PrimeClip()
        self.prime.message.connect(self.message)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setDefault(True)
        self.generate_button.clicked.connect(self.generate_requested)

        self.model_figures = QLabel("")  # window length and sample rate of the loaded model
        self.model_figures.setWordWrap(True)
        self.details_button = QToolButton(text="Details", checkable=True, arrowType=Qt.RightArrow)
        self.details_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.details_button.setAutoRaise(True)
        self.details_button.toggled.connect(self.show_details)
        self.details = QWidget()  # the engineering figures, collapsed until asked for
        details = QFormLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.addRow("Model", self.model_figures)
        details.addRow("Memory", self.hardware_label)
        details.addRow("Temperature", temp_row)
        self.details.setVisible(False)

        form = QFormLayout()
        form.addRow("Model", self.model_combo)
        form.addRow("", self.model_status)
        self.map_buttons = {}
        for kind, field in (("artist", self.artist), ("genre", self.genre)):
            button = QToolButton(text="Map", toolTip=f"Browse the model's {kind}s on the artist and genre map")
            button.clicked.connect(lambda _=False, kind=kind: self.map_requested.emit(kind))
            self.map_buttons[kind] = button
            row = QHBoxLayout()
            row.addWidget(field, 1)
            row.addWidget(button)
            form.addRow(kind.capitalize(), row)
        form.addRow("", self.label_warning)
        form.addRow("Lyrics", self.lyrics)
        form.addRow("", self.window_label)
        form.addRow("Length", self.seconds)
        form.addRow("Whole song", self.song_seconds)
        form.addRow("Candidates", self.candidates)
        form.addRow("Quality", self.levels)
        form.addRow("Seed", seed_row)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.prime)
        lay.addWidget(self.details_button)
        lay.addWidget(self.details)
        lay.addWidget(self.generate_button)
        lay.addStretch(1)

        for w in (self.artist, self.genre):
            w.textChanged.connect(self._check_labels)
        self.lyrics.textChanged.connect(self._update_window)
        self.seconds.valueChanged.connect(self._update_window)
        self.song_seconds.valueChanged.connect(self._update_window)
        self.lyrics.unreadable_changed.connect(self._update_window)
        for w in (self.artist, self.genre):
            w.textChanged.connect(self.spec_changed)
        self.lyrics.textChanged.connect(self.spec_changed)
        for w in (self.seconds, self.song_seconds, *self.temps.values()):
            w.valueChanged.connect(self.spec_changed)
        self.candidates.valueChanged.connect(self.spec_changed)
        self.prime.changed.connect(self.spec_changed)
        self.set_model_info(None)

    # -- model ------------------------------------------------------------------------------------------------------
    def _model_activated(self, index: int) -> None:
        self.model_requested.emit(self.model_combo.itemText(index))

    def add_model_source(self, source: str) -> None:
        """Put a model name or folder in the picker (before 'Choose model folder...') and select it."""
        i = self.model_combo.findText(source)
        if i < 0:
            i = self.model_combo.count() - 1
            self.model_combo.insertItem(i, source)
        self.model_combo.setCurrentIndex(i)

    def set_model_status(self, text: str, error: bool = False) -> None:
        self.model_status.setText(text)
        self.model_status.setStyleSheet("color: #c0392b;" if error else "")

    def set_model_info(self, info) -> None:
        """Bind the fields to a loaded model (a ModelInfo), or to none."""
        self.info = info
        self.artist.setCompleter(_completer(info.artists if info else (), self.artist))
        self.genre.setCompleter(_completer(info.genres if info else (), self.genre))
        self.lyrics.set_checker(info.outside if info is not None else (lambda text: []))
        self.lyrics.setEnabled(info is None or info.has_lyrics)
        self.generate_button.setEnabled(info is not None)
        if info is not None:
            self.add_model_source(info.source)
            for level, value in enumerate(info.temperature):  # the model's own defaults (its sampling.json)
                self.temps[level].setValue(float(value))
            fit = ("Fits this machine." if info.hardware_fits else "DOES NOT FIT this machine: see Details.") \
                if info.hardware else ""
            self.set_model_status(f"{info.name}: {len(info.artists)} artists, {len(info.genres)} genres, "
                                  f"{'sings lyrics' if info.has_lyrics else 'no lyrics'}. {fit}")
            self.model_figures.setText(f"window {info.window_seconds():.2f} s at {info.sr} Hz, levels "
                                       f"{', '.join(str(h) for h in reversed(info.hop_lengths))} samples a code")
            self.hardware_label.setText("\n".join(line.strip() for line in info.hardware))
            self.hardware_label.setStyleSheet(f"color: {'#666' if info.hardware_fits else '#c0392b'}; font-size: 8pt;")
        self._check_labels()
        self._update_window()

    def show_details(self, on: bool) -> None:
        """Open or collapse the Details panel (window, sample rate, memory per level, per-level temperatures)."""
        self.details_button.setChecked(on)
        self.details_button.setArrowType(Qt.DownArrow if on else Qt.RightArrow)
        self.details.setVisible(on)

    # -- checks ----------------------------------------------------------------------------------------------------
    def _check_labels(self) -> None:
        """Say which names the model does not know, each with its nearest known names as links that fill the field."""
        labeller = self.info.labeller if self.info is not None else None
        if labeller is None:
            self._label_messages = []
            self.label_warning.setText("")
            return
        unknown = labeller.resolve(self.artist.text().strip(), self.genre.text().strip(), "").unknown
        self._label_messages = [u.message() for u in unknown]
        lines = []
        for u in unknown:
            field = "artist" if u.kind == "artist" else "genre"
            links = " · ".join(f'<a href="{field}:{html.escape(s, quote=True)}">{html.escape(s)}</a>'
                               for s in u.readable_suggestions)
            lines.append(html.escape(u.message(), quote=False) + (f"<br>Use: {links}" if links else ""))
        self.label_warning.setText("<br>".join(lines))

    def label_warnings(self) -> list[str]:
        """The unknown-name messages shown under the artist and genre fields."""
        return list(self._label_messages)

    def _use_suggestion(self, link: str) -> None:
        """A suggested name was clicked: put it in its field (a genre word replaces only the unknown word)."""
        field, _, name = link.partition(":")
        if field == "artist":
            self.artist.setText(name)
            return
        unknown = {u.name for u in self.info.labeller.resolve("", self.genre.text().strip(), "").unknown}
        words = self.genre.text().split()
        if len(words) > 1 and any(w.lower() in unknown for w in words):
            self.genre.setText(" ".join(name if w.lower() in unknown else w for w in words))
        else:
            self.genre.setText(name)

    def _update_window(self, *_args, window_start: int = 0) -> None:
        self.show_window(window_start)

    def show_window(self, window_start_tokens: int = 0, label: str = "The first window") -> Optional[tuple]:
        """Shade the lyrics a top-level window sees and say how much of them it is."""
        text = self.lyrics.toPlainText()
        song = self.song_seconds.value() or None
        span = window_span_for(text, self.info, self.seconds.value(), song, window_start_tokens)
        self.lyrics.set_window_span(span)
        parts = []
        if span is not None:
            parts.append(f"{label} sees characters {span[0] + 1}-{span[1]} of {len(text)} (shaded).")
        if self.lyrics.unreadable:
            chars = "".join(sorted({c for _, c in self.lyrics.unreadable}))
            parts.append(f"Red: {len(self.lyrics.unreadable)} character(s) the model cannot read ({chars!r}); "
                         f"they will be dropped. Replace them or remove them.")
        self.window_label.setText(" ".join(parts))
        return span

    # -- spec --------------------------------------------------------------------------------------------------------
    def _temperature(self):
        """The three temperatures, or None (the model's own) while they are the values the model came with."""
        temps = [self.temps[0].value(), self.temps[1].value(), self.temps[2].value()]
        own = [round(t, 2) for t in self.info.temperature] if self.info is not None else None
        return None if temps == own else temps

    def spec(self) -> dict:
        """The spec as SongSpec fields (levels 0, 1, 2 for temperatures)."""
        prime = self.prime.prime()
        return {
            "seconds": round(self.seconds.value(), 3),
            "model": self.info.name if self.info else self.model_combo.currentText(),
            "artist": self.artist.text().strip() or "unknown",
            "genre": self.genre.text().strip() or "unknown",
            "lyrics": self.lyrics.toPlainText(),
            "candidates": self.candidates.value(),
            "levels": "all" if self.levels.currentIndex() == 1 else "top",
            "temperature": self._temperature(),
            "seed": self.seed.value(),
            "song_seconds": self.song_seconds.value() or None,
            "prime": prime,
        }

    def set_spec(self, spec: dict) -> None:
        """Fill the fields from a saved spec (unknown keys are ignored)."""
        if not spec:
            return
        self.seconds.setValue(float(spec.get("seconds", self.seconds.value())))
        for field, value in ((self.artist, spec.get("artist") or ""), (self.genre, spec.get("genre") or "")):
            field.setText("" if value == "unknown" else str(value))
        self.lyrics.setPlainText(spec.get("lyrics", ""))
        self.candidates.setValue(int(spec.get("candidates", self.candidates.value())))
        self.levels.setCurrentIndex(1 if spec.get("levels") == "all" else 0)
        temps = spec.get("temperature") or []
        for level in (0, 1, 2):
            if level < len(temps):
                self.temps[level].setValue(float(temps[level]))
        if spec.get("seed") is not None:
            self.seed.setValue(int(spec["seed"]))
        self.song_seconds.setValue(float(spec.get("song_seconds") or 0.0))
        prime = spec.get("prime")
        if prime and prime.get("file"):
            self.prime.set_file(prime["file"], prime.get("start", 0.0), prime.get("end"))
        elif "prime" in spec:  # a recipe made without a clip: the one loaded now is not part of it
            self.prime.clear()

    def next_seed(self) -> None:
        """After a generation starts: draw a new seed unless the user keeps this one."""
        if not self.lock_seed.isChecked():
            self.seed.setValue(random.SystemRandom().randrange(2**31))
