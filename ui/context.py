"""UiContext: what every screen receives instead of reaching for globals.

    ctx.session                 the signed-in app.services.session.Session
    ctx.jobs.run(fn, on_done)   background work (ui/jobs.py)
    ctx.show_error(parent, exc) the one way to show an error
    ctx.ask_passphrase(parent, reason) -> str | None   modal prompt for sensitive actions
    ctx.confirm(parent, title, text, ok_label) -> bool
    ctx.ask_text(parent, title, label) -> str | None   one line of text (e.g. a reason)
    ctx.settle(root, parent) -> bool  Save / Discard / Cancel for every editor under root holding edits
    ctx.can(Permission.X)       to hide/disable controls (services enforce the real check)
    ctx.events                  cross-screen signals (data changed, open a submission)
    ctx.today()                 the session clock's date (tests pin it)

Tests replace the dialog hooks (`error_sink`, `passphrase_prompt`, `confirmer`, `text_prompt`,
`unsaved_prompt`) with plain callables, so nothing modal blocks an offscreen run (tests/ui/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QAbstractButton, QDialog, QMessageBox, QWidget

from app.model.accounts import Permission
from app.model.errors import PermissionDenied
from app.services.runtime import ChangeSet
from app.services.session import Session
from ui import errors
from ui.banner import add_banners, window_marking
from ui.jobs import JobRunner
from ui.unsaved import UnsavedPrompt, ask_unsaved
from ui.unsaved import settle as _settle
from ui.widgets.passphrase_dialog import ask_passphrase as _ask_passphrase
from ui.widgets.text_question import TextQuestion

ErrorSink = Callable[[QWidget | None, BaseException], None]
PassphrasePrompt = Callable[[QWidget | None, str], str | None]
Confirmer = Callable[[QWidget | None, str, str, str], bool]
TextPrompt = Callable[[QWidget | None, str, str], str | None]


class UiEvents(QObject):
    """Signals between screens; the main window and screens connect to what they care about."""

    submissions_changed = Signal()  # any create/update/delete/attach: lists and dashboard refresh
    submission_changed = Signal(int)  # one record changed (detail tabs refresh)
    open_submission = Signal(int)  # navigate to a submission's detail view
    lock_requested = Signal(str)  # a screen asks the shell to lock (reason)
    status_message = Signal(str)  # short message for the status bar
    settings_changed = Signal()  # workstation settings saved (idle timer, thresholds)
    modified_changed = Signal()  # an editor gained or lost unsaved edits (titles carry the mark)
    # What a committed write changed (app/services/runtime.ChangeSet), on the GUI thread, from any
    # thread's transaction; submissions_changed / submission_changed follow from it.
    data_changed = Signal(object)
    _relay = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._relay.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def committed(self, changes: ChangeSet) -> None:
        """Runtime listener: called on the committing thread; delivers on the GUI thread."""
        if QThread.currentThread() is self.thread():
            self._deliver(changes)
        else:
            self._relay.emit(changes)

    @Slot(object)
    def _deliver(self, changes: ChangeSet) -> None:
        self.data_changed.emit(changes)
        touched = changes.submissions()
        if touched or changes.touches("submission"):
            self.submissions_changed.emit()
        for sid in sorted(touched):
            self.submission_changed.emit(sid)
        if changes.touches("settings"):
            self.settings_changed.emit()


def text_dialog(parent: QWidget | None, title: str, label: str) -> TextQuestion:
    """A one-line question (reasons, media labels) with its window's banners."""
    return TextQuestion(title, label, parent)


def _ask_text(parent: QWidget | None, title: str, label: str) -> str | None:
    dialog = text_dialog(parent, title, label)
    return dialog.textValue() if dialog.exec() == QDialog.DialogCode.Accepted else None


def confirm_box(parent: QWidget | None, title: str, text: str, ok_label: str) -> tuple[QMessageBox, QAbstractButton]:
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent)
    ok = box.addButton(ok_label, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    add_banners(box, window_marking(parent))
    return box, ok


def _confirm(parent: QWidget | None, title: str, text: str, ok_label: str) -> bool:
    box, ok = confirm_box(parent, title, text, ok_label)
    box.exec()
    return box.clickedButton() is ok


@dataclass
class UiContext:
    session: Session
    jobs: JobRunner
    events: UiEvents = field(default_factory=UiEvents)
    error_sink: ErrorSink = errors.show_error
    passphrase_prompt: PassphrasePrompt = _ask_passphrase
    confirmer: Confirmer = _confirm
    text_prompt: TextPrompt = _ask_text
    unsaved_prompt: UnsavedPrompt = ask_unsaved
    deferred_errors: list[tuple[QWidget | None, BaseException]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Screens refresh from what was really committed, by whichever thread (runtime broadcast).
        self.session.runtime.subscribe(self.events.committed)

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        if name == "jobs" and isinstance(value, JobRunner):
            # Jobs started without their own on_error report through the same single place,
            # also when a test swaps in another runner.
            value.error_handler = lambda exc: self.show_error(None, exc)

    def show_error(self, parent: QWidget | None, exc: BaseException) -> None:
        if self.session.locked:
            # Nothing is drawn over the lock screen: a job that failed while locked is reported after
            # unlock. A refusal *because* of the lock needs no report (screens refresh on unlock).
            if not (isinstance(exc, PermissionDenied) and "locked" in str(exc)):
                self.deferred_errors.append((parent, exc))
            return
        self.error_sink(parent, exc)

    def show_deferred_errors(self) -> None:
        """After unlock: the errors that happened while locked, in order."""
        pending, self.deferred_errors = self.deferred_errors, []
        for parent, exc in pending:
            self.error_sink(parent, exc)

    def ask_passphrase(self, parent: QWidget | None, reason: str) -> str | None:
        return self.passphrase_prompt(parent, reason)

    def confirm(self, parent: QWidget | None, title: str, text: str, ok_label: str = "OK") -> bool:
        return self.confirmer(parent, title, text, ok_label)

    def ask_text(self, parent: QWidget | None, title: str, label: str) -> str | None:
        return self.text_prompt(parent, title, label)

    def settle(self, root: QWidget, parent: QWidget | None = None) -> bool:
        """True when nothing under `root` holds unsaved edits any more (saved or discarded after asking)."""
        return _settle(self.unsaved_prompt, root, parent)

    def can(self, permission: Permission) -> bool:
        return self.session.account.can(permission)

    def today(self) -> date:
        return self.session.today()


def resolve(factory: object) -> Callable[..., QWidget]:
    """A registry factory is a callable or a lazy "package.module:Name" string (keeps start-up light
    and makes registering a screen or tab a one-line edit without an import)."""
    if isinstance(factory, str):
        import importlib

        module_name, _, attr = factory.partition(":")
        return getattr(importlib.import_module(module_name), attr)
    if callable(factory):
        return factory
    raise TypeError(f"not a screen factory: {factory!r}")
