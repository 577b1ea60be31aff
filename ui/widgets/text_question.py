"""A one-line question (a reason, a media label) in a dialog with its window's classification banners."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from ui.banner import add_banners, window_marking


class TextQuestion(QDialog):
    def __init__(self, title: str, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        question = QLabel(label)
        question.setTextFormat(Qt.TextFormat.PlainText)  # questions quote data: never markup
        question.setWordWrap(True)
        self.edit = QLineEdit()
        question.setBuddy(self.edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(question)
        layout.addWidget(self.edit)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
        add_banners(self, window_marking(parent))

    def textValue(self) -> str:
        return self.edit.text()
