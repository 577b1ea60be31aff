"""Layout (issue 15, point 3): the window fits 1280×720 (and 1920×1080 at 150 %, the same 1280×720
logical pixels) with both banners visible, after every screen and every submission tab was shown;
toolbars wrap instead of widening the window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QScrollArea, QTableView, QWidget

from app.model.findings import Finding, Severity
from app.model.submissions import Submission
from app.services import assessment, findings, results, submissions
from ui import window_size
from ui.dialogs.evidence_picker import EvidencePicker
from ui.dialogs.import_dialog import ImportDialog
from ui.main_window import MainWindow
from ui.screens.submission_detail import SUBMISSION_TABS
from ui.vuln_editor import VulnEditor
from ui.widgets import column_fit
from ui.widgets.flow_layout import FlowLayout

# 720 px high screens lose about 40 px to a panel and 30 px to the title bar.
FIT_W, FIT_H = 1280, 650


def _visit_everything(w: MainWindow, sid: int) -> list[QWidget]:
    shown = [w.show_screen(key) for key in list(w.specs)]
    if w.specs.get("submissions"):
        w.open_submission(sid)
        sub_key = f"submission:{sid}"
        detail = w.pages[sub_key]
        shown.append(detail)
        for spec in SUBMISSION_TABS:
            detail.tab(spec.title)  # type: ignore[attr-defined]
    return shown


def test_minimum_size_fits_1280x720_after_visiting_every_screen(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    today = make_ctx("reviewer").today()
    sid = submissions.create(make_ctx("reviewer").session,
                             Submission("Dev", "Model", "1", today, today + timedelta(days=20))).id
    for role in ("admin", "reviewer", "lead", "auditor"):
        ctx = make_ctx(role)
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        screens = _visit_everything(w, sid)
        hint = w.minimumSizeHint()
        assert hint.width() <= FIT_W and hint.height() <= FIT_H, (role, hint)
        w.resize(FIT_W, FIT_H)
        QApplication.processEvents()
        assert w.width() == FIT_W and w.height() == FIT_H
        for banner in (w.top_banner, w.bottom_banner):
            assert banner.isVisible()
            top_left = banner.mapTo(w, banner.rect().topLeft())
            assert 0 <= top_left.y() and top_left.y() + banner.height() <= w.height(), role
        # At that size every screen fits its area without a horizontal scroll bar.
        for screen in screens:
            w.show_screen(next(k for k, p in w.pages.items() if p is screen))
            QApplication.processEvents()
            host = w.stack.host_of(screen)  # type: ignore[attr-defined]
            assert host is not None
            need = screen.minimumSizeHint()
            room = host.viewport().size()
            assert need.width() <= room.width() and need.height() <= room.height(), (
                role, screen.objectName(), need, room)
            for tab in getattr(screen, "built", {}).values():  # submission tabs: no sideways scrolling
                screen.tab(screen.tabs.tabText(screen.tabs.indexOf(tab.parentWidget().parentWidget())))
                QApplication.processEvents()
                tab_room = tab.parentWidget().size()  # the tab's scroll viewport
                assert tab.minimumSizeHint().width() <= tab_room.width(), (role, type(tab).__name__, tab_room)


def test_toolbar_row_wraps_instead_of_widening(qtbot) -> None:  # type: ignore[no-untyped-def]
    host = QWidget()
    qtbot.addWidget(host)
    row = FlowLayout(host)
    buttons = [QPushButton(f"A fairly long toolbar button {n}") for n in range(8)]
    for b in buttons:
        row.addWidget(b)
    row.addStretch(1)
    widest = max(b.sizeHint().width() for b in buttons)
    assert host.minimumSizeHint().width() <= widest + 2
    host.resize(widest + 40, 400)
    host.show()
    QApplication.processEvents()
    tops = sorted({b.geometry().top() for b in buttons})
    assert len(tops) == len(buttons)  # one per line at that width
    assert row.heightForWidth(widest + 40) >= sum(b.sizeHint().height() for b in buttons)
    host.resize(sum(b.sizeHint().width() for b in buttons) + 200, 100)
    QApplication.processEvents()
    assert len({b.geometry().top() for b in buttons}) == 1  # wide enough: one line


@pytest.fixture
def themed():  # type: ignore[no-untyped-def]
    """Style a window as the application does (its font and style sheet: bold headers), on that window
    only. A style sheet set on the application re-polishes every widget still alive, those earlier
    tests closed too, and Qt once delivered such a Polish event to a freed widget: a worker died."""
    from PySide6.QtGui import QFont

    from ui import theme

    def style(widget: QWidget) -> QWidget:
        font = QFont()
        font.setFamilies(["Noto Sans", "DejaVu Sans"])
        font.setPointSize(10)
        widget.setFont(font)
        widget.setStyleSheet(theme.STYLESHEET)
        return widget

    return style


def test_tables_fit_1280_without_sideways_scrolling(make_ctx, qtbot, themed) -> None:  # type: ignore[no-untyped-def]
    """At 1280 px every table on every screen shows its columns without a horizontal scroll bar, and
    whole titles in the theme's bold header font; a register's less-used columns start hidden (a
    right-click on the header shows them)."""
    today = make_ctx("reviewer").today()
    sid = submissions.create(make_ctx("reviewer").session,
                             Submission("Dev", "Model", "1", today, today + timedelta(days=20))).id
    wide: list[str] = []
    for role in ("admin", "lead"):
        w = themed(MainWindow(make_ctx(role)))
        qtbot.addWidget(w)
        w.resize(FIT_W, 800)
        w.show()
        qtbot.waitExposed(w)
        for screen in _visit_everything(w, sid):
            w.show_screen(next(k for k, p in w.pages.items() if p is screen))
            tabs = [None] if not hasattr(screen, "tabs") else [screen.tabs.tabText(i) for i in range(screen.tabs.count())]
            for tab in tabs:
                if tab is not None:
                    screen.tab(tab)
                QApplication.processEvents()
                for table in screen.findChildren(QTableView):
                    header = table.horizontalHeader()
                    over = header.length() - table.viewport().width()
                    if table.isVisible() and over > 0:
                        wide.append(f"{role} {screen.objectName() or type(screen).__name__} {tab or ''} "
                                    f"{table.objectName() or type(table).__name__}: {over} px too wide")
                    # and every title is whole, measured bold as the theme draws it ("mbargo unt")
                    cut = [str(table.model().headerData(c, Qt.Orientation.Horizontal))
                           for c in range(header.count()) if table.isVisible() and not header.isSectionHidden(c)
                           and header.sectionSize(c) < column_fit.title_width(table, c) - 8]
                    if cut:
                        wide.append(f"{role} {screen.objectName() or type(screen).__name__} {tab or ''} "
                                    f"{table.objectName() or type(table).__name__}: titles cut: {cut}")
    assert not wide, "\n".join(wide)


# -- at 1280x800 (the s31 walk): the lead's buttons, the findings register, dialogs on the screen --
WALK_W, WALK_H = 1280, 800


def _inside(widget: QWidget, viewport: QWidget) -> bool:
    """The whole widget lies within `viewport` (an ancestor): seen without scrolling."""
    top_left = widget.mapTo(viewport, QPoint(0, 0))
    return widget.isVisible() and viewport.rect().contains(QRect(top_left, widget.size()))


def _window_on(make_ctx, qtbot, role: str, sid: int, tab: str) -> tuple[MainWindow, QWidget, QScrollArea]:  # type: ignore[no-untyped-def]
    w = MainWindow(make_ctx(role))
    qtbot.addWidget(w)
    w.resize(WALK_W, WALK_H)
    w.show()
    qtbot.waitExposed(w)
    w.open_submission(sid)
    screen = w.pages[f"submission:{sid}"].tab(tab)  # type: ignore[attr-defined]
    QApplication.processEvents()
    host = screen.parentWidget().parentWidget()  # the tab's scroll area
    assert isinstance(host, QScrollArea)
    return w, screen, host


def test_lead_assessment_tab_fits_1280x800_with_every_button(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A lead's five workflow buttons wrap instead of widening the tab: nothing scrolls sideways, every
    button, the guidance and the marking are in sight, and the evidence box is reachable unscrolled."""
    reviewer = make_ctx("reviewer")
    today = reviewer.today()
    sid = submissions.create(reviewer.session, Submission("Dev", "Model", "1", today, today + timedelta(days=20))).id
    _w, screen, host = _window_on(make_ctx, qtbot, "lead", sid, "Assessment")
    assert screen.start_button.isVisible() and not screen.progress.isVisible()  # no empty bar before Start
    assessment.start(reviewer.session, sid)
    screen.refresh()
    QApplication.processEvents()
    assert screen.progress.isVisible()
    buttons = [screen.submit_button, screen.approve_button, screen.return_button, screen.print_button]
    assert all(b.isVisible() for b in buttons)
    assert screen.minimumSizeHint().width() <= host.viewport().width(), (screen.minimumSizeHint(), host.viewport())
    assert not host.horizontalScrollBar().isVisible()
    for b in buttons:
        assert _inside(b, host.viewport()), b.text()
    pane_view = screen.pane.parentWidget()  # the item pane's own scroll viewport
    for part in (screen.guidance, screen.marking, screen.justification):
        assert part.mapTo(pane_view, QPoint(part.width(), 0)).x() <= pane_view.width(), part
    assert _inside(screen.evidence.link_button, pane_view)


def test_findings_tab_shows_rows_and_save_at_1280x800(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    """With three findings the register shows all three rows and the form's Save button is in sight."""
    reviewer = make_ctx("reviewer")
    today = reviewer.today()
    sid = submissions.create(reviewer.session, Submission("Dev", "Model", "1", today, today + timedelta(days=20))).id
    assessment.start(reviewer.session, sid)
    marking = submissions.get(reviewer.session, sid).marking
    for n in range(3):
        findings.create(reviewer.session, Finding(sid, f"Finding {n}", "What was seen.", Severity.HIGH, marking=marking))
    w, screen, host = _window_on(make_ctx, qtbot, "reviewer", sid, "Findings")
    table = screen.table
    assert table.rowCount() == 3
    for row in range(3):
        rect = table.visualRect(table.model().index(row, 0))
        assert table.viewport().rect().contains(rect), (row, rect, table.viewport().size())
    for b in (screen.save_button, screen.new_button, screen.delete_button, screen.vuln_button):
        assert _inside(b, host.viewport()), b.text()
        assert _inside(b, w.centralWidget())
    assert screen.minimumSizeHint().height() <= host.viewport().height()  # the tab itself does not scroll


def test_vuln_editor_fits_an_800_px_screen(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    """It asks for 980x860 and gets what the screen has room for: Save / Cancel stay on screen."""
    editor = VulnEditor(ctx)
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    room = editor.screen().availableGeometry()
    assert room.height() <= WALK_H  # the offscreen platform's screen: 800 px high
    assert editor.frameGeometry().height() <= room.height(), editor.frameGeometry()
    assert editor.height() + window_size.TITLE_BAR <= room.height()  # room left for a real title bar


def test_import_dialog_shows_several_files_one_line_each_at_its_default_size(ctx, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The file table has most of the height: at the default size (and at the minimum) four files are in
    sight, one line each, a long refusal elided with its whole text in the tooltip; nothing scrolls sideways."""
    paths = []
    for n in range(6):
        path = tmp_path / f"results_2026-12-03T07-55-4{n}.704219-a-rather-long-log-name.eval"
        path.write_bytes(b"not a zip")
        paths.append(str(path))
    dlg = ImportDialog(ctx)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.add_files(paths)
    table = dlg.files_table
    for size in (dlg.size(), dlg.minimumSize()):
        dlg.resize(size)
        QApplication.processEvents()
        shown = [r for r in range(6) if table.viewport().rect().contains(table.visualRect(table.model().index(r, 2)))]
        assert len(shown) >= 4, (size, table.viewport().size(), [table.rowHeight(r) for r in range(6)])
        assert table.horizontalHeader().length() <= table.viewport().width()
        assert table.rowHeight(0) < 2 * table.fontMetrics().lineSpacing()
    assert "CSV_FORMAT.md" in table.item(0, 1).toolTip()  # the end of the long reason, not cut


def test_run_page_coverage_rules_and_evidence_picker_fit_1280x800(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The run page's samples table shows every column (Time too) without a sideways scroll bar, the
    coverage rules table shows every rule (up to eight) one line each, and the evidence picker's run
    labels wrap instead of scrolling sideways."""
    reviewer = make_ctx("reviewer")
    today = reviewer.today()
    sid = submissions.create(reviewer.session, Submission("Dev", "Model", "1", today, today + timedelta(days=20),
                                                          training_flop=3e25)).id
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "inspect" / "intercode_ok.eval"
    [outcome] = results.import_files(reviewer.session, [str(fixture)], sid)
    assert outcome.status == "imported", outcome.message
    run_id = results.list_runs(reviewer.session, sid)[0].id
    w, results_tab, _host = _window_on(make_ctx, qtbot, "reviewer", sid, "Results")
    detail = results_tab.open_run(run_id)
    QApplication.processEvents()
    table = detail.table
    assert table.isVisible() and table.horizontalHeader().length() <= table.viewport().width(), (
        table.horizontalHeader().length(), table.viewport().width())

    coverage_tab = w.pages[f"submission:{sid}"].tab("Coverage")  # type: ignore[attr-defined]
    QApplication.processEvents()
    rules = coverage_tab.table
    shown = [r for r in range(rules.rowCount())
             if rules.viewport().rect().contains(rules.visualRect(rules.model().index(r, 0)))]
    assert len(shown) >= min(rules.rowCount(), 8) >= 6, (len(shown), rules.rowCount(), rules.viewport().size())
    assert rules.horizontalHeader().length() <= rules.viewport().width()

    picker = EvidencePicker(reviewer, sid, w)
    qtbot.addWidget(picker)
    picker.show()
    qtbot.waitExposed(picker)
    runs = picker.runs
    assert runs.count() == 1 and "intercode_ok.eval" in runs.item(0).text()
    assert not runs.horizontalScrollBar().isVisible()
    assert runs.visualItemRect(runs.item(0)).right() <= runs.viewport().width()


def test_checklists_and_benchmarks_fit_1280x800_without_a_page_scroll_bar(make_ctx, qtbot, themed) -> None:  # type: ignore[no-untyped-def]
    """Checklists & rules has its title and its three tables share the height; Benchmarks fits too. On a
    workstation where no assessment started yet, the shipped checklist template is listed like the
    shipped rule set (it is stored when the first assessment starts)."""
    w = themed(MainWindow(make_ctx("admin")))
    qtbot.addWidget(w)
    w.resize(FIT_W, 800)
    w.show()
    qtbot.waitExposed(w)
    for key in ("rulesets", "benchmarks"):
        screen = w.show_screen(key)
        QApplication.processEvents()
        host = w.stack.host_of(screen)  # type: ignore[attr-defined]
        assert host.verticalScrollBar().maximum() == 0, (key, screen.height(), host.viewport().height())
        assert screen.height() <= host.viewport().height(), key
    rules = w.pages["rulesets"]
    titles = [label.text() for label in rules.findChildren(QLabel) if label.objectName() == "pageTitle"]
    assert titles == ["Checklists & rules"]
    host = w.stack.host_of(rules)  # type: ignore[attr-defined]
    for table in (rules.templates, rules.rulesets, rules.profiles):  # every table whole inside the page
        bottom = table.mapTo(host.viewport(), QPoint(0, table.height())).y()
        assert table.height() >= table.minimumHeight() and bottom <= host.viewport().height()
    origins = {rules.templates.item(r, 0).text(): rules.templates.item(r, 2).text()
               for r in range(rules.templates.rowCount())}
    assert origins == {"frontier-default": "shipped"}
    assert rules.rulesets.item(0, 4).text() == "shipped"
