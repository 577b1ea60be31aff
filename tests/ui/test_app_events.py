"""The application's one event filter (ui/app_events.py): events reach the handlers registered for
their type only, a handler can consume an event, and the plain-text guard, the accessible namer
and idle watchers are handlers of it rather than filters of their own."""

from __future__ import annotations

import gc

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget

from ui import accessibility, app_events, plain_text
from ui.lock_screen import IdleWatcher


class Recorder:
    def __init__(self, consume: bool = False) -> None:
        self.seen: list[tuple[QObject, QEvent.Type]] = []
        self.consume = consume

    def handle(self, watched: QObject, event: QEvent) -> bool:
        self.seen.append((watched, event.type()))
        return self.consume


def test_handlers_get_only_their_event_types_and_can_consume(qapp) -> None:  # type: ignore[no-untyped-def]
    hub = app_events.AppEventHub()
    first, second = Recorder(consume=True), Recorder()
    hub.add((QEvent.Type.Show,), first.handle)
    hub.add((QEvent.Type.Show, QEvent.Type.Hide), second.handle)
    hub.add((QEvent.Type.Show,), first.handle)  # idempotent
    target = QObject()
    assert hub.eventFilter(target, QEvent(QEvent.Type.Show)) is True  # consumed by the first ...
    assert second.seen == []  # ... so the second never saw it
    assert hub.eventFilter(target, QEvent(QEvent.Type.Hide)) is False
    assert hub.eventFilter(target, QEvent(QEvent.Type.Polish)) is False
    assert first.seen == [(target, QEvent.Type.Show)]
    assert second.seen == [(target, QEvent.Type.Hide)]
    hub.remove(first.handle)
    assert hub.eventFilter(target, QEvent(QEvent.Type.Show)) is False
    assert second.seen[-1] == (target, QEvent.Type.Show)
    assert hub.handlers(QEvent.Type.Show) == [second.handle]


def test_a_handler_whose_owner_is_gone_is_dropped(qapp) -> None:  # type: ignore[no-untyped-def]
    hub = app_events.AppEventHub()
    gone = Recorder()
    hub.add((QEvent.Type.Show,), gone.handle)
    del gone
    gc.collect()
    assert hub.handlers(QEvent.Type.Show) == []
    assert hub.eventFilter(QObject(), QEvent(QEvent.Type.Show)) is False


def test_guard_namer_and_idle_watcher_share_the_one_filter(qapp, qtbot) -> None:  # type: ignore[no-untyped-def]
    plain_text.install(qapp)
    accessibility.install()
    hub = app_events.hub(qapp)
    assert hub is app_events.hub()  # one per application
    assert hub is not None and len(qapp.findChildren(app_events.AppEventHub)) == 1
    guard = qapp.findChild(plain_text.PlainTextGuard)
    assert guard is not None and guard.eventFilter in hub.handlers(QEvent.Type.ToolTip)
    assert guard.eventFilter in hub.handlers(QEvent.Type.Polish)
    now = [100.0]
    watcher = IdleWatcher(5, lambda: now[0])
    watcher.start()
    assert watcher.input_seen in hub.handlers(QEvent.Type.KeyPress)
    # Through Qt's own delivery: a label is made plain text, a control named, input resets the clock.
    host = QWidget()
    qtbot.addWidget(host)
    label = QLabel("<b>not bold</b>", host)
    field = QLineEdit(host)
    field.setPlaceholderText("Search the register")
    host.show()
    QApplication.processEvents()
    assert label.textFormat() == plain_text.Qt.TextFormat.PlainText
    assert field.accessibleName() == "Search the register"
    now[0] = 160.0
    qtbot.keyClick(field, "a")
    assert watcher.last_activity == 160.0
    watcher.stop()
    assert watcher.input_seen not in hub.handlers(QEvent.Type.KeyPress)
    now[0] = 200.0
    qtbot.keyClick(field, "b")
    assert watcher.last_activity == 160.0  # stopped: no longer told


def test_the_namer_passes_over_a_widget_whose_wrapper_outlived_it(qapp) -> None:  # type: ignore[no-untyped-def]
    """An application-wide filter sees every object's events, also through a Python wrapper whose
    widget is already gone: it lets the event pass instead of raising inside Qt's event loop."""
    import shiboken6

    gone = QLineEdit()
    shiboken6.delete(gone)
    assert not shiboken6.isValid(gone)
    assert accessibility.AccessibleNamer().eventFilter(gone, QEvent(QEvent.Type.Polish)) is False
