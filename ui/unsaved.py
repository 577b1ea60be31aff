"""Unsaved changes: every editor knows whether it holds edits, and nothing closes or switches away from
one without asking Save / Discard / Cancel (the assessment checklist autosaves instead, on its own).

An editor is any widget with `is_modified() -> bool`, `commit() -> bool` (save; True when stored)
and `discard() -> None` (reload what is stored). `settle(ctx, root)` finds every editor at or under
`root` (a screen, a submission page, a dialog) and asks about each one that holds edits; the main
window calls it before switching screens, closing a page, signing out or quitting.

`FormState` is the usual way an editor tracks its edits: a snapshot of its input widgets' values,
taken when the record is loaded or saved, compared with the current values. It emits `changed(bool)`
whenever an input changes, so titles can carry the modified mark ("*").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QGroupBox,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QTableWidget,
    QTextEdit,
    QWidget,
)


class Choice(Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


@runtime_checkable
class Editor(Protocol):
    def is_modified(self) -> bool: ...

    def commit(self) -> bool: ...

    def discard(self) -> None: ...


UnsavedPrompt = Callable[[QWidget | None, str], Choice]


def unsaved_box(parent: QWidget | None, what: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                      f"{what} has unsaved changes.\n\nSave them before leaving?",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    from ui.banner import add_banners, window_marking

    add_banners(box, window_marking(parent))
    return box


def ask_unsaved(parent: QWidget | None, what: str) -> Choice:
    """The modal Save / Discard / Cancel question (Cancel is the default: Enter loses nothing)."""
    answer = unsaved_box(parent, what).exec()
    if answer == QMessageBox.StandardButton.Save:
        return Choice.SAVE
    if answer == QMessageBox.StandardButton.Discard:
        return Choice.DISCARD
    return Choice.CANCEL


def editors_under(root: QWidget) -> list[QWidget]:
    """`root` and its descendants that are editors, outermost first."""
    found = [root] if _is_editor(root) else []
    found += [w for w in root.findChildren(QWidget) if _is_editor(w)]
    return found


_EDITOR_TYPES: dict[type, bool] = {}


def _is_editor(w: QWidget) -> bool:
    # Decided once per class: the three methods are defined on editor classes, and a failed attribute
    # lookup on a Qt widget is slow (the walk runs on every edit signal, over every open screen).
    kind = type(w)
    known = _EDITOR_TYPES.get(kind)
    if known is None:
        known = _EDITOR_TYPES[kind] = all(callable(getattr(kind, name, None))
                                          for name in ("is_modified", "commit", "discard"))
    return known


def editor_title(editor: QWidget) -> str:
    title = getattr(editor, "unsaved_title", None)
    if callable(title):
        return str(title())
    return editor.windowTitle().replace("[*]", "").strip() or "This editor"


def settle(prompt: UnsavedPrompt, root: QWidget, parent: QWidget | None = None) -> bool:
    """Ask about each editor under `root` holding edits. True when it is safe to leave (saved,
    discarded or nothing pending); False when the user cancelled or a save failed (the editor
    then shows why, and keeps the edits)."""
    for editor in editors_under(root):
        if not editor.is_modified():  # type: ignore[attr-defined]
            continue
        choice = prompt(parent or editor, editor_title(editor))
        if choice is Choice.CANCEL:
            return False
        if choice is Choice.SAVE:
            if not editor.commit() or editor.is_modified():  # type: ignore[attr-defined]
                return False
        else:
            editor.discard()  # type: ignore[attr-defined]
    return True


def any_modified(root: QWidget) -> bool:
    return any(e.is_modified() for e in editors_under(root))  # type: ignore[attr-defined]


def _value(w: QWidget) -> object:
    """The value an input holds, comparable between two snapshots."""
    custom = getattr(w, "state_value", None)
    if callable(custom):
        return custom()
    if isinstance(w, QLineEdit):
        return w.text()
    if isinstance(w, (QPlainTextEdit,)):
        return w.toPlainText()
    if isinstance(w, QTextEdit):
        return w.toHtml()
    if isinstance(w, QComboBox):
        return (w.currentIndex(), w.currentText())
    if isinstance(w, QDateTimeEdit):
        return w.dateTime().toString("yyyy-MM-ddTHH:mm:ss")
    if isinstance(w, (QSpinBox, QDoubleSpinBox)):
        return w.value()
    if isinstance(w, QGroupBox):
        return w.isChecked()
    if isinstance(w, QAbstractButton):
        return w.isChecked()
    if isinstance(w, QTableWidget):
        return tuple(tuple(_cell(w, r, c) for c in range(w.columnCount())) for r in range(w.rowCount()))
    marking = getattr(w, "marking", None)
    if callable(marking):
        return marking()
    raise TypeError(f"FormState cannot read {type(w).__name__}")


def _cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return item.text() if item is not None else ""


def _connect(w: QWidget, slot: Callable[..., None]) -> None:
    if hasattr(w, "changed") and not isinstance(w, (QLineEdit, QComboBox)):
        w.changed.connect(slot)  # composite pickers (marking, CVSS) announce their own changes
        return
    for name in ("textChanged", "currentIndexChanged", "dateTimeChanged", "valueChanged", "toggled",
                 "itemChanged"):
        signal = getattr(w, name, None)
        if signal is not None and hasattr(signal, "connect"):
            signal.connect(slot)
    if isinstance(w, QTableWidget):
        w.model().rowsInserted.connect(slot)
        w.model().rowsRemoved.connect(slot)


class FormState(QObject):
    """Snapshot-based modified tracking for a set of input widgets."""

    changed = Signal(bool)  # modified or not, after any input change

    def __init__(self, widgets: Iterable[QWidget], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.widgets = list(widgets)
        self.baseline = self.snapshot()
        for w in self.widgets:
            _connect(w, self._touched)

    def snapshot(self) -> tuple[object, ...]:
        return tuple(_value(w) for w in self.widgets)

    def mark_clean(self) -> None:
        """The widgets now show what is stored (after load or save)."""
        self.baseline = self.snapshot()
        self._touched()

    def is_modified(self) -> bool:
        return self.snapshot() != self.baseline

    def _touched(self, *_args: object) -> None:
        self.changed.emit(self.is_modified())


def modified_title(title: str, modified: bool) -> str:
    """A page or tab title with the modified mark."""
    return f"{title} *" if modified else title
