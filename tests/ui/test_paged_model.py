"""The paged columns model (ui/models/paged_model.py) on a source in memory: paging by key and by
offset, the page cache, counts per filter, sorting policies, reload and read failures; what a view's
delegate and row-number header ask of it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QTableView

from ui.models.columns_model import RIGHT, Column
from ui.models.paged_model import PagedColumnsModel
from ui.widgets.row_numbers_header import RowNumbersHeader

ROW = int(Qt.ItemDataRole.UserRole) + 1
RED = QColor("#ff0000")


@dataclass(frozen=True)
class Flt:
    odd: bool = False


@dataclass(frozen=True)
class Item:
    id: int
    name: str


class Source:
    """n items named by `suffix`; sorted by id or by name; every call written down."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.suffix = ""
        self.counts: list[Flt] = []
        self.pages: list[tuple[int, int | None, str, bool]] = []
        self.fail: Exception | None = None

    def _items(self, flt: Flt) -> list[Item]:
        return [Item(i, f"item{i:03d}{self.suffix}") for i in range(self.n) if not flt.odd or i % 2]

    def count(self, flt: Flt) -> int:
        self.counts.append(flt)
        return len(self._items(flt))

    def page(self, flt: Flt, offset: int, limit: int, sort: str, descending: bool, after: Item | None) -> list[Item]:
        self.pages.append((offset, None if after is None else after.id, sort, descending))
        if self.fail is not None:
            raise self.fail
        items = sorted(self._items(flt), key=lambda it: it.id if sort == "id" else it.name[::-1], reverse=descending)
        return items[offset:offset + limit]


COLUMNS = (
    Column("ID", lambda it: str(it.id), alignment=RIGHT, sort_by="id"),
    Column("Name", lambda it: it.name, alignment=None, sort_by="name", tooltip=lambda it: f"tip {it.name}",
           foreground=lambda it: RED if it.id % 3 == 0 else None),
    Column("Note", lambda it: "", alignment=None),  # not sortable
)


class Model(PagedColumnsModel[Flt, Item]):
    def __init__(self, source: Source, known_count: int | None = None, max_pages: int = 3) -> None:
        super().__init__(COLUMNS, source, Flt(), ("id", False), lambda it: it.id, roles={ROW: lambda it: it},
                         page_size=10, max_pages=max_pages, known_count=known_count)


class Immutable(Model):
    IMMUTABLE_ROWS = True
    DEFAULT_SORT = "id"
    ROW_NUMBERS = True
    PLACEHOLDER = "…"


class KeepsSort(Model):
    SAME_SORT_RESETS = False


def _names(model: PagedColumnsModel[Flt, Item]) -> list[str]:
    return [model.index(r, 1).data() for r in range(model.rowCount())]


def test_columns_give_every_role_and_rows_come_a_page_at_a_time(qapp) -> None:  # type: ignore[no-untyped-def]
    src = Source(35)
    model = Model(src)
    assert model.rowCount() == 35 and model.columnCount() == 3 and src.pages == []  # counted, nothing read
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == ["ID", "Name", "Note"]
    assert model.headerData(0, Qt.Orientation.Vertical) is None  # no row numbers unless asked for
    idx = model.index(12, 1)
    assert idx.data() == "item012" and idx.data(Qt.ItemDataRole.ToolTipRole) == "tip item012"
    assert idx.data(Qt.ItemDataRole.ForegroundRole) == RED and model.index(13, 1).data(
        Qt.ItemDataRole.ForegroundRole) is None
    assert model.index(12, 0).data(Qt.ItemDataRole.TextAlignmentRole) == int(RIGHT)
    assert idx.data(Qt.ItemDataRole.TextAlignmentRole) is None and idx.data(Qt.ItemDataRole.BackgroundRole) is None
    assert idx.data(ROW) == Item(12, "item012") and idx.data(Qt.ItemDataRole.UserRole) is None
    assert model.fetches == [1] and src.pages == [(10, None, "id", False)]  # by offset: nothing cached before it
    model.index(25, 0).data()  # page 2 follows the cached page 1: read after its last row
    assert src.pages[-1] == (20, 19, "id", False)
    for r in (0, 30):
        model.index(r, 0).data()
    assert model.cached_pages() == [2, 0, 3]  # at most three pages, least recently used out first
    model.index(12, 0).data()
    assert model.fetches == [1, 2, 0, 3, 1] and model.row_at(35) is None and model.row_at(-1) is None


def test_counts_are_kept_per_filter_only_when_the_rows_never_change(qapp) -> None:  # type: ignore[no-untyped-def]
    src = Source(20)
    mutable = Model(src)
    for flt in (Flt(odd=True), Flt(), Flt(odd=True)):
        mutable.set_filter(flt)
    assert src.counts == [Flt(), Flt(odd=True), Flt(), Flt(odd=True)] and mutable.rowCount() == 10
    assert mutable.cached_count(Flt()) is None
    src = Source(20)
    fixed = Immutable(src, known_count=20)  # the unfiltered count is known: no query at all
    for flt in (Flt(odd=True), Flt(), Flt(odd=True)):
        fixed.set_filter(flt)
    assert src.counts == [Flt(odd=True)] and fixed.cached_count(Flt()) == 20 and fixed.rowCount() == 10
    fixed.reload({Flt(): 20})  # after a change: counted again, except what the caller knows
    fixed.set_filter(Flt())
    assert src.counts == [Flt(odd=True), Flt(odd=True)]


def test_reload_keeps_filter_and_sort_and_shows_changed_rows(qapp) -> None:  # type: ignore[no-untyped-def]
    src = Source(20)
    for model in (Model(src), Immutable(src)):
        src.suffix = ""
        model.set_filter(Flt(odd=True))
        model.sort(1, Qt.SortOrder.DescendingOrder)
        before = _names(model)
        src.suffix = "-edited"
        assert _names(model) == before  # rows read before the change stay until a reload
        model.reload()
        assert model.filter == Flt(odd=True) and model.sort_key == ("name", True)
        assert _names(model) == [n + "-edited" for n in before]


def test_sorting_policies(qapp, qtbot) -> None:  # type: ignore[no-untyped-def]
    src = Source(20)
    model = Model(src)
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert model.sort_key == ("name", True)
    assert _names(model) == sorted(_names(model), key=lambda n: n[::-1], reverse=True)
    with qtbot.assertNotEmitted(model.modelReset):
        model.sort(2, Qt.SortOrder.AscendingOrder)  # an unsortable column without a default: ignored
    assert model.sort_key == ("name", True)
    with qtbot.waitSignal(model.modelReset, timeout=1000):
        model.sort(1, Qt.SortOrder.DescendingOrder)  # the same sort is read again by default
    immutable = Immutable(src)
    immutable.sort(1, Qt.SortOrder.DescendingOrder)
    immutable.sort(2, Qt.SortOrder.DescendingOrder)  # back to the default, ascending
    assert immutable.sort_key == ("id", False)
    keeps = KeepsSort(src)
    with qtbot.assertNotEmitted(keeps.modelReset):
        keeps.sort(0, Qt.SortOrder.AscendingOrder)  # already so: nothing happens (the selection stays)
    with qtbot.waitSignal(keeps.modelReset, timeout=1000):
        keeps.sort(0, Qt.SortOrder.DescendingOrder)
    assert keeps.index(0, 0).data() == "19"


def test_a_failed_read_raises_unless_a_handler_takes_it_once_per_filter(qapp) -> None:  # type: ignore[no-untyped-def]
    src = Source(20)
    src.fail = OSError("disk gone")
    model = Immutable(src, known_count=20)
    with pytest.raises(OSError):
        model.index(0, 0).data()
    reported: list[BaseException] = []
    model.on_fetch_error = reported.append
    assert {model.index(r, c).data() for r in range(20) for c in range(3)} == {"…"}
    assert model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole) is None and len(reported) == 1
    model.set_filter(Flt(odd=True))
    model.index(0, 0).data()
    assert len(reported) == 2
    src.fail = None
    model.set_filter(Flt())
    assert model.index(3, 1).data() == "item003"


def test_row_numbers_are_sized_once_for_the_widest(qapp) -> None:  # type: ignore[no-untyped-def]
    model = Immutable(Source(20), known_count=1_234_567)
    hint = model.headerData(0, Qt.Orientation.Vertical, int(Qt.ItemDataRole.SizeHintRole))
    assert hint.width() > 0 and model.headerData(1_234_566, Qt.Orientation.Vertical) == "1,234,567"
    assert model.headerData(5, Qt.Orientation.Vertical, int(Qt.ItemDataRole.SizeHintRole)) is hint


def test_a_record_is_found_again_by_key_near_where_it_was(qapp) -> None:  # type: ignore[no-untyped-def]
    src = Source(35)
    model = Model(src)
    assert model.key_at(12) == 12 and model.key_at(99) is None
    src.n = 36  # a new record, at the end
    src.suffix = "x"
    model.reload()
    reads = len(src.pages)
    assert model.row_of(12, near=12) == 12  # sorted by id: same place
    assert len(src.pages) == reads + 1  # only the page it was on was read
    assert model.row_of(35, near=12) is None  # not on that page nor any read: not searched further
    assert len(src.pages) == reads + 1


class Counting(Immutable):
    """Writes down the roles data() and headerData() are asked for."""

    def __init__(self, source: Source, known_count: int | None = None) -> None:
        super().__init__(source, known_count)
        self.asked: list[int] = []
        self.header_asked: list[tuple[Qt.Orientation, int]] = []

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        self.asked.append(int(role))
        return super().data(index, role)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        self.header_asked.append((orientation, int(role)))
        return super().headerData(section, orientation, role)


def test_the_delegate_gets_a_cell_in_one_call_with_what_data_gives(qapp) -> None:  # type: ignore[no-untyped-def]
    src = Source(35)
    model = Counting(src, known_count=35)
    delegate = QStyledItemDelegate()
    for r, c in ((12, 0), (12, 1), (3, 1), (3, 2), (34, 1)):
        opt = QStyleOptionViewItem()
        delegate.initStyleOption(opt, model.index(r, c))  # what a view does for each painted cell
        assert model.asked == []  # every role through multiData, none through data()
        idx = model.index(r, c)
        assert opt.text == idx.data()
        align = idx.data(Qt.ItemDataRole.TextAlignmentRole)
        assert align is None or opt.displayAlignment == Qt.AlignmentFlag(align)
        colour = idx.data(Qt.ItemDataRole.ForegroundRole)
        assert (opt.palette.color(QPalette.ColorRole.Text) == colour) == (colour is not None)
        model.asked.clear()
    assert model.index(3, 1).data(Qt.ItemDataRole.ForegroundRole) == RED  # the colour case was met
    for role, value in ((Qt.ItemDataRole.ToolTipRole, "tip item003"), (ROW, Item(3, "item003")),
                        (Qt.ItemDataRole.DecorationRole, None)):  # roles the delegate does not ask
        asked = QModelRoleData(int(role))
        asked.setData("stale")
        model.multiData(model.index(3, 1), QModelRoleDataSpan(asked))
        assert asked.data() == value
    src.fail = OSError("disk gone")
    model.on_fetch_error = lambda exc: None
    model.set_filter(Flt(odd=True))
    opt = QStyleOptionViewItem()
    delegate.initStyleOption(opt, model.index(0, 1))
    assert opt.text == "…"  # the placeholder of a row that could not be read


def test_row_numbers_header_asks_the_model_once_for_its_size(qtbot) -> None:  # type: ignore[no-untyped-def]
    views = []
    for header in (True, False):
        model = Counting(Source(20), known_count=1_234_567)
        view = QTableView()
        if header:
            view.setVerticalHeader(RowNumbersHeader(view))
        view.setModel(model)
        qtbot.addWidget(view)
        view.resize(500, 300)
        view.show()
        qtbot.waitExposed(view)
        asked = model.header_asked.count((Qt.Orientation.Vertical, int(Qt.ItemDataRole.SizeHintRole)))
        views.append((view, asked))
    (ours, ours_asked), (qts, qts_asked) = views
    hint = ours.model().headerData(0, Qt.Orientation.Vertical, int(Qt.ItemDataRole.SizeHintRole))
    assert ours.verticalHeader().sizeHint() == hint == qts.verticalHeader().sizeHint()  # Qt's own answer too
    assert ours.verticalHeader().width() == qts.verticalHeader().width()
    assert ours_asked < 30 and qts_asked >= 200  # Qt's asks the first and last 100 sections each time
