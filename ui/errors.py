"""The one place that shows errors, and the global exception hook (Dangerzone/Anki `errors.py`).

FrontierError messages are written for the reviewer and shown as they are. Anything else is a
bug: the reviewer sees a generic message; the details list the exception type and the code
location only — never the exception text or local values, which could hold a passphrase or
classified content.
"""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.foundation.text import untrusted_text
from app.model.errors import AuthError, Cancelled, FrontierError, PermissionDenied, ValidationError
from ui.banner import add_banners, window_marking

GENERIC = ("Something went wrong inside the application. Nothing further was saved by this action. "
           "If it happens again, give the details below to the workstation administrator.")


def sanitize(text: str, limit: int = 2000) -> str:
    """Untrusted text shown as plain text (the one policy: app.foundation.text), length bounded."""
    return untrusted_text(text, limit)


def describe(exc: BaseException) -> tuple[str, str, str | None]:
    """(title, message, details) for an exception; details only for unexpected errors."""
    if isinstance(exc, FrontierError):
        title = "Cannot complete the action"
        for kind, text in ((ValidationError, "Please check the input"), (AuthError, "Authentication failed"),
                           (PermissionDenied, "Not allowed"), (Cancelled, "Cancelled")):
            if isinstance(exc, kind):
                title = text
        return title, sanitize(str(exc)), None
    frames = traceback.extract_tb(exc.__traceback__)
    where = "".join(f"  {f.filename}:{f.lineno} in {f.name}\n" for f in frames[-12:])
    details = f"{type(exc).__module__}.{type(exc).__qualname__}\n{where}".rstrip()
    return "Unexpected error", GENERIC, details


def error_box(parent: QWidget | None, exc: BaseException) -> QMessageBox:
    """The error message box; it may quote content, so it carries its window's banners."""
    title, message, details = describe(exc)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if details is None else QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(message)
    if details:
        box.setDetailedText(details)
    add_banners(box, window_marking(parent))  # last: the setters above rebuild the box's layout
    return box


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    error_box(parent, exc).exec()


_installed = False
_showing = False


def _hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    global _showing
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    # Developers still get the full traceback on stderr (a local console, never a network).
    traceback.print_exception(exc_type, exc, tb)
    if QApplication.instance() is None or _showing:
        return
    _showing = True  # an error inside the error box must not recurse
    try:
        show_error(QApplication.activeWindow(), exc.with_traceback(tb))
    finally:
        _showing = False


def install_excepthook() -> None:
    """Uncaught exceptions in slots reach the reviewer as a dialog instead of vanishing."""
    global _installed
    if not _installed:
        sys.excepthook = _hook
        _installed = True
