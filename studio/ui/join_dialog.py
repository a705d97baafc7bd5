"""Take > Join With...: the selected take up to a seam, then another take (or the same one) from a chosen time.

The dialog only gathers the choice; the session checks it and queues the job (:meth:`StudioSession.join_selected`).
"""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox,
                               QWidget)

from studio.state.take_data import TakeSummary


class JoinDialog(QDialog):
    """Pick the second take (from ``takes``: those with a finished top level), its candidate, the seam in ``first``
    and the time in the second take that follows it. ``accepted`` fires with the choice read from :meth:`choice`."""

    def __init__(self, first: TakeSummary, takes: list, at_seconds: float, parent: QWidget = None):
        super().__init__(parent)
        self.setWindowTitle(f"Join {first.name} with another take")
        self.takes = list(takes)
        self.other = QComboBox()
        for summary in self.takes:
            self.other.addItem(f"{summary.name} · {summary.seconds:.2f} s", summary.path)
        self.candidate = QSpinBox(minimum=1)
        self.candidate.setToolTip("The candidate of that take to join on")
        self.at = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=first.seconds, suffix=" s")
        self.at.setToolTip(f"Where {first.name} ends and the other take comes in (default: the playhead)")
        self.at.setValue(at_seconds)
        self.other_at = QDoubleSpinBox(decimals=2, minimum=0.0, suffix=" s")
        self.other_at.setToolTip("The time in the other take that follows the seam (default: the seam's time)")
        form = QFormLayout(self)
        form.addRow(QLabel(f"{first.name} (candidate chosen) up to the seam, then the other take; the lower levels "
                           f"are sampled again around the seam so it is heard as one take."))
        form.addRow("Join with:", self.other)
        form.addRow("Its candidate:", self.candidate)
        form.addRow(f"Seam in {first.name}:", self.at)
        form.addRow("From its time:", self.other_at)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.other.currentIndexChanged.connect(self._other_changed)
        self._other_changed(self.other.currentIndex())
        self.other_at.setValue(at_seconds)

    def _other_changed(self, index: int) -> None:
        summary = self.takes[index] if 0 <= index < len(self.takes) else None
        self.candidate.setMaximum(summary.n_candidates if summary else 1)
        self.candidate.setValue(summary.chosen + 1 if summary and summary.chosen is not None else 1)
        self.other_at.setMaximum(summary.seconds if summary else 0.0)
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(summary is not None)

    def choice(self) -> tuple:
        """(other take folder, its candidate (0-based), seam seconds, seconds in the other take)."""
        return self.other.currentData(), self.candidate.value() - 1, self.at.value(), self.other_at.value()
