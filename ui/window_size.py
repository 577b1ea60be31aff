"""Window sizes capped to the screen: a window or dialog asks for its preferred size and gets what
the screen's available area (less the panel) has room for, less the window manager's title bar and
frame, so its bottom row (Save / Cancel, the bottom banner) is never off screen. A 1280x800 laptop
with a panel, or a 1080p display at 150 % (1280x720 logical pixels), is smaller than several of the
dialogs' preferred sizes.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QApplication, QWidget

TITLE_BAR = 40  # what a window manager's title bar and frame take, in logical pixels
FRAME = 8  # left and right frame together


def fit(preferred: QSize, screen: QScreen | None) -> QSize:
    """`preferred`, or less where the screen has no room for it."""
    if screen is None:
        return preferred
    room = screen.availableGeometry()
    return QSize(max(1, min(preferred.width(), room.width() - FRAME)),
                 max(1, min(preferred.height(), room.height() - TITLE_BAR)))


def resize_to_screen(window: QWidget, width: int, height: int) -> None:
    """window.resize(width, height), capped to the screen the window is (or will be) on."""
    window.resize(fit(QSize(width, height), window.screen() or QApplication.primaryScreen()))
