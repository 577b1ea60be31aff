"""Session lock (AC-11): idle detection and the lock page that replaces all content.

The idle watcher sees the whole application's input (KeePassXC's InactivityTimer), as a handler of
the application's one event filter (ui/app_events.py), for input events only: any key, mouse or
wheel input resets the clock; a coarse QTimer polls it. The clock is injectable so
tests advance time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui import app_events

_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
    QEvent.Type.TabletPress,
}


class IdleWatcher(QObject):
    idle = Signal()

    def __init__(self, minutes: int, clock: Callable[[], float] = time.monotonic,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.timeout_s = minutes * 60.0
        self.last_activity = clock()
        self.enabled = True
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.poll)
        self.set_timeout_minutes(minutes)

    def set_timeout_minutes(self, minutes: int) -> None:
        self.timeout_s = minutes * 60.0
        self.timer.setInterval(int(min(self.timeout_s / 4, 5.0) * 1000))

    def start(self) -> None:
        events = app_events.hub()
        if events is not None:
            events.add(_ACTIVITY, self.input_seen)
        self.touch()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        events = app_events.hub()
        if events is not None:
            events.remove(self.input_seen)

    def touch(self) -> None:
        self.last_activity = self.clock()

    def input_seen(self, _watched: QObject, _event: QEvent) -> bool:
        """Any input event anywhere in the application (registered for _ACTIVITY only)."""
        self.last_activity = self.clock()
        return False

    @Slot()
    def poll(self) -> None:
        if self.enabled and self.clock() - self.last_activity >= self.timeout_s:
            self.enabled = False  # re-armed by the shell after unlock
            self.idle.emit()


class LockPage(QWidget):
    """Shown instead of every screen while locked; only the banners stay visible. Work started before
    the lock (imports, report builds) keeps running behind it."""

    unlock_requested = Signal(str)
    switch_user_requested = Signal()

    def __init__(self, user_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockPage")
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        card = QFrame()
        card.setObjectName("card")
        card.setMinimumWidth(400)  # wide enough that "try again in 30 s." fits on one line
        card.setMaximumWidth(460)
        lay = QVBoxLayout(card)
        title = QLabel("Workstation locked")
        title.setObjectName("pageTitle")
        lay.addWidget(title)
        self.user = QLabel(f"Signed in as {user_label}. Enter your passphrase to continue.")
        self.user.setWordWrap(True)
        self.user.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.user)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("unlockPassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("Passphrase")
        self.passphrase.returnPressed.connect(self._submit)
        lay.addWidget(self.passphrase)
        self.message = QLabel("")
        self.message.setObjectName("errorText")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.message)
        row = QHBoxLayout()
        self.switch_button = QPushButton("Switch user…")
        self.switch_button.setObjectName("switchUser")
        self.switch_button.setToolTip("Sign this account out so another person can sign in")
        self.switch_button.clicked.connect(self.switch_user_requested.emit)
        row.addWidget(self.switch_button)
        row.addStretch(1)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._submit)
        row.addWidget(self.unlock_button)
        lay.addLayout(row)
        self.jobs_note = QLabel("")
        self.jobs_note.setObjectName("hint")
        self.jobs_note.setWordWrap(True)
        self.jobs_note.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.jobs_note)
        self.wait_until = 0.0
        self.lockout_reason = ""
        self.clock: Callable[[], float] = time.monotonic
        self.countdown = QTimer(self)
        self.countdown.setInterval(1000)
        self.countdown.timeout.connect(self._tick)
        h = QHBoxLayout()
        h.addStretch(1)
        h.addWidget(card)
        h.addStretch(1)
        outer.addLayout(h)
        outer.addStretch(3)

    def reset(self) -> None:
        self.passphrase.clear()
        if not self.countdown.isActive():
            self.message.clear()
        self.passphrase.setFocus()

    def show_message(self, text: str) -> None:
        self.passphrase.clear()
        self._say(text)

    def _say(self, text: str, ok: bool = False) -> None:
        """A refusal in the error style; "you can try again now" in the ok style (it is not an error)."""
        name = "okText" if ok else "errorText"
        if self.message.objectName() != name:
            self.message.setObjectName(name)
            self.message.style().unpolish(self.message)
            self.message.style().polish(self.message)
        self.message.setText(text)

    def show_jobs(self, labels: list[str]) -> None:
        """Running work is named (not its content), so nobody locks and walks off thinking it stopped."""
        self.jobs_note.setText("Still running: " + "; ".join(labels) + ". The result is shown after unlocking."
                               if labels else "")

    def show_lockout(self, seconds: float, wrong: bool = False) -> None:
        """Too many wrong passphrases: say how long to wait, and count down each second (the unlock
        stays refused by the service until then; this only saves typing into a closed door).
        `wrong`: this attempt itself was wrong (and started the delay), which is said first."""
        self.passphrase.clear()
        self.lockout_reason = "Wrong passphrase.\n" if wrong else ""
        self.wait_until = self.clock() + seconds
        self.countdown.start()
        self._tick()

    def seconds_left(self) -> int:
        return max(0, math.ceil(self.wait_until - self.clock()))

    @Slot()
    def _tick(self) -> None:
        left = self.seconds_left()
        waiting = left > 0
        self.unlock_button.setEnabled(not waiting)
        self.passphrase.setEnabled(not waiting)
        if waiting:
            self.passphrase.clear()
            # a no-break space keeps the number and its unit together
            self._say(f"{self.lockout_reason}Too many attempts — try again in {left}\u00a0s.")
        else:
            self.countdown.stop()
            self._say("You can try again now.", ok=True)
            self.passphrase.setFocus()

    @Slot()
    def _submit(self) -> None:
        if self.seconds_left() > 0:
            return
        text = self.passphrase.text()
        if not text:
            self._say("Enter your passphrase.")
            return
        self.unlock_requested.emit(text)
