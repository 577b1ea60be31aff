"""Accessible names for every control, so a screen reader announces what a field is for.

Most controls are named where they are built (a button by its text, a field by its form label).
`AccessibleNamer`, installed once on the QApplication, names any control that is polished or shown
without a name, from the best source available: the label a QFormLayout puts beside it, a label
whose buddy it is, its placeholder, its tooltip, the group box around it. `unnamed_controls(root)`
lists what is still nameless (the test that walks every screen fails on any).
"""

from __future__ import annotations

import re

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QTabBar,
    QTextEdit,
    QWidget,
)

from ui import app_events

CONTROL_TYPES = (QAbstractButton, QLineEdit, QPlainTextEdit, QTextEdit, QComboBox, QAbstractSpinBox,
                 QAbstractItemView, QSlider, QTabBar)


def is_control(w: QWidget) -> bool:
    """A widget a user operates, excluding the parts Qt builds inside other controls."""
    if not isinstance(w, CONTROL_TYPES) or isinstance(w, QHeaderView):
        return False
    parent = w.parentWidget()
    while parent is not None:  # a combo's line edit, a spin box's editor, a table's corner button ...
        if isinstance(parent, (QComboBox, QAbstractSpinBox, QAbstractItemView, QTabBar)):
            return False
        parent = parent.parentWidget()
    return not w.objectName().startswith("qt_")


def _clean(text: str) -> str:
    text = re.sub(r"&(?!&)", "", text).replace("&&", "&")
    return text.strip().rstrip(":…").strip()


def _form_label(w: QWidget) -> str:
    """The text of the QFormLayout label beside `w` (or beside the box that holds it)."""
    node: QWidget | None = w
    for _ in range(3):
        if node is None:
            return ""
        parent = node.parentWidget()
        layout = parent.layout() if parent is not None else None
        if isinstance(layout, QFormLayout):
            label = layout.labelForField(node)
            if isinstance(label, QLabel) and _clean(label.text()):
                return _clean(label.text())
        for lay in _own_form_layouts(parent) if parent is not None else []:
            label = lay.labelForField(node)
            if isinstance(label, QLabel) and _clean(label.text()):
                return _clean(label.text())
        node = parent
    return ""


def _own_form_layouts(parent: QWidget) -> list[QFormLayout]:
    """The form layouts that can hold a child of `parent`: its own layouts and those nested in them (a
    layout's widgets are children of its widget), not those of its whole subtree (a walk per control)."""
    found: list[QFormLayout] = []
    for top in parent.findChildren(QLayout, "", Qt.FindChildOption.FindDirectChildrenOnly):
        found += [lay for lay in (top, *top.findChildren(QLayout)) if isinstance(lay, QFormLayout)]
    return found


def _layout_containing(layout: QLayout, w: QWidget) -> tuple[QLayout, int] | None:
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item is None:
            continue
        if item.widget() is w:
            return layout, i
        child = item.layout()
        if child is not None:
            found = _layout_containing(child, w)
            if found is not None:
                return found
    return None


def _label_before(w: QWidget) -> str:
    """The text of a QLabel placed just before `w` in the same row or column ("Benchmark [combo]")."""
    parent = w.parentWidget()
    top = parent.layout() if parent is not None else None
    found = _layout_containing(top, w) if top is not None else None
    if found is None or found[1] == 0:
        return ""
    layout, index = found
    item = layout.itemAt(index - 1)
    before = item.widget() if item is not None else None
    if isinstance(before, QLabel) and _clean(before.text()) and "<" not in before.text():
        return _clean(before.text())[:120]
    return ""


def derive_name(w: QWidget) -> str:
    if isinstance(w, QAbstractButton) and _clean(w.text()):
        return _clean(w.text())
    label = _form_label(w)
    if label:
        return label
    label = _label_before(w)
    if label:
        return label
    window = w.window()
    for lab in window.findChildren(QLabel):
        if lab.buddy() is w and _clean(lab.text()):
            return _clean(lab.text())
    for attr in ("placeholderText", "toolTip"):
        getter = getattr(w, attr, None)
        text = getter() if callable(getter) else ""
        if isinstance(text, str) and _clean(text) and "<" not in text:
            return _clean(text)[:120]
    parent = w.parentWidget()
    if isinstance(parent, QGroupBox) and _clean(parent.title()):
        return _clean(parent.title())
    if isinstance(w, QTabBar):
        return "Tabs: " + ", ".join(_clean(w.tabText(i)) for i in range(min(w.count(), 8)))
    name = w.objectName()
    if name and not name.startswith("qt_"):  # a deliberately named control: "findingsTable" -> "findings table"
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").lower()
    return ""


def name_control(w: QWidget) -> None:
    if not w.accessibleName() and is_control(w):
        name = derive_name(w)
        if name:
            w.setAccessibleName(name)


def unnamed_controls(root: QWidget) -> list[QWidget]:
    widgets = [root, *root.findChildren(QWidget)]
    return [w for w in widgets if is_control(w) and not w.isHidden() and not w.accessibleName()]


class AccessibleNamer(QObject):
    """Names controls as they are polished or shown (a handler of the application's events)."""

    busy = False  # deriving a name may polish other widgets: no re-entry

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (not self.busy and event.type() in (QEvent.Type.Polish, QEvent.Type.Show)
                and isinstance(watched, CONTROL_TYPES) and shiboken6.isValid(watched)):
            self.busy = True
            try:
                name_control(watched)
            except RuntimeError:  # its Python wrapper outlived the widget (PySide reuses wrappers by address)
                pass
            finally:
                self.busy = False
        return False


_installed: AccessibleNamer | None = None


def install() -> None:
    """Idempotent: the first main window or application start installs it, inside the
    application's one event filter (ui/app_events.py), for polish and show events only."""
    global _installed
    app = QApplication.instance()
    events = app_events.hub(app)
    if _installed is None and app is not None and events is not None:
        _installed = AccessibleNamer(app)
        events.add((QEvent.Type.Polish, QEvent.Type.Show), _installed.eventFilter)
