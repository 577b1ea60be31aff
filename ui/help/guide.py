"""Help > User guide: the guide shipped with the application (ui/help/user_guide.md), shown as
rendered Markdown. Links are never followed: an isolated workstation has nowhere to go."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QTextBrowser, QVBoxLayout, QWidget

GUIDE = Path(__file__).with_name("user_guide.md")


def guide_markdown() -> str:
    return GUIDE.read_text(encoding="utf-8")


class UserGuide(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("User guide")
        self.resize(860, 720)
        self.find_box = QLineEdit()
        self.find_box.setPlaceholderText("Find in the guide…")
        self.find_box.setAccessibleName("Find in the guide")
        self.find_box.returnPressed.connect(self.find_next)
        self.browser = QTextBrowser()
        self.browser.setObjectName("userGuide")
        self.browser.setAccessibleName("User guide")
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.setMarkdown(guide_markdown())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.find_box)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)

    def find_next(self) -> bool:
        text = self.find_box.text()
        if not text:
            return False
        if self.browser.find(text):
            return True
        self.browser.moveCursor(self.browser.textCursor().MoveOperation.Start)
        return bool(self.browser.find(text))
