"""Submission tab "Findings": the findings register (title, severity, description, recommendation,
linked checklist items and evidence, marking). Locked with the assessment once it is approved."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError
from app.model.findings import EvidenceRef, Finding, Severity
from app.model.markings import Marking
from app.services import findings, printables, submissions
from ui import theme
from ui.context import UiContext
from ui.dialogs.evidence_picker import EvidencePicker
from ui.dialogs.printable_preview import PrintablePreview, open_preview
from ui.unsaved import FormState
from ui.vuln_editor import VulnEditor, editor_for_finding
from ui.widgets.comment_thread import CommentThread
from ui.widgets.flow_layout import FlowLayout
from ui.widgets.marking_picker import MarkingPicker, ask_lower_reason
from ui.widgets.sortable_table import SortableTable

COLUMNS = ["#", "Severity", "Title", "Items", "Marking"]
ID_ROLE = Qt.ItemDataRole.UserRole


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.replace(";", ",").split(",") if p.strip())


class FindingsScreen(QWidget):
    """Mount as a submission tab: FindingsScreen(ctx, submission_id)."""

    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.items: list[Finding] = []
        self.editing: Finding | None = None
        self.ask_reason = self._ask_reason

        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("findingsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.itemSelectionChanged.connect(self._selected)

        self.title = QLineEdit()
        self.title.setObjectName("findingTitle")
        self.severity = QComboBox()
        for s in Severity:
            self.severity.addItem(s.label, s.value)
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        self.recommendation = QPlainTextEdit()
        self.recommendation.setTabChangesFocus(True)
        self.impact = QPlainTextEdit()
        self.impact.setObjectName("findingImpact")
        self.impact.setTabChangesFocus(True)
        self.impact.setPlaceholderText("what this means for the decision maker")
        self.linked = QLineEdit()
        self.linked.setPlaceholderText("checklist item ids, e.g. CAP-02, SAF-01")
        self.evidence = QLineEdit()
        self.evidence.setPlaceholderText("run:12, sample:12:ctf-3, blob:SHA256")
        self.marking = MarkingPicker(Marking.parse(ctx.session.settings.system_high))
        self.new_button = QPushButton("New finding")
        self.new_button.clicked.connect(self.new)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete)
        self.vuln_button = QPushButton("Record vulnerability…")
        self.vuln_button.setObjectName("recordVulnerability")
        self.vuln_button.setToolTip("Open the vulnerability register editor prefilled from this finding (linked)")
        self.vuln_button.clicked.connect(self.record_vulnerability)
        form = QFormLayout()
        form.addRow("Title:", self.title)
        form.addRow("Severity:", self.severity)
        form.addRow("Description:", self.description)
        form.addRow("Impact:", self.impact)
        form.addRow("Recommendation:", self.recommendation)
        form.addRow("Linked items:", self.linked)
        self.evidence_button = QPushButton("Add evidence…")
        self.evidence_button.setToolTip("Pick runs, samples or files of this submission from lists")
        self.evidence_button.clicked.connect(self.add_evidence)
        evidence_row = QHBoxLayout()
        evidence_row.addWidget(self.evidence, 1)
        evidence_row.addWidget(self.evidence_button)
        form.addRow("Evidence:", evidence_row)
        form.addRow("Marking:", self.marking)
        buttons = FlowLayout()  # above the form, outside its scroll area: Save is always in sight
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.vuln_button)
        buttons.addStretch(1)
        self.print_button = QPushButton("Print register…")
        self.print_button.setToolTip("Preview the findings register as a marked document; print it or save it as "
                                     "a PDF (printer and media labels checked)")
        self.print_button.clicked.connect(self.print_register)
        buttons.addWidget(self.print_button)
        self.read_only_note = QLabel("")
        self.read_only_note.setObjectName("findingsReadOnly")
        self.read_only_note.setTextFormat(Qt.TextFormat.PlainText)
        self.read_only_note.setWordWrap(True)
        self.read_only_note.setStyleSheet(theme.MUTED_NOTE)
        self.read_only_note.setVisible(False)
        self.discussion_thread = CommentThread(ctx)
        self.discussion_thread.set_target(None)
        form.addRow(self.discussion_thread)
        # The register above (several rows, never less than three), the form below: its buttons on
        # top and the fields in their own scroll area, so at 800 px the list and Save both stay in sight.
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height()
                                    + 3 * self.table.verticalHeader().defaultSectionSize() + 8)
        register = QWidget()
        rl = QVBoxLayout(register)  # the table's filter box goes in above it
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.table)
        fields = QWidget()
        fields.setLayout(form)
        self.form_scroll = QScrollArea()
        self.form_scroll.setObjectName("findingForm")
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setWidget(fields)
        editor = QWidget()
        el = QVBoxLayout(editor)
        el.setContentsMargins(0, 0, 0, 0)
        el.addLayout(buttons)
        el.addWidget(self.read_only_note)
        el.addWidget(self.form_scroll, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(register)
        split.addWidget(editor)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        self.split = split
        QVBoxLayout(self).addWidget(split)
        self.editable = ctx.can(Permission.ASSESS)
        self.vuln_button.setEnabled(ctx.can(Permission.MANAGE_VULNS))
        self.form_state = FormState([self.title, self.severity, self.description, self.impact, self.recommendation,
                                     self.linked, self.evidence, self.marking], self)
        self.form_state.changed.connect(lambda _m: ctx.events.modified_changed.emit())
        self.refresh()

    def print_register(self) -> PrintablePreview | None:
        return open_preview(self.ctx, self,
                            lambda: printables.findings_register(self.ctx.session, self.submission_id))

    # -- unsaved changes (ui.unsaved): asked before another finding is shown ------------------
    def is_modified(self) -> bool:
        return self.editable and self.form_state.is_modified()

    def commit(self) -> bool:
        return self.save()

    def discard(self) -> None:
        if self.editing is not None:
            self._show(self.editing)
        else:
            self.new()

    def unsaved_title(self) -> str:
        return f"Finding {self.editing.label}" if self.editing is not None else "The new finding"

    def pick_evidence_dialog(self) -> EvidencePicker:
        return EvidencePicker(self.ctx, self.submission_id, self)

    def add_evidence(self) -> list[str]:
        """Evidence picked from lists (runs, samples, files) is appended to the field, no ids typed."""
        picker = self.pick_evidence_dialog()
        if picker.result() != QDialog.DialogCode.Accepted and picker.exec() != QDialog.DialogCode.Accepted:
            return []
        present = _split(self.evidence.text())
        added = [ref for ref in picker.selected_refs() if ref not in present]
        if added:
            self.evidence.setText(", ".join((*present, *added)))
        return added

    def record_vulnerability(self) -> VulnEditor | None:
        """A vulnerability found through this finding goes to the register with the link kept."""
        if self.editing is None or self.editing.id is None:
            self.ctx.show_error(self, FrontierError("Select a saved finding first."))
            return None
        try:
            editor = editor_for_finding(self.ctx, self.editing, self)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None
        editor.setWindowModality(Qt.WindowModality.WindowModal)
        editor.open()
        return editor

    def _ask_reason(self) -> str | None:
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getText(self, "Delete finding", "Why is this finding deleted? (audited)")
        return text if ok else None

    def _set_editable(self, editable: bool, why: str) -> None:
        """Nothing can be saved (a role without ASSESS, or the assessment is approved and locked): the
        fields turn read-only and look it, the buttons that change findings are off, and a line says why."""
        self.editable = editable
        for w in (self.new_button, self.save_button, self.delete_button, self.evidence_button, self.severity,
                  self.marking):
            w.setEnabled(editable)
        for edit in (self.title, self.linked, self.evidence, self.description, self.impact, self.recommendation):
            edit.setReadOnly(not editable)
            edit.setProperty("readOnlyField", not editable)
            edit.style().unpolish(edit)
            edit.style().polish(edit)
        self.read_only_note.setText(why)
        self.read_only_note.setVisible(not editable)

    def refresh(self) -> None:
        try:
            self.items = findings.list_findings(self.ctx.session, self.submission_id)
            locked = findings.locked(self.ctx.session, self.submission_id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        if not self.ctx.can(Permission.ASSESS):
            self._set_editable(False, "Read-only: your role cannot change findings.")
        elif locked:
            self._set_editable(False, "Locked: the assessment is approved. A lead must reopen it before findings "
                                      "can change.")
        else:
            self._set_editable(True, "")
        self.table.setRowCount(len(self.items))
        for row, f in enumerate(self.items):
            for col, text in enumerate([f.label, f.severity.label, f.title, ", ".join(f.item_ids), f.marking.banner()]):
                cell = QTableWidgetItem(text)
                cell.setData(ID_ROLE, f.id)
                self.table.setItem(row, col, cell)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(2, max(self.table.columnWidth(2), 420))
        if self.editing is None and not (hasattr(self, "form_state") and self.is_modified()):
            self.new()

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        f = self.items[self.table.source_row(rows[0].row())]
        if self.editing is not None and f.id == self.editing.id:
            return
        if not self.ctx.settle(self):
            self._select_row_of(self.editing)  # cancelled: stay on the finding being edited
            return
        if self.editing is None or f.id != self.editing.id:  # a Save in the prompt refreshed the table
            self._show(f)

    def _select_row_of(self, f: Finding | None) -> None:
        self.table.blockSignals(True)
        self.table.selectionModel().blockSignals(True)
        try:
            self.table.clearSelection()
            for row, item in enumerate(self.items):
                if f is not None and item.id == f.id:
                    self.table.selectRow(self.table.view_row(row))
        finally:
            self.table.selectionModel().blockSignals(False)
            self.table.blockSignals(False)

    def _show(self, f: Finding) -> None:
        self.editing = f
        self._select_row_of(f)
        self.discussion_thread.set_target("finding", str(f.id))
        self.title.setText(f.title)
        self.severity.setCurrentIndex(self.severity.findData(f.severity.value))
        self.description.setPlainText(f.description)
        self.recommendation.setPlainText(f.recommendation)
        self.impact.setPlainText(f.impact)
        self.linked.setText(", ".join(f.item_ids))
        self.evidence.setText(", ".join(str(e) for e in f.evidence))
        self.marking.set_marking(f.marking)
        self.form_state.mark_clean()

    def new(self) -> None:
        if hasattr(self, "form_state") and not self.ctx.settle(self):
            return
        self.editing = None
        self._select_row_of(None)
        self.discussion_thread.set_target(None)
        for w in (self.title, self.linked, self.evidence):
            w.clear()
        self.description.clear()
        self.recommendation.clear()
        self.impact.clear()
        self.severity.setCurrentIndex(self.severity.findData(Severity.MEDIUM.value))
        # A new finding is about the submission: it starts at the submission's marking.
        self.marking.set_marking(submissions.get(self.ctx.session, self.submission_id).marking)
        if hasattr(self, "form_state"):
            self.form_state.mark_clean()

    def _form(self) -> Finding:
        evidence = tuple(EvidenceRef.parse(e) for e in _split(self.evidence.text()))
        return Finding(
            self.submission_id, self.title.text().strip(), self.description.toPlainText(),
            Severity(self.severity.currentData()), self.recommendation.toPlainText(), _split(self.linked.text()),
            evidence, self.marking.marking(),
            id=self.editing.id if self.editing else None, impact=self.impact.toPlainText(),
        )

    def save(self) -> bool:
        try:
            f = self._form()
            floor = (self.editing.marking if self.editing is not None
                     else submissions.get(self.ctx.session, self.submission_id).marking)
            why = ask_lower_reason(self, self.ctx.ask_text, floor, f.marking, "This finding")
            if why is None:
                return False
            saved = (findings.update(self.ctx.session, f, why) if f.id
                     else findings.create(self.ctx.session, f, why))
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return False
        self.editing = saved
        self.form_state.mark_clean()
        self.refresh()
        self._select_row_of(saved)
        self.ctx.events.status_message.emit(f"Finding {saved.label} saved")
        return True

    def delete(self) -> None:
        if self.editing is None or self.editing.id is None:
            return
        reason = self.ask_reason()
        if reason is None:
            return
        try:
            findings.delete(self.ctx.session, self.editing.id, reason)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.editing = None
        self.form_state.mark_clean()
        self.refresh()
