"""Workstation settings (administrators): idle lock, review-clock threshold, artifact size limit,
consent text and the classification/CUI authority blocks printed on reports. Changes are
validated and audited by the service; the shell applies them at once (idle timer, banners)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import FrontierError
from app.model.settings import Settings
from app.services import workstation
from ui import theme
from ui.context import UiContext
from ui.unsaved import FormState

_TEXT_FIELDS = {
    "classified_by": "Classified by",
    "derived_from": "Derived from",
    "declassify_on": "Declassify on",
    "cui_controlled_by": "CUI controlled by",
    "cui_category": "CUI category",
    "cui_poc": "CUI point of contact",
}


def _spin(low: int, high: int, suffix: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSuffix(suffix)
    box.setMaximumWidth(140)
    return box


class SettingsScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        title = QLabel("Settings")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        s = ctx.session.settings
        fixed = QLabel(f"Workstation: {s.workstation_name} · system-high {s.system_high} (set at setup)")
        fixed.setObjectName("hint")
        fixed.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(fixed)

        row = QHBoxLayout()
        session_box = QGroupBox("Session and review clock")
        form = QFormLayout(session_box)
        self.idle = _spin(1, 120, " min")
        self.idle.setObjectName("idleLockMinutes")
        self.at_risk = _spin(0, 30, " days")
        self.max_mb = _spin(1, 4096, " MB")
        self.backup_days = _spin(1, 365, " days")
        self.receipt_days = _spin(1, 365, " days")
        self.receipt_days.setObjectName("receiptOverdueDays")
        form.addRow("Lock when idle after", self.idle)
        form.addRow("\"At risk\" when release is within", self.at_risk)
        form.addRow("Largest artifact", self.max_mb)
        form.addRow("Backup reminder after", self.backup_days)
        form.addRow("Partner receipt overdue after", self.receipt_days)
        row.addWidget(session_box, 1)
        marks_box = QGroupBox("Authority blocks on reports")
        mform = QFormLayout(marks_box)
        self.text_fields: dict[str, QLineEdit] = {}
        for name, label in _TEXT_FIELDS.items():
            field = QLineEdit()
            field.setObjectName(name)
            self.text_fields[name] = field
            mform.addRow(label, field)
        row.addWidget(marks_box, 1)
        layout.addLayout(row)
        consent_box = QGroupBox("Consent banner shown before sign-in (AC-8)")
        cl = QVBoxLayout(consent_box)
        self.consent = QPlainTextEdit()
        self.consent.setObjectName("consentBanner")
        cl.addWidget(self.consent)
        layout.addWidget(consent_box, 1)

        actions = QHBoxLayout()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        actions.addWidget(self.message, 1)
        revert = QPushButton("Revert")
        revert.clicked.connect(self.discard)
        self.save_button = QPushButton("Save settings")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        actions.addWidget(revert)
        actions.addWidget(self.save_button)
        layout.addLayout(actions)
        self.form_state = FormState([self.idle, self.at_risk, self.max_mb, self.backup_days, self.receipt_days,
                                     *self.text_fields.values(), self.consent], self)
        self.form_state.changed.connect(lambda _m: ctx.events.modified_changed.emit())
        self.refresh()

    # -- unsaved changes (ui.unsaved) --------------------------------------------------------
    def is_modified(self) -> bool:
        return self.form_state.is_modified()

    def commit(self) -> bool:
        return self.save()

    def discard(self) -> None:
        if not self.ctx.session.locked:
            self.ctx.session.reload_settings()
        self._show(self.ctx.session.settings)

    def unsaved_title(self) -> str:
        return "Settings"

    def refresh(self) -> None:
        if self.ctx.session.locked or self.is_modified():  # shown again: never overwrite typed edits
            return
        self.ctx.session.reload_settings()
        self._show(self.ctx.session.settings)

    def _show(self, s: Settings) -> None:
        self.idle.setValue(s.idle_lock_minutes)
        self.at_risk.setValue(s.at_risk_days)
        self.max_mb.setValue(s.max_artifact_mb)
        self.backup_days.setValue(s.backup_reminder_days)
        self.receipt_days.setValue(s.receipt_overdue_days)
        for name, field in self.text_fields.items():
            field.setText(str(getattr(s, name)))
        self.consent.setPlainText(s.consent_banner)
        self.form_state.mark_clean()

    def changes(self) -> dict[str, object]:
        values: dict[str, object] = {
            "idle_lock_minutes": self.idle.value(),
            "at_risk_days": self.at_risk.value(),
            "max_artifact_mb": self.max_mb.value(),
            "backup_reminder_days": self.backup_days.value(),
            "receipt_overdue_days": self.receipt_days.value(),
            "consent_banner": self.consent.toPlainText().strip(),
        }
        values.update({name: field.text().strip() for name, field in self.text_fields.items()})
        return values

    @Slot()
    def save(self) -> bool:
        try:
            workstation.update_settings(self.ctx.session, self.changes())
        except FrontierError as exc:
            self.message.setText(f"Not saved — {exc}")
            self.message.setStyleSheet(theme.ERROR_TEXT)
            return False
        self.form_state.mark_clean()
        self.message.setText("Settings saved and recorded in the audit trail.")
        self.message.setStyleSheet(theme.OK_TEXT)
        return True
