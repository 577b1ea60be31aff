"""Windowed submissions model and screen over 10,000 rows: paging, LRU cache, sort, filter, search."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt

from app.model.markings import Marking
from app.model.submissions import Submission, SubmissionStatus
from app.model.workflow import Stage
from app.services import submissions
from storage import submissions_repo
from tests.conftest import MemoryKeyring, Workstation, WorkstationTemplate, derive_template
from tests.ui.conftest import DialogRecorder, ui_context
from ui.context import UiContext
from ui.models.submissions_model import COLUMNS, SubmissionsModel
from ui.screens.submissions import SubmissionsScreen

N = 10_000
DEVELOPERS = ["Northwind AI", "Helix Labs", "Meridian Research", "Cobalt Systems", "Tessellate"]
STATUSES = list(SubmissionStatus)


def bulk_insert(session, n: int = N) -> None:  # type: ignore[no-untyped-def]
    """Fast fixture data straight through the repository (one transaction, no per-row audit)."""
    base = date(2026, 1, 1)
    with session.transaction() as conn:
        for i in range(n):
            received = base + timedelta(days=i % 300)
            s = Submission(
                developer=DEVELOPERS[i % len(DEVELOPERS)], model_name=f"Model-{i:05d}", version=f"v{i % 7}",
                received=received, planned_release=received + timedelta(days=10 + i % 25),
                status=STATUSES[i % len(STATUSES)], marking=Marking.parse("CUI"),
            )
            submissions_repo.insert(conn, s, "reviewer", "2026-01-01T00:00:00+00:00")


@pytest.fixture(scope="module")
def big_template(workstation_template: WorkstationTemplate,
                 tmp_path_factory: pytest.TempPathFactory) -> WorkstationTemplate:
    """The fixture workstation with the 10,000 submissions, built once per module; each test that asks
    for `big` signs in on a copy of its folder (inserting 10,000 rows per test cost more than the tests)."""
    def prepare(ws: Workstation) -> None:
        bulk_insert(ws.session("reviewer"))

    return derive_template(tmp_path_factory.mktemp("big-submissions"), workstation_template, prepare)[0]


@pytest.fixture
def big(big_template: WorkstationTemplate, tmp_path, memory_keyring: MemoryKeyring, dialogs: DialogRecorder,
        qtbot) -> Iterator[UiContext]:  # type: ignore[no-untyped-def]
    ws = big_template.copy_to(tmp_path / "big", memory_keyring)
    yield ui_context(ws.session("reviewer"), dialogs)
    for s in ws.sessions:
        s.close()


def _col(name: str) -> int:
    return [c.header for c in COLUMNS].index(name)


def test_rowcount_without_loading_rows_and_paging(big) -> None:  # type: ignore[no-untyped-def]
    model = SubmissionsModel(big, page_size=200, cache_pages=4)
    assert model.rowCount() == N
    assert model.fetches == []  # opening the table reads no rows at all
    first = model.data(model.index(0, _col("Release")))
    assert len(model.fetches) == 1
    last = model.data(model.index(N - 1, _col("Release")))
    assert len(model.fetches) == 2
    assert first <= last  # default sort: release date ascending
    model.data(model.index(1, _col("Model")))  # same page: cached
    assert len(model.fetches) == 2
    for page in range(2, 7):  # touch 5 more pages -> the LRU keeps only 4
        model.data(model.index(page * 200, 0))
    assert len(model._pages) == 4
    model.data(model.index(0, 0))  # page 0 was evicted
    assert len(model.fetches) == 8
    assert model.data(model.index(N, 0)) is None  # out of range is harmless


def test_sort_on_header_goes_to_the_service(big) -> None:  # type: ignore[no-untyped-def]
    model = SubmissionsModel(big)
    model.sort(_col("Model"), Qt.SortOrder.DescendingOrder)
    assert model.data(model.index(0, _col("Model"))) == "Model-09999"
    assert model.data(model.index(N - 1, _col("Model"))) == "Model-00000"
    model.sort(_col("Developer"), Qt.SortOrder.AscendingOrder)
    assert model.data(model.index(0, _col("Developer"))) == "Cobalt Systems"
    assert model.data(model.index(N - 1, _col("Developer"))) == "Tessellate"


def test_filter_and_search(big) -> None:  # type: ignore[no-untyped-def]
    model = SubmissionsModel(big)
    # The filter is the computed stage: with no work yet, only the stored withdrawals are withdrawn.
    model.set_filter(status=Stage.WITHDRAWN.value)
    withdrawn = sum(1 for i in range(N) if STATUSES[i % len(STATUSES)] is SubmissionStatus.WITHDRAWN)
    assert model.rowCount() == withdrawn
    assert {model.data(model.index(r, _col("Status"))) for r in range(0, model.rowCount(), 97)} == {"withdrawn"}
    model.set_filter(status=Stage.RECEIVED.value)
    assert model.rowCount() == N - withdrawn
    model.set_filter(status=SubmissionStatus.CLOSED.value)  # a typed status is no stage
    assert model.rowCount() == 0
    model.set_filter(search="Model-0424", status=None)
    assert model.rowCount() == 10  # Model-04240 .. Model-04249
    model.set_filter(search="Helix")
    assert model.rowCount() == N // len(DEVELOPERS)
    model.set_filter(search="no such model")
    assert model.rowCount() == 0


def test_screen_search_box_and_double_click_open(big, qtbot) -> None:  # type: ignore[no-untyped-def]
    screen = SubmissionsScreen(big)
    qtbot.addWidget(screen)
    screen.show()
    assert "10,000 submissions" in screen.count_label.text()
    qtbot.keyClicks(screen.search, "Model-00042")
    with qtbot.waitSignal(screen.model.modelReset, timeout=2000):
        pass  # the debounce timer fires once typing stops
    assert screen.model.rowCount() == 1
    assert "1 submission match the filter" in screen.count_label.text()
    opened: list[int] = []
    big.events.open_submission.connect(opened.append)
    index = screen.model.index(0, 0)
    screen.table.setCurrentIndex(index)
    screen.table.setFocus()
    qtbot.keyClick(screen.table, Qt.Key.Key_Return)  # Enter opens it, as a double-click does
    assert opened == [screen.model.data(index, SubmissionsModel.ID_ROLE)]


def test_days_left_column_is_coloured_by_state(big) -> None:  # type: ignore[no-untyped-def]
    model = SubmissionsModel(big)
    model.set_filter(status=Stage.RECEIVED.value)
    idx = model.index(0, _col("Days left"))
    assert int(model.data(idx)) < 0  # fixture releases are all in the past relative to the test clock
    assert model.data(idx, Qt.ItemDataRole.ForegroundRole).color().name() == "#b00020"


def test_open_only_checkbox(big, qtbot) -> None:  # type: ignore[no-untyped-def]
    screen = SubmissionsScreen(big)
    qtbot.addWidget(screen)
    screen.open_only.setChecked(True)
    closed = sum(1 for i in range(N) if STATUSES[i % len(STATUSES)] is SubmissionStatus.WITHDRAWN)
    assert screen.model.rowCount() == N - closed
    shown = {screen.model.data(screen.model.index(r, _col("Status"))) for r in range(0, screen.model.rowCount(), 53)}
    assert shown == {"received"}  # a typed "closed" is still open: the stage follows the work


def test_status_column_filter_and_window_use_the_computed_stage(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A typed "closed" or "findings issued" is shown, filtered and timed by the computed stage."""
    today = ctx.today()
    for name, status in [("Typed closed", SubmissionStatus.CLOSED), ("Typed issued", SubmissionStatus.FINDINGS_ISSUED),
                         ("Withdrawn", SubmissionStatus.WITHDRAWN)]:
        submissions.create(ctx.session, Submission(developer="Dev", model_name=name, version="1",
                                                   received=today - timedelta(days=30),
                                                   planned_release=today - timedelta(days=2), status=status))
    screen = SubmissionsScreen(ctx)
    qtbot.addWidget(screen)
    model = screen.model
    model.sort(_col("Model"), Qt.SortOrder.AscendingOrder)
    rows = {model.data(model.index(r, _col("Model"))): r for r in range(model.rowCount())}
    for name in ("Typed closed", "Typed issued"):
        r = rows[name]
        assert model.data(model.index(r, _col("Status"))) == "received"
        days = model.index(r, _col("Days left"))
        assert model.data(days) == "-2"  # overdue, not done: the clock runs until release
        assert model.data(days, Qt.ItemDataRole.ToolTipRole).endswith("overdue")
    r = rows["Withdrawn"]
    assert model.data(model.index(r, _col("Status"))) == "withdrawn"
    assert model.data(model.index(r, _col("Days left"))) == "—"
    labels = [screen.status.itemText(i) for i in range(screen.status.count())]
    assert labels[0] == "All stages" and "Released · closed" in labels and "Closed" not in labels
    screen.status.setCurrentIndex(screen.status.findData(Stage.RECEIVED.value))
    assert model.rowCount() == 2
    screen.status.setCurrentIndex(screen.status.findData(Stage.WITHDRAWN.value))
    assert model.rowCount() == 1 and model.data(model.index(0, _col("Model"))) == "Withdrawn"
    screen.status.setCurrentIndex(0)
    screen.open_only.setChecked(True)
    assert model.rowCount() == 2


def test_refresh_keeps_the_selected_submission_selected_where_it_moved(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    today = ctx.today()
    for i in range(6):
        submissions.create(ctx.session, Submission("Dev", f"M{i}", "1", today, today + timedelta(days=10 + i)))
    screen = SubmissionsScreen(ctx)
    qtbot.addWidget(screen)
    screen.table.selectRow(3)
    sid = screen.model.data(screen.model.index(3, 0), Qt.ItemDataRole.UserRole)
    submissions.create(ctx.session, Submission("Dev", "Earliest", "1", today, today + timedelta(days=1)))
    screen.refresh()  # what a change broadcast does
    assert screen.model.rowCount() == 7
    selected = [i.row() for i in screen.table.selectionModel().selectedRows()]
    assert selected == [4] and screen.model.data(screen.model.index(4, 0), Qt.ItemDataRole.UserRole) == sid
