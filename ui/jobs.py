"""The one background-job helper (Anki's `qt/aqt/operations`, Dangerzone's ConvertTask).

    ctx.jobs.run(fn, on_done, on_error, label="Importing logs", parent=self)

`fn(progress, cancel)` runs on a QThreadPool worker. It reports with the core's plain callables:
`progress(done, total, message)` and `cancel() -> bool` (True once the user pressed Cancel).
`on_done(result)` / `on_error(exc)` are always called on the GUI thread. A progress dialog (counts,
time left, Cancel) appears only if the job is still running after `slow_ms` (300 ms).

SQLCipher: a connection must not be shared with a worker thread mid-transaction. A job simply uses
the session: `session.db` is the calling thread's own read-only connection (the session's one
writer inside `session.transaction()`), handed out by the session's runtime
(app/services/runtime.py) and closed here when the job ends. Services decide nothing about threads.

Tests build `JobRunner(synchronous=True)`: `fn` runs inline and callbacks fire before `run` returns.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.model.errors import Cancelled
from app.services import runtime

ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]
JobFn = Callable[[ProgressFn, CancelFn], Any]
DoneFn = Callable[[Any], None]
ErrorFn = Callable[[BaseException], None]

SLOW_MS = 300
_PROGRESS_INTERVAL_S = 0.05  # throttle cross-thread progress signals


def time_left(done: int, total: int, elapsed: float) -> str:
    """'about 12 s left' from the rate so far; empty until there is something to go on."""
    if total <= 0 or done <= 0 or done >= total or elapsed < 0.2:
        return ""
    remaining = elapsed / done * (total - done)
    if remaining >= 90:
        return f"about {round(remaining / 60)} min left"
    return f"about {max(1, round(remaining))} s left"


class _Bus(QObject):
    """The runner's channel from worker threads; owned by the runner (C++ parent), so a worker
    dropping its Python reference can never delete it from the wrong thread."""

    progress = Signal(int, int, int, str)  # job id, done, total, message
    finished = Signal(int, object)  # job id, result
    failed = Signal(int, object)  # job id, exception


class _Runnable(QRunnable):
    """Runs on a pool thread with plain data only: the job id, the callable, the cancel flag and
    the runner's bus. No Qt object's lifetime depends on this thread."""

    def __init__(self, job_id: int, fn: JobFn, bus: _Bus, cancel_event: threading.Event) -> None:
        super().__init__()
        self.job_id = job_id
        self.fn: JobFn | None = fn
        self.bus = bus
        self.cancel_event = cancel_event
        self.last_emit = 0.0
        self.setAutoDelete(True)

    def _emit(self, signal_name: str, *args: object) -> None:
        try:
            getattr(self.bus, signal_name).emit(self.job_id, *args)
        except RuntimeError:
            pass  # the runner is gone: nobody is waiting for this result

    def progress(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if now - self.last_emit >= _PROGRESS_INTERVAL_S or done >= total:
            self.last_emit = now
            self._emit("progress", int(done), int(total), str(message))

    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def run(self) -> None:
        fn, self.fn = self.fn, None
        assert fn is not None
        try:
            result = fn(self.progress, self.cancelled)
        except BaseException as exc:  # delivered to the GUI thread, never lost in the pool
            del fn  # the Job still holds fn, so what it captured is never freed on this thread
            runtime.thread_done()  # pool threads live on: their read connections do not
            self._emit("failed", exc)
        else:
            del fn
            runtime.thread_done()
            self._emit("finished", result)


class _SlowTimerShim:
    """`job.slow_timer.stop()` (an early caller's way to suppress the dialog) keeps working;
    new code passes `show_progress=False` to `run`."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def stop(self) -> None:
        self.job.show_progress = False


class Job:
    """Book-keeping for one running job, touched only on the GUI thread (a plain object: no Qt
    lifetime to race with)."""

    def __init__(self, job_id: int, fn: JobFn, on_done: DoneFn, on_error: ErrorFn, label: str,
                 parent: QWidget | None, cancellable: bool, show_progress: bool = True) -> None:
        self.id = job_id
        self.show_progress = show_progress
        self.slow_timer = _SlowTimerShim(self)
        self.fn = fn
        self.on_done = on_done
        self.on_error = on_error
        self.label = label
        self.parent_widget = parent
        self.cancellable = cancellable
        self.started = time.monotonic()
        self.finished = False
        self.dialog: QProgressDialog | None = None
        self.cancel_event = threading.Event()
        self.last: tuple[int, int, str] = (0, 0, "")

    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()
        if self.dialog is not None:
            self.dialog.setLabelText(f"{self.label}\nCancelling…")

    def show_if_slow(self) -> None:
        if self.finished or self.dialog is not None or not self.show_progress:
            return
        dlg = QProgressDialog(self.label, "Cancel" if self.cancellable else "", 0, 0, self.parent_widget)
        dlg.setWindowTitle(self.label)
        dlg.setMinimumDuration(0)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setMinimumWidth(380)
        dlg.setProperty("keepOnLock", True)  # a lock hides it; rejecting it would cancel the job
        if not self.cancellable:
            dlg.setCancelButton(None)
        dlg.canceled.connect(self.cancel)
        self.dialog = dlg
        self.render()
        dlg.show()

    def render(self) -> None:
        if self.dialog is None:
            return
        done, total, message = self.last
        lines = [self.label]
        if message:
            lines.append(message)
        if total > 0:
            self.dialog.setRange(0, total)
            self.dialog.setValue(min(done, total))
            left = time_left(done, total, time.monotonic() - self.started)
            lines.append(f"{done:,} of {total:,}" + (f" — {left}" if left else ""))
        self.dialog.setLabelText("\n".join(lines))

    def close(self) -> None:
        self.finished = True
        dlg, self.dialog = self.dialog, None
        if dlg is not None:
            dlg.canceled.disconnect(self.cancel)
            dlg.setProperty("finished", True)  # not to be shown again after an unlock
            dlg.close()
            if dlg.parent() is not None:
                dlg.deleteLater()  # owned by its parent widget: Qt frees it
            # else Python owns it and frees it here, on the GUI thread


class JobRunner(QObject):
    """Runs jobs off the GUI thread (or inline when `synchronous`, for tests)."""

    idle = Signal()  # emitted when the last running job has finished

    def __init__(self, synchronous: bool = False, slow_ms: int = SLOW_MS,
                 error_handler: ErrorFn | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__()
        self.synchronous = synchronous
        self.slow_ms = slow_ms
        self.pool = pool or QThreadPool.globalInstance()
        self.jobs: dict[int, Job] = {}
        self._next_id = 1
        self.bus = _Bus(self)
        self.bus.progress.connect(self._on_progress)
        self.bus.finished.connect(self._on_finished)
        self.bus.failed.connect(self._on_failed)
        # Used when a caller passes no on_error; UiContext points it at its show_error.
        self.error_handler: ErrorFn = error_handler or _print_error

    @property
    def active(self) -> list[Job]:
        return list(self.jobs.values())

    def run(self, fn: JobFn, on_done: DoneFn | None = None, on_error: ErrorFn | None = None, *,
            label: str = "Working…", parent: QWidget | None = None, cancellable: bool = True,
            show_progress: bool = True) -> Job | None:
        """show_progress=False: the caller draws its own progress (counts, time left, Cancel)."""
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
        job = Job(self._next_id, fn, done_cb, error_cb, label, parent, cancellable, show_progress)
        self._next_id += 1
        self.jobs[job.id] = job
        # The runner is the timer's context: the call is dropped if the runner is gone.
        QTimer.singleShot(self.slow_ms, self, lambda jid=job.id: self._slow(jid))
        self.pool.start(_Runnable(job.id, fn, self.bus, job.cancel_event))
        return job

    def _slow(self, job_id: int) -> None:
        job = self.jobs.get(job_id)
        if job is not None:
            job.show_if_slow()

    @Slot(int, int, int, str)
    def _on_progress(self, job_id: int, done: int, total: int, message: str) -> None:
        job = self.jobs.get(job_id)
        if job is not None:
            job.last = (done, total, message)
            job.render()

    def _finish(self, job_id: int) -> Job | None:
        job = self.jobs.pop(job_id, None)
        if job is not None:
            job.close()
        return job

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: object) -> None:
        job = self._finish(job_id)
        if job is not None:
            try:
                job.on_done(result)
            finally:
                self._maybe_idle()

    @Slot(int, object)
    def _on_failed(self, job_id: int, exc: BaseException) -> None:
        job = self._finish(job_id)
        if job is not None:
            try:
                job.on_error(exc)
            finally:
                self._maybe_idle()

    def _maybe_idle(self) -> None:
        if not self.jobs:
            self.idle.emit()

    def _default_error(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return  # the user asked for it; nothing to report
        self.error_handler(exc)

    def wait(self, msecs: int = -1) -> bool:
        """Block until the pool is drained (shutdown); callbacks still arrive via the event loop."""
        return bool(self.pool.waitForDone(msecs))


def _no_progress(_done: int, _total: int, _message: str = "") -> None:
    return None


def _never_cancelled() -> bool:
    return False


def _print_error(exc: BaseException) -> None:
    traceback.print_exception(type(exc), exc, exc.__traceback__)
