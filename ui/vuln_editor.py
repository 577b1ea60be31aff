"""Vulnerability editor with a CVSS v4 calculator (one picker per metric, vector and score live).

The calculator and the vector field stay in step both ways: choosing a metric rewrites the vector;
typing or pasting a vector sets the pickers, and an invalid vector shows which metric is wrong.
Scores always come from app.model (the `cvss` package), never from the UI.

Other screens open the editor prefilled with `open_for_sample(...)` / `open_for_finding(...)`.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError, ValidationError
from app.model.markings import Marking
from app.model.vulnerabilities import (
    BASE_METRICS,
    ENVIRONMENTAL_METRICS,
    METRIC_NAMES,
    METRIC_VALUES,
    SUPPLEMENTAL_METRICS,
    THREAT_METRICS,
    CvssSeverity,
    CvssV4,
    DiscoveryContext,
    ReproStatus,
    Target,
    Tlp,
    Vulnerability,
    VulnStatus,
)
from app.services import csaf_sharing, submissions, vuln_signatures
from app.services import vulnerabilities as vs
from ui import theme
from ui.banner import add_banners
from ui.context import UiContext
from ui.errors import sanitize
from ui.unsaved import FormState
from ui.widgets.comment_thread import CommentThread
from ui.widgets.entry_table import NoteList, RemediationList
from ui.widgets.marking_picker import MarkingPicker, ask_lower_reason
from ui.widgets.product_list import ProductList
from ui.widgets.signature_state import SignatureState
from ui.window_size import resize_to_screen

SEVERITY_COLOURS = {
    CvssSeverity.NONE: ("#d0d7de", "#24292f"),
    CvssSeverity.LOW: ("#2da44e", "#ffffff"),
    CvssSeverity.MEDIUM: ("#d4a72c", "#000000"),
    CvssSeverity.HIGH: ("#e16f24", "#ffffff"),
    CvssSeverity.CRITICAL: ("#a40e26", "#ffffff"),
}
_DEFAULT_NONE = ("VC", "VI", "VA", "SC", "SI", "SA")


def short_label(metric: str) -> str:
    """Grid label: the specification's name, with the long impact names shortened (tooltip has it all)."""
    name = METRIC_NAMES[metric]
    for long, short in (("Vulnerable System Impact ", "Vulnerable "), ("Subsequent System Impact ", "Subsequent "),
                        ("Vulnerability Response Effort", "Response Effort")):
        name = name.replace(long, short)
    return f"{name} ({metric})"


class CvssCalculator(QWidget):
    """Metric pickers -> CVSS v4.0 vector, score and severity, live."""

    changed = Signal(object)  # CvssV4 | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combos: dict[str, QComboBox] = {}
        self._syncing = True  # no recalculation while the widgets are being built
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.enabled = QCheckBox("Score with CVSS v4.0")
        self.enabled.setChecked(True)
        layout.addWidget(self.enabled)
        groups = [("Base metrics", BASE_METRICS, False), ("Threat", THREAT_METRICS, True),
                  ("Environmental (modified base and security requirements)", ENVIRONMENTAL_METRICS, True),
                  ("Supplemental (do not change the score)", SUPPLEMENTAL_METRICS, True)]
        self.groups: dict[str, QGroupBox] = {}
        self.box_of: dict[str, QGroupBox] = {}
        for title, metrics, optional in groups:
            box = QGroupBox(title)
            box.setCheckable(optional)
            outer = QVBoxLayout(box)
            inner = QWidget()
            outer.addWidget(inner)
            grid = QGridLayout(inner)
            grid.setContentsMargins(0, 0, 0, 0)
            for i, metric in enumerate(metrics):
                combo = QComboBox()
                combo.setObjectName(f"cvss_{metric}")
                for code, label in METRIC_VALUES[metric].items():
                    combo.addItem(f"{label} ({code})", code)
                combo.setToolTip(f"{METRIC_NAMES[metric]} ({metric})")
                if metric in _DEFAULT_NONE:  # a fresh calculator starts at no impact, not critical
                    combo.setCurrentIndex(combo.findData("N"))
                combo.currentIndexChanged.connect(self._picked)
                self.combos[metric] = combo
                self.box_of[metric] = box
                metric_label = QLabel(short_label(metric))
                metric_label.setToolTip(f"{METRIC_NAMES[metric]} ({metric})")
                grid.addWidget(metric_label, i // 2, (i % 2) * 2)
                grid.addWidget(combo, i // 2, (i % 2) * 2 + 1)
            grid.setColumnStretch(1, 1)
            grid.setColumnStretch(3, 1)
            if optional:
                box.toggled.connect(inner.setVisible)  # unused groups fold away
                box.toggled.connect(self._picked)
                box.setChecked(title == "Threat")
                inner.setVisible(box.isChecked())
            self.groups[title] = box
            layout.addWidget(box)
        row = QHBoxLayout()
        self.vector = QLineEdit()
        self.vector.setObjectName("cvssVector")
        self.vector.setPlaceholderText("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
        self.vector.textEdited.connect(self._typed)
        self.score = QLabel()
        self.score.setObjectName("cvssScore")
        self.score.setMinimumWidth(170)
        row.addWidget(QLabel("Vector"))
        row.addWidget(self.vector, 1)
        row.addWidget(self.score)
        layout.insertLayout(1, row)  # vector and score above the pickers: the live result stays in view
        self.message = QLabel()
        self.message.setObjectName("cvssMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setStyleSheet(theme.INVALID_TEXT)
        layout.insertWidget(2, self.message)
        self.enabled.toggled.connect(self._picked)
        self.current: CvssV4 | None = None
        self._syncing = False
        self._picked()

    # -- state -----------------------------------------------------------------------------
    def selection(self) -> dict[str, str]:
        chosen = {m: self.combos[m].currentData() for m in BASE_METRICS}
        for box in self.groups.values():
            if box.isCheckable() and box.isChecked():
                for m in self.combos:
                    if m not in BASE_METRICS and self.box_of[m] is box:
                        chosen[m] = self.combos[m].currentData()
        return chosen

    def set_metric(self, metric: str, code: str) -> None:
        combo = self.combos[metric]
        combo.setCurrentIndex(combo.findData(code))

    def vector_text(self) -> str:
        """The vector to store ('' when CVSS scoring is switched off)."""
        return self.current.vector if (self.enabled.isChecked() and self.current) else ""

    def state_value(self) -> tuple[bool, str]:
        """What unsaved-changes tracking compares (ui.unsaved.FormState)."""
        return self.enabled.isChecked(), self.vector.text()

    def set_vector(self, vector: str) -> None:
        self.enabled.setChecked(bool(vector))
        if vector:
            self.vector.setText(vector)
            self._typed(vector)

    # -- slots -----------------------------------------------------------------------------
    @Slot()
    def _picked(self, *_: Any) -> None:
        if self._syncing:
            return
        for w in [*self.combos.values(), self.vector, *self.groups.values()]:
            w.setEnabled(self.enabled.isChecked())
        if not self.enabled.isChecked():
            self.current = None
            self.score.setText("not scored")
            self.score.setStyleSheet("")
            self.message.clear()
            self.changed.emit(None)
            return
        try:
            parsed = CvssV4.build(self.selection())
        except ValidationError as exc:  # cannot happen with pickers; shown, not raised
            self._invalid(str(exc))
            return
        self.vector.setText(parsed.vector)
        self._show(parsed)

    @Slot(str)
    def _typed(self, text: str) -> None:
        try:
            parsed = CvssV4.parse(text.strip())
        except ValidationError as exc:
            self._invalid(str(exc))
            return
        self._syncing = True
        try:
            for metric, combo in self.combos.items():
                code = parsed.metrics.get(metric, "X")
                if metric in BASE_METRICS or code != "X":
                    combo.setCurrentIndex(combo.findData(code))
            for box in self.groups.values():
                if box.isCheckable():
                    used = any(parsed.metrics.get(m, "X") != "X" for m in self.combos
                               if self.box_of[m] is box)
                    box.setChecked(used or box.isChecked())
        finally:
            self._syncing = False
        self._show(parsed)

    def _invalid(self, text: str) -> None:
        self.current = None
        self.message.setText(text)
        self.score.setText("invalid vector")
        self.score.setStyleSheet("")
        self.changed.emit(None)

    def _show(self, parsed: CvssV4) -> None:
        self.current = parsed
        self.message.clear()
        bg, fg = SEVERITY_COLOURS[parsed.severity]
        self.score.setText(f" {parsed.score:.1f} {parsed.severity.value}  {parsed.nomenclature} ")
        self.score.setStyleSheet(theme.badge(bg, fg))
        self.changed.emit(parsed)


class DateField(QWidget):
    """A date that may be empty (checkbox + date edit)."""

    def __init__(self, value: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.set_ = QCheckBox()
        self.edit = QDateEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.set_.toggled.connect(self.edit.setEnabled)
        row.addWidget(self.set_)
        row.addWidget(self.edit, 1)
        self.set_value(value)

    def set_value(self, value: date | None) -> None:
        self.set_.setChecked(value is not None)
        self.edit.setEnabled(value is not None)
        self.edit.setDate(QDate(value.year, value.month, value.day) if value else QDate.currentDate())

    def value(self) -> date | None:
        if not self.set_.isChecked():
            return None
        q = self.edit.date()
        return date(q.year(), q.month(), q.day())


def _combo(enum_type: Any, current: Any, name: str) -> QComboBox:
    c = QComboBox()
    c.setObjectName(name)
    for member in enum_type:
        c.addItem(str(member.value), member.value)  # Qt hands StrEnum data back as plain str
    c.setCurrentIndex(c.findData(current.value))
    return c


class VulnEditor(QDialog):
    """Create or edit one register entry. `saved` carries the stored Vulnerability."""

    saved = Signal(object)
    signed = Signal(str)  # the id of an entry signed as reviewed (its register row no longer flagged)

    def __init__(self, ctx: UiContext, vuln: Vulnerability | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.original = vuln or Vulnerability(title="", discovered=ctx.today())
        self.result_vuln: Vulnerability | None = None
        v = self.original
        self.setWindowTitle(f"Vulnerability {v.id}[*]" if v.id else "New vulnerability[*]")
        self.setProperty("keepOnLock", True)  # holds typed work: a lock hides it, never rejects it
        resize_to_screen(self, 980, 860)  # capped: Save / Cancel stay on an 800-px screen

        form_host = QWidget()
        form = QFormLayout(form_host)
        self.id_label = QLabel(v.id or "(assigned when saved)")
        form.addRow("Register id", self.id_label)
        if v.id:
            self.signature = SignatureState(
                ctx, vuln_signatures.standing(ctx.session, v), v.id,
                "Until a person who manages the register reviews every field and signs it (or saves an edit, which "
                "signs the result), it is not shared, reported or merged into.", ctx.can(Permission.MANAGE_VULNS),
                lambda _shown: vuln_signatures.sign_reviewed(ctx.session, v.id, v.revision))
            self.signature.signed.connect(lambda: self.signed.emit(v.id))
            form.addRow("Signature", self.signature)
        ceiling = None
        try:
            ceiling = Marking.parse(ctx.session.settings.system_high)
        except FrontierError:
            pass
        # an entry that does not hold opens at the marking its editors signed, never a lowered row's
        shown = vuln_signatures.shown_markings(ctx.session, [v])[v.id] if v.id else v.marking
        self.marking = MarkingPicker(ceiling, marking=shown)
        form.addRow("Marking", self.marking)
        self.title = QLineEdit(v.title)
        self.title.setObjectName("title")
        form.addRow("Title", self.title)
        self.description = QPlainTextEdit(v.description)
        self.description.setMaximumHeight(90)
        form.addRow("Description", self.description)
        self.target = _combo(Target, v.target, "target")
        form.addRow("Found in", self.target)
        self.vendor = QLineEdit(v.vendor)
        self.vendor.setAccessibleName("Vendor")
        self.vendor.setPlaceholderText("Vendor")
        self.product = QLineEdit(v.product)
        self.product.setAccessibleName("Product")
        self.product.setPlaceholderText("Product")
        vp = QHBoxLayout()
        vp.addWidget(self.vendor)
        vp.addWidget(self.product)
        form.addRow("Vendor / product", vp)
        self.product_id = QLineEdit(v.product_id)
        self.product_id.setObjectName("productId")
        self.product_id.setPlaceholderText("cpe:2.3:a:vendor:product:version:*:*:*:*:*:*:*  or  pkg:type/name@version")
        form.addRow("CPE or purl", self.product_id)
        # A vulnerability often affects more than one product (two versions, a model and its agent scaffold).
        self.more_products = ProductList(v.more_products)
        self.more_products.setToolTip("Further affected products, after the one above; remediations may name "
                                      "any of them by CPE, purl or name")
        form.addRow("Also affects", self.more_products)
        self.cwe = QLineEdit(v.cwe)
        self.cwe.setPlaceholderText("CWE-787")
        self.cve = QLineEdit(v.cve)
        self.cve.setPlaceholderText("CVE-2026-12345 (when assigned)")
        ids = QHBoxLayout()
        ids.addWidget(self.cwe)
        ids.addWidget(self.cve)
        form.addRow("CWE / CVE", ids)
        self.calculator = CvssCalculator()
        if v.cvss_vector or v.id:  # a saved but unscored record opens with scoring off
            self.calculator.set_vector(v.cvss_vector)
        form.addRow("CVSS v4.0", self.calculator)
        self.cvss3 = QLineEdit(v.cvss_v3_vector)
        self.cvss3.setPlaceholderText("optional CVSS:3.1/... (partners on CSAF 2.0)")
        form.addRow("CVSS v3.1", self.cvss3)
        self.submission = QComboBox()
        self.submission.setObjectName("submission")
        self.submission.addItem("(no submission)", None)
        try:
            for sub in submissions.page(ctx.session, 0, 500, sort="release", descending=True):
                self.submission.addItem(f"{sub.id}: {sub.display_name} (release {sub.planned_release})", sub.id)
        except FrontierError:
            pass
        if v.context.submission_id is not None and self.submission.findData(v.context.submission_id) < 0:
            self.submission.addItem(f"{v.context.submission_id}", v.context.submission_id)
        self.submission.setCurrentIndex(max(0, self.submission.findData(v.context.submission_id)))
        # Samples and findings are linked where they are opened (transcript viewer, findings).
        self.submission.setEnabled(not (v.context.run_id or v.context.finding_id))
        self.submission.setToolTip("The embargo defaults to this submission's planned public release date")
        form.addRow("Submission", self.submission)
        ctx_text = self._context_text(v.context)
        self.context_label = QLabel(ctx_text)
        self.context_label.setObjectName("discoveryContext")
        self.context_label.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow("Discovered in", self.context_label)
        self.repro = _combo(ReproStatus, v.repro_status, "repro")
        form.addRow("Reproduction", self.repro)
        self.evidence = QPlainTextEdit(v.repro_evidence)
        self.evidence.setMaximumHeight(70)
        form.addRow("Evidence", self.evidence)
        self.discovered = DateField(v.discovered)
        self.vendor_notified = DateField(v.vendor_notified)
        self.embargo = DateField(v.embargo_until)
        self.embargo.setToolTip("Defaults to the linked submission's planned public release date")
        self.published = DateField(v.published)
        form.addRow("Discovered", self.discovered)
        form.addRow("Vendor notified", self.vendor_notified)
        form.addRow("Embargo until", self.embargo)
        form.addRow("Published", self.published)
        self.tlp = _combo(Tlp, v.tlp, "tlp")
        form.addRow("TLP 2.0", self.tlp)
        # Lists: a partner's vendor fix next to our "none available" is its own entry (issue 16).
        self.remediations = RemediationList(v.remediations)
        form.addRow("Remediations", self.remediations)
        self.notes = NoteList(v.notes)
        self.notes.setToolTip("Further CSAF notes (e.g. a partner's); description, reproduction and target "
                              "have their own fields")
        form.addRow("Notes", self.notes)
        self.recipients = _recipients_table(ctx, v.id)
        form.addRow("Shared with", self.recipients)
        self.status = _combo(VulnStatus, v.status, "status")
        form.addRow("Status", self.status)
        # The discussion of a saved entry (a new one gets its thread once it has an id).
        self.discussion_thread = CommentThread(ctx)
        self.discussion_thread.set_target("vulnerability" if v.id else None, v.id)
        form.addRow("Discussion", self.discussion_thread)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_host)
        self.error = QLabel()
        self.error.setObjectName("editorError")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet(theme.INVALID_STRONG)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("saveButton")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.form_state = FormState([
            self.marking, self.title, self.description, self.target, self.vendor, self.product, self.product_id,
            self.more_products, self.cwe, self.cve, self.calculator, self.cvss3, self.submission, self.repro,
            self.evidence,
            *(w for d in (self.discovered, self.vendor_notified, self.embargo, self.published)
              for w in (d.set_, d.edit)),
            self.tlp, self.remediations, self.notes, self.status], self)
        self.form_state.changed.connect(self.setWindowModified)
        add_banners(self, ctx.session.settings.system_high)  # an editor can hold up to system-high

    # -- unsaved changes (ui.unsaved) -------------------------------------------------------
    def is_modified(self) -> bool:
        return self.result_vuln is None and self.form_state.is_modified()

    def commit(self) -> bool:
        return self.save()

    def discard(self) -> None:
        self.form_state.mark_clean()

    def reject(self) -> None:
        """Esc, Cancel and the close button ask before typed input is dropped."""
        if self.ctx.settle(self, self) and self.result_vuln is None:  # a Save in the prompt already accepted
            super().reject()

    @staticmethod
    def _context_text(c: DiscoveryContext) -> str:
        if c.is_empty:
            return "(not linked)"
        parts = []
        if c.submission_id is not None:
            parts.append(f"submission {c.submission_id}")
        if c.run_id:
            parts.append(f"run {c.run_id}")
        if c.sample_id:
            parts.append(f"sample {c.sample_id}")
        if c.finding_id:
            parts.append(f"finding {c.finding_id}")
        return ", ".join(parts)

    def vulnerability(self) -> Vulnerability:
        """The record as edited (not validated, not saved)."""
        if self.calculator.enabled.isChecked() and self.calculator.current is None:
            raise ValidationError("cvss_vector", self.calculator.message.text() or "the CVSS vector is invalid")
        sid = self.submission.currentData()
        context = dataclasses.replace(self.original.context, submission_id=None if sid is None else int(sid))
        return dataclasses.replace(
            self.original, context=context, title=self.title.text(), description=self.description.toPlainText(),
            target=Target(self.target.currentData()), vendor=self.vendor.text(), product=self.product.text(),
            product_id=self.product_id.text(), more_products=self.more_products.products(), cwe=self.cwe.text(),
            cve=self.cve.text(),
            cvss_vector=self.calculator.vector_text(), cvss_v3_vector=self.cvss3.text(),
            repro_status=ReproStatus(self.repro.currentData()), repro_evidence=self.evidence.toPlainText(),
            discovered=self.discovered.value(), vendor_notified=self.vendor_notified.value(),
            embargo_until=self.embargo.value(), published=self.published.value(), tlp=Tlp(self.tlp.currentData()),
            remediations=self.remediations.entries(), notes=self.notes.entries(),
            status=VulnStatus(self.status.currentData()), marking=self.marking.marking(),
        )

    @Slot()
    def save(self) -> bool:
        """Validate and store; on bad input the message names the field and the dialog stays open."""
        try:
            edited = self.vulnerability()
            why = ask_lower_reason(self, self.ctx.ask_text, vs.marking_floor(self.ctx.session, edited), edited.marking,
                                   "This vulnerability")
            if why is None:
                return False
            stored = (vs.update(self.ctx.session, edited, why) if edited.id
                      else vs.create(self.ctx.session, edited, why))
        except ValidationError as exc:
            self.error.setText(str(exc))
            return False
        except FrontierError as exc:
            self.error.setText(str(exc))
            self.ctx.show_error(self, exc)
            return False
        self.result_vuln = stored
        self.error.clear()
        self.form_state.mark_clean()
        self.saved.emit(stored)
        self.ctx.events.status_message.emit(f"Saved {stored.id}")
        self.accept()
        return True


def _recipients_table(ctx: UiContext, vid: str) -> QTableWidget:
    """Who received which revision of the advisory (read-only; a row its signed record does not back
    is flagged)."""
    table = QTableWidget(0, 6)
    table.setObjectName("csafRecipients")
    table.setAccessibleName("Advisory recipients")
    table.setHorizontalHeaderLabels(["Revision", "Recipient", "Sent", "TLP / marking", "Override", "Record"])
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setStretchLastSection(True)
    for col, width in enumerate((190, 150, 170, 190, 150)):
        table.setColumnWidth(col, width)
    table.setMaximumHeight(130)
    try:
        shared = csaf_sharing.recipients(ctx.session, vid) if vid else []
    except FrontierError:
        shared = []
    for s in shared:
        r = s.row
        row = table.rowCount()
        table.insertRow(row)
        override = f"{r.override_by}: {r.override_reason}" if r.override_reason else ""
        record = "signed" if s.problem is None else f"DOES NOT HOLD: {s.problem}"
        cells = [f"{r.tracking_id} v{r.version}", r.recipient, f"{r.exported_at[:10]} by {r.exported_by}",
                 f"TLP:{r.tlp}, {r.marking}", override, record]
        for col, text in enumerate(cells):
            table.setItem(row, col, QTableWidgetItem(sanitize(text, 300)))
    if not shared:
        table.setToolTip("Not shared yet: Export CSAF… on the register records each recipient")
    return table


# -- entry points for other screens ---------------------------------------------------------

def editor_for_sample(ctx: UiContext, submission_id: int | None, run_id: str, sample_id: str,
                      excerpt: str = "", marking: Marking | None = None,
                      parent: QWidget | None = None) -> VulnEditor:
    """An editor prefilled from a transcript sample (link to run and sample kept)."""
    if marking is None:
        draft = vs.draft_from_sample(ctx.session, submission_id, run_id, sample_id, excerpt=excerpt)
    else:
        draft = vs.draft_from_sample(ctx.session, submission_id, run_id, sample_id, excerpt=excerpt,
                                     marking=marking)
    return VulnEditor(ctx, draft, parent)


def editor_for_finding(ctx: UiContext, finding: Any, parent: QWidget | None = None) -> VulnEditor:
    """An editor prefilled from an assessment finding (link to the finding kept)."""
    return VulnEditor(ctx, vs.draft_from_finding(ctx.session, finding), parent)


def open_for_sample(ctx: UiContext, submission_id: int | None, run_id: str, sample_id: str,
                    excerpt: str = "", marking: Marking | None = None,
                    parent: QWidget | None = None) -> Vulnerability | None:
    """Modal: record a vulnerability found in a sample. Returns the stored record or None."""
    try:
        dialog = editor_for_sample(ctx, submission_id, run_id, sample_id, excerpt, marking, parent)
    except FrontierError as exc:
        ctx.show_error(parent, exc)
        return None
    dialog.exec()
    return dialog.result_vuln


def open_for_finding(ctx: UiContext, finding: Any, parent: QWidget | None = None) -> Vulnerability | None:
    """Modal: record a vulnerability from a finding. Returns the stored record or None."""
    try:
        dialog = editor_for_finding(ctx, finding, parent)
    except FrontierError as exc:
        ctx.show_error(parent, exc)
        return None
    dialog.exec()
    return dialog.result_vuln
