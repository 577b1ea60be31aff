"""Submission register: windowed table (sort on header click, filter by status, search)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.workflow import Stage
from ui.context import UiContext
from ui.models.paged_model import reload_keeping_selection
from ui.models.submissions_model import COLUMNS, SubmissionsModel
from ui.screens.submission_editor import NewSubmissionDialog
from ui.widgets import column_fit

SEARCH_DELAY_MS = 250


class SubmissionsScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        top = QHBoxLayout()
        title = QLabel("Submissions")
        title.setObjectName("pageTitle")
        top.addWidget(title)
        top.addStretch(1)
        self.new_button = QPushButton("New submission…")
        self.new_button.setObjectName("primary")
        self.new_button.setVisible(ctx.can(Permission.EDIT_SUBMISSIONS))
        self.new_button.clicked.connect(self.new_submission)
        top.addWidget(self.new_button)
        layout.addLayout(top)

        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search developer, model, version or ID")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.addItem("All stages", None)
        for st in Stage:  # the lifecycle stage computed from the work
            self.status.addItem(st.label.capitalize(), st.value)
        filters.addWidget(self.search, 2)
        self.open_only = QCheckBox("Open reviews only")
        self.open_only.setObjectName("openOnly")
        filters.addWidget(QLabel("Status"))
        filters.addWidget(self.status)
        filters.addWidget(self.open_only)
        layout.addLayout(filters)

        self.model = SubmissionsModel(ctx)
        self.table = QTableView()
        self.table.setObjectName("submissionsTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSortIndicator(6, Qt.SortOrder.AscendingOrder)  # release date, the model's default
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((56, 170, 150, 100, 115, 96, 96, 76)):
            self.table.setColumnWidth(col, width)
        column_fit.titles_fit(self.table)  # "Days left" in the theme's bold header font
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        # Fixed row height: the view never asks the model for every row's size hint.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.activated.connect(self._open)  # double-click or Enter
        layout.addWidget(self.table, 1)
        self.count_label = QLabel("")
        self.count_label.setObjectName("hint")
        layout.addWidget(self.count_label)

        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _t: self.search_timer.start())
        self.status.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.open_only.toggled.connect(lambda _b: self.apply_filter())
        self.model.modelReset.connect(self._update_count)
        ctx.events.submissions_changed.connect(self.refresh)
        self._update_count()

    @Slot()
    def apply_filter(self) -> None:
        self.search_timer.stop()
        self.model.set_filter(self.search.text(), self.status.currentData(), self.open_only.isChecked())

    def refresh(self) -> None:
        if not self.ctx.session.locked:  # the selected submission stays selected where it is now
            reload_keeping_selection(self.table, self.model, self.model.reload)

    def _update_count(self) -> None:
        n = self.model.rowCount()
        self.count_label.setText(f"{n:,} submission{'s' if n != 1 else ''}"
                                 + (" match the filter" if self.model.search or self.model.status
                                    or self.model.open_only else "")
                                 + " · double-click or Enter to open · click a column header to sort")

    @Slot(QModelIndex)
    def _open(self, index: QModelIndex) -> None:
        sub = self.model.submission_at(index.row())
        if sub is not None and sub.id is not None:
            self.ctx.events.open_submission.emit(sub.id)

    @Slot()
    def new_submission(self) -> NewSubmissionDialog:
        dlg = NewSubmissionDialog(self.ctx, self)
        dlg.accepted.connect(lambda: self._created(dlg))
        dlg.open()
        return dlg

    def _created(self, dlg: NewSubmissionDialog) -> None:
        if dlg.created is not None and dlg.created.id is not None:
            self.ctx.events.open_submission.emit(dlg.created.id)
        dlg.deleteLater()


__all__ = ["COLUMNS", "SubmissionsScreen"]
