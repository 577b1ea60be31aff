"""A toolbar row that wraps onto a second line instead of widening the window (Qt's FlowLayout
example, with the QHBoxLayout calls toolbars use: addWidget(w, stretch), addStretch, addSpacing).

Its minimum width is that of its widest item, so a row of buttons never sets the window's minimum
size. Stretch is honoured within a line: the stretch factors of a line share its spare width.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QSpacerItem, QWidget, QWidgetItem


class FlowLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._stretch: list[int] = []
        self._spacing = spacing
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    # -- the QHBoxLayout-like API used by toolbars ---------------------------------------------
    def addWidget(self, widget: QWidget, stretch: int = 0, _alignment: object = None) -> None:
        self.addChildWidget(widget)
        self._items.append(QWidgetItem(widget))
        self._stretch.append(stretch)
        self.invalidate()

    def addStretch(self, stretch: int = 0) -> None:
        """A line break hint is not needed in a flow; a stretch becomes flexible space in its line."""
        self._items.append(QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum))
        self._stretch.append(max(1, stretch))
        self.invalidate()

    def addSpacing(self, size: int) -> None:
        self._items.append(QSpacerItem(size, 0, QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum))
        self._stretch.append(0)
        self.invalidate()

    # -- QLayout -----------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self._stretch.append(0)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if 0 <= index < len(self._items):
            self._stretch.pop(index)
            return self._items.pop(index)
        return None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._do_layout(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._do_layout(rect, apply=True)

    def sizeHint(self) -> QSize:
        """One line: the width of everything side by side."""
        visible = self._visible()
        width = sum(item.sizeHint().width() for item, _ in visible) + self._spacing * max(0, len(visible) - 1)
        height = max((item.sizeHint().height() for item, _ in visible), default=0)
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:
        size = QSize()
        for item, _ in self._visible():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _visible(self) -> list[tuple[QLayoutItem, int]]:
        out = []
        for item, stretch in zip(self._items, self._stretch, strict=True):
            w = item.widget()
            if w is not None and w.isHidden():
                continue
            out.append((item, stretch))
        return out

    def _do_layout(self, rect: QRect, apply: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        lines: list[list[tuple[QLayoutItem, int]]] = [[]]
        used = 0
        for item, stretch in self._visible():
            w = item.sizeHint().width()
            if lines[-1] and used + self._spacing + w > area.width():
                lines.append([])
                used = 0
            used += (self._spacing if lines[-1] else 0) + w
            lines[-1].append((item, stretch))
        y = area.y()
        for line in lines:
            if not line:
                continue
            natural = sum(i.sizeHint().width() for i, _ in line) + self._spacing * (len(line) - 1)
            spare = max(0, area.width() - natural)
            total_stretch = sum(s for _, s in line)
            height = max(i.sizeHint().height() for i, _ in line)
            x = area.x()
            for item, stretch in line:
                w = item.sizeHint().width() + (spare * stretch // total_stretch if total_stretch else 0)
                w = min(w, area.width())
                if apply:
                    h = item.sizeHint().height()
                    item.setGeometry(QRect(QPoint(x, y + (height - h) // 2), QSize(w, h)))
                x += w + self._spacing
            y += height + self._spacing
        return y - self._spacing - area.y() + m.top() + m.bottom()
