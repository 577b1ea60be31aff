"""Help > About: what is running (version, the commit it was built from, Python and Qt) and where its
data lives, in plain text a reviewer can copy into a support note."""

from __future__ import annotations

import platform

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app import __version__
from app.build_info import build_hash


def about_lines(workstation_name: str = "", data_dir: str = "") -> list[tuple[str, str]]:
    lines = [
        ("Version", __version__),
        ("Build", build_hash()),
        ("Python", platform.python_version()),
        ("Qt / PySide6", f"{qVersion()} / {PySide6.__version__}"),
    ]
    if workstation_name:
        lines.append(("Workstation", workstation_name))
    if data_dir:
        lines.append(("Data folder", data_dir))
    return lines


class AboutDialog(QDialog):
    def __init__(self, workstation_name: str = "", data_dir: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Frontier Review")
        layout = QVBoxLayout(self)
        title = QLabel("Frontier Review Workstation")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        layout.addWidget(QLabel("Assessment of frontier AI models on an isolated workstation. "
                                "It never opens a network connection."))
        self.details = QLabel("\n".join(f"{k}: {v}" for k, v in about_lines(workstation_name, data_dir)))
        self.details.setObjectName("aboutDetails")
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                             | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
