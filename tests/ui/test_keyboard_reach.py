"""Every action reachable from the keyboard (issue 15, point 2): walk every screen and every
submission tab for each role and fail on any enabled, visible button or action that Tab does not
stop on and that has no shortcut, mnemonic or keyboard-opened menu."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QPushButton, QToolButton, QVBoxLayout, QWidget

from app.model.submissions import Submission
from app.services import results, submissions
from ui.keyboard_reach import describe, unreachable
from ui.main_window import MainWindow
from ui.screens.submission_detail import SUBMISSION_TABS

INTERCODE = Path(__file__).resolve().parents[1] / "fixtures" / "inspect" / "intercode_ok.eval"


def test_unreachable_controls_are_found(qtbot) -> None:  # type: ignore[no-untyped-def]
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    mouse_only = QPushButton("Mouse only")
    mouse_only.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    with_mnemonic = QPushButton("&Keyboard too")
    with_mnemonic.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    with_shortcut = QPushButton("Shortcut")
    with_shortcut.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    with_shortcut.setShortcut(QKeySequence("Ctrl+K"))
    click_focus = QToolButton()
    click_focus.setText("Click focus only")
    click_focus.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    disabled = QPushButton("Disabled")
    disabled.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    disabled.setEnabled(False)
    tab_stop = QPushButton("Tab stops here")
    for b in (mouse_only, with_mnemonic, with_shortcut, click_focus, disabled, tab_stop):
        layout.addWidget(b)
    menu_button = QToolButton()
    menu_button.setText("More")
    menu_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    menu = QMenu(menu_button)
    in_menu = QAction("In a menu Tab reaches", menu)
    menu.addAction(in_menu)
    menu_button.setMenu(menu)
    layout.addWidget(menu_button)
    orphan = QAction("Added to a mouse-only tool button", host)
    mouse_tool = QToolButton()
    mouse_tool.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    mouse_tool.setDefaultAction(orphan)
    layout.addWidget(mouse_tool)
    host.show()
    found = unreachable(host)
    assert set(found) == {mouse_only, click_focus, orphan, mouse_tool}, [describe(f) for f in found]


def test_every_button_and_action_on_every_screen_is_reachable_by_keyboard(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    reviewer = make_ctx("reviewer")
    today = reviewer.today()
    sid = submissions.create(reviewer.session, Submission("Dev", "Model", "1", today, today + timedelta(days=20))).id
    assert sid is not None
    results.import_files(reviewer.session, [INTERCODE], sid)  # the Results tab with a run in it
    problems: list[str] = []
    for role in ("admin", "reviewer", "lead", "auditor"):
        ctx = make_ctx(role)
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        for key in list(w.specs):
            page = w.show_screen(key)
            problems += [f"{role} {key}: {describe(c)}" for c in unreachable(page)]
        if "submissions" in w.specs:
            w.open_submission(sid)
            detail = w.pages[f"submission:{sid}"]
            for spec in SUBMISSION_TABS:
                tab = detail.tab(spec.title)  # type: ignore[attr-defined]
                problems += [f"{role} submission/{spec.title}: {describe(c)}" for c in unreachable(tab)]
            problems += [f"{role} submission: {describe(c)}" for c in unreachable(detail)]
        problems += [f"{role} window: {describe(c)}" for c in unreachable(w)]
    # the dialogs a reviewer opens from those screens
    from ui.dialogs.evidence_picker import EvidencePicker
    from ui.dialogs.import_dialog import ImportDialog
    from ui.screens.submission_editor import NewSubmissionDialog
    from ui.vuln_editor import VulnEditor

    for dialog in (VulnEditor(reviewer), NewSubmissionDialog(reviewer), ImportDialog(reviewer, sid),
                   EvidencePicker(reviewer, sid), w.show_guide(), w.show_about(), w.show_shortcuts()):
        assert dialog is not None
        qtbot.addWidget(dialog)
        dialog.show()
        problems += [f"dialog {dialog.windowTitle()}: {describe(c)}" for c in unreachable(dialog)]
    assert not sorted(set(problems)), "\n".join(sorted(set(problems)))
