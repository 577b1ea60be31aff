"""Submission tab "Coverage": the active rule set evaluated against this submission.

Per rule: kind, inputs (each naming its run), threshold, outcome and explanation; compute and
capability indicators are listed apart. The reviewer records the determination with a rationale;
a lead who did not record it approves it. A re-evaluation flag shows when new results or a new
rule set would change the recorded outcome.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.coverage import Label, Outcome, Overall
from app.model.errors import FrontierError
from app.model.markings import Marking
from app.model.workflow import Act
from app.services import coverage, review_overview
from app.services.coverage import CoverageView
from ui import theme
from ui.context import UiContext
from ui.widgets import column_fit
from ui.widgets.comment_thread import CommentThread
from ui.widgets.marking_picker import MarkingPicker, ask_lower_reason
from ui.widgets.sortable_table import SortableTable
from ui.widgets.workflow_hint import apply_action

COLUMNS = ["Rule", "Kind", "Inputs", "Threshold", "Outcome", "Explanation"]
OUTCOME_COLOURS = {Outcome.MET: "#cf222e", Outcome.NOT_MET: "#1a7f37", Outcome.NO_DATA: "#9a6700"}


class CoverageScreen(QWidget):
    """Mount as a submission tab: CoverageScreen(ctx, submission_id)."""

    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.view: CoverageView | None = None

        self.ruleset_label = QLabel()
        self.ruleset_label.setObjectName("rulesetLabel")
        self.ruleset_label.setTextFormat(Qt.TextFormat.PlainText)
        self.ruleset_label.setWordWrap(True)
        self.flags = QLabel()
        self.flags.setObjectName("reevaluationFlag")
        self.flags.setTextFormat(Qt.TextFormat.PlainText)
        self.flags.setWordWrap(True)
        self.flags.setStyleSheet(theme.FLAG_BOX)

        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("rulesTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        # One line per rule, so several rules are in sight: long cells elide, whole in their tooltip.
        self.table.setWordWrap(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        column_fit.install(self.table, (2, 3, 0))
        self.engine = QLabel()
        self.engine.setObjectName("engineOutcome")
        self.engine.setTextFormat(Qt.TextFormat.PlainText)
        self.engine.setWordWrap(True)
        self.excluded = QLabel()
        self.excluded.setTextFormat(Qt.TextFormat.PlainText)
        self.excluded.setWordWrap(True)
        self.excluded.setStyleSheet(theme.MUTED)

        self.current = QLabel()
        self.current.setObjectName("currentDetermination")
        self.current.setTextFormat(Qt.TextFormat.PlainText)
        self.current.setWordWrap(True)
        self.approve_button = QPushButton("Approve determination")
        self.approve_button.clicked.connect(self.approve)
        cur_box = QGroupBox("Recorded determination")
        cb = QHBoxLayout(cur_box)
        cb.addWidget(self.current, 1)
        cb.addWidget(self.approve_button, 0, Qt.AlignmentFlag.AlignTop)

        self.outcome = QComboBox()
        self.outcome.setObjectName("outcomeChoice")
        for o in Overall:
            self.outcome.addItem(o.label, o.value)
        self.rationale = QPlainTextEdit()
        self.rationale.setObjectName("rationale")
        self.rationale.setPlaceholderText("Rationale: which rules and inputs decided it; why, if you depart from "
                                          "the engine's outcome")
        self.rationale.setTabChangesFocus(True)
        self.rationale.setMaximumHeight(72)
        self.marking = MarkingPicker(Marking.parse(ctx.session.settings.system_high))
        self.record_button = QPushButton("Record determination")
        self.record_button.clicked.connect(self.record)
        rec_box = QGroupBox("Record a determination")
        form = QFormLayout(rec_box)
        form.addRow("Outcome:", self.outcome)
        form.addRow("Rationale:", self.rationale)
        form.addRow("Marking:", self.marking)
        form.addRow("", self.record_button)
        rec_box.setVisible(ctx.can(Permission.ASSESS))
        rec_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        cur_box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        # A lead answers the flags by recording why the determination stands (or records a new one).
        self.keep_button = QPushButton("Keep determination…")
        self.keep_button.setToolTip("Record why the current determination stands despite what changed")
        self.keep_button.clicked.connect(self.keep)
        self.keep_button.setVisible(False)
        self.kept = QLabel()
        self.kept.setObjectName("determinationKept")
        self.kept.setTextFormat(Qt.TextFormat.PlainText)
        self.kept.setWordWrap(True)
        refresh = QPushButton("Re-evaluate")
        refresh.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.ruleset_label, 1)
        top.addWidget(refresh, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.flags)
        flag_row = QHBoxLayout()
        flag_row.addWidget(self.kept, 1)
        flag_row.addWidget(self.keep_button)
        layout.addLayout(flag_row)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.engine)
        layout.addWidget(self.excluded)
        layout.addWidget(cur_box)
        self.discussion_thread = CommentThread(ctx)
        layout.addWidget(self.discussion_thread)
        layout.addWidget(rec_box)
        self.refresh()

    def refresh(self) -> None:
        try:
            self.view = coverage.evaluate(self.ctx.session, self.submission_id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        v = self.view
        rs = v.ruleset
        warn = rs.label is Label.REFERENCE
        caption = "REFERENCE INDICATORS, NOT THE CLASSIFIED THRESHOLD" if warn else rs.label.caption
        self.ruleset_label.setText(f"Active rule set: {rs.ruleset_id} v{rs.version}, sha256 {rs.sha256[:16]}… — "
                                   f"{caption}")
        self.ruleset_label.setStyleSheet(theme.CAUTION_STRONG if warn else theme.STRONG)
        self.flags.setText("\n".join(f"Re-evaluation needed: {f}" for f in v.flags))
        self.flags.setVisible(bool(v.flags))
        self.keep_button.setVisible(bool(v.flags) and self.ctx.can(Permission.APPROVE))
        self.kept.setText(v.kept)
        self.kept.setVisible(bool(v.kept))

        rows = list(v.evaluation.results)
        rows.sort(key=lambda r: r.kind.value != "compute")  # compute indicators first, then capability
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            values = [f"{r.rule_id}: {r.title}", r.kind.value, "; ".join(r.inputs) or "—", r.threshold,
                      r.outcome.value, r.explanation]
            for col, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setToolTip("\n".join(r.inputs) if col == 2 and r.inputs else text)
                if col == 4:
                    cell.setForeground(QColor(OUTCOME_COLOURS[r.outcome]))
                self.table.setItem(i, col, cell)
        self.table.resizeColumnsToContents()
        for col, cap in ((0, 220), (2, 240), (3, 240)):  # the explanation (last) keeps some room
            self.table.setColumnWidth(col, min(self.table.columnWidth(col), cap))
        column_fit.refit(self.table)
        # every rule in sight up to eight (the tab scrolls below it), never fewer than five rows' room
        shown = min(max(len(rows), 5), 8)
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height() + 2 * self.table.frameWidth()
                                    + shown * self.table.verticalHeader().defaultSectionSize()
                                    + self.table.horizontalScrollBar().sizeHint().height())
        self.engine.setText(f"Engine outcome: {v.evaluation.summary()}")
        self.excluded.setText("\n".join(f"Not used: {e}" for e in v.excluded))
        self.excluded.setVisible(bool(v.excluded))
        idx = self.outcome.findData(v.evaluation.overall.value)
        self.outcome.setCurrentIndex(idx)
        # The record quotes the rule set's thresholds and the submission's results: start from their roll-up.
        self.marking.set_marking(coverage.determination_floor(self.ctx.session, self.submission_id))

        d = v.determination
        if d is None:
            self.current.setText("No determination recorded yet.")
            self.approve_button.setVisible(False)
            self.discussion_thread.set_target(None)
            return
        self.discussion_thread.set_target("determination", str(self.submission_id))
        approval = (f"approved by {d.approved_by} at {(d.approved_at or '')[:16]}" if d.approved_by
                    else "awaiting a lead's approval")
        self.current.setText(f"{d.marking.portion()} {d.outcome.capitalize()} — recorded by {d.recorded_by} at "
                             f"{d.recorded_at[:16]} under {d.ruleset_id} v{d.ruleset_version}; {approval}.\n"
                             f"{d.rationale}")
        can_approve = self.ctx.can(Permission.APPROVE) and not d.approved_by
        self.approve_button.setVisible(can_approve)
        try:
            ov = review_overview.overview(self.ctx.session, self.submission_id)
        except FrontierError:
            ov = None
        apply_action(self.approve_button, ov, Act.APPROVE_DETERMINATION, "Approve as a second person (a lead)")

    def record(self) -> None:
        outcome = Overall(self.outcome.currentData())
        marking = self.marking.marking()
        try:
            floor = coverage.determination_floor(self.ctx.session, self.submission_id)
            why = ask_lower_reason(self, self.ctx.ask_text, floor, marking, "The coverage determination")
            if why is None:
                return
            coverage.record_determination(self.ctx.session, self.submission_id, self.rationale.toPlainText(),
                                          outcome, marking, why)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.rationale.clear()
        self.ctx.events.status_message.emit("Coverage determination recorded")
        self.refresh()

    def keep(self) -> None:
        reason = self.ctx.ask_text(self, "Keep determination",
                                   "Why does the recorded determination stand despite these changes?")
        if not reason:
            return
        try:
            coverage.keep_determination(self.ctx.session, self.submission_id, reason)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.refresh()

    def approve(self) -> None:
        if self.view is None or self.view.determination is None:
            return
        try:
            coverage.approve_determination(self.ctx.session, self.view.determination.id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.ctx.events.status_message.emit("Coverage determination approved")
        self.refresh()
