"""Submission editor: every field of app.model.submissions.Submission, markings on the record and
on the notes, points of contact. Validation errors appear next to the field they name; review
window warnings (over 30 days) are shown but never block saving.

Used as the Overview tab of a submission (SubmissionEditor(ctx, id)) and, for a new record, inside
NewSubmissionDialog (SubmissionEditor(ctx, None)).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError, ValidationError
from app.model.markings import Marking, rollup
from app.model.submissions import (
    MAX_WINDOW_DAYS,
    AccessMethod,
    ComputeEstimate,
    Contact,
    Modality,
    Submission,
    SubmissionStatus,
    parse_flop,
)
from app.services import submission_signatures, submissions
from ui import theme
from ui.banner import ClassificationBanner
from ui.context import UiContext
from ui.unsaved import FormState
from ui.widgets.marking_picker import MarkingPicker

CONTACT_FIELDS = ("name", "organisation", "email", "phone", "role")


def _combo(enum_type: type[StrEnum]) -> QComboBox:
    box = QComboBox()
    for member in enum_type:
        box.addItem(member.value, member.value)
    return box


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


def _flop_text(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


class SubmissionEditor(QWidget):
    """An editor in the ui.unsaved sense: is_modified / commit / discard; `modified` tracks the mark."""

    saved = Signal(object)  # Submission
    modified = Signal(bool)

    def __init__(self, ctx: UiContext, submission_id: int | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.original: Submission | None = None
        self.editable = ctx.can(Permission.EDIT_SUBMISSIONS)
        try:
            ceiling: Marking | None = Marking.parse(ctx.session.settings.system_high)
        except ValidationError:
            ceiling = None
        self.error_labels: dict[str, QLabel] = {}
        self.field_widgets: dict[str, QWidget] = {}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        body = QWidget()
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(14, 10, 14, 10)

        # -- the model ---------------------------------------------------------------------------
        model_box = QGroupBox("Model")
        form = QFormLayout(model_box)
        self.developer = QLineEdit()
        self.model_name = QLineEdit()
        self.version = QLineEdit()
        self.modality = _combo(Modality)
        self.access_method = _combo(AccessMethod)
        self.training_flop = QLineEdit()
        self.training_flop.setPlaceholderText("e.g. 3.2e25 (blank if not declared)")
        self.compute_estimate = _combo(ComputeEstimate)
        self._row(form, "Developer organisation", "developer", self.developer)
        self._row(form, "Model name", "model_name", self.model_name)
        self._row(form, "Version / checkpoint", "version", self.version)
        self._row(form, "Modality", "modality", self.modality)
        self._row(form, "Access method", "access_method", self.access_method)
        self._row(form, "Training compute (FLOP)", "training_flop", self.training_flop)
        self._row(form, "How it was estimated", "compute_estimate", self.compute_estimate)
        top = QHBoxLayout()
        top.addWidget(model_box, 1)

        # -- review window -------------------------------------------------------------------------
        window_box = QGroupBox("Review window")
        wform = QFormLayout(window_box)
        self.received = QDateEdit()
        self.planned_release = QDateEdit()
        for d in (self.received, self.planned_release):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.dateChanged.connect(self._window_changed)
        # The stage follows the work (app.model.workflow); a person only records a withdrawal.
        self.status = QComboBox()
        self.status.addItem("active — the stage follows the work", "")
        self.status.addItem("withdrawn by the developer", SubmissionStatus.WITHDRAWN.value)
        self.status.setToolTip("The review stage is computed from the assessment, determination and report; "
                               "only a withdrawal is recorded by hand.")
        self._row(wform, "Received", "received", self.received)
        self._row(wform, "Planned public release", "planned_release", self.planned_release)
        self.window_info = QLabel("")
        self.window_info.setObjectName("windowInfo")
        self.window_info.setWordWrap(True)
        wform.addRow("", self.window_info)
        self._row(wform, "Withdrawal", "status", self.status)
        top.addWidget(window_box, 1)
        layout.addLayout(top)

        # -- markings and notes -------------------------------------------------------------------
        mark_box = QGroupBox("Classification and notes")
        mform = QFormLayout(mark_box)
        self.marking = MarkingPicker(ceiling)
        self.marking.setObjectName("recordMarking")
        self._row(mform, "Record marking", "marking", self.marking)
        self.notes = QPlainTextEdit()
        self.notes.setMinimumHeight(90)
        self.notes.setMaximumHeight(160)
        self.notes_marking = MarkingPicker(ceiling)
        self.notes_marking.setObjectName("notesMarking")
        self._row(mform, "Notes marking", "notes_marking", self.notes_marking)
        self._row(mform, "Notes", "notes", self.notes)
        self.marking_info = QLabel("")
        self.marking_info.setObjectName("warningText")
        self.marking_info.setWordWrap(True)
        mform.addRow("", self.marking_info)
        self.marking.changed.connect(self._markings_changed)
        self.notes_marking.changed.connect(self._markings_changed)
        layout.addWidget(mark_box)

        # -- contacts ------------------------------------------------------------------------------
        contact_box = QGroupBox("Points of contact")
        cl = QVBoxLayout(contact_box)
        self.contacts = QTableWidget(0, len(CONTACT_FIELDS))
        self.contacts.setObjectName("contacts")
        self.contacts.setProperty("inputGrid", True)  # typed into, not browsed: rows stay where entered
        self.contacts.setHorizontalHeaderLabels([f.capitalize() for f in CONTACT_FIELDS])
        self.contacts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.contacts.verticalHeader().setVisible(False)
        self.contacts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.contacts.setMinimumHeight(110)
        cl.addWidget(self.contacts)
        crow = QHBoxLayout()
        self.add_contact = QPushButton("Add contact")
        self.add_contact.clicked.connect(lambda: self._append_contact(Contact(name="")))
        self.remove_contact = QPushButton("Remove selected")
        self.remove_contact.clicked.connect(self._remove_contact)
        crow.addWidget(self.add_contact)
        crow.addWidget(self.remove_contact)
        crow.addStretch(1)
        cl.addLayout(crow)
        self.error_labels["contacts"] = self._error_label()
        cl.addWidget(self.error_labels["contacts"])
        self.field_widgets["contacts"] = self.contacts
        layout.addWidget(contact_box)
        layout.addStretch(1)

        # -- actions -------------------------------------------------------------------------------
        actions = QHBoxLayout()
        actions.setContentsMargins(14, 6, 14, 10)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        actions.addWidget(self.message, 1)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self.load)
        self.save_button = QPushButton("Create submission" if submission_id is None else "Save changes")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        actions.addWidget(self.revert_button)
        actions.addWidget(self.save_button)
        outer.addLayout(actions)

        if not self.editable:
            self._set_read_only()
        self.form_state = FormState([
            self.developer, self.model_name, self.version, self.modality, self.access_method, self.training_flop,
            self.compute_estimate, self.received, self.planned_release, self.status, self.marking, self.notes,
            self.notes_marking, self.contacts], self)
        self.form_state.changed.connect(self._modified_changed)
        self.load()

    # -- layout helpers ------------------------------------------------------------------------------
    def _error_label(self) -> QLabel:
        label = QLabel("")
        label.setObjectName("errorText")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setVisible(False)
        return label

    def _row(self, form: QFormLayout, label: str, name: str, widget: QWidget) -> None:
        widget.setObjectName(widget.objectName() or name)
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addWidget(widget)
        err = self._error_label()
        v.addWidget(err)
        self.error_labels[name] = err
        self.field_widgets[name] = widget
        form.addRow(label, box)

    def _set_read_only(self) -> None:
        for w in (self.developer, self.model_name, self.version, self.training_flop):
            w.setReadOnly(True)
        self.notes.setReadOnly(True)
        for w2 in (self.modality, self.access_method, self.compute_estimate, self.status, self.received,
                   self.planned_release, self.marking, self.notes_marking, self.add_contact,
                   self.remove_contact, self.save_button, self.revert_button):
            w2.setEnabled(False)
        self.contacts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.message.setText("Read-only: your role cannot edit submissions.")

    # -- load / collect ------------------------------------------------------------------------------
    @Slot()
    def load(self) -> None:
        self.clear_errors()
        if self.submission_id is None:
            today = self.ctx.today()
            sub = Submission(developer="", model_name="", version="", received=today,
                             planned_release=today + timedelta(days=MAX_WINDOW_DAYS))
        else:
            sub = submissions.get(self.ctx.session, self.submission_id)
            self.original = sub
        self.developer.setText(sub.developer)
        self.model_name.setText(sub.model_name)
        self.version.setText(sub.version)
        self.modality.setCurrentIndex(self.modality.findData(sub.modality.value))
        self.access_method.setCurrentIndex(self.access_method.findData(sub.access_method.value))
        self.training_flop.setText(_flop_text(sub.training_flop))
        self.compute_estimate.setCurrentIndex(self.compute_estimate.findData(sub.compute_estimate.value))
        self.received.setDate(_qdate(sub.received))
        self.planned_release.setDate(_qdate(sub.planned_release))
        self.status.setCurrentIndex(1 if sub.status is SubmissionStatus.WITHDRAWN else 0)
        # a submission whose row was lowered around the application opens at the marking its editors signed
        self.marking.set_marking(sub.marking if sub.id is None else
                                 submission_signatures.shown_marking(self.ctx.session, sub.id))
        self.notes.setPlainText(sub.notes)
        self.notes_marking.set_marking(sub.notes_marking)
        self.contacts.setRowCount(0)
        for c in sub.contacts:
            self._append_contact(c)
        self._window_changed()
        self._markings_changed()
        if self.editable:
            self.message.setText("")
        self.form_state.mark_clean()

    def refresh(self) -> None:
        """Shown again: reload from the database unless the reviewer has unsaved edits."""
        if self.submission_id is not None and not self.is_modified():
            self.load()

    def _append_contact(self, contact: Contact) -> None:
        row = self.contacts.rowCount()
        self.contacts.insertRow(row)
        for col, name in enumerate(CONTACT_FIELDS):
            self.contacts.setItem(row, col, QTableWidgetItem(getattr(contact, name)))

    @Slot()
    def _remove_contact(self) -> None:
        rows = sorted({i.row() for i in self.contacts.selectedIndexes()}, reverse=True)
        for r in rows:
            self.contacts.removeRow(r)

    def _contacts(self) -> tuple[Contact, ...]:
        out = []
        for r in range(self.contacts.rowCount()):
            values = {}
            for col, name in enumerate(CONTACT_FIELDS):
                item = self.contacts.item(r, col)
                values[name] = item.text().strip() if item is not None else ""
            if any(values.values()):
                out.append(Contact(**values))
        return tuple(out)

    def _status(self) -> SubmissionStatus:
        if self.status.currentData():
            return SubmissionStatus.WITHDRAWN
        kept = self.original.status if self.original else SubmissionStatus.RECEIVED
        return SubmissionStatus.RECEIVED if kept is SubmissionStatus.WITHDRAWN else kept

    def collect(self) -> Submission:
        """The form as a Submission; raises ValidationError naming the field."""
        base = self.original
        return Submission(
            developer=self.developer.text().strip(),
            model_name=self.model_name.text().strip(),
            version=self.version.text().strip(),
            received=_pydate(self.received.date()),
            planned_release=_pydate(self.planned_release.date()),
            modality=Modality(self.modality.currentData()),
            access_method=AccessMethod(self.access_method.currentData()),
            training_flop=parse_flop(self.training_flop.text()),
            compute_estimate=ComputeEstimate(self.compute_estimate.currentData()),
            status=self._status(),
            marking=self.marking.marking(),
            notes=self.notes.toPlainText(),
            notes_marking=self.notes_marking.marking(),
            contacts=self._contacts(),
            id=self.submission_id,
            created_by=base.created_by if base else "",
            updated_at=base.updated_at if base else "",
        )

    def is_modified(self) -> bool:
        """The form differs from what was loaded or last saved."""
        return self.editable and self.form_state.is_modified()

    def commit(self) -> bool:
        return self.save() is not None

    def discard(self) -> None:
        self.load()

    def unsaved_title(self) -> str:
        return "The new submission" if self.submission_id is None else "The submission overview"

    @Slot(bool)
    def _modified_changed(self, _modified: bool) -> None:
        self.modified.emit(self.is_modified())
        self.ctx.events.modified_changed.emit()

    # -- feedback --------------------------------------------------------------------------------
    @Slot()
    def _window_changed(self) -> None:
        received = _pydate(self.received.date())
        release = _pydate(self.planned_release.date())
        days = (release - received).days
        if days < 0:
            self.window_info.setText("Planned release is before the received date.")
            self.window_info.setStyleSheet(theme.ERROR_TEXT)
        elif days > MAX_WINDOW_DAYS:
            self.window_info.setText(f"Warning: review window is {days} days; the order provides for at most "
                                     f"{MAX_WINDOW_DAYS}. Saving is allowed; the record is flagged.")
            self.window_info.setStyleSheet(theme.WARNING_STRONG)
        else:
            left = (release - self.ctx.today()).days
            when = (f"{left} days from today to public release" if left >= 0
                    else f"public release was {-left} days ago")
            self.window_info.setText(f"Review window: {days} days; {when}.")
            self.window_info.setStyleSheet(theme.NEUTRAL_TEXT)

    @Slot()
    def _markings_changed(self) -> None:
        record, notes = self.marking.marking(), self.notes_marking.marking()
        if record.dominates(notes):
            self.marking_info.setText("")
        else:
            overall = rollup([record, notes])
            self.marking_info.setText(f"The notes are marked above the record. The record's overall marking "
                                      f"should be {overall.banner()} (roll-up of its portions).")

    def clear_errors(self) -> None:
        for name, label in self.error_labels.items():
            label.clear()
            label.setVisible(False)
            w = self.field_widgets.get(name)
            if w is not None and w.property("invalid"):
                w.setProperty("invalid", False)
                w.style().unpolish(w)
                w.style().polish(w)

    def show_field_error(self, field: str, message: str) -> None:
        label = self.error_labels.get(field)
        if label is None:  # a field without its own place: the message still names it
            self.message.setText(message)
            self.message.setStyleSheet(theme.ERROR_TEXT)
            return
        label.setText(message)
        label.setVisible(True)
        w = self.field_widgets[field]
        w.setProperty("invalid", True)
        w.style().unpolish(w)
        w.style().polish(w)
        w.setFocus()
        self.message.setText(f"Not saved: {message}")
        self.message.setStyleSheet(theme.ERROR_TEXT)

    # -- save ------------------------------------------------------------------------------------
    @Slot()
    def save(self) -> Submission | None:
        self.clear_errors()
        try:
            draft = self.collect()
            stored = (submissions.create(self.ctx.session, draft) if self.submission_id is None
                      else submissions.update(self.ctx.session, draft))
        except ValidationError as exc:
            self.show_field_error(exc.field, f"{_FIELD_LABELS.get(exc.field, exc.field)}: {exc.reason}")
            return None
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None
        self.original = stored
        if self.submission_id is None:
            self.submission_id = stored.id
            self.save_button.setText("Save changes")
        self.form_state.mark_clean()
        flags = stored.window_flags
        self.message.setText("Saved. " + " ".join(flags) if flags else "Saved.")
        self.message.setStyleSheet(theme.WARNING_TEXT if flags else theme.OK_TEXT)
        assert stored.id is not None
        self.saved.emit(stored)
        return stored


_FIELD_LABELS = {
    "developer": "Developer organisation",
    "model_name": "Model name",
    "version": "Version / checkpoint",
    "training_flop": "Training compute (FLOP)",
    "received": "Received",
    "planned_release": "Planned public release",
    "notes": "Notes",
    "contacts": "Points of contact",
    "marking": "Record marking",
    "notes_marking": "Notes marking",
}


class NewSubmissionDialog(QDialog):
    """Non-blocking (open()) and kept across a lock, so typed input survives an idle lock."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("New submission[*]")
        self.setProperty("keepOnLock", True)
        self.resize(760, 720)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.editor = SubmissionEditor(ctx, None)
        # Every window that can show content carries the workstation's banners.
        layout.addWidget(ClassificationBanner(ctx.session.settings.system_high))
        layout.addWidget(self.editor, 1)
        layout.addWidget(ClassificationBanner(ctx.session.settings.system_high))
        self.created: Submission | None = None
        self.editor.saved.connect(self._saved)
        self.editor.modified.connect(self.setWindowModified)

    def reject(self) -> None:
        """Esc, Cancel and the window's close button: typed input is never dropped without asking."""
        if self.ctx.settle(self, self) and self.created is None:  # a Save in the prompt already accepted
            super().reject()

    @Slot(object)
    def _saved(self, sub: Submission) -> None:
        self.created = sub
        self.accept()
