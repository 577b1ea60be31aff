"""A lock never cancels running work; lockout says how long to wait; switch user (issue 15, point 4)."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from PySide6.QtGui import QPalette

from app.model.errors import StorageError
from app.model.submissions import Submission
from app.services import results, submissions
from ui import theme
from ui.dialogs.import_dialog import ImportDialog
from ui.jobs import JobRunner
from ui.main_window import MainWindow
from ui.unsaved import Choice

INTERCODE = Path(__file__).resolve().parents[1] / "fixtures" / "inspect" / "intercode_ok.eval"


def _window(ctx, qtbot) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _sid(ctx) -> int:  # type: ignore[no-untyped-def]
    sub = submissions.create(ctx.session, Submission("Offline", "cyber-mini", "7b", date(2026, 11, 1),
                                                     date(2026, 11, 28)))
    assert sub.id is not None
    return sub.id


def test_lock_during_a_running_import_the_run_lands_and_no_error_box(ctx, dialogs, qtbot, workstation,
                                                                      monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sid = _sid(ctx)
    ctx.jobs = JobRunner(synchronous=False, slow_ms=60_000)
    w = _window(ctx, qtbot)
    dlg = ImportDialog(ctx, sid, w)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.add_files([str(INTERCODE)])
    qtbot.waitUntil(lambda: "gdm_intercode_ctf" in dlg.row_texts(0)[1], timeout=10_000)
    started, release = threading.Event(), threading.Event()
    real = results.import_files

    def slow_import(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(10)  # the lock happens while the import is running
        return real(session, *args, **kwargs)

    monkeypatch.setattr(results, "import_files", slow_import)
    dlg.import_button.click()
    assert started.wait(5) and dlg.is_running()
    w.lock("on demand")
    assert not dlg.isVisible()  # hidden with its work, not closed
    assert "Importing 1 evaluation log(s)" in w.lock_page.jobs_note.text()
    release.set()
    qtbot.waitUntil(lambda: not ctx.jobs.active, timeout=20_000)
    assert not dlg.is_running()
    assert [o.status for o in dlg.outcomes] == ["imported"]  # not cancelled by the lock
    assert w.lock_page.jobs_note.text() == ""
    assert dialogs.errors == []  # nothing drawn over the lock screen
    w.try_unlock(workstation.passphrase("reviewer"))
    assert not w.locked and dlg.isVisible()  # the result is shown after unlock
    assert dlg.row_texts(0)[2].startswith("imported ")
    assert len(results.list_runs(ctx.session, sid)) == 1
    assert dialogs.errors == []


def test_error_of_a_job_failing_while_locked_is_shown_after_unlock(ctx, dialogs, qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    w = _window(ctx, qtbot)
    w.lock("on demand")
    ctx.show_error(w, StorageError("disk full while writing the report"))
    assert dialogs.errors == []
    w.try_unlock(workstation.passphrase("reviewer"))
    assert [str(e) for e in dialogs.errors] == ["disk full while writing the report"]


def test_lockout_says_how_long_and_refuses_even_the_right_passphrase(ctx, qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    w = _window(ctx, qtbot)
    w.lock("on demand")
    for _ in range(3):
        w.try_unlock("wrong passphrase")
    assert w.lock_page.message.text().startswith("Wrong passphrase.\nToo many attempts — try again in ")
    assert w.lock_page.message.text().endswith("\u00a0s.")
    left = w.lock_page.seconds_left()
    assert 25 <= left <= 31
    assert not w.lock_page.unlock_button.isEnabled() and not w.lock_page.passphrase.isEnabled()
    w.try_unlock(workstation.passphrase("reviewer"))  # the right one, during the delay
    assert w.locked
    assert "Wrong passphrase" not in w.lock_page.message.text()
    assert w.lock_page.message.text().startswith("Too many attempts")
    w.lock_page.wait_until = 0.0  # the delay is over (clock moved on)
    w.lock_page._tick()
    assert w.lock_page.unlock_button.isEnabled() and w.lock_page.message.text() == "You can try again now."


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_each_wrong_unlock_is_reported_cleared_and_the_lockout_counts_down(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = _window(ctx, qtbot)
    w.resize(1280, 800)
    page = w.lock_page
    page.clock = clock = FakeClock()
    w.lock("on demand")
    for attempt in range(3):
        qtbot.keyClicks(page.passphrase, "certainly-not-mine")
        page.unlock_button.click()
        assert page.passphrase.text() == "", f"attempt {attempt + 1} left the rejected passphrase in the field"
        assert page.message.text().startswith("Wrong passphrase."), page.message.text()
    first, countdown = page.message.text().split("\n")
    assert first == "Wrong passphrase." and countdown.startswith("Too many attempts — try again in ")
    # The number and its unit stay on one line, and the whole line fits the card.
    assert countdown.endswith("\u00a0s.")
    assert page.message.fontMetrics().horizontalAdvance(countdown) <= page.message.contentsRect().width()
    assert page.countdown.isActive() and not page.unlock_button.isEnabled()
    start = page.seconds_left()
    clock.t += 10
    page.countdown.timeout.emit()  # one tick of the QTimer
    assert page.message.text().endswith(f"try again in {start - 10}\u00a0s.")
    assert not page.unlock_button.isEnabled()
    clock.t += start
    page.countdown.timeout.emit()
    assert not page.countdown.isActive()
    assert page.unlock_button.isEnabled() and page.passphrase.isEnabled()
    assert page.message.text() == "You can try again now."


def test_you_can_try_again_now_is_not_shown_as_an_error(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The refusal and the countdown are in the error colour; the end of the wait is good news, in
    the ok colour; the next refusal is red again."""
    w = _window(ctx, qtbot)
    w.setStyleSheet(theme.STYLESHEET)
    page = w.lock_page
    page.clock = clock = FakeClock()
    w.lock("on demand")

    def colour() -> str:
        return page.message.palette().color(QPalette.ColorRole.WindowText).name()

    for _ in range(3):
        w.try_unlock("wrong passphrase")
    assert page.message.objectName() == "errorText" and colour() == "#b00020"
    clock.t += page.seconds_left()
    page.countdown.timeout.emit()
    assert page.message.text() == "You can try again now."
    assert page.message.objectName() == "okText" and colour() == "#1b6e2b"
    page.passphrase.clear()
    page.unlock_button.click()  # nothing typed: a refusal again
    assert page.message.text() == "Enter your passphrase."
    assert page.message.objectName() == "errorText" and colour() == "#b00020"


def test_switch_user_from_the_lock_screen(ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    sid = _sid(ctx)
    w = _window(ctx, qtbot)
    w.open_submission(sid)
    w.pages[f"submission:{sid}"].tab("Overview").notes.setPlainText("unsaved")  # type: ignore[attr-defined]
    w.lock("on demand")
    assert w.lock_page.switch_button.isVisible()
    dialogs.confirm_answer = False
    with qtbot.assertNotEmitted(w.signed_out):
        w.lock_page.switch_button.click()
    assert "Switch user" in dialogs.confirmations
    dialogs.confirm_answer = True
    dialogs.unsaved_answer = Choice.SAVE  # never asked: nothing can be saved while locked
    with qtbot.waitSignal(w.signed_out):
        w.lock_page.switch_button.click()
    assert dialogs.unsaved == []
