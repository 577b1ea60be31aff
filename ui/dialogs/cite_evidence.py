"""Cite as evidence: add a sample (from the run's sample table or the transcript viewer) to one of
the submission's findings, chosen from a list. The finding is saved through the findings service,
which checks the permission and records the change in the audit trail."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.model.errors import FrontierError
from app.model.findings import EvidenceRef, Finding
from app.services import findings
from ui.banner import add_banners
from ui.context import UiContext
from ui.widgets.transcript_view import clean_text


def cite(ctx: UiContext, finding: Finding, ref: EvidenceRef) -> Finding:
    """The finding with `ref` added to its evidence (once), stored."""
    if ref in finding.evidence:
        return finding
    return findings.update(ctx.session, dataclasses.replace(finding, evidence=(*finding.evidence, ref)))


class CiteDialog(QDialog):
    def __init__(self, ctx: UiContext, submission_id: int, ref: EvidenceRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.ref = ref
        self.cited: Finding | None = None
        self.setWindowTitle("Cite as evidence")
        self.items = findings.list_findings(ctx.session, submission_id)
        self.choice = QComboBox()
        self.choice.setAccessibleName("Finding to cite this in")
        for f in self.items:
            self.choice.addItem(clean_text(f"{f.label} — {f.title}", 200), f.id)
        layout = QVBoxLayout(self)
        what = "sample " + ref.ref.split(":", 1)[-1] if ref.kind == "sample" else str(ref)
        layout.addWidget(QLabel(clean_text(f"Add {what} to the evidence of:", 300)))
        layout.addWidget(self.choice)
        if not self.items:
            layout.addWidget(QLabel("This submission has no finding yet: create one on its Findings tab."))
        self.message = QLabel("")
        self.message.setObjectName("errorText")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.cite_button = buttons.addButton("Cite", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cite_button.setEnabled(bool(self.items))
        buttons.accepted.connect(self.cite)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        add_banners(self, ctx.session.settings.system_high)  # lists findings, each at most system-high

    def cite(self) -> Finding | None:
        finding = next((f for f in self.items if f.id == self.choice.currentData()), None)
        if finding is None:
            return None
        try:
            self.cited = cite(self.ctx, finding, self.ref)
        except FrontierError as exc:
            self.message.setText(str(exc))
            return None
        self.ctx.events.status_message.emit(f"Cited in finding {self.cited.label}")
        self.accept()
        return self.cited
