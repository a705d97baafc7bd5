"""Generate > Run Jobs On...: this computer, or a Ray cluster at an address, with a connection test (docs/FARM.md)."""

from __future__ import annotations

from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QRadioButton, QVBoxLayout)

EXAMPLE = "192.168.1.10:6379"


class RunTargetDialog(QDialog):
    """Edits the session's "Run jobs on" setting; the test runs in the sampler process, where Ray lives."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Run Jobs On")
        self.local = QRadioButton("This computer")
        self.cluster = QRadioButton("A Ray cluster at:")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.cluster)
        self.address = QLineEdit(session.run_target)
        self.address.setPlaceholderText(f"{EXAMPLE}, ray://host:10001 or auto")
        self.test_button = QPushButton("Test connection")
        self.result = QLabel("Every machine of the cluster needs Ray and the model folder at the same path "
                             "(docs/FARM.md).")
        self.result.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.Ok)
        at = QHBoxLayout()
        at.addWidget(self.cluster)
        at.addWidget(self.address, 1)
        at.addWidget(self.test_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.local)
        lay.addLayout(at)
        lay.addWidget(self.result)
        lay.addWidget(buttons)
        (self.cluster if session.run_target else self.local).setChecked(True)
        self.cluster.toggled.connect(self._update)
        self.address.textChanged.connect(self._update)
        self.test_button.clicked.connect(self.test)
        session.farm_checked.connect(self._checked)
        self._update()

    def chosen(self) -> str:
        """The address the dialog names, or '' for this computer."""
        return self.address.text().strip() if self.cluster.isChecked() else ""

    def _update(self) -> None:
        on_cluster = self.cluster.isChecked()
        self.address.setEnabled(on_cluster)
        self.test_button.setEnabled(on_cluster and bool(self.address.text().strip()))
        self.ok_button.setEnabled(not on_cluster or bool(self.address.text().strip()))

    def test(self) -> None:
        self.result.setText(f"Connecting to {self.address.text().strip()}...")
        self.result.setStyleSheet("")
        self.test_button.setEnabled(False)
        self.session.check_farm(self.address.text())

    def _checked(self, ok: bool, message: str) -> None:
        self.result.setText(message)
        self.result.setStyleSheet("" if ok else "color: #b00020")
        self._update()

    def accept(self) -> None:
        if self.chosen() != self.session.run_target:
            self.session.set_run_target(self.chosen())
        super().accept()

    def done(self, result: int) -> None:
        self.session.farm_checked.disconnect(self._checked)
        super().done(result)
