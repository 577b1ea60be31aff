"""The one background-job helper (Anki's `qt/aqt/operations`, Dangerzone's ConvertTask).

    ctx.jobs.run(fn, on_done, on_error, label="Importing logs", parent=self)

`fn(progress, cancel)` runs on a QThreadPool worker. It reports with the core's plain callables:
`progress(done, total, message)` and `cancel() -> bool` (True once the user pressed Cancel).
`on_done(result)` / `on_error(exc)` are always called on the GUI thread. A progress dialog (counts,
time left, Cancel) appears only if the job is still running after `slow_ms` (300 ms).

SQLCipher: a connection must not be shared with a worker thread mid-transaction. A job that
touches the database opens its own connection with `worker_session(session)` (a Session copy on
`session.worker_db()`, closed when the block ends). Services decide nothing about threads.

Tests build `JobRunner(synchronous=True)`: `fn` runs inline and callbacks fire before `run` returns.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.model.errors import Cancelled
from app.services.session import Session

ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]
JobFn = Callable[[ProgressFn, CancelFn], Any]
DoneFn = Callable[[Any], None]
ErrorFn = Callable[[BaseException], None]

SLOW_MS = 300
_PROGRESS_INTERVAL_S = 0.05  # throttle cross-thread progress signals


@contextmanager
def worker_session(session: Session) -> Iterator[Session]:
    """A Session on its own database connection, for use inside a job's worker thread."""
    db = session.worker_db()
    try:
        yield dataclasses.replace(session, db=db)
    finally:
        db.close()


def time_left(done: int, total: int, elapsed: float) -> str:
    """'about 12 s left' from the rate so far; empty until there is something to go on."""
    if total <= 0 or done <= 0 or done >= total or elapsed < 0.2:
        return ""
    remaining = elapsed / done * (total - done)
    if remaining >= 90:
        return f"about {round(remaining / 60)} min left"
    return f"about {max(1, round(remaining))} s left"


class _Signals(QObject):
    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object)


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        job = self.job
        try:
            result = job.fn(job.report_progress, job.cancelled)
        except BaseException as exc:  # delivered to the GUI thread, never lost in the pool
            job.signals.failed.emit(exc)
        else:
            job.signals.finished.emit(result)


class Job(QObject):
    """One running job; lives on the GUI thread, so its slots run there.

    Deliberately parentless: the runner keeps the only reference while the job runs, so a
    finished job is freed by Python once its last slot has returned (no deleteLater races with
    the runner's own destruction).
    """

    def __init__(self, runner: JobRunner, fn: JobFn, on_done: DoneFn, on_error: ErrorFn,
                 label: str, parent: QWidget | None, cancellable: bool) -> None:
        super().__init__()
        self.runner = runner
        self.fn = fn
        self.on_done = on_done
        self.on_error = on_error
        self.label = label
        self.parent_widget = parent
        self.cancellable = cancellable
        self.started = time.monotonic()
        self.finished = False
        self.dialog: QProgressDialog | None = None
        self._cancel = threading.Event()
        self._last_emit = 0.0
        self._last: tuple[int, int, str] = (0, 0, "")
        self.signals = _Signals()
        self.signals.progress.connect(self._on_progress)
        self.signals.finished.connect(self._on_finished)
        self.signals.failed.connect(self._on_failed)
        # A child timer dies with the job, so it can never call into a freed object.
        self.slow_timer = QTimer(self)
        self.slow_timer.setSingleShot(True)
        self.slow_timer.timeout.connect(self.show_if_slow)

    # -- worker-thread side (plain callables handed to the core) --------------------------
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def report_progress(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last_emit >= _PROGRESS_INTERVAL_S or done >= total:
            self._last_emit = now
            self.signals.progress.emit(int(done), int(total), str(message))

    # -- GUI-thread side --------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()
        if self.dialog is not None:
            self.dialog.setLabelText(f"{self.label}\nCancelling…")

    @Slot()
    def show_if_slow(self) -> None:
        if self.finished or self.dialog is not None:
            return
        dlg = QProgressDialog(self.label, "Cancel" if self.cancellable else "", 0, 0, self.parent_widget)
        dlg.setWindowTitle(self.label)
        dlg.setMinimumDuration(0)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setMinimumWidth(380)
        if not self.cancellable:
            dlg.setCancelButton(None)  # type: ignore[arg-type]
        dlg.canceled.connect(self.cancel)
        self.dialog = dlg
        self._render()
        dlg.show()

    def _render(self) -> None:
        if self.dialog is None:
            return
        done, total, message = self._last
        lines = [self.label]
        if message:
            lines.append(message)
        if total > 0:
            self.dialog.setRange(0, total)
            self.dialog.setValue(min(done, total))
            left = time_left(done, total, time.monotonic() - self.started)
            lines.append(f"{done:,} of {total:,}" + (f" — {left}" if left else ""))
        self.dialog.setLabelText("\n".join(lines))

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, message: str) -> None:
        self._last = (done, total, message)
        self._render()

    def _close(self) -> None:
        self.finished = True
        self.slow_timer.stop()
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        self.runner._forget(self)

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        self._close()
        self.on_done(result)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self._close()
        self.on_error(exc)


class JobRunner(QObject):
    """Runs jobs off the GUI thread (or inline when `synchronous`, for tests)."""

    idle = Signal()  # emitted when the last running job has finished

    def __init__(self, synchronous: bool = False, slow_ms: int = SLOW_MS,
                 error_handler: ErrorFn | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__()
        self.synchronous = synchronous
        self.slow_ms = slow_ms
        self.pool = pool or QThreadPool.globalInstance()
        self.active: list[Job] = []
        # Used when a caller passes no on_error; UiContext points it at its show_error.
        self.error_handler: ErrorFn = error_handler or _print_error

    def run(self, fn: JobFn, on_done: DoneFn | None = None, on_error: ErrorFn | None = None, *,
            label: str = "Working…", parent: QWidget | None = None, cancellable: bool = True) -> Job | None:
        done_cb: DoneFn = on_done or (lambda _r: None)
        error_cb: ErrorFn = on_error or self._default_error
        if self.synchronous:
            try:
                result = fn(_no_progress, _never_cancelled)
            except Exception as exc:
                error_cb(exc)
            else:
                done_cb(result)
            return None
        job = Job(self, fn, done_cb, error_cb, label, parent, cancellable)
        self.active.append(job)
        job.slow_timer.start(self.slow_ms)
        self.pool.start(_Runnable(job))
        return job

    def _default_error(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return  # the user asked for it; nothing to report
        self.error_handler(exc)

    def _forget(self, job: Job) -> None:
        if job in self.active:
            self.active.remove(job)
        if not self.active:
            self.idle.emit()

    def wait(self, msecs: int = -1) -> bool:
        """Block until the pool is drained (shutdown); callbacks still arrive via the event loop."""
        return bool(self.pool.waitForDone(msecs))


def _no_progress(_done: int, _total: int, _message: str = "") -> None:
    return None


def _never_cancelled() -> bool:
    return False


def _print_error(exc: BaseException) -> None:
    traceback.print_exception(type(exc), exc, exc.__traceback__)
