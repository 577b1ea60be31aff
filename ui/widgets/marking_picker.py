"""Marking picker: level + common controls, or the full marking typed -> app.model.markings.Marking.

Reusable anywhere a record or a portion carries a marking (AC-16). The level box and the
controls menu cover the common cases; the text field takes any marking of the vocabulary
(SCI compartments, REL TO lists, FGI, CUI categories) and says which token it does not know.
Levels above the workstation's system-high (`ceiling`) cannot be chosen: such content may not
be held here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QWidget,
)

from app.model.errors import ValidationError
from app.model.markings import CONTROLS, UNCLASSIFIED, Level, Marking, applicable_controls
from ui import theme

_LEVEL_LABELS = {
    Level.UNCLASSIFIED: "UNCLASSIFIED",
    Level.CUI: "CUI",
    Level.CONFIDENTIAL: "CONFIDENTIAL",
    Level.SECRET: "SECRET",
    Level.TOP_SECRET: "TOP SECRET",
}


class MarkingPicker(QWidget):
    changed = Signal(object)  # the new Marking

    def __init__(self, ceiling: Marking | None = None, parent: QWidget | None = None,
                 marking: Marking = UNCLASSIFIED) -> None:
        super().__init__(parent)
        self.ceiling = ceiling
        self._current = marking
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.level = QComboBox()
        self.level.setObjectName("markingLevel")
        for level, label in _LEVEL_LABELS.items():
            self.level.addItem(label, int(level))
            if ceiling is not None and level > ceiling.level:
                item = self.level.model().item(self.level.count() - 1)  # type: ignore[attr-defined]
                item.setEnabled(False)
                item.setToolTip(f"Above this workstation's system-high ({ceiling.banner()})")
        self.controls_button = QToolButton()
        self.controls_button.setText("Controls")
        self.controls_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.controls_button)
        self.actions_by_control: dict[str, QAction] = {}
        for control, abbrev in CONTROLS.items():
            action = QAction(control if abbrev == control else f"{control} ({abbrev})", self.menu)
            action.setCheckable(True)
            action.toggled.connect(self._from_widgets)
            self.menu.addAction(action)
            self.actions_by_control[control] = action
        self.controls_button.setMenu(self.menu)
        self.text = QLineEdit()
        self.text.setObjectName("markingText")
        self.text.setPlaceholderText("or type the marking, e.g. SECRET//REL TO USA, GBR")
        self.text.setToolTip("Any marking of the vocabulary (docs/MARKINGS.md): SCI compartments, REL TO lists, "
                             "FGI, CUI categories. Press Enter to apply.")
        self.text.setMinimumWidth(220)
        self.text.editingFinished.connect(self._from_text)
        self.preview = QLabel()
        self.preview.setObjectName("markingPreview")
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setMinimumWidth(150)
        layout.addWidget(self.level)
        layout.addWidget(self.controls_button)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.preview)
        self.level.currentIndexChanged.connect(self._from_widgets)
        self.set_marking(marking)

    def marking(self) -> Marking:
        return self._current

    def set_marking(self, marking: Marking) -> None:
        self._current = marking
        self._sync_widgets()
        self._render()

    def _sync_widgets(self) -> None:
        m = self._current
        widgets = [self.level, self.text, *self.actions_by_control.values()]
        for w in widgets:
            w.blockSignals(True)
        try:
            self.level.setCurrentIndex(self.level.findData(int(m.level)))
            allowed = set(applicable_controls(m.level))
            for control, action in self.actions_by_control.items():
                action.setChecked(control in m.controls)
                action.setEnabled(control in allowed)
            self.text.setText(m.banner())
        finally:
            for w in widgets:
                w.blockSignals(False)

    def _render(self, error: str = "") -> None:
        m = self._current
        if error:
            self.preview.setText(f" {error} ")
            self.preview.setToolTip(error)
            self.preview.setStyleSheet(theme.MARKING_REFUSED)
            return
        bg, fg = m.colours()
        self.preview.setText(f" {m.portion()} ")
        self.preview.setToolTip(m.banner())
        self.preview.setStyleSheet(theme.badge(bg, fg))
        n = len(m.controls)
        self.controls_button.setText(f"Controls ({n})" if n else "Controls")

    def _accept(self, m: Marking) -> None:
        changed = m != self._current
        self._current = m
        self._sync_widgets()
        self._render()
        if changed and not self.signalsBlocked():
            self.changed.emit(m)

    @Slot()
    def _from_widgets(self) -> None:
        """Level box or controls menu changed: keep the rest of the marking where it still fits."""
        level = Level(int(self.level.currentData()))
        allowed = set(applicable_controls(level))
        controls = tuple(c for c, a in self.actions_by_control.items() if a.isChecked() and c in allowed)
        try:
            rel = () if "NOFORN" in controls else self._current.rel_to
            m = dataclasses.replace(self._current, level=level, controls=controls, rel_to=rel)
        except ValidationError:
            m = Marking(level, controls)
        self._accept(m)

    @Slot()
    def _from_text(self) -> None:
        text = self.text.text().strip()
        if not text or text == self._current.banner():
            return
        try:
            m = Marking.parse(text)
        except ValidationError as exc:
            self._render(exc.reason.split("; known:")[0])
            self.text.setToolTip(exc.reason)
            return
        if self.ceiling is not None and m.level > self.ceiling.level:
            self._render(f"above this workstation's system-high ({self.ceiling.banner()})")
            return
        self._accept(m)


def ask_lower_reason(parent: QWidget, ask_text: Callable[[QWidget | None, str, str], str | None], floor: Marking,
                     chosen: Marking, what: str) -> str | None:
    """Lowering a marking is an explicit act: '' when `chosen` does not lower `floor`, else the reason
    typed (audited by the service), or None when the person keeps the marking instead. `ask_text` is
    the context's text prompt (UiContext.ask_text), so tests answer it without a modal dialog."""
    if chosen.dominates(floor):
        return ""
    text = ask_text(parent, "Lower the marking?",
                    f"{what} is about information marked {floor.banner()}.\n{chosen.banner()} would lower it. "
                    "Lowering is recorded in the audit log with your reason.\n\nReason:")
    return text.strip() if text and text.strip() else None
