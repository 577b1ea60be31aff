"""Marking picker: classification level + dissemination controls -> app.model.markings.Marking.

Reusable anywhere a record or a portion carries a marking (AC-16). Levels above the
workstation's system-high (`ceiling`) cannot be chosen: such content may not be held here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMenu, QToolButton, QWidget

from app.model.markings import CONTROLS, UNCLASSIFIED, Level, Marking

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
        for control in CONTROLS:
            action = QAction(control, self.menu)
            action.setCheckable(True)
            action.toggled.connect(self._emit)
            self.menu.addAction(action)
            self.actions_by_control[control] = action
        self.controls_button.setMenu(self.menu)
        self.preview = QLabel()
        self.preview.setObjectName("markingPreview")
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setMinimumWidth(150)
        layout.addWidget(self.level)
        layout.addWidget(self.controls_button)
        layout.addWidget(self.preview)
        layout.addStretch(1)
        self.level.currentIndexChanged.connect(self._emit)
        self.set_marking(marking)

    def marking(self) -> Marking:
        level = Level(int(self.level.currentData()))
        controls = tuple(c for c, a in self.actions_by_control.items() if a.isChecked())
        return Marking(level, controls)

    def set_marking(self, marking: Marking) -> None:
        self.blockSignals(True)
        try:
            self.level.setCurrentIndex(self.level.findData(int(marking.level)))
            for control, action in self.actions_by_control.items():
                action.setChecked(control in marking.controls)
        finally:
            self.blockSignals(False)
        self._render()

    def _render(self) -> None:
        m = self.marking()
        bg, fg = m.colours()
        self.preview.setText(f" {m.banner()}  {m.portion()} ")
        self.preview.setStyleSheet(f"background: {bg}; color: {fg}; font-weight: 600; border-radius: 3px;")
        n = len(m.controls)
        self.controls_button.setText(f"Controls ({n})" if n else "Controls")

    @Slot()
    def _emit(self) -> None:
        self._render()
        if not self.signalsBlocked():
            self.changed.emit(self.marking())
