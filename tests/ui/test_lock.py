"""Lock on demand (Ctrl+L) and idle lock: all content hidden, banners stay, passphrase to unlock."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeySequence, QMouseEvent
from PySide6.QtWidgets import QApplication

from app.model.errors import PermissionDenied
from app.services import audit, submissions
from ui.main_window import MainWindow


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _window(ctx, qtbot, clock=None) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(ctx, idle_clock=clock)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_ctrl_l_hides_content_and_unlock_needs_the_passphrase(ctx, qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    w = _window(ctx, qtbot)
    assert w.lock_action.shortcut() == QKeySequence("Ctrl+L")
    assert w.stack.currentWidget().isVisible()  # type: ignore[union-attr]
    w.activateWindow()
    qtbot.waitActive(w)
    w.nav.setFocus()
    qtbot.keyClick(w.windowHandle(), Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert w.locked
    assert w.root.currentWidget() is w.lock_page
    assert not w.content.isVisible()  # no screen, no navigation on display
    assert w.top_banner.isVisible() and w.bottom_banner.isVisible()
    assert ctx.session.locked
    try:
        submissions.count(ctx.session)
        raise AssertionError("services must refuse while locked")
    except PermissionDenied:
        pass

    w.lock_page.passphrase.setText("certainly-not-mine")
    w.lock_page.unlock_button.click()
    assert w.locked and "Wrong passphrase" in w.lock_page.message.text()
    assert w.lock_page.passphrase.text() == ""

    w.lock_page.passphrase.setText(workstation.passphrase("reviewer"))
    w.lock_page.unlock_button.click()
    assert not w.locked and not ctx.session.locked
    assert w.content.isVisible()
    actions = [e.action for e in audit.events(workstation.session("auditor"), 10)]
    # Newest first; the failed re-authentication is audited at once, signed by the person whose
    # session it is (nothing waits in the key header any more).
    assert actions[:4] == ["auth.sign_in", "session.unlock", "auth.reauth_failed", "session.lock"]


def test_idle_timer_locks_after_configured_minutes(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    w = _window(ctx, qtbot, clock)
    minutes = ctx.session.settings.idle_lock_minutes
    assert w.idle.timer.isActive()
    clock.t += minutes * 60 - 1
    w.idle.poll()
    assert not w.locked
    # Input activity anywhere in the application resets the countdown.
    ev = QMouseEvent(QEvent.Type.MouseMove, QPointF(5, 5), QPointF(5, 5), Qt.MouseButton.NoButton,
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w.nav.viewport(), ev)
    clock.t += 30
    w.idle.poll()
    assert not w.locked
    clock.t += minutes * 60
    w.idle.timer.timeout.emit()  # the timer's own slot path
    assert w.locked and ctx.session.locked
    assert not w.content.isVisible()


def test_idle_lock_is_audited_with_reason(ctx, qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    w = _window(ctx, qtbot, clock)
    clock.t += 10_000
    w.idle.poll()
    ev = audit.events(workstation.session("auditor"), 5, action_prefix="session.lock")[0]
    assert ev.actor == "reviewer" and ev.details == {"reason": "idle"}
    w.try_unlock(workstation.passphrase("reviewer"))
    assert not w.locked
    # Re-armed after unlock: a second idle period locks again.
    clock.t += 10_000
    w.idle.poll()
    assert w.locked


def test_lock_hides_open_editor_dialog_and_restores_it(ctx, qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    w = _window(ctx, qtbot)
    screen = w.show_screen("submissions")
    dlg = screen.new_submission()  # type: ignore[attr-defined]
    qtbot.addWidget(dlg)
    dlg.editor.developer.setText("Typed before the lock")
    assert dlg.isVisible()
    w.lock("on demand")
    assert not dlg.isVisible()
    w.try_unlock(workstation.passphrase("reviewer"))
    assert dlg.isVisible()
    assert dlg.editor.developer.text() == "Typed before the lock"


def test_idle_time_is_configurable_by_the_admin(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.services import workstation as ws_service
    from ui.screens.settings_screen import SettingsScreen

    admin = make_ctx("admin")
    clock = FakeClock()
    w = _window(admin, qtbot, clock)
    settings = w.show_screen("settings")
    assert isinstance(settings, SettingsScreen)
    settings.idle.setValue(2)
    settings.save()
    assert "saved" in settings.message.text()
    clock.t += 2 * 60 + 1  # the new, shorter limit applies at once
    w.idle.poll()
    assert w.locked
    # The service refuses the change for other roles, and out-of-range values name the field.
    reviewer = make_ctx("reviewer")
    try:
        ws_service.update_settings(reviewer.session, {"idle_lock_minutes": 60})
        raise AssertionError("reviewers must not change settings")
    except PermissionDenied:
        pass
    settings_admin = SettingsScreen(make_ctx("admin"))
    qtbot.addWidget(settings_admin)
    settings_admin.consent.setPlainText("   ")
    settings_admin.save()
    assert "consent_banner" in settings_admin.message.text()


def test_lock_hides_a_running_jobs_progress_without_cancelling_it(ctx, qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    import threading

    from ui.jobs import JobRunner

    ctx.jobs = JobRunner(slow_ms=0)
    w = _window(ctx, qtbot)
    release = threading.Event()
    results: list[object] = []

    def work(progress, cancel):  # type: ignore[no-untyped-def]
        release.wait(5)
        return "cancelled" if cancel() else "finished"

    job = ctx.jobs.run(work, results.append, results.append, label="Long import", parent=w)
    assert job is not None
    qtbot.waitUntil(lambda: job.dialog is not None and job.dialog.isVisible(), timeout=3000)
    dialog = job.dialog
    w.lock("on demand")
    assert not dialog.isVisible() and not job.cancelled()
    release.set()
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results == ["finished"]
    w.try_unlock(workstation.passphrase("reviewer"))
    from shiboken6 import isValid

    assert not isValid(dialog) or not dialog.isVisible()  # finished while locked: not shown again
