"""The workstation runtime: who uses which database connection, and what each write changed.

One runtime per signed-in session (one per process in the app). It owns every connection the
session uses:

- the thread that signed in (the GUI thread, or the CLI's only thread) uses the session's own
  connection, for reads and writes;
- any other thread (a job's pool thread, an import's worker) gets its own connection the first
  time it asks, kept for that thread and closed with the runtime. A SQLCipher connection is never
  shared between threads mid-transaction, so no caller has to remember a "worker session":
  `session.db` is always the right connection for the thread that asks.

SQLite itself serialises writers (BEGIN IMMEDIATE waits for the one writer); WAL gives every
reader a consistent snapshot meanwhile. `Session.transaction` is the only write path: after it
commits, the runtime broadcasts a `ChangeSet` (read from the audit events the transaction
appended, so nothing is announced that was not audited) to its subscribers, on the committing
thread. The UI turns that into Qt signals, so screens refresh from what really changed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from storage.db import Connection, Database


@dataclass(frozen=True)
class Change:
    action: str  # audit action, e.g. "submission.update"
    object_type: str  # e.g. "submission", "assessment", "eval_run"
    object_id: str
    submission_id: int | None = None  # the submission the change belongs to, when the event names one


@dataclass(frozen=True)
class ChangeSet:
    """What one committed transaction changed, in the order it was audited."""

    changes: tuple[Change, ...]

    def touches(self, *object_types: str) -> bool:
        return any(c.object_type in object_types for c in self.changes)

    def ids(self, object_type: str) -> set[str]:
        return {c.object_id for c in self.changes if c.object_type == object_type and c.object_id}

    def actions(self) -> set[str]:
        return {c.action for c in self.changes}

    def submissions(self) -> set[int]:
        """Submissions whose state this write changed (their pages, stage and queues refresh)."""
        return {c.submission_id for c in self.changes if c.submission_id is not None}


def changes_since(conn: Connection, seq: int) -> ChangeSet:
    """What the audit events after `seq` changed (a function, so ChangeSet hands the UI no Connection)."""
    rows = conn.execute(_CHANGES_SQL, (seq,)).fetchall()
    return ChangeSet(tuple(Change(str(a), str(t), str(i), _int(sub)) for a, t, i, sub in rows))


Listener = Callable[[ChangeSet], None]

# The submission an audited change belongs to: named by the event, or found through the record it
# is about (an assessment, a report, a release), so a submission's page refreshes after any of them.
_CHANGES_SQL = """
SELECT action, object_type, object_id,
       CASE object_type
           WHEN 'submission' THEN object_id
           WHEN 'assessment' THEN (SELECT submission_id FROM assessments WHERE id = CAST(object_id AS INTEGER))
           WHEN 'report' THEN (SELECT submission_id FROM reports WHERE id = CAST(object_id AS INTEGER))
           WHEN 'release' THEN (SELECT submission_id FROM releases WHERE id = CAST(object_id AS INTEGER))
           ELSE COALESCE(json_extract(details, '$.submission_id'), json_extract(details, '$.submission'))
       END
FROM audit_events WHERE seq > ? ORDER BY seq
"""


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


class Runtime:
    def __init__(self, db: Database) -> None:
        self.main = db
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._others: list[Database] = []
        self._listeners: list[Listener] = []
        self._closed = False

    # -- connections -------------------------------------------------------------------------
    def database(self) -> Database:
        """The connection for the calling thread (opened on first use by a thread other than the owner)."""
        if threading.get_ident() == self._owner:
            return self.main
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            with self._lock:
                if self._closed:
                    from app.model.errors import StorageError

                    raise StorageError("The session is closed; sign in again.")
                db = self.main.another()
                self._others.append(db)
            self._local.db = db
        return db

    @property
    def on_owner_thread(self) -> bool:
        return threading.get_ident() == self._owner

    def adopt(self) -> None:
        """Make the calling thread the owner of the sign-in connection (the app signs in on a job's
        thread, then the GUI thread takes the session over). Any connection the caller had opened
        for itself is closed."""
        self.release_thread()
        self._owner = threading.get_ident()

    def release_thread(self) -> None:
        """Close the calling thread's own connection (a job's thread when the job ends)."""
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            return
        self._local.db = None
        with self._lock:
            if db in self._others:
                self._others.remove(db)
        db.close()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return 1 + len(self._others)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            others, self._others = self._others, []
        for db in others:
            with contextlib.suppress(Exception):
                db.close()
        self.main.close()

    # -- change broadcasts -------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(changes)` after every committed write; returns the unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, changes: ChangeSet) -> None:
        if not changes.changes:
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(changes)


def merged(sets: Iterable[ChangeSet]) -> ChangeSet:
    return ChangeSet(tuple(c for s in sets for c in s.changes))
