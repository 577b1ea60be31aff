"""Windowed table model over the samples of one run (up to millions of rows).

Only the row count is known up front (the run's stored sample count when no filter is set, so
the first paint costs no count query); rows are fetched a page at a time when the view asks for
them (by key after the page before when that is cached, else by offset; the service seeks
either way on (run_id, ...) indexes) and kept in a small LRU cache, so memory stays flat however
far the reader scrolls. Filters and sorting are done by the service in SQL, never by loading
rows here; the count of each filter is kept, so going back to a filter costs no count query.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication

from app.model.results import SampleFilter, SampleRow
from ui.widgets.transcript_view import clean_text, plain_tooltip

PAGE_SIZE = 200
MAX_PAGES = 24  # ~5,000 rows of small columns cached
CELL_CHARS = 300  # long inputs are cut for the cell; the transcript viewer shows everything
TIP_CHARS = 1500

Index = QModelIndex | QPersistentModelIndex


class SampleSource(Protocol):
    """Where rows come from: the results service in the app, anything in tests and benchmarks."""

    def count(self, flt: SampleFilter) -> int: ...

    def page(self, flt: SampleFilter, offset: int, limit: int, sort: str, descending: bool,
             after: SampleRow | None) -> list[SampleRow]: ...


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    numeric: bool = False
    sort: str = ""  # the service's sort key; "" = not sortable


COLUMNS: tuple[Column, ...] = (
    Column("sample_id", "Sample", sort="sample_id"),
    Column("epoch", "Epoch", True, "epoch"),
    Column("score", "Score", True, "score"),
    Column("scores", "Scores"),
    Column("error", "Error"),
    Column("answer", "Answer"),
    Column("target", "Target"),
    Column("tokens", "Tokens", True, "tokens"),
    Column("time", "Time (s)", True, "time"),
    Column("input", "Input"),  # last: the long one stretches
)
COLUMN_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_SIZE_HINT = int(Qt.ItemDataRole.SizeHintRole)
_ROW = int(Qt.ItemDataRole.UserRole) + 1
_ROLES = frozenset({_DISPLAY, _ALIGN, _BACKGROUND, _FOREGROUND, _TOOLTIP, _ROW})
_ALIGNMENTS = tuple(int((Qt.AlignmentFlag.AlignRight if c.numeric else Qt.AlignmentFlag.AlignLeft)
                        | Qt.AlignmentFlag.AlignVCenter) for c in COLUMNS)

ERROR_BG = QColor("#ffebe9")
ERROR_FG = QColor("#a40e26")
PASS_FG = QColor("#1a7f37")
FAIL_FG = QColor("#cf222e")


def one_line(text: str, limit: int = CELL_CHARS) -> str:
    """A cell shows the start of a long text on one line."""
    s = clean_text(text[: limit * 2], limit * 2).replace("\n", " ⏎ ").replace("\t", " ")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def score_text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("value", ""))
    v = getattr(value, "value", value)
    return "" if v is None else str(v)


def format_score(score: float | None) -> str:
    if score is None or (isinstance(score, float) and not math.isfinite(score)):
        return "—"
    return f"{score:.3g}"


class SamplesModel(QAbstractTableModel):
    """Per-sample rows of one run; `row_at(i)` gives the SampleRow (fetching its page if needed)."""

    ROW_ROLE = _ROW

    def __init__(self, source: SampleSource, unfiltered_count: int | None = None,
                 page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES) -> None:
        super().__init__()
        self.source = source
        self.page_size = page_size
        self.max_pages = max_pages
        self._filter = SampleFilter()
        self._sort = "order"
        self._descending = False
        self._unfiltered_count = unfiltered_count
        self._count = unfiltered_count if unfiltered_count is not None else source.count(self._filter)
        self._counts: dict[SampleFilter, int] = {self._filter: self._count}  # a run's samples never change
        self._pages: OrderedDict[int, list[SampleRow]] = OrderedDict()
        self._cells: dict[int, tuple[str, ...]] = {}  # sample pk -> display strings (bounded)
        self.fetches: list[int] = []  # pages fetched, in order: for tests and the benchmark
        self.on_fetch_error: Callable[[BaseException], None] | None = None
        self._fetch_failed = False
        self._bold = QFont()
        self._bold.setBold(True)
        self._row_header: QSize | None = None  # size of a row number in the vertical header

    # -- filtering -----------------------------------------------------------------------------
    @property
    def filter(self) -> SampleFilter:
        return self._filter

    def cached_count(self, flt: SampleFilter) -> int | None:
        """The number of rows matching `flt`, if it was counted before (no query)."""
        return self._counts.get(flt)

    def set_filter(self, flt: SampleFilter) -> None:
        """Apply a filter: one count query (none if counted before), no rows fetched until the view paints."""
        count = self._unfiltered_count if (flt == SampleFilter() and self._unfiltered_count is not None) \
            else self._counts.get(flt)
        if count is None:
            count = self.source.count(flt)
        self._counts[flt] = count
        self.beginResetModel()
        self._filter = flt
        self._count = count
        self._row_header = None
        self._pages.clear()
        self._fetch_failed = False
        self.endResetModel()

    def apply(self, flt: SampleFilter, count: int, first_page: list[SampleRow], sort: str, descending: bool) -> None:
        """Show a filter whose count and first page were read elsewhere (a worker thread), so the
        GUI thread waits for nothing; later pages are fetched as usual."""
        self.beginResetModel()
        self._filter = flt
        self._count = count
        self._row_header = None
        self._counts[flt] = count
        self._sort, self._descending = sort, descending
        self._pages.clear()
        if first_page:
            self._pages[0] = list(first_page)
        self._fetch_failed = False
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Header click: sorted by the service in SQL; unsortable columns go back to log order."""
        key = COLUMNS[column].sort if 0 <= column < len(COLUMNS) else ""
        self.beginResetModel()
        self._sort = key or "order"
        self._descending = bool(key) and order == Qt.SortOrder.DescendingOrder
        self._pages.clear()
        self.endResetModel()

    @property
    def sort_key(self) -> tuple[str, bool]:
        return self._sort, self._descending

    def refresh(self, unfiltered_count: int | None = None) -> None:
        """Re-read after a change; pass the run's stored sample count to skip a count query."""
        self._unfiltered_count = unfiltered_count
        self._cells.clear()
        self._counts.clear()
        self.set_filter(self._filter)

    # -- paging --------------------------------------------------------------------------------
    def _page(self, p: int) -> list[SampleRow]:
        cached = self._pages.get(p)
        if cached is not None:
            self._pages.move_to_end(p)
            return cached
        # Keyset paging: scrolling on from a cached page continues after its last row (an index
        # seek) instead of making SQLite walk `offset` rows.
        before = self._pages.get(p - 1)
        after = before[-1] if before is not None and len(before) == self.page_size else None
        rows = self.source.page(self._filter, p * self.page_size, self.page_size, self._sort, self._descending,
                                after)
        self.fetches.append(p)
        self._pages[p] = rows
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        return rows

    def row_at(self, row: int) -> SampleRow | None:
        if row < 0 or row >= self._count:
            return None
        try:
            rows = self._page(row // self.page_size)
        except Exception as exc:  # a failed read must not crash painting; report once, not per cell
            if self.on_fetch_error is not None and not self._fetch_failed:
                self._fetch_failed = True
                self.on_fetch_error(exc)
            return None
        i = row % self.page_size
        return rows[i] if i < len(rows) else None

    def clear_cache(self) -> None:
        """Forget fetched pages (the benchmark measures cold fetches with it)."""
        self._pages.clear()
        self._cells.clear()

    def cached_pages(self) -> list[int]:
        return list(self._pages)

    # -- Qt model API ----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == _SIZE_HINT and orientation == Qt.Orientation.Vertical:
            # Row numbers all fit the widest one. Without a size hint the header measures its first and
            # last 100 sections from their contents, about 25 calls into Python each (5,000 per first paint).
            if self._row_header is None:
                fm = QFontMetrics(QGuiApplication.font())
                self._row_header = QSize(fm.horizontalAdvance(f"{max(self._count, 1):,}") + 12, fm.height() + 8)
            return self._row_header
        if role != _DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section].title if 0 <= section < len(COLUMNS) else None
        return f"{section + 1:,}"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called thousands of times per paint: plain int roles and per-row cached display text
        # (enum comparisons and clean_text per cell doubled the first-paint time).
        if role not in _ROLES or not index.isValid():
            return None
        c = index.column()
        if role == _ALIGN:
            return _ALIGNMENTS[c]
        r = self.row_at(index.row())
        if r is None:
            return "…" if role == _DISPLAY else None
        if role == _DISPLAY:
            cells = self._cells.get(r.id)
            if cells is None:
                cells = tuple(self._display(r, col.key) for col in COLUMNS)
                self._cells[r.id] = cells
                if len(self._cells) > self.page_size * self.max_pages:
                    self._cells.pop(next(iter(self._cells)))
            return cells[c]
        key = COLUMNS[c].key
        if role == self.ROW_ROLE:
            return r
        if role == _BACKGROUND:
            return ERROR_BG if r.error else None
        if role == _FOREGROUND:
            if key == "error" and r.error:
                return ERROR_FG
            if key == "score" and r.score is not None:
                return PASS_FG if r.score >= 1.0 else FAIL_FG if r.score <= 0.0 else None
            return None
        full = self._full_text(r, key)  # tooltip
        return plain_tooltip(full, TIP_CHARS) if full else None

    @staticmethod
    def _display(r: SampleRow, key: str) -> str:
        if key == "sample_id":
            return one_line(r.sample_id, 120)
        if key == "epoch":
            return str(r.epoch)
        if key == "score":
            return format_score(r.score)
        if key == "scores":
            return one_line(", ".join(f"{k}: {score_text(v)}" for k, v in r.scores.items()), 120)
        if key == "answer":
            return one_line(r.answer)
        if key == "target":
            return one_line(r.target)
        if key == "input":
            return one_line(r.input_text)
        if key == "error":
            return one_line(r.error)
        if key == "tokens":
            total = r.total_tokens
            if total is None and (r.input_tokens is not None or r.output_tokens is not None):
                total = (r.input_tokens or 0) + (r.output_tokens or 0)
            return "" if total is None else f"{total:,}"
        if key == "time":
            return "" if r.total_time is None else f"{r.total_time:.1f}"
        return ""

    @staticmethod
    def _full_text(r: SampleRow, key: str) -> str:
        return {"answer": r.answer, "target": r.target, "input": r.input_text, "error": r.error,
                "sample_id": r.sample_id}.get(key, "")
