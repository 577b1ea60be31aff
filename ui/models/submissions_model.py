"""Windowed table model over the submission register (Anki's browser table model).

rowCount comes from `submissions.count`; rows are fetched in pages of PAGE_SIZE by offset and
kept in a small LRU cache, so 10,000 (or 1,000,000) submissions open as fast as 200. Sorting and
filtering are done by the service (SQL), never in Python over the whole set. The Status column and
filter show the lifecycle stage computed from the work (one `workflow.stages` query per page), not
the stored status column.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app.model.submissions import Submission, WindowState
from app.model.workflow import Stage
from app.services import submissions, workflow
from ui.context import UiContext
from ui.theme import STATE_COLOURS

PAGE_SIZE = 200
CACHE_PAGES = 8

# (header, service sort key)
COLUMNS: list[tuple[str, str]] = [
    ("ID", "id"),
    ("Developer", "developer"),
    ("Model", "model"),
    ("Version", "version"),
    ("Status", "status"),
    ("Received", "received"),
    ("Release", "release"),
    ("Days left", "release"),
    ("Marking", "marking"),
]
DAYS_COLUMN = 7

Index = QModelIndex | QPersistentModelIndex


class SubmissionsModel(QAbstractTableModel):
    def __init__(self, ctx: UiContext, page_size: int = PAGE_SIZE, cache_pages: int = CACHE_PAGES) -> None:
        super().__init__()
        self.ctx = ctx
        self.page_size = page_size
        self.cache_pages = cache_pages
        self.sort_key = "release"
        self.descending = False
        self.search = ""
        self.status: str | None = None  # a Stage value (the computed lifecycle stage) or None = all
        self.open_only = False
        self._pages: OrderedDict[int, list[Submission]] = OrderedDict()
        self._stages: dict[int, Stage] = {}  # submission id -> computed stage, for the cached pages
        self._count = 0
        self.fetches = 0  # pages read from the service (tests and the benchmark look at it)
        self._today = ctx.today()
        self._at_risk = ctx.session.settings.at_risk_days
        self.reload()

    # -- queries ---------------------------------------------------------------------------------
    def reload(self) -> None:
        self.beginResetModel()
        self._pages.clear()
        self._stages.clear()
        self._today = self.ctx.today()
        self._count = submissions.count(self.ctx.session, self.search, self.status, self.open_only)
        self.endResetModel()

    def set_filter(self, search: str | None = None, status: str | None = "", open_only: bool | None = None) -> None:
        """search None = unchanged; status (a Stage value) "" = unchanged, None = all stages;
        open_only None = unchanged."""
        if search is not None:
            self.search = search.strip()
        if status != "":
            self.status = status
        if open_only is not None:
            self.open_only = open_only
        self.reload()

    def _page(self, number: int) -> list[Submission]:
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        page = submissions.page(self.ctx.session, number * self.page_size, self.page_size, self.sort_key,
                                self.descending, self.search, self.status, self.open_only)
        self.fetches += 1
        self._stages.update(workflow.stages(self.ctx.session, [int(sub.id or 0) for sub in page]))
        self._pages[number] = page
        while len(self._pages) > self.cache_pages:
            _, evicted = self._pages.popitem(last=False)
            for sub in evicted:
                self._stages.pop(int(sub.id or 0), None)
        return page

    def stage_of(self, sub: Submission) -> Stage | None:
        return self._stages.get(int(sub.id or 0))

    def submission_at(self, row: int) -> Submission | None:
        if not 0 <= row < self._count:
            return None
        page = self._page(row // self.page_size)
        i = row % self.page_size
        return page[i] if i < len(page) else None

    # -- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
                        Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ToolTipRole,
                        Qt.ItemDataRole.UserRole):
            return None
        sub = self.submission_at(index.row())
        if sub is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.UserRole:
            return sub.id
        stage = self.stage_of(sub)
        state = sub.window_state(self._today, self._at_risk, stage)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor(STATE_COLOURS[state])) if col == DAYS_COLUMN else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in (0, DAYS_COLUMN):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{sub.display_name} — {state.value}" if col == DAYS_COLUMN else None
        return self._display(sub, col, state, stage)

    def _display(self, sub: Submission, col: int, state: WindowState, stage: Stage | None) -> str:
        if col == 0:
            return str(sub.id)
        if col == 1:
            return sub.developer
        if col == 2:
            return sub.model_name
        if col == 3:
            return sub.version
        if col == 4:
            return stage.label if stage is not None else ""
        if col == 5:
            return sub.received.isoformat()
        if col == 6:
            return sub.planned_release.isoformat()
        if col == DAYS_COLUMN:
            if state is WindowState.DONE:
                return "—"
            return str(sub.days_remaining(self._today))
        return sub.marking.banner()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1]
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self.sort_key, self.descending):
            return
        self.sort_key, self.descending = key, descending
        self.beginResetModel()  # every row moves: a reset is cheaper and safer than remapping indexes
        self._pages.clear()
        self._stages.clear()
        self.endResetModel()
