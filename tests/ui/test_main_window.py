"""Shell: banners, role-filtered screen registry, submission detail tabs, dashboard, audit and
accounts screens, error presentation and the background job runner."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt, QThread

from app.model.errors import Cancelled, PassphraseChangeRequired, ValidationError
from app.model.markings import Marking
from app.model.submissions import Submission, SubmissionStatus, WindowState
from app.services import audit, submissions
from tests.conftest import tamper
from ui import errors
from ui.jobs import JobRunner, time_left
from ui.main_window import SCREENS, MainWindow
from ui.screens.audit_screen import AuditScreen
from ui.screens.dashboard import DashboardScreen
from ui.screens.submission_detail import SUBMISSION_TABS, SubmissionDetail
from ui.screens.users_screen import UsersScreen


def _titles(w: MainWindow) -> list[str]:
    return [w.nav.item(i).text() for i in range(w.nav.count())]


def _sub(ctx, days_to_release: int, status=SubmissionStatus.IN_REVIEW, name="M"):  # type: ignore[no-untyped-def]
    release = ctx.today() + timedelta(days=days_to_release)
    return submissions.create(ctx.session, Submission(
        developer="Dev", model_name=name, version="1", received=release - timedelta(days=25),
        planned_release=release, status=status))


def test_banners_and_status_bar(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    assert w.top_banner.text() == w.bottom_banner.text() == "SECRET//NOFORN"
    assert "#c8102e" in w.top_banner.styleSheet()  # red for SECRET
    assert "Rita Reviewer (Reviewer)" in w.status_user.text()
    assert "OS keyring" in w.status_keys.text()


def test_screens_follow_role_permissions(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    reviewer = MainWindow(make_ctx("reviewer"))
    auditor = MainWindow(make_ctx("auditor"))
    qtbot.addWidget(reviewer)
    qtbot.addWidget(auditor)
    assert "Audit trail" not in _titles(reviewer)
    assert "Audit trail" in _titles(auditor)
    assert {"Dashboard", "Submissions", "Accounts"} <= set(_titles(reviewer))
    # Every registered screen a role may see can actually be built.
    for w in (reviewer, auditor):
        for key in list(w.specs):
            w.show_screen(key)
            assert w.stack.currentWidget() is w.pages[key]
    assert len(SCREENS) >= 4


def test_open_submission_builds_detail_with_registered_tabs(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    sub = _sub(ctx, 3, name="Aurora")
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    ctx.events.open_submission.emit(sub.id)
    detail = w.stack.currentWidget()
    assert isinstance(detail, SubmissionDetail)
    assert "Aurora" in _titles(w)[-1]
    assert "AT RISK" in detail.clock.text() and "3 days" in detail.clock.text()
    tabs = [detail.tabs.tabText(i) for i in range(detail.tabs.count())]
    assert tabs == [t.title for t in SUBMISSION_TABS if t.permission is None or ctx.can(t.permission)]
    assert detail.tab("Artifacts") is detail.built[tabs.index("Artifacts")]
    ctx.events.open_submission.emit(sub.id)  # opening again re-uses the page
    assert sum("Aurora" in t for t in _titles(w)) == 1
    detail.close_requested.emit()
    assert not any("Aurora" in t for t in _titles(w))


def test_dashboard_orders_by_urgency(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    _sub(ctx, 20, name="OnTrack")
    _sub(ctx, -2, name="Overdue")
    _sub(ctx, 4, name="AtRisk")
    _sub(ctx, -40, status=SubmissionStatus.WITHDRAWN, name="Withdrawn")
    # A typed status no longer closes anything: the lifecycle follows the work.
    _sub(ctx, -30, status=SubmissionStatus.CLOSED, name="TypedClosed")
    dash = DashboardScreen(ctx)
    qtbot.addWidget(dash)
    assert [s.model_name for s, _st, _d in dash.rows] == ["TypedClosed", "Overdue", "AtRisk", "OnTrack"]
    assert [st for _s, st, _d in dash.rows] == [WindowState.OVERDUE, WindowState.OVERDUE, WindowState.AT_RISK,
                                                 WindowState.ON_TRACK]
    assert dash.table.item(1, 0).text() == "-2 (overdue)"  # type: ignore[union-attr]
    assert dash.table.item(1, 4).text() == "received"  # type: ignore[union-attr]
    assert dash.cards[WindowState.OVERDUE].value.text() == "2"
    # The cards add up to the open total.
    assert dash.open_card.value.text() == "4" == str(sum(int(c.value.text()) for c in dash.cards.values()))
    _sub(ctx, 1, name="New")
    ctx.events.submissions_changed.emit()
    assert dash.table.rowCount() == 5


def test_audit_screen_verify_and_filter(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    reviewer = make_ctx("reviewer")
    _sub(reviewer, 10)
    auditor = make_ctx("auditor")
    screen = AuditScreen(auditor)
    qtbot.addWidget(screen)
    screen.verify()
    assert screen.result.text().startswith("Audit chain intact")
    screen.actor.setCurrentIndex(screen.actor.findData("reviewer"))
    assert screen.events and {e.actor for e in screen.events} == {"reviewer"}
    screen.action.setText("submission.")
    screen.apply_filter()
    assert [e.action for e in screen.events] == ["submission.create"]
    # at 1280 px an auditor reads every action name whole (they were cut to "account.p…")
    screen.action.setText("")
    screen.actor.setCurrentIndex(0)
    screen.apply_filter()
    screen.resize(1060, 700)
    screen.show()
    qtbot.waitExposed(screen)
    action = 3
    assert screen.table.columnWidth(action) >= screen.table.sizeHintForColumn(action)


def test_audit_screen_names_first_broken_event(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    auditor = make_ctx("auditor")
    with tamper(auditor.session) as conn:  # as an attacker holding the key would
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    screen = AuditScreen(auditor)
    qtbot.addWidget(screen)
    screen.verify()
    assert "BROKEN" in screen.result.text()
    assert "#3" in screen.result.text()


def test_users_screen_add_account_asks_admin_passphrase(make_ctx, qtbot, dialogs, workstation) -> None:  # type: ignore[no-untyped-def]
    admin = make_ctx("admin")
    screen = UsersScreen(admin)
    qtbot.addWidget(screen)
    screen.new_username.setText("newbie")
    screen.new_display.setText("New Reviewer")
    screen.new_passphrase.setText("river-stone-8-candle")
    dialogs.passphrases.append("wrong-admin-passphrase")
    screen.add_account()
    assert "Not added" in screen.add_status.text() and "wrong passphrase" in screen.add_status.text().lower()
    dialogs.passphrases.append(workstation.passphrase("admin"))
    screen.add_account()
    assert "created" in screen.add_status.text()
    assert "newbie" in [a.username for a in screen.accounts]
    assert len(dialogs.prompts) == 2
    # The person signs in, replaces the first passphrase and so creates their key; the screen
    # shows the waiting request and the administrator issues it.
    from app.services import workstation as ws_service

    ws_service.change_initial_passphrase(workstation.data_dir, "newbie", "river-stone-8-candle",
                                         "my-own-candle-stone-9").close()
    screen.refresh()
    assert "newbie (proven by first passphrase)" in screen.pending_label.text()
    screen.issue_certificates()
    assert "Issued to newbie" in screen.manage_status.text(), screen.manage_status.text()
    assert screen.pending_label.text() == "none waiting"
    screen.select("newbie")
    dialogs.passphrases.append(workstation.passphrase("admin"))
    screen.set_disabled(True)
    assert next(a for a in screen.accounts if a.username == "newbie").disabled


def test_users_screen_checks_the_first_passphrase_before_asking_the_admins(make_ctx, qtbot, dialogs) -> None:  # type: ignore[no-untyped-def]
    """Walk 2 (s31) #4: the administrator was asked for their own passphrase, then the new account's
    first passphrase was refused. The form checks it as it is typed, and nothing is asked while it fails."""
    screen = UsersScreen(make_ctx("admin"))
    qtbot.addWidget(screen)
    assert screen.add_feedback.text() == ""  # an empty form is not an error
    screen.new_username.setText("rita")
    screen.new_display.setText("Rita Reviewer")
    screen.new_passphrase.setText("rita-first-temp-pass-1")
    assert "must not contain the username rita" in screen.add_feedback.text()
    screen.add_account()
    assert dialogs.prompts == []
    assert "Not added" in screen.add_status.text() and "must not contain the username rita" in screen.add_status.text()
    screen.new_display.clear()
    screen.new_passphrase.setText("short")
    assert "Display name is required" in screen.add_feedback.text() and "at least 12" in screen.add_feedback.text()
    screen.new_display.setText("Rita Reviewer")
    screen.new_passphrase.setText("given-in-person-first-7")
    assert screen.add_feedback.text() == "First passphrase meets the policy."
    # Reset and Enable: the new first passphrase is checked before the administrator's is asked for.
    screen.select("reviewer2")
    screen.reset_passphrase.setText("reviewer2-new-first-1")
    screen.reset()
    assert dialogs.prompts == [] and "Not reset" in screen.manage_status.text()
    assert "must not contain the username reviewer2" in screen.manage_status.text()
    screen.select("admin")
    screen.reset_passphrase.setText("a-good-first-phrase-9")
    screen.reset()
    assert dialogs.prompts == [] and "Change my passphrase" in screen.manage_status.text()
    screen.select("reviewer2")
    screen.reset_passphrase.setText("short")
    screen.set_disabled(False)
    assert dialogs.prompts == [] and "Not enabled" in screen.manage_status.text()


def test_reviewer_sees_only_own_passphrase_change(ctx, qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    screen = UsersScreen(ctx)
    qtbot.addWidget(screen)
    assert not hasattr(screen, "add_button")
    screen.old_passphrase.setText(workstation.passphrase("reviewer"))
    screen.own_new.setText("a-fresh-passphrase-77")
    screen.own_repeat.setText("a-fresh-passphrase-77")
    screen.change_own()
    assert screen.own_status.text() == "Passphrase changed."
    assert screen.old_passphrase.text() == ""


# -- errors -------------------------------------------------------------------------------------

def test_error_description_never_leaks_unexpected_messages() -> None:
    title, message, details = errors.describe(ValidationError("version", "is required"))
    assert (title, message, details) == ("Please check the input", "version: is required", None)
    try:
        raise RuntimeError("passphrase=hunter2-secret")
    except RuntimeError as exc:
        title, message, details = errors.describe(exc)
    assert title == "Unexpected error"
    assert "hunter2" not in message and details is not None and "hunter2" not in details
    assert "RuntimeError" in details and "test_main_window.py" in details


def test_sanitize_strips_control_characters() -> None:
    assert errors.sanitize("ok\x1b[31m\u202e") == "ok⟨U+202E⟩"


# -- jobs ---------------------------------------------------------------------------------------

def test_synchronous_runner_delivers_result_and_error() -> None:
    runner = JobRunner(synchronous=True)
    got: list[object] = []
    runner.run(lambda p, c: 41 + 1, got.append)
    runner.run(lambda p, c: (_ for _ in ()).throw(ValidationError("x", "bad")), got.append, got.append)
    assert got[0] == 42 and isinstance(got[1], ValidationError)


def test_threaded_runner_delivers_on_gui_thread_with_progress_dialog_only_when_slow(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner(slow_ms=20)
    release = threading.Event()
    seen: dict[str, object] = {}

    def work(progress, cancel):  # type: ignore[no-untyped-def]
        seen["worker_thread"] = threading.get_ident()
        progress(1, 4, "first file")
        release.wait(5)
        return "done"

    job = runner.run(work, lambda r: seen.update(result=r, thread=threading.get_ident()), label="Importing")
    assert job is not None
    qtbot.waitUntil(lambda: job.dialog is not None, timeout=3000)  # slow -> dialog shown
    qtbot.waitUntil(lambda: "1 of 4" in job.dialog.labelText(), timeout=3000)  # type: ignore[union-attr]
    release.set()
    with qtbot.waitSignal(runner.idle, timeout=5000):
        pass
    assert seen["result"] == "done"
    assert seen["thread"] == threading.main_thread().ident  # callbacks on the GUI thread
    assert seen["worker_thread"] != threading.main_thread().ident


def test_threaded_runner_fast_job_shows_no_dialog_and_cancel_reaches_core(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner(slow_ms=10_000)
    results: list[object] = []
    fast = runner.run(lambda p, c: "quick", results.append)
    with qtbot.waitSignal(runner.idle, timeout=5000):
        pass
    assert results == ["quick"] and fast is not None and fast.dialog is None

    started = threading.Event()

    def cancellable(progress, cancel):  # type: ignore[no-untyped-def]
        started.set()
        while not cancel():
            QThread.msleep(5)
        raise Cancelled("Import")

    failures: list[BaseException] = []
    job = runner.run(cancellable, results.append, failures.append)
    assert job is not None and started.wait(5)
    job.cancel()
    with qtbot.waitSignal(runner.idle, timeout=5000):
        pass
    assert isinstance(failures[0], Cancelled)


def test_time_left_estimate() -> None:
    assert time_left(0, 10, 5.0) == ""
    assert time_left(5, 10, 10.0) == "about 10 s left"
    assert time_left(1, 100, 60.0) == "about 99 min left"


# -- the whole journey through the UI (issue 2, item 8) ------------------------------------------

def test_ui_journey_setup_to_verified_audit(qtbot, tmp_path, dialogs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QDialog, QWizard

    from ui.app import Shell
    from ui.context import UiContext
    from ui.screens.setup_wizard import SetupWizard
    from ui.screens.sign_in import SignInWindow

    jobs = JobRunner(synchronous=True)

    def make(session):  # type: ignore[no-untyped-def]
        return UiContext(session=session, jobs=jobs, error_sink=dialogs.error,
                         passphrase_prompt=dialogs.passphrase, confirmer=dialogs.confirm)

    shell = Shell(tmp_path / "ws", jobs, ctx_factory=make)
    admin_pass, reviewer_pass = "granite-harbour-42-lantern", "willow-copper-81-meadow"

    # 1. first run: the wizard
    wizard = shell.start()
    assert isinstance(wizard, SetupWizard)
    wizard.name_page.name.setText("Journey workstation")
    wizard.next()
    wizard.next()
    for key, value in (("classified_by", "J. Smith"), ("derived_from", "AI Cyber SCG"), ("declassify_on", "25X1, 20751231"),
                       ("cui_controlled_by", "Cyber Cell"), ("cui_category", "CTI")):
        wizard.authority_page.edits[key].setText(value)
    wizard.next()
    wizard.admin_page.display.setText("Dana Admin")
    wizard.admin_page.passphrase.setText(admin_pass)
    wizard.admin_page.repeat.setText(admin_pass)
    wizard.next()
    wizard.next()
    page = wizard.recovery_page
    page.confirm.setText(page.groups[page.group_index])
    wizard.button(QWizard.WizardButton.FinishButton).click()
    admin_window = shell.window
    assert isinstance(admin_window, MainWindow) and admin_window.ctx.session.account.username == "admin"

    # 2. the admin adds a reviewer (re-asked for the admin passphrase)
    accounts = admin_window.show_screen("users")
    accounts.new_username.setText("rita")  # type: ignore[attr-defined]
    accounts.new_display.setText("Rita Reviewer")  # type: ignore[attr-defined]
    first_pass = "given-by-dana-first-7"
    accounts.new_passphrase.setText(first_pass)  # type: ignore[attr-defined]
    dialogs.passphrases.append(admin_pass)
    accounts.add_account()  # type: ignore[attr-defined]
    assert "created" in accounts.add_status.text()  # type: ignore[attr-defined]
    admin_window.sign_out()

    # 3. the reviewer signs in after the consent banner with the first passphrase and is asked to
    #    choose her own (which creates her signing key)
    from ui.screens.sign_in import FirstPassphraseDialog

    asked: list[bool] = []

    def choose_own(self: FirstPassphraseDialog) -> QDialog.DialogCode:
        self.passphrase.setText(reviewer_pass)
        self.repeat.setText(reviewer_pass)
        asked.append(True)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(FirstPassphraseDialog, "exec", choose_own)
    sign_in = shell.window
    assert isinstance(sign_in, SignInWindow)
    sign_in.acknowledge()
    sign_in.username.setText("rita")
    sign_in.passphrase.setText(first_pass)
    sign_in.submit()
    assert asked == [True]
    main = shell.window
    assert isinstance(main, MainWindow) and main.ctx.session.account.username == "rita"
    qtbot.addWidget(main)

    # 4. creates a submission and attaches an artifact
    register = main.show_screen("submissions")
    dlg = register.new_submission()  # type: ignore[attr-defined]
    ed = dlg.editor
    ed.developer.setText("Northwind AI")
    ed.model_name.setText("Aurora")
    ed.version.setText("4.1")
    ed.save_button.click()
    detail = main.stack.currentWidget()
    assert isinstance(detail, SubmissionDetail) and detail.submission.model_name == "Aurora"
    card = tmp_path / "card.txt"
    card.write_text("model card", encoding="utf-8")
    artifacts = detail.tab("Artifacts")
    artifacts.attach_file(card, "model card", Marking())  # type: ignore[attr-defined]
    assert artifacts.table.rowCount() == 1  # type: ignore[attr-defined]

    # 5. locks and unlocks
    main.lock_action.trigger()
    assert main.locked and not main.content.isVisible()
    main.lock_page.passphrase.setText(reviewer_pass)
    main.lock_page.unlock_button.click()
    assert not main.locked
    main.sign_out()

    # 6. the admin verifies the audit trail
    sign_in = shell.window
    assert isinstance(sign_in, SignInWindow)
    sign_in.acknowledge()
    sign_in.username.setText("admin")
    sign_in.passphrase.setText(admin_pass)
    sign_in.submit()
    final = shell.window
    assert isinstance(final, MainWindow)
    qtbot.addWidget(final)
    trail = final.show_screen("audit")
    trail.verify()  # type: ignore[attr-defined]
    assert trail.result.text().startswith("Audit chain intact")  # type: ignore[attr-defined]
    actions = [e.action for e in audit.events(final.ctx.session, 100)]
    for expected in ("workstation.init", "account.create", "auth.sign_in", "submission.create",
                     "artifact.attach", "session.lock", "session.unlock", "auth.sign_out", "audit.verify"):
        assert expected in actions, expected
    assert dialogs.errors == []
    final.close()


def test_excepthook_routes_uncaught_errors_to_the_one_error_box(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    shown: list[BaseException] = []
    monkeypatch.setattr(errors, "show_error", lambda parent, exc: shown.append(exc))
    monkeypatch.setattr(errors, "_installed", False)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    errors.install_excepthook()
    assert sys.excepthook is errors._hook
    try:
        raise KeyError("boom")
    except KeyError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert len(shown) == 1 and isinstance(shown[0], KeyError)


def test_passphrase_dialog_returns_text(qtbot) -> None:  # type: ignore[no-untyped-def]
    from ui.widgets.passphrase_dialog import PassphraseDialog

    dlg = PassphraseDialog("Re-enter your passphrase to sign.")
    qtbot.addWidget(dlg)
    dlg.field.setText("s3cret-words-here")
    assert dlg.passphrase() == "s3cret-words-here"
    assert dlg.field.echoMode() == dlg.field.EchoMode.Password


def test_admin_resets_a_passphrase(make_ctx, qtbot, dialogs, workstation) -> None:  # type: ignore[no-untyped-def]
    from app.services import workstation as ws_service

    screen = UsersScreen(make_ctx("admin"))
    qtbot.addWidget(screen)
    screen.select("reviewer2")
    screen.reset_passphrase.setText("reset-by-admin-2026")
    dialogs.passphrases.append(workstation.passphrase("admin"))
    screen.reset()
    assert "reset" in screen.manage_status.text()
    # The new passphrase is a first one: it opens the account only to choose an own passphrase.
    with pytest.raises(PassphraseChangeRequired):
        ws_service.sign_in(workstation.data_dir, "reviewer2", "reset-by-admin-2026")
    ws_service.change_initial_passphrase(workstation.data_dir, "reviewer2", "reset-by-admin-2026",
                                         "rob-chooses-his-own-5").close()


def test_delete_submission_needs_a_reason_and_closes_the_page(ctx, qtbot, dialogs, workstation) -> None:  # type: ignore[no-untyped-def]
    sub = _sub(ctx, 9, name="Doomed")
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    ctx.events.open_submission.emit(sub.id)
    detail = w.stack.currentWidget()
    assert isinstance(detail, SubmissionDetail)
    assert detail.delete() is False  # no reason given: nothing happens
    assert submissions.count(ctx.session) == 1
    dialogs.texts.append("Duplicate entry")
    assert detail.delete() is True
    assert submissions.count(ctx.session) == 0
    assert not any("Doomed" in t for t in _titles(w))
    ev = audit.events(workstation.session("auditor"), 5, action_prefix="submission.delete")[0]
    assert ev.details["reason"] == "Duplicate entry"


def test_dashboard_flags_windows_over_30_days(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    today = ctx.today()
    submissions.create(ctx.session, Submission(
        developer="Dev", model_name="Long", version="1", received=today - timedelta(days=5),
        planned_release=today + timedelta(days=40)))
    dash = DashboardScreen(ctx)
    qtbot.addWidget(dash)
    item = dash.table.item(0, 2)
    assert item is not None and "45-day window" in item.text()
    assert "at most 30" in item.toolTip()


def test_a_broken_screen_is_reported_not_fatal(ctx, qtbot, dialogs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ui import main_window
    from ui.main_window import ScreenSpec

    def broken(_ctx):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("bug in a screen")

    monkeypatch.setattr(main_window, "SCREENS", [*main_window.SCREENS, ScreenSpec("broken", "Broken", broken)])
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    before = w.stack.currentWidget()
    w.show_screen("broken")
    assert isinstance(dialogs.errors[-1], ZeroDivisionError)
    assert w.stack.currentWidget() is before  # still usable
    w.show_screen("submissions")
    assert w.stack.currentWidget() is w.pages["submissions"]


def test_ctrl_number_jumps_between_screens_but_not_while_locked(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitActive(w)
    qtbot.keyClick(w.windowHandle(), Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert w.nav.currentRow() == 1
    w.lock("on demand")
    qtbot.keyClick(w.windowHandle(), Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert w.nav.currentRow() == 1


def test_audit_event_details_dialog(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    screen = AuditScreen(make_ctx("auditor"))
    qtbot.addWidget(screen)
    screen.table.selectRow(0)
    dlg = screen.show_details()
    assert dlg is not None
    qtbot.addWidget(dlg)
    from PySide6.QtWidgets import QPlainTextEdit

    text = dlg.findChild(QPlainTextEdit).toPlainText()  # type: ignore[union-attr]
    ev = screen.events[0]
    assert f"#{ev.seq}" in text and ev.hash in text and ev.action in text


def test_display_names_are_never_rendered_as_markup(make_ctx, qtbot, dialogs, workstation) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    from app.model.accounts import Role
    from app.services import users
    from app.services import workstation as ws_service

    admin = make_ctx("admin")
    users.add_user(admin.session, workstation.passphrase("admin"), "markup", "<b>Bold</b> <img src=x>",
                   Role.REVIEWER, "plain-text-only-44")
    session = ws_service.change_initial_passphrase(workstation.data_dir, "markup", "plain-text-only-44",
                                                   "plain-own-phrase-45")
    from ui.context import UiContext

    w = MainWindow(UiContext(session=session, jobs=JobRunner(synchronous=True), error_sink=dialogs.error))
    qtbot.addWidget(w)
    assert w.status_user.textFormat() == Qt.TextFormat.PlainText
    assert "<b>Bold</b>" in w.status_user.text()
    assert w.lock_page.user.textFormat() == Qt.TextFormat.PlainText


def test_dashboard_double_click_or_enter_opens_the_submission(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    sub = _sub(ctx, 5, name="Clicked")
    dash = DashboardScreen(ctx)
    qtbot.addWidget(dash)
    dash.show()
    qtbot.waitExposed(dash)
    opened: list[int] = []
    ctx.events.open_submission.connect(opened.append)
    dash.table.setCurrentCell(0, 2)
    rect = dash.table.visualItemRect(dash.table.item(0, 2))
    qtbot.mouseClick(dash.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(dash.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened == [sub.id]
    dash.table.setFocus()
    qtbot.keyClick(dash.table, Qt.Key.Key_Return)  # the keyboard opens it too
    assert opened == [sub.id, sub.id]


def test_job_errors_without_handler_reach_the_error_presenter(ctx, dialogs) -> None:  # type: ignore[no-untyped-def]
    def boom(_p, _c):  # type: ignore[no-untyped-def]
        raise ValidationError("file", "bad")

    ctx.jobs.run(boom)
    ctx.jobs = JobRunner(synchronous=True)  # a swapped runner is wired too
    ctx.jobs.run(boom)
    ctx.jobs.run(lambda _p, _c: (_ for _ in ()).throw(Cancelled("Import")))  # silent
    assert [str(e) for e in dialogs.errors] == ["file: bad", "file: bad"]


def test_cli_demo_flag_reaches_run_gui(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ui.app
    from app import cli

    calls: list[dict[str, object]] = []
    def fake_run_gui(**kw: object) -> int:
        calls.append(kw)
        return 0

    monkeypatch.setattr(ui.app, "run_gui", fake_run_gui)
    assert cli.main(["--demo"]) == 0
    assert cli.main(["gui", "--demo"]) == 0
    assert [c["demo"] for c in calls] == [True, True]


def test_dashboard_shows_each_open_reviews_plan_progress(ctx, workstation, qtbot) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from app.services import benchmarks, results
    from ui.screens.dashboard import PLAN_COLUMN, plan_text

    planned = _sub(ctx, 10, name="Planned")
    proposed = _sub(ctx, 20, name="Proposed")
    benchmarks.set_plan(workstation.session("lead"), int(planned.id), ["intercode-ctf", "cybench"])
    results.import_files(ctx.session, [Path(__file__).parents[1] / "fixtures" / "inspect" / "intercode_ok.eval"],
                         int(planned.id))
    dash = DashboardScreen(ctx)
    qtbot.addWidget(dash)
    assert dash.table.horizontalHeaderItem(PLAN_COLUMN).text() == "Plan"  # type: ignore[union-attr]
    row = {s.model_name: i for i, (s, _st, _d) in enumerate(dash.rows)}
    cell = dash.table.item(row["Planned"], PLAN_COLUMN)
    assert cell is not None and cell.text().startswith("1/2 imported, ") and cell.text().endswith(", 1 missing")
    assert cell.text() == plan_text(benchmarks.plan(ctx.session, int(planned.id)))
    assert cell.toolTip().startswith("Evaluation plan: 2 planned, 1 imported, ")
    other = dash.table.item(row["Proposed"], PLAN_COLUMN)
    assert other is not None and other.text() == plan_text(benchmarks.plan(ctx.session, int(proposed.id)))
    # the batch matches the one-submission view it summarises
    many = benchmarks.plan_progress(ctx.session, [int(planned.id), int(proposed.id)])
    assert many[int(planned.id)] == benchmarks.plan(ctx.session, int(planned.id))
