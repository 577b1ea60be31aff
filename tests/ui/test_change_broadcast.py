"""Screens refresh from what was committed (issue 18 point 1): the runtime's broadcast reaches the GUI
thread as `data_changed` and the submission signals, whichever thread wrote; key-deriving work runs
as a job."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from PySide6.QtCore import QThread

from app.model.submissions import Submission
from app.services import results, submissions, users
from app.services.runtime import ChangeSet
from ui.jobs import JobRunner
from ui.screens.users_screen import UsersScreen

INTERCODE = Path(__file__).resolve().parents[1] / "fixtures" / "inspect" / "intercode_ok.eval"


def _sid(ctx) -> int:  # type: ignore[no-untyped-def]
    sub = submissions.create(ctx.session, Submission("Offline", "cyber-mini", "7b", date(2026, 11, 1),
                                                     date(2026, 11, 28)))
    assert sub.id is not None
    return sub.id


def test_a_gui_thread_write_is_delivered_at_once(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    got: list[ChangeSet] = []
    listed: list[bool] = []
    ctx.events.data_changed.connect(got.append)
    ctx.events.submissions_changed.connect(lambda: listed.append(True))
    sid = _sid(ctx)
    assert got and got[-1].submissions() == {sid} and listed  # synchronous: no event loop needed


def test_a_job_thread_write_arrives_on_the_gui_thread(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    sid = _sid(ctx)
    ctx.jobs = JobRunner(synchronous=False, slow_ms=60_000)
    arrived: list[tuple[int, bool]] = []
    gui = QThread.currentThread()
    ctx.events.submission_changed.connect(lambda s: arrived.append((s, QThread.currentThread() is gui)))
    worker: list[int] = []

    def work(_p: object, _c: object) -> object:
        worker.append(threading.get_ident())
        return results.import_files(ctx.session, [INTERCODE], sid)

    ctx.jobs.run(work)
    qtbot.waitUntil(lambda: (sid, True) in arrived, timeout=20_000)
    assert worker and worker[0] != threading.get_ident()
    assert all(on_gui for _s, on_gui in arrived)
    assert len(results.list_runs(ctx.session, sid)) == 1


def test_a_job_closes_its_threads_read_connection_when_it_ends(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    sid = _sid(ctx)
    ctx.jobs = JobRunner(synchronous=False, slow_ms=60_000)
    runtime = ctx.session.runtime
    before = runtime.open_connections
    during: list[tuple[int, object]] = []
    done: list[object] = []

    def work(_p: object, _c: object) -> object:
        name = submissions.get(ctx.session, sid).model_name  # opens this thread's read connection
        during.append((runtime.open_connections, ctx.session.db))
        return name

    ctx.jobs.run(work, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=20_000)
    assert done == ["cyber-mini"] and during[0][0] == before + 1
    assert runtime.open_connections == before  # the pool thread lives on; its connection does not
    assert during[0][1] not in runtime.connections()


def test_account_creation_runs_as_a_job(make_ctx, dialogs, qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx("admin")
    ctx.jobs = JobRunner(synchronous=False, slow_ms=60_000)
    screen = UsersScreen(ctx)
    qtbot.addWidget(screen)
    dialogs.passphrases = [workstation.passphrase("admin")]
    screen.new_username.setText("newcomer")
    screen.new_display.setText("New Comer")
    screen.new_passphrase.setText("a long first passphrase 1")
    started: list[str] = []
    ctx.jobs.run = _recording(ctx.jobs.run, started)  # type: ignore[method-assign]
    screen.add_account()
    assert started == ["Creating account newcomer…"]
    qtbot.waitUntil(lambda: not ctx.jobs.active, timeout=20_000)
    assert "Account 'newcomer' created" in screen.add_status.text()
    assert "newcomer" in [a.username for a in users.list_users(ctx.session)]


def _recording(run, started: list[str]):  # type: ignore[no-untyped-def]
    def wrapped(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(kwargs.get("label", ""))
        return run(fn, *args, **kwargs)

    return wrapped


def test_disabling_an_account_and_issuing_certificates_run_as_jobs(make_ctx, dialogs, qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    """Both derive the administrator's keys from the passphrase (or sign with the CA): off the GUI thread."""
    ctx = make_ctx("admin")
    ctx.jobs = JobRunner(synchronous=False, slow_ms=60_000)
    screen = UsersScreen(ctx)
    qtbot.addWidget(screen)
    started: list[str] = []
    ctx.jobs.run = _recording(ctx.jobs.run, started)  # type: ignore[method-assign]
    screen.select("reviewer2")
    dialogs.passphrases = [workstation.passphrase("admin")]
    screen.set_disabled(True)
    assert started == ["Disabling reviewer2…"]
    qtbot.waitUntil(lambda: not ctx.jobs.active, timeout=20_000)
    assert screen.manage_status.text() == "'reviewer2' disabled."
    assert next(a for a in users.list_users(ctx.session) if a.username == "reviewer2").disabled
    screen.issue_certificates()
    assert started[-1] == "Issuing certificates…"
    qtbot.waitUntil(lambda: not ctx.jobs.active, timeout=20_000)
    assert screen.manage_status.text().startswith(("Issued to", "Nothing issued"))
