"""Classification banner shown at the top and bottom of every window (DOMAIN.md section 7)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from app.model.errors import ValidationError
from app.model.markings import Marking


def banner_style(marking_text: str) -> tuple[str, str, str]:
    """(display text, background, foreground). Unreadable markings fall back to a loud grey."""
    try:
        marking = Marking.parse(marking_text)
    except ValidationError:
        return marking_text.upper() or "UNMARKED", "#5a5a5a", "#ffffff"
    bg, fg = marking.colours()
    return marking.banner(), bg, fg


class ClassificationBanner(QLabel):
    def __init__(self, marking_text: str = "UNCLASSIFIED", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classificationBanner")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setFixedHeight(24)
        self.set_marking(marking_text)

    def set_marking(self, marking_text: str) -> None:
        text, bg, fg = banner_style(marking_text)
        self.setText(text)
        self.setAccessibleName(f"Classification: {text}")
        self.setStyleSheet(
            f"QLabel#classificationBanner {{ background: {bg}; color: {fg}; font-weight: bold;"
            " letter-spacing: 1px; font-size: 12px; }"
        )
