"""Nothing is lost silently: every editor marks its edits and asks Save / Discard / Cancel before it
closes or is switched away from (issue 15, point 1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from app.model.findings import Finding, Severity
from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import findings, submissions
from app.services import vulnerabilities as vs
from ui.main_window import MainWindow
from ui.screens.findings_screen import FindingsScreen
from ui.screens.submission_editor import NewSubmissionDialog
from ui.unsaved import Choice
from ui.vuln_editor import VulnEditor


@pytest.fixture
def sub(ctx) -> Submission:  # type: ignore[no-untyped-def]
    today = ctx.today()
    return submissions.create(ctx.session, Submission(
        developer="Helix Labs", model_name="Helix-Coder", version="2.0", received=today,
        planned_release=today + timedelta(days=20), marking=Marking.parse("CUI")))


def _nav_text(w: MainWindow, key: str) -> str:
    for row in range(w.nav.count()):
        if w.nav.item(row).data(Qt.ItemDataRole.UserRole) == key:
            return str(w.nav.item(row).text())
    raise KeyError(key)


def test_vuln_editor_escape_asks_and_cancel_keeps_the_dialog(ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = VulnEditor(ctx)
    qtbot.addWidget(editor)
    editor.show()
    assert not editor.isWindowModified()
    editor.title.setText("Heap overflow in the parser")
    assert editor.isWindowModified() and editor.is_modified()
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert dialogs.unsaved == ["New vulnerability"]
    assert editor.isVisible()  # Cancel: still open, text kept
    assert editor.title.text() == "Heap overflow in the parser"


def test_vuln_editor_close_save_stores_the_record(ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = VulnEditor(ctx)
    qtbot.addWidget(editor)
    editor.show()
    editor.title.setText("Sandbox escape")
    dialogs.unsaved_answer = Choice.SAVE
    editor.close()
    assert not editor.isVisible()
    assert editor.result_vuln is not None
    assert vs.get(ctx.session, editor.result_vuln.id).title == "Sandbox escape"


def test_vuln_editor_discard_closes_without_saving_and_untouched_closes_silently(ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = VulnEditor(ctx)
    qtbot.addWidget(editor)
    editor.show()
    editor.title.setText("Throw away")
    dialogs.unsaved_answer = Choice.DISCARD
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert not editor.isVisible() and editor.result_vuln is None
    untouched = VulnEditor(ctx)
    qtbot.addWidget(untouched)
    untouched.show()
    untouched.reject()
    assert not untouched.isVisible()
    assert dialogs.unsaved == ["New vulnerability"]  # asked once, for the edited one only


def test_vuln_editor_failed_save_in_prompt_keeps_it_open(ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = VulnEditor(ctx)
    qtbot.addWidget(editor)
    editor.show()
    editor.calculator.vector.setText("CVSS:4.0/AV:Q")
    editor.calculator._typed("CVSS:4.0/AV:Q")  # an invalid vector: saving fails with a message
    dialogs.unsaved_answer = Choice.SAVE
    editor.reject()
    assert editor.isVisible()
    assert editor.error.text()


def test_submission_overview_close_asks_and_title_is_marked(ctx, dialogs, sub, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.open_submission(sub.id)
    key = f"submission:{sub.id}"
    detail = w.pages[key]
    overview = detail.tab("Overview")  # type: ignore[attr-defined]
    assert not w.isWindowModified()
    overview.version.setText("2.1")
    assert w.isWindowModified()
    assert _nav_text(w, key).endswith("*")
    assert detail.request_close() is False  # Cancel
    assert key in w.pages and dialogs.unsaved == ["The submission overview"]
    dialogs.unsaved_answer = Choice.SAVE
    assert detail.request_close() is True
    assert key not in w.pages
    assert submissions.get(ctx.session, sub.id).version == "2.1"
    assert not w.isWindowModified()


def test_switching_screens_asks_and_cancel_stays(ctx, dialogs, sub, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.open_submission(sub.id)
    overview = w.pages[f"submission:{sub.id}"].tab("Overview")  # type: ignore[attr-defined]
    overview.notes.setPlainText("draft notes")
    w.show_screen("dashboard")
    assert dialogs.unsaved == ["The submission overview"]
    assert w.stack.currentWidget() is w.pages[f"submission:{sub.id}"]  # Cancel: still on the page
    dialogs.unsaved_answer = Choice.DISCARD
    w.show_screen("dashboard")
    assert w.stack.currentWidget() is w.pages["dashboard"]
    assert overview.notes.toPlainText() == ""  # discarded: the stored value is shown again
    assert submissions.get(ctx.session, sub.id).notes == ""


def test_sign_out_asks_and_cancel_keeps_the_session(ctx, dialogs, sub, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.open_submission(sub.id)
    w.pages[f"submission:{sub.id}"].tab("Overview").developer.setText("Other")  # type: ignore[attr-defined]
    with qtbot.assertNotEmitted(w.signed_out):
        w.sign_out()
    assert dialogs.unsaved == ["The submission overview"]
    dialogs.unsaved_answer = Choice.DISCARD
    with qtbot.waitSignal(w.signed_out):
        w.sign_out()


def test_new_submission_dialog_escape_asks_only_when_typed(ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = NewSubmissionDialog(ctx)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.editor.developer.setText("Northwind")
    assert dlg.isWindowModified()
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert dlg.isVisible() and dialogs.unsaved == ["The new submission"]
    dialogs.unsaved_answer = Choice.DISCARD
    dlg.reject()
    assert not dlg.isVisible() and dlg.created is None


def test_selecting_another_finding_asks(ctx, dialogs, sub, qtbot) -> None:  # type: ignore[no-untyped-def]
    for title in ("First", "Second"):
        findings.create(ctx.session, Finding(sub.id, title, "d", Severity.LOW, "r", (), (), Marking.parse("CUI")))
    screen = FindingsScreen(ctx, sub.id)
    qtbot.addWidget(screen)
    screen.table.selectRow(0)
    first = screen.editing
    assert first is not None and screen.title.text() == first.title
    screen.title.setText(f"{first.title} (edited)")
    screen.table.selectRow(1)
    assert dialogs.unsaved == [f"Finding {first.label}"]
    assert screen.editing is first and screen.title.text().endswith("(edited)")  # Cancel: still editing
    assert screen.table.selectionModel().selectedRows()[0].row() == 0
    dialogs.unsaved_answer = Choice.SAVE
    screen.table.selectRow(1)
    assert screen.editing is not None and screen.editing.id != first.id
    assert {f.title for f in findings.list_findings(ctx.session, sub.id)} == {f"{first.title} (edited)",
                                                                              screen.editing.title}
    screen.title.setText("typed into a new one")
    screen.new()  # "New finding" with edits pending asks too
    assert len(dialogs.unsaved) == 3


def test_settings_edits_survive_switching_and_are_asked_about(make_ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx("admin")
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    settings = w.show_screen("settings")
    settings.idle.setValue(settings.idle.value() + 3)  # type: ignore[attr-defined]
    assert _nav_text(w, "settings") == "Settings *"
    w.show_screen("dashboard")
    assert dialogs.unsaved == ["Settings"]
    assert w.stack.currentWidget() is settings
    dialogs.unsaved_answer = Choice.SAVE
    before = ctx.session.settings.idle_lock_minutes
    w.show_screen("dashboard")
    assert ctx.session.settings.idle_lock_minutes == before + 3
    assert _nav_text(w, "settings") == "Settings"
