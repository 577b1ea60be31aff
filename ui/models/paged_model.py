"""Columns paged from a service that filters and sorts in SQL (registers and runs too large to load).

The model knows only the row count up front (one count query per filter, none when the count is
already known); rows are read a page at a time when the view asks for them and kept in a small
LRU cache, so memory stays flat however far the reader scrolls. A page that follows a cached page
is read after that page's last row (keyset: the source seeks on an index instead of walking
`offset` rows); any other page by offset. Columns are declared once (ui/models/columns_model.py):
header, display text, tooltip, colours, alignment and the service's sort key.

Policies that differ between tables are class attributes a model sets:
- IMMUTABLE_ROWS: the rows never change (a run's samples): each filter's count is kept until
  reload(), and display text is cached per row across sorts and filters.
- DEFAULT_SORT: the sort an unsortable column's header goes back to; None = such a click is ignored.
- SAME_SORT_RESETS: a click that keeps the sort still re-reads the rows (False: nothing happens).
- ROW_NUMBERS: the vertical header shows row numbers, all sized as the widest one.
- PLACEHOLDER: display text of a row whose page could not be read.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Protocol, cast

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QModelRoleData, QModelRoleDataSpan, QSize, Qt
from PySide6.QtGui import QFontMetrics, QGuiApplication
from PySide6.QtWidgets import QAbstractItemView

from ui.models.columns_model import Column, ColumnsHeader, Index


class PageSource[F, R](Protocol):
    """Where rows come from: a service in the app, anything in tests and benchmarks. F is the
    table's filter (hashable: counts are kept per filter), R one row."""

    def count(self, flt: F, /) -> int: ...

    def page(self, flt: F, offset: int, limit: int, sort: str, descending: bool, after: R | None, /) -> list[R]:
        """`limit` rows from `offset` in this order; `after` (the row just before `offset`, when the
        model has it) lets a source seek by key instead; a source may ignore it."""
        ...


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_SIZE_HINT = int(Qt.ItemDataRole.SizeHintRole)


class PagedColumnsModel[F: Hashable, R](ColumnsHeader):
    IMMUTABLE_ROWS = False
    DEFAULT_SORT: str | None = None
    SAME_SORT_RESETS = True
    ROW_NUMBERS = False
    PLACEHOLDER: str | None = None

    def __init__(self, columns: Sequence[Column], source: PageSource[F, R], flt: F, sort: tuple[str, bool],
                 row_key: Callable[[R], Hashable], *, roles: Mapping[int, Callable[[R], Any]] | None = None,
                 page_size: int = 200, max_pages: int = 24, known_count: int | None = None) -> None:
        super().__init__(columns)
        self.source = source
        self.page_size = page_size
        self.max_pages = max_pages
        self._row_key = row_key
        self._filter = flt
        self._sort, self._descending = sort
        self._pages: OrderedDict[int, list[R]] = OrderedDict()
        self._cells: dict[Hashable, tuple[str, ...]] = {}  # row key -> display texts (bounded)
        # view row -> role -> that role's value in every column, for the roles a delegate paints;
        # rows of a page are dropped with it, all rows when the filter, sort or data change
        self._shown: dict[int, dict[int, tuple[Any, ...]]] = {}
        self._counts: dict[F, int] = {}
        self._count = 0
        self._row_header: QSize | None = None  # size of a row number in the vertical header
        self._fetch_failed = False
        self.fetches: list[int] = []  # pages read, in order: for tests and the benchmarks
        self.on_fetch_error: Callable[[BaseException], None] | None = None
        # Called thousands of times per paint: plain int roles and per-role tuples of functions.
        self._extra = {int(role): fn for role, fn in (roles or {}).items()}
        self._roles = frozenset({_DISPLAY, _ALIGN, _BACKGROUND, _FOREGROUND, _TOOLTIP, *self._extra})
        self._alignments = tuple(None if c.alignment is None else int(c.alignment) for c in self.columns)
        # a row whose page could not be read
        self._placeholder_row = {_DISPLAY: (self.PLACEHOLDER,) * len(self.columns), _ALIGN: self._alignments}
        self._values = tuple(c.value for c in self.columns)
        self._by_role = {_TOOLTIP: tuple(c.tooltip for c in self.columns),
                         _BACKGROUND: tuple(c.background for c in self.columns),
                         _FOREGROUND: tuple(c.foreground for c in self.columns)}
        if known_count is not None:
            self._counts[flt] = known_count
        self._count = self._count_of(flt)

    # -- filter, sort, reload -------------------------------------------------------------------------
    @property
    def filter(self) -> F:
        return self._filter

    @property
    def sort_key(self) -> tuple[str, bool]:
        return self._sort, self._descending

    def cached_count(self, flt: F) -> int | None:
        """The number of rows matching `flt`, if it is known (no query)."""
        return self._counts.get(flt)

    def _count_of(self, flt: F) -> int:
        count = self._counts.get(flt)
        if count is None:
            count = self.source.count(flt)
        if self.IMMUTABLE_ROWS:
            self._counts[flt] = count
        else:
            self._counts.clear()  # rows may change under us: a count is good for this read only
        return count

    def set_filter(self, flt: F) -> None:
        """One count query (none if known), no rows read until the view paints."""
        self._show_filter(flt)

    def _show_filter(self, flt: F) -> None:  # what set_filter does, whatever a model makes set_filter take
        count = self._count_of(flt)
        self.beginResetModel()
        self._filter, self._count = flt, count
        self._row_header = None
        self._clear_pages()
        self.endResetModel()

    def apply(self, flt: F, count: int, first_page: Sequence[R], sort: str, descending: bool) -> None:
        """Show a filter whose count and first page were read elsewhere (a worker thread), so the
        GUI thread waits for nothing; later pages are read as usual."""
        self.beginResetModel()
        self._filter, self._count = flt, count
        self._row_header = None
        if self.IMMUTABLE_ROWS:
            self._counts[flt] = count
        self._sort, self._descending = sort, descending
        self._clear_pages()
        if first_page:
            self._pages[0] = list(first_page)
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Header click: the service sorts in SQL."""
        key = self.columns[column].sort_by if 0 <= column < len(self.columns) else ""
        descending = bool(key) and order == Qt.SortOrder.DescendingOrder
        if not key:
            if self.DEFAULT_SORT is None:
                return
            key = self.DEFAULT_SORT
        if not self.SAME_SORT_RESETS and (key, descending) == (self._sort, self._descending):
            return
        self.beginResetModel()  # every row moves: a reset is cheaper and safer than remapping indexes
        self._sort, self._descending = key, descending
        self._clear_pages()
        self.endResetModel()

    def reload(self, known_counts: Mapping[F, int] | None = None) -> None:
        """Read again after a change: counts and rows (`known_counts` spares count queries)."""
        self._counts = dict(known_counts or {})
        self._cells.clear()
        self._show_filter(self._filter)

    # -- paging ---------------------------------------------------------------------------------------
    def _clear_pages(self) -> None:
        self._pages.clear()
        self._shown.clear()
        self._fetch_failed = False
        if not self.IMMUTABLE_ROWS:
            self._cells.clear()

    def _page(self, p: int) -> list[R]:
        cached = self._pages.get(p)
        if cached is not None:
            self._pages.move_to_end(p)
            return cached
        before = self._pages.get(p - 1)
        after = before[-1] if before is not None and len(before) == self.page_size else None
        rows = self.source.page(self._filter, p * self.page_size, self.page_size, self._sort, self._descending, after)
        self.fetches.append(p)
        self._pages[p] = rows
        while len(self._pages) > self.max_pages:
            old, old_rows = self._pages.popitem(last=False)
            for i in range(old * self.page_size, old * self.page_size + len(old_rows)):
                self._shown.pop(i, None)
        return rows

    def row_at(self, row: int) -> R | None:
        """The row object at `row` (its page read if needed); None out of range or when the read
        failed and `on_fetch_error` took the error (reported once per filter or sort)."""
        if row < 0 or row >= self._count:
            return None
        try:
            rows = self._page(row // self.page_size)
        except Exception as exc:  # a failed read must not crash painting; report once, not per cell
            if self.on_fetch_error is None:
                raise
            if not self._fetch_failed:
                self._fetch_failed = True
                self.on_fetch_error(exc)
            return None
        i = row % self.page_size
        return rows[i] if i < len(rows) else None

    def key_at(self, row: int) -> Hashable | None:
        """The key of the record shown at `row` (what a selection is kept by across a reload)."""
        r = self.row_at(row)
        return None if r is None else self._row_key(r)

    def row_of(self, key: Hashable, near: int) -> int | None:
        """Where the record `key` is shown now: looked for in the page holding row `near` (where it
        was before a reload; at most that one page is read) and in the pages already read."""
        candidates = [near // self.page_size, *self._pages]
        for p in dict.fromkeys(candidates):
            if not 0 <= p * self.page_size < self._count:
                continue
            for i, r in enumerate(self._page(p)):
                if self._row_key(r) == key:
                    return p * self.page_size + i
        return None

    def clear_cache(self) -> None:
        """Forget read pages (the benchmark measures cold reads with it)."""
        self._pages.clear()
        self._shown.clear()
        self._cells.clear()

    def cached_pages(self) -> list[int]:
        return list(self._pages)

    # -- Qt model API -----------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else self._count

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal or not self.ROW_NUMBERS:
            return super().headerData(section, orientation, role)
        if role == _SIZE_HINT:
            # Row numbers all fit the widest one. Without a size hint the header measures its first and
            # last 100 sections from their contents, about 25 calls into Python each (5,000 per first paint).
            if self._row_header is None:
                fm = QFontMetrics(QGuiApplication.font())
                self._row_header = QSize(fm.horizontalAdvance(f"{max(self._count, 1):,}") + 12, fm.height() + 8)
            return self._row_header
        return f"{section + 1:,}" if role == _DISPLAY else None

    def _shown_row(self, row: int) -> dict[int, tuple[Any, ...]]:
        """What a delegate paints for `row`, every column at once (a painted row shows them all):
        text, alignment, colours. Tooltips and extra roles are computed when asked."""
        shown = self._shown.get(row)
        if shown is not None:
            return shown
        r = self.row_at(row)
        if r is None:
            return self._placeholder_row
        key = self._row_key(r)
        cells = self._cells.get(key)
        if cells is None:
            cells = tuple(value(r) for value in self._values)
            self._cells[key] = cells
            if len(self._cells) > self.page_size * self.max_pages:
                self._cells.pop(next(iter(self._cells)))
        shown = {_DISPLAY: cells, _ALIGN: self._alignments}
        for role in (_BACKGROUND, _FOREGROUND):
            fns = self._by_role[role]
            if any(fn is not None for fn in fns):
                shown[role] = tuple(None if fn is None else fn(r) for fn in fns)
        self._shown[row] = shown
        return shown

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in self._roles or not index.isValid():
            return None
        if role == _ALIGN:
            return self._alignments[index.column()]
        if role == _DISPLAY or role == _BACKGROUND or role == _FOREGROUND:
            values = self._shown_row(index.row()).get(role)
            return None if values is None else values[index.column()]
        r = self.row_at(index.row())
        if r is None:
            return None
        extra = self._extra.get(role)
        if extra is not None:
            return extra(r)
        fn = self._by_role[role][index.column()]
        return fn(r) if fn is not None else None

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """Every role of one cell in one call: Qt's item delegate asks seven roles per painted
        cell this way; the default asks data() seven times (2,800 calls into Python per screen)."""
        asked = ((roleDataSpan,) if isinstance(roleDataSpan, QModelRoleData)
                 else cast(Iterable[QModelRoleData], roleDataSpan))  # the stubs do not say a span iterates
        if not index.isValid():
            for rd in asked:
                rd.clearData()
            return
        c = index.column()
        shown = self._shown_row(index.row())
        roles = self._roles
        for rd in asked:
            role = rd.role()
            values = shown.get(role)
            if values is not None:
                value = values[c]
            elif role in roles and role != _DISPLAY and role != _BACKGROUND and role != _FOREGROUND:
                value = self.data(index, role)  # tooltip or a model's own role
            else:
                value = None
            if value is None:
                rd.clearData()
            else:
                rd.setData(value)


def reload_keeping_selection(view: QAbstractItemView, model: PagedColumnsModel[Any, Any],
                             reload: Callable[[], None]) -> None:
    """Run `reload` (which resets the model) and select again the records that were selected, by
    their key, where they are now; a record that left its page (or the table) stays unselected."""
    selection = view.selectionModel()
    rows = sorted({i.row() for i in selection.selectedRows()}) if selection is not None else []
    current = view.currentIndex()
    kept = [(key, r) for r in rows if (key := model.key_at(r)) is not None]
    reload()
    selection = view.selectionModel()
    if selection is None:
        return
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for key, near in kept:
        row = model.row_of(key, near)
        if row is None:
            continue
        index = model.index(row, max(current.column(), 0))
        if current.isValid() and current.row() == near:
            selection.setCurrentIndex(index, flags)
        else:
            selection.select(index, flags)
