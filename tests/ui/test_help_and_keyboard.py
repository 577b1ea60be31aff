"""Keyboard and help (issue 15, point 2): focus returns to the item list after a move, the Help menu
(F1 shortcut sheet, user guide, About with version and build), accessible names on every control."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLineEdit, QWidget

from app import __version__
from app.build_info import build_hash
from app.model.checklist import Status
from app.model.submissions import Submission
from app.services import submissions
from ui.accessibility import unnamed_controls
from ui.help.shortcuts import SHORTCUTS
from ui.main_window import MainWindow
from ui.screens.assessment_screen import AssessmentScreen
from ui.screens.submission_detail import SUBMISSION_TABS
from ui.screens.submission_editor import NewSubmissionDialog
from ui.vuln_editor import VulnEditor


def _sub(ctx) -> Submission:  # type: ignore[no-untyped-def]
    today = ctx.today()
    return submissions.create(ctx.session, Submission(
        developer="Dev", model_name="Model", version="1", received=today,
        planned_release=today + timedelta(days=25)))


def test_focus_returns_to_item_list_after_a_move(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    sid = _sub(ctx).id
    screen = AssessmentScreen(ctx, sid)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitActive(screen)
    screen.start()
    first = screen.current
    screen.tree.setFocus()
    qtbot.keyClick(screen.tree, Qt.Key.Key_4)  # Not satisfied: needs a justification, focus goes there
    assert screen.focusWidget() is screen.justification
    qtbot.keyClick(screen.windowHandle(), Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert screen.current != first
    assert screen.focusWidget() is screen.tree  # the next digit is a status, not justification text
    second = screen.current
    qtbot.keyClick(screen.focusWidget(), Qt.Key.Key_3)
    assert screen.view is not None
    assert screen.view.answer(second).status is Status.SATISFIED
    assert screen.view.answer(second).justification == ""
    assert screen.justification.toPlainText() == ""


def test_help_menu_shortcut_sheet_guide_and_about(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    menus = [a.text() for a in w.menuBar().actions()]
    assert menus == ["&Session", "&Help"]
    help_menu = w.menuBar().actions()[1].menu()
    assert [a.text() for a in help_menu.actions()] == ["Keyboard shortcuts", "User guide", "About Frontier Review"]
    assert w.shortcuts_action.shortcut() == QKeySequence("F1")
    w.activateWindow()
    qtbot.waitActive(w)
    w.nav.setFocus()
    qtbot.keyClick(w.windowHandle(), Qt.Key.Key_F1)
    sheet = w._help["shortcuts"]
    assert sheet.isVisible()
    listed = " ".join(keys for _where, keys, _what in SHORTCUTS)
    # Every shortcut the main window binds is on the sheet (Ctrl+1..9 as one line).
    bound = {a.shortcut().toString() for a in w.actions() if not a.shortcut().isEmpty()}
    assert bound >= {"Ctrl+L", "F1", "Ctrl+0", "Ctrl+5"}
    for keys in bound:
        assert keys in listed or (keys.startswith("Ctrl+") and keys[5:].isdigit() and "Ctrl+1 … Ctrl+9" in listed), keys
    assert sheet.table.rowCount() == len(SHORTCUTS)  # type: ignore[attr-defined]
    guide = w.show_guide()
    text = guide.browser.toPlainText()  # type: ignore[attr-defined]
    assert "Nothing is lost silently" in text and "Roles" in text
    assert guide.find_next() is False  # type: ignore[attr-defined]
    guide.find_box.setText("passphrase")  # type: ignore[attr-defined]
    assert guide.find_next() is True  # type: ignore[attr-defined]
    about = w.show_about()
    details = about.details.text()  # type: ignore[attr-defined]
    assert f"Version: {__version__}" in details
    assert f"Build: {build_hash()}" in details
    assert len(build_hash()) >= 40  # a git checkout: the commit hash itself
    assert ctx.session.settings.workstation_name in details


def test_ctrl_0_focuses_navigation(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.show_screen("submissions")
    w.activateWindow()
    qtbot.waitActive(w)
    w.stack.currentWidget().findChild(QLineEdit).setFocus()  # type: ignore[union-attr]
    assert w.focusWidget() is not w.nav
    qtbot.keyClick(w.windowHandle(), Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert w.focusWidget() is w.nav


def _where(w: QWidget) -> str:
    chain = []
    node: QWidget | None = w
    while node is not None:
        chain.append(f"{type(node).__name__}({node.objectName()})")
        node = node.parentWidget()
    return " < ".join(chain[:6])


def test_every_control_has_an_accessible_name(qtbot, make_ctx) -> None:  # type: ignore[no-untyped-def]
    """Walk every screen each role sees, every submission tab and the editor dialogs."""
    for role in ("admin", "reviewer", "auditor"):
        ctx = make_ctx(role)
        sid = _sub(ctx).id if role == "reviewer" else None
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        w.show()
        for key in list(w.specs):
            w.show_screen(key)
        if sid is not None:
            w.open_submission(sid)
            detail = w.pages[f"submission:{sid}"]
            for spec in SUBMISSION_TABS:
                detail.tab(spec.title)  # type: ignore[attr-defined]
        missing = unnamed_controls(w)
        assert not missing, [_where(m) for m in missing]
    ctx = make_ctx("reviewer")
    for dialog in (VulnEditor(ctx), NewSubmissionDialog(ctx), w.show_guide(), w.show_about(), w.show_shortcuts()):
        assert dialog is not None
        qtbot.addWidget(dialog)
        dialog.show()
        missing = unnamed_controls(dialog)
        assert not missing, [f"{type(m).__name__} {m.objectName()!r} {m.toolTip()!r} in {dialog.windowTitle()}" for m in missing]
