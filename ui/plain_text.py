"""Untrusted text is never markup: every label is plain text and every tooltip is shown escaped.

Qt guesses rich text (Qt::mightBeRichText) for a QLabel in its default AutoText format and for
every tooltip, so a file name, model output or partner advisory containing `<img src=...>` or a
giant table would be interpreted: resources loaded, huge images allocated, the app aborted.
Rather than trusting each of the many call sites, one application-wide event filter:

- makes each QLabel PlainText when it is first polished (no label here needs markup);
- answers every tooltip request itself, with the text the widget, item model, header, tab bar
  or menu action would have shown, escaped (html.escape) inside an explicit rich-text
  paragraph, so it appears as the characters it is made of.

Text already escaped by `plain_tooltip` passes through unchanged.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView, QLabel, QMenu, QTabBar, QToolTip, QWidget

from ui import app_events

_PREFIX = "<p style='white-space:pre-wrap'>"
_LIMIT = 2000  # characters of a tooltip shown; the rest is cut (a tooltip is not a viewer)


def plain_tooltip(text: str, limit: int = _LIMIT) -> str:
    """`text` as an explicit, escaped rich-text paragraph: shown literally, never interpreted."""
    from ui.widgets.transcript_view import clean_text

    if text.startswith(_PREFIX):
        return text
    return f"{_PREFIX}{html.escape(clean_text(text, limit))}</p>"


def _item_view_tooltip(view: QAbstractItemView, pos: QPoint) -> str:
    if isinstance(view, QHeaderView):
        model = view.model()
        section = view.logicalIndexAt(pos)
        if model is None or section < 0:
            return ""
        value = model.headerData(section, view.orientation(), Qt.ItemDataRole.ToolTipRole)
    else:
        index = view.indexAt(pos)
        value = index.data(Qt.ItemDataRole.ToolTipRole) if index.isValid() else None
    return "" if value is None else str(value)


def tooltip_text(widget: QWidget, pos: QPoint) -> str | None:
    """What `widget` would show as a tooltip at `pos` (widget coordinates); None when the widget
    decides itself (a menu that does not show tooltips)."""
    parent = widget.parentWidget()
    if isinstance(parent, QAbstractItemView) and widget is parent.viewport():
        return _item_view_tooltip(parent, pos)
    if isinstance(widget, QTabBar):
        tab = widget.tabAt(pos)
        return widget.tabToolTip(tab) if tab >= 0 else widget.toolTip()
    if isinstance(widget, QMenu):
        if not widget.toolTipsVisible():
            return None
        action = widget.actionAt(pos)
        return action.toolTip() if action is not None else ""
    return widget.toolTip()


class PlainTextGuard(QObject):
    """Labels plain text when polished; tooltips answered escaped (a handler of the app's events)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish and isinstance(watched, QLabel):
            watched.setTextFormat(Qt.TextFormat.PlainText)
        elif kind == QEvent.Type.ToolTip and isinstance(watched, QWidget) and isinstance(event, QHelpEvent):
            text = tooltip_text(watched, event.pos())
            if text is None:
                return False
            if not text:
                return False  # nothing here: Qt passes the request on to the parent widget
            QToolTip.showText(event.globalPos(), plain_tooltip(text), watched)
            return True
        return False


def install(app: QApplication) -> PlainTextGuard:
    """Install the guard once per application (idempotent); returns it. It runs inside the
    application's one event filter (ui/app_events.py), for polish and tooltip events only."""
    existing = app.findChild(PlainTextGuard)
    if isinstance(existing, PlainTextGuard):
        return existing
    guard = PlainTextGuard(app)
    events = app_events.hub(app)
    assert events is not None
    events.add((QEvent.Type.Polish, QEvent.Type.ToolTip), guard.eventFilter)
    return guard
