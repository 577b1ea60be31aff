"""The main window's screen stack. Each screen sits in its own scroll area, so no screen's minimum
size can ever widen or heighten the window (a screen once shown used to push the window's minimum
width to 1,627 px). Scroll bars appear only when the window is smaller than a screen can shrink to.

A screen whose layout wraps text (height for width) would otherwise be as tall as its preferred
size, not its minimum: one that overrides heightForWidth with `fitting_height` fills its area and
scrolls only when it cannot shrink that far (tables share the height instead).

Callers deal in screens: addWidget/removeWidget/setCurrentWidget/currentWidget take and return the
screen itself, never its scroll area.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QStackedWidget, QWidget


def fitting_height(screen: QWidget, width: int) -> int:
    """For a screen's heightForWidth: the least height its layout needs at `width` (the scroll area
    then gives it the whole viewport when that is more)."""
    layout = screen.layout()
    return layout.totalMinimumHeightForWidth(width) if layout is not None else screen.minimumSizeHint().height()


class ScreenStack(QStackedWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hosts: dict[QWidget, QScrollArea] = {}

    def addWidget(self, screen: QWidget) -> int:
        host = QScrollArea()
        host.setObjectName(f"scroll_{screen.objectName()}" if screen.objectName() else "screenScroll")
        host.setWidgetResizable(True)
        host.setFrameShape(QFrame.Shape.NoFrame)
        # The empty host joins the stack first: a built screen is reparented once, not twice (with
        # the application style sheet every reparenting re-resolves the style of the whole subtree).
        index = super().addWidget(host)
        host.setWidget(screen)
        self._hosts[screen] = host
        return index

    def removeWidget(self, screen: QWidget) -> None:
        host = self._hosts.pop(screen, None)
        if host is None:
            super().removeWidget(screen)
            return
        super().removeWidget(host)
        host.takeWidget()  # the caller owns the screen (and deletes it); the empty host goes now
        host.deleteLater()

    def setCurrentWidget(self, screen: QWidget) -> None:
        super().setCurrentWidget(self._hosts.get(screen, screen))

    def currentWidget(self) -> QWidget | None:
        host = super().currentWidget()
        if isinstance(host, QScrollArea) and host.widget() in self._hosts:
            return host.widget()
        return host

    def host_of(self, screen: QWidget) -> QScrollArea | None:
        return self._hosts.get(screen)
