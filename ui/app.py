"""Application entry: QApplication, exception hook, theme, then setup wizard or sign-in.

`frontier-review gui [--demo]` calls `run_gui`. The Shell object moves between the three
top-level windows (setup wizard -> main window, sign-in -> main window -> sign-in on sign-out).
"""

from __future__ import annotations

import shutil
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication, QWidget

from app.services import workstation
from app.services.session import Session
from app.services.workstation import SetupResult
from ui import plain_text, theme
from ui.context import UiContext
from ui.errors import install_excepthook
from ui.jobs import JobRunner


class Shell(QObject):
    def __init__(self, data_dir: Path, jobs: JobRunner, demo_hint: str = "",
                 ctx_factory: Callable[[Session], UiContext] | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.jobs = jobs
        self.demo_hint = demo_hint
        # Tests pass a factory whose dialogs are recorded instead of modal.
        self.ctx_factory = ctx_factory or (lambda session: UiContext(session=session, jobs=jobs))
        self.window: QWidget | None = None
        self.demo_cleanup: Path | None = None
        self.database_problem = ""  # what the whole-database check after sign-in found (shown at once)
        self._check_stop: threading.Event | None = None  # the running check's (one per signed-in session)
        self._quit_hooked = False

    def start(self) -> QWidget:
        if workstation.is_initialized(self.data_dir):
            return self.show_sign_in()
        from ui.screens.setup_wizard import SetupWizard

        wizard = SetupWizard(self.data_dir)
        wizard.completed.connect(self._setup_done)
        wizard.demo_requested.connect(self.open_demo)
        return self._swap(wizard)

    @Slot()
    def open_demo(self) -> None:
        """From the first-run wizard: a demo workstation in a temporary folder (removed on exit)."""
        from app.services.demo import create_demo_workstation

        def done(ws: object) -> None:
            self.data_dir = ws.data_dir  # type: ignore[attr-defined]
            self.demo_cleanup = ws.data_dir.parent  # type: ignore[attr-defined]
            self.demo_hint = demo_hint(ws.accounts)  # type: ignore[attr-defined]
            self.show_sign_in()

        self.jobs.run(lambda _p, _c: create_demo_workstation(), done, label="Creating the demo workstation",
                      parent=self.window, cancellable=False)

    def _swap(self, window: QWidget) -> QWidget:
        old, self.window = self.window, window
        window.show()  # show the new window first so the app never has zero windows
        if old is not None:
            old.close()
            old.deleteLater()
        return window

    @Slot()
    def show_sign_in(self) -> QWidget:
        from ui.screens.sign_in import SignInWindow

        sign_in = SignInWindow(self.data_dir, self.jobs, demo_hint=self.demo_hint)
        sign_in.signed_in.connect(self.open_main)
        return self._swap(sign_in)

    @Slot(object)
    def _setup_done(self, result: SetupResult) -> None:
        self.open_main(result.session)

    @Slot(object)
    def open_main(self, session: Session) -> QWidget:
        from ui.main_window import MainWindow

        main = MainWindow(self.ctx_factory(session))
        main.signed_out.connect(self.show_sign_in)
        swapped = self._swap(main)
        if session.integrity_warnings:
            # What the person's own signed records say about the data: shown, never swallowed.
            from PySide6.QtWidgets import QMessageBox

            box = QMessageBox(QMessageBox.Icon.Warning, "Integrity warning",
                              "\n\n".join(session.integrity_warnings)
                              + "\n\nThis was recorded in the audit trail. Tell your security officer.",
                              QMessageBox.StandardButton.Ok, main)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.open()
        elif session.notices:  # no alarm: what the person should know about this workstation (a restored copy)
            from PySide6.QtWidgets import QMessageBox

            note = QMessageBox(QMessageBox.Icon.Information, "About this workstation", "\n\n".join(session.notices),
                               QMessageBox.StandardButton.Ok, main)
            note.setTextFormat(Qt.TextFormat.PlainText)
            note.open()
        self._check_database(session, main)
        return swapped

    @Slot()
    def _stop_check(self) -> None:
        if self._check_stop is not None:
            self._check_stop.set()

    def _check_database(self, session: Session, main: QWidget) -> None:
        """The whole database's structural check on a worker thread: sign-in checked everything but
        the imported results' bulk (app/services/db_check.py). Stopped by sign-out or quitting; a
        problem is shown as soon as it is found."""
        from app.services import db_check

        if self._check_stop is not None:
            self._check_stop.set()  # an earlier session's check, should it still run
        stop = self._check_stop = threading.Event()
        main.signed_out.connect(stop.set)  # type: ignore[attr-defined]  # MainWindow's signal
        app = QApplication.instance()
        if app is not None and not self._quit_hooked:
            # one connection for the application's life (one per sign-in used to pile up)
            app.aboutToQuit.connect(self._stop_check)
            self._quit_hooked = True

        def work(_progress: object, cancelled: Callable[[], bool]) -> list[str] | None:
            return db_check.check(session, lambda: stop.is_set() or cancelled())

        def report(text: str) -> None:
            if self.window is not main or stop.is_set():
                return  # signed out meanwhile: nobody is working on this session any longer
            from PySide6.QtWidgets import QMessageBox

            box = QMessageBox(QMessageBox.Icon.Critical, "Database damaged", text, QMessageBox.StandardButton.Ok, main)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.open()
            self.database_problem = text

        def done(problems: object) -> None:
            if isinstance(problems, list) and problems:
                report(db_check.describe(problems, session))

        def failed(exc: BaseException) -> None:
            report(db_check.describe([str(exc)], session))

        self.jobs.run(work, done, failed, label="Checking the database", cancellable=False, show_progress=False)


def demo_hint(accounts: dict[str, tuple[str, object, str]]) -> str:
    lines = ["Demo workstation (temporary folder, deleted on exit). Accounts:"]
    for username, (display, role, passphrase) in accounts.items():
        label = getattr(role, "label", str(role))
        lines.append(f"  {username} / {passphrase} — {display}, {label}")
    return "\n".join(lines)


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl+C, `kill` and a closed terminal end the event loop normally, so the demo folder is removed
    on the way out (SIGKILL cannot be caught: the next start removes what it left)."""
    for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
        # Posted, so a signal that arrives before the event loop runs still ends it once it starts.
        signal.signal(sig, lambda _sig, _frame: QTimer.singleShot(0, app.quit))
    # Python runs signal handlers only between bytecodes; a short timer gives it the chance.
    tick = QTimer(app)
    tick.timeout.connect(lambda: None)
    tick.start(250)


def prepare_in_background() -> threading.Thread:
    """Parse the shipped benchmark catalogue (loading numpy, which the hostile-input reader counts
    brackets with) while the sign-in window waits for a passphrase: otherwise the first visit of a
    run pays about 0.1 s of it on the GUI thread before its first paint."""

    def work() -> None:
        import numpy  # noqa: F401  (the reader no longer imports it for a small log: jsonread.use_numpy)

        from app.services import benchmark_catalog

        try:
            benchmark_catalog.builtin_document()  # cached for the process
        except Exception:  # parsed again where it is used, and any problem is reported there
            pass

    thread = threading.Thread(target=work, name="warm-up", daemon=True)
    thread.start()
    return thread


def run_gui(data_dir: Path | None = None, demo: bool = False) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Frontier Review")
    app.setApplicationDisplayName("Frontier Review")
    install_excepthook()
    theme.apply(app)
    plain_text.install(app)  # labels and tooltips never interpret untrusted text as markup
    _quit_on_signals(app)
    from app.services.demo import clean_stale_demo_folders

    for stale in clean_stale_demo_folders():  # left by a demo that was killed
        print(f"Removed a stale demo folder: {stale}", file=sys.stderr)
    jobs = JobRunner()
    hint = ""
    cleanup: Path | None = None
    if demo:
        from app.services.demo import create_demo_workstation

        print("Creating the demo workstation (a few seconds: real key derivation)…", file=sys.stderr)
        ws = create_demo_workstation()
        data_dir, cleanup = ws.data_dir, ws.data_dir.parent
        hint = demo_hint(ws.accounts)  # type: ignore[arg-type]
    shell = Shell(Path(data_dir) if data_dir else workstation.default_data_dir(), jobs, hint)
    shell.start()
    prepare_in_background()
    try:
        return int(app.exec())
    finally:
        jobs.wait(10_000)
        for folder in (cleanup, shell.demo_cleanup):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
