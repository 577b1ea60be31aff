"""Classification banner shown at the top and bottom of every window (DOMAIN.md section 7)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLayoutItem,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import ValidationError
from app.model.markings import Marking
from ui import theme


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
        self.setStyleSheet(theme.banner(bg, fg))


TOP_NAME, BOTTOM_NAME = "topBanner", "bottomBanner"


def portion_text(marking_text: str) -> str:
    """The portion mark a table cell shows for a stored marking ('SECRET//NOFORN' -> '(S//NF)'); an
    unreadable one is shown as it is."""
    try:
        return Marking.parse(marking_text).portion()
    except ValidationError:
        return marking_text


def add_banners(widget: QWidget, marking_text: str) -> tuple[ClassificationBanner, ClassificationBanner]:
    """Put the classification banners on the first and last line of a dialog's existing layout
    (issue 12): box, form and grid layouts are extended in place, so callers build their dialog as
    usual and call this last. Returns (top, bottom) for updating the marking later."""
    top, bottom = ClassificationBanner(marking_text), ClassificationBanner(marking_text)
    top.setProperty("bannerRole", TOP_NAME)
    bottom.setProperty("bannerRole", BOTTOM_NAME)
    layout = widget.layout()
    if layout is None:
        layout = QVBoxLayout(widget)
    if isinstance(layout, QBoxLayout):
        layout.insertWidget(0, top)
        layout.addWidget(bottom)
    elif isinstance(layout, QFormLayout):
        layout.insertRow(0, top)
        layout.addRow(bottom)
    elif isinstance(layout, QGridLayout):
        _shift_grid(layout)
        columns = max(1, layout.columnCount())
        layout.addWidget(top, 0, 0, 1, columns)
        layout.addWidget(bottom, layout.rowCount(), 0, 1, columns)
    else:
        raise TypeError(f"cannot place banners in a {type(layout).__name__}")
    return top, bottom


def _shift_grid(grid: QGridLayout) -> None:
    """Move every item of a grid one row down, freeing row 0 for the top banner."""
    placed: list[tuple[QLayoutItem, int, int, int, int]] = []
    while grid.count():
        position: tuple[int, int, int, int] = grid.getItemPosition(grid.count() - 1)  # type: ignore[assignment]
        item = grid.takeAt(grid.count() - 1)
        if item is not None:
            placed.append((item, *position))
    for item, row, col, rows, cols in reversed(placed):
        grid.addItem(item, row + 1, col, rows, cols)


def banners_of(widget: QWidget) -> list[ClassificationBanner]:
    """The classification banners of a window or dialog, top to bottom (for tests and updates)."""
    found = [b for b in widget.findChildren(ClassificationBanner) if b.window() is widget.window()]
    return sorted(found, key=lambda b: b.mapTo(widget.window(), b.rect().topLeft()).y())


SYSTEM_HIGH_PROPERTY = "frontierSystemHigh"


def remember_system_high(marking_text: str) -> None:
    """Windows that know the workstation's system-high record it for dialogs opened without a parent."""
    app = QApplication.instance()
    if app is not None:
        app.setProperty(SYSTEM_HIGH_PROPERTY, marking_text)


def window_marking(parent: QWidget | None) -> str:
    """The banner text of the window a dialog opens over, else the workstation's system-high (a dialog
    can show at most what its window shows); '' (shown as UNMARKED) when neither is known."""
    if parent is not None:
        shown = banners_of(parent.window())
        if shown:
            return shown[0].text()
    app = QApplication.instance()
    value = app.property(SYSTEM_HIGH_PROPERTY) if app is not None else None
    return value if isinstance(value, str) else ""
