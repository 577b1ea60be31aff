"""Submission tab "Team": who works on this review (a lead assigns reviewers to the submission or
to sections of its checklist) and every discussion thread of the submission in one list."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Role
from app.model.assignment import Assignment
from app.model.errors import FrontierError
from app.model.workflow import Act
from app.services import assignments, discussion, review_overview, users
from ui.context import UiContext
from ui.widgets import column_fit
from ui.widgets.sortable_table import SortableTable
from ui.widgets.transcript_view import clean_text
from ui.widgets.workflow_hint import apply_action

COLUMNS = ("Reviewer", "Scope", "Assigned by", "At")


class TeamTab(QWidget):
    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.rows: list[Assignment] = []
        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("assignmentsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        column_fit.titles_fit(self.table)
        self.person = QComboBox()
        self.person.setObjectName("assignee")
        self.section = QComboBox()
        self.section.setObjectName("assignSection")
        self.assign_button = QPushButton("Assign")
        self.assign_button.clicked.connect(self.assign)
        self.remove_button = QPushButton("Remove selected")
        self.remove_button.clicked.connect(self.remove)
        form = QHBoxLayout()
        form.addWidget(QLabel("Assign"))
        form.addWidget(self.person, 1)
        form.addWidget(QLabel("to"))
        form.addWidget(self.section, 1)
        form.addWidget(self.assign_button)
        form.addWidget(self.remove_button)
        box = QGroupBox("Assignments")
        bl = QVBoxLayout(box)
        bl.addWidget(self.table)
        bl.addLayout(form)
        self.discussion = QListWidget()
        self.discussion.setObjectName("submissionDiscussion")
        self.discussion.setWordWrap(True)
        dbox = QGroupBox("All discussion of this submission")
        QVBoxLayout(dbox).addWidget(self.discussion)
        layout = QVBoxLayout(self)
        layout.addWidget(box, 1)
        layout.addWidget(dbox, 1)
        self._fill_choices()
        self.refresh()

    def _fill_choices(self) -> None:
        try:
            people = [a for a in users.list_users(self.ctx.session)
                      if a.role in (Role.REVIEWER, Role.LEAD) and not a.disabled]
            sections = assignments.sections(self.ctx.session, self.submission_id)
        except FrontierError:
            people, sections = [], []
        for a in people:
            self.person.addItem(f"{a.display_name} ({a.username}, {a.role.label})", a.username)
        self.section.addItem("the whole checklist", "")
        for s in sections:
            self.section.addItem(f"section {s}", s)

    def refresh(self) -> None:
        try:
            self.rows = assignments.for_submission(self.ctx.session, self.submission_id)
            comments = discussion.for_submission(self.ctx.session, self.submission_id)
            ov = review_overview.overview(self.ctx.session, self.submission_id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.table.setRowCount(len(self.rows))
        for r, a in enumerate(self.rows):
            for c, text in enumerate((a.username, a.scope, a.assigned_by, a.assigned_at[:16].replace("T", " "))):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, a.id)
                self.table.setItem(r, c, item)
        for w in (self.assign_button, self.remove_button):
            apply_action(w, ov, Act.ASSIGN)
        self.discussion.clear()
        for note in comments:
            self.discussion.addItem(f"{note.marking.portion()} [{note.target_type} {note.target_id}] {note.author} "
                                    f"{note.created_at[:16].replace('T', ' ')}: {clean_text(note.body, 2000)}")

    def assign(self) -> None:
        try:
            assignments.assign(self.ctx.session, self.submission_id, str(self.person.currentData()),
                               str(self.section.currentData() or ""))
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.refresh()

    def remove(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.rows):
            return
        try:
            assignments.unassign(self.ctx.session, self.rows[row].id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.refresh()
