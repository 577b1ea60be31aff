"""Dashboard: open reviews, most urgent first, with the countdown to each public release.

Other features add reminder panels (e.g. backups) with one line in DASHBOARD_PANELS: a factory
`(ctx) -> QWidget | None` (None = nothing to remind about), rebuilt on every refresh.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.submissions import Submission, WindowState
from app.services import benchmarks, submissions
from ui import theme
from ui.context import UiContext, resolve
from ui.theme import STATE_COLOURS
from ui.widgets.sortable_table import SortableTable

DASHBOARD_LIMIT = 200
DASHBOARD_PANELS: list[str | Callable[[UiContext], QWidget | None]] = [
    "ui.screens.backup_screen:backup_reminder_panel",
    "ui.screens.dissemination_screen:overdue_receipts_panel",
    "ui.screens.work_queues:awaiting_decision_panel",
    "ui.screens.work_queues:my_work_panel",
]

COLUMNS = ("Days left", "Window", "Submission", "Developer", "Stage", "Plan", "Release", "Marking")


PLAN_COLUMN = COLUMNS.index("Plan")


def plan_text(plan: benchmarks.PlanView | None) -> str:
    """planned / imported / conforming / missing in one short cell ("—": no plan)."""
    if plan is None or not plan.items:
        return "—"
    c = plan.counts
    return f"{c['imported']}/{c['planned']} imported, {c['conforming']} conforming, {c['missing']} missing"


def days_text(state: WindowState, days: int) -> str:
    if state is WindowState.DONE:
        return "—"
    if days < 0:
        return f"{days} (overdue)"
    return str(days)


class _Card(QFrame):
    def __init__(self, title: str, colour: str) -> None:
        super().__init__()
        self.setObjectName("card")
        lay = QVBoxLayout(self)
        self.value = QLabel("0")
        self.value.setStyleSheet(theme.big_figure(colour))
        caption = QLabel(title)
        caption.setObjectName("hint")
        lay.addWidget(self.value)
        lay.addWidget(caption)


class DashboardScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        title = QLabel("Open reviews")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        cards = QHBoxLayout()
        self.cards = {
            WindowState.OVERDUE: _Card("Overdue", STATE_COLOURS[WindowState.OVERDUE]),
            WindowState.AT_RISK: _Card(f"At risk (≤ {ctx.session.settings.at_risk_days} days)",
                                       STATE_COLOURS[WindowState.AT_RISK]),
            WindowState.ON_TRACK: _Card("On track", STATE_COLOURS[WindowState.ON_TRACK]),
        }
        self.open_card = _Card("Open reviews", "#14202e")
        for card in (*self.cards.values(), self.open_card):
            cards.addWidget(card)
        layout.addLayout(cards)
        self.panels = QVBoxLayout()
        layout.addLayout(self.panels)
        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("dashboardTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(self._open)  # double-click or Enter
        layout.addWidget(self.table, 1)
        self.footer = QLabel("")
        self.footer.setObjectName("hint")
        layout.addWidget(self.footer)
        self.rows: list[tuple[Submission, WindowState, int]] = []
        ctx.events.submissions_changed.connect(self.refresh)
        ctx.events.submission_changed.connect(lambda _id: self.refresh())
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        if self.ctx.session.locked:
            return
        board = submissions.dashboard(self.ctx.session, DASHBOARD_LIMIT)
        self.board = board
        self.rows = [(r.submission, r.window, r.days) for r in board.rows]
        total_open = board.open_total
        for state, card in self.cards.items():
            card.value.setText(str(board.counts[state]))
        self.open_card.value.setText(f"{total_open:,}")
        plans = benchmarks.plan_progress(self.ctx.session, [int(x.submission.id or 0) for x in board.rows])
        self.table.setRowCount(len(board.rows))
        for r, row in enumerate(board.rows):
            sub, state, days = row.submission, row.window, row.days
            colour = QBrush(QColor(STATE_COLOURS[state]))
            flag = f"  ⚑ {sub.window_days}-day window" if sub.window_flags else ""
            values = (days_text(state, days), state.value,
                      f"{sub.marking.portion()} {sub.model_name} {sub.version}{flag}",
                      sub.developer, row.stage.label, plan_text(plans.get(int(sub.id or 0))),
                      sub.planned_release.isoformat(), sub.marking.banner())
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c in (0, 1):
                    item.setForeground(colour)
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                if c == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setData(Qt.ItemDataRole.UserRole, sub.id)
                if c == 2 and sub.window_flags:
                    item.setToolTip(" ".join(sub.window_flags))
                plan = plans.get(int(sub.id or 0))
                if c == PLAN_COLUMN and plan is not None and plan.items:
                    item.setToolTip(f"Evaluation plan: {plan.progress_text}")
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        shown = len(self.rows)
        self.footer.setText(f"Showing the {shown} most urgent of {total_open:,} open reviews. "
                            "Double-click a row (or Enter) to open it." if total_open > shown else
                            "Double-click a row (or Enter) to open it.")
        self._rebuild_panels()

    def _rebuild_panels(self) -> None:
        while self.panels.count():
            item = self.panels.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        for factory in DASHBOARD_PANELS:
            panel = resolve(factory)(self.ctx)
            if panel is not None:
                self.panels.addWidget(panel)

    @Slot()
    def _open(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.rows) and self.rows[row][0].id is not None:
            self.ctx.events.open_submission.emit(self.rows[row][0].id)
