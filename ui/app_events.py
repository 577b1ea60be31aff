"""The one application-wide event filter: the jobs that must see every widget's events share it.

A Python event filter installed on the QApplication is called for every event Qt delivers to any
object (hundreds of thousands while a main window builds its screens), and each call wraps the
object, the event and its type in Python objects. The plain-text guard (ui/plain_text.py), the
accessible namer (ui/accessibility.py) and each main window's idle watcher (ui/lock_screen.py)
used to be three or more such filters; they register handlers here instead, by event type, so an
event crosses into Python once and only the handlers for its type run.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from types import MethodType

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt

Handler = Callable[[QObject, QEvent], bool]  # True: the event is consumed (as eventFilter's result)
_Ref = Callable[[], Handler | None]


def _ref(handler: Handler) -> _Ref:
    """Bound methods are held weakly (an idle watcher that is gone stops being called); functions
    strongly."""
    if isinstance(handler, MethodType):
        return weakref.WeakMethod(handler)
    return lambda: handler


class AppEventHub(QObject):
    """Dispatches the application's events by type to the handlers registered for that type, in
    the order they were added; the first handler returning True consumes the event."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._handlers: dict[QEvent.Type, tuple[tuple[object, _Ref], ...]] = {}

    def add(self, kinds: Iterable[QEvent.Type], handler: Handler) -> None:
        key = _key(handler)
        for kind in kinds:
            live = tuple(entry for entry in self._handlers.get(kind, ()) if entry[1]() is not None)
            if all(k != key for k, _r in live):  # idempotent
                live = (*live, (key, _ref(handler)))
            self._handlers[kind] = live

    def remove(self, handler: Handler) -> None:
        key = _key(handler)
        for kind, known in list(self._handlers.items()):
            kept = tuple(entry for entry in known if entry[0] != key and entry[1]() is not None)
            if kept:
                self._handlers[kind] = kept
            else:
                del self._handlers[kind]

    def handlers(self, kind: QEvent.Type) -> list[Handler]:
        """The live handlers for `kind` (for tests and diagnostics)."""
        return [h for _k, ref in self._handlers.get(kind, ()) if (h := ref()) is not None]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        registered = self._handlers.get(event.type())
        if registered is None:
            return False
        for _k, ref in registered:  # a tuple: handlers may add or remove handlers meanwhile
            handler = ref()
            if handler is not None and handler(watched, event):
                return True
        return False


def _key(handler: Handler) -> object:
    """What identifies a handler: a bound method compares equal to another binding of the same
    method on the same object; the key holds no reference to that object."""
    if isinstance(handler, MethodType):
        return _MethodKey(handler)
    return handler


class _MethodKey:
    __slots__ = ("func", "obj_id")

    def __init__(self, method: MethodType) -> None:
        self.func = method.__func__
        self.obj_id = id(method.__self__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _MethodKey) and (self.func, self.obj_id) == (other.func, other.obj_id)

    def __hash__(self) -> int:
        return hash((self.func, self.obj_id))


def hub(app: QCoreApplication | None = None) -> AppEventHub | None:
    """The application's hub, installed on first use (None before a QApplication exists)."""
    app = app or QCoreApplication.instance()
    if app is None:
        return None
    found = app.findChild(AppEventHub, "", Qt.FindChildOption.FindDirectChildrenOnly)
    if isinstance(found, AppEventHub):
        return found
    created = AppEventHub(app)
    app.installEventFilter(created)
    return created
