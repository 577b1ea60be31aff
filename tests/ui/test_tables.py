"""Tables (issue 15, point 6): every table sorts on a header click and can be filtered; rows keep
pointing at the right record after a sort."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTableView

from app.model.findings import Finding, Severity
from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import findings, submissions
from ui.main_window import MainWindow
from ui.screens.findings_screen import FindingsScreen
from ui.screens.submission_detail import SUBMISSION_TABS
from ui.widgets.sortable_table import SortableTable


def _sub(ctx) -> int:  # type: ignore[no-untyped-def]
    today = ctx.today()
    sub = submissions.create(ctx.session, Submission("Dev", "Model", "1", today, today + timedelta(days=20)))
    assert sub.id is not None
    return sub.id


def test_every_table_on_every_screen_is_sortable_and_filterable(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    sid = _sub(make_ctx("reviewer"))
    for role in ("admin", "reviewer", "auditor"):
        ctx = make_ctx(role)
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        w.show()
        for key in list(w.specs):
            w.show_screen(key)
        if "submissions" in w.specs:
            w.open_submission(sid)
            for spec in SUBMISSION_TABS:
                w.pages[f"submission:{sid}"].tab(spec.title)  # type: ignore[attr-defined]
        QApplication.processEvents()
        QApplication.processEvents()  # filters are placed just after a table is first shown
        tables = [t for page in w.pages.values() for t in page.findChildren(QTableView)]
        assert len(tables) >= 8
        for t in tables:
            name = t.accessibleName() or t.objectName() or type(t.parentWidget()).__name__
            if t.property("inputGrid"):
                continue  # an input grid (points of contact) is typed into, not browsed
            assert t.isSortingEnabled() or t.property("sortedByService"), (role, name)
            if isinstance(t, SortableTable) and t.isVisible():
                assert t.filter_box().isVisible(), (role, name)


def test_sorting_keeps_rows_pointing_at_their_record_and_filter_hides_rows(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    sid = _sub(ctx)
    for title in ("Alpha", "Charlie", "Bravo"):
        findings.create(ctx.session, Finding(sid, title, "d", Severity.LOW, "r", (), (), Marking.parse("CUI")))
    screen = FindingsScreen(ctx, sid)
    qtbot.addWidget(screen)
    screen.show()
    QApplication.processEvents()
    table = screen.table
    assert isinstance(table, SortableTable)
    title_col = 2
    table.horizontalHeader().sectionClicked.emit(title_col)  # what a header click does
    table.sortByColumn(title_col, Qt.SortOrder.DescendingOrder)
    assert [table.item(r, title_col).text() for r in range(3)] == ["Charlie", "Bravo", "Alpha"]
    table.selectRow(0)
    assert screen.editing is not None and screen.editing.title == "Charlie"
    assert screen.title.text() == "Charlie"
    screen.refresh()  # a refill keeps the reviewer's order once control returns to the event loop
    QApplication.processEvents()
    assert [table.item(r, title_col).text() for r in range(3)] == ["Charlie", "Bravo", "Alpha"]
    box = table.filter_box()
    assert box.isVisible()
    box.setText("brav")
    assert [table.isRowHidden(r) for r in range(3)] == [True, False, True]
    box.clear()
    assert not any(table.isRowHidden(r) for r in range(3))
