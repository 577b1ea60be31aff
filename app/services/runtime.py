"""The workstation runtime: who uses which database connection, and what each write changed.

One runtime per signed-in session (one per process in the app). It owns every connection the
session uses, and the database enforces who may write on which:

- ONE writer connection (the one opened at sign-in, which ran the migrations). It is open for
  writes only while `Session.transaction` holds the runtime's write gate, on the gate holder's
  thread; the rest of the time SQLite refuses writes on it too (`PRAGMA query_only`). The gate is a
  reentrant lock: a transaction nested on the same thread is a savepoint of the outer one; another
  thread waits for the gate (up to `GATE_TIMEOUT_S`, then "the database is busy: <who holds it>").
- read connections, opened with `PRAGMA query_only = ON`: one for the owner thread (the GUI
  thread, or the CLI's only thread), one for any other thread (a job's pool thread) the first time
  it asks, closed when its job ends (`thread_done`) or with the runtime. A write on any of them
  fails loudly. WAL gives each read the last committed state, never another thread's half-written
  transaction.

`session.db` is always the right connection for the thread that asks: the writer while that thread
holds the gate (so a transaction's reads see its own writes), else the thread's read connection.
After a transaction commits, the runtime broadcasts a `ChangeSet` (read from the audit events the
transaction appended, so nothing is announced that was not audited) to its subscribers, on the
committing thread. The UI turns that into Qt signals, so screens refresh from what really changed.

The writer's WAL is checkpointed by the runtime's checkpointer thread (app/services/checkpointer.py),
not inside the COMMIT that crosses SQLite's threshold: a transaction returns once its data is
durable, and the copy into the database file happens beside the next one.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from app.model.errors import StorageError
from app.services.checkpointer import Checkpointer
from storage.db import Connection, Database

# As long as SQLite's own busy timeout (storage/db.py): a write waits this long for another
# thread's transaction before giving up with a message that names it.
GATE_TIMEOUT_S = 30.0


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
    def __init__(self, db: Database, gate_timeout: float = GATE_TIMEOUT_S) -> None:
        self.writer = db
        db.set_writable(False)  # opened only by the gate
        self._owner = threading.get_ident()
        self._owner_reader: Database | None = None
        self._local = threading.local()
        self._lock = threading.Lock()  # guards the connection list and the listeners
        self._gate = threading.RLock()
        self._gate_timeout = gate_timeout
        self._holder: tuple[str, float] | None = None  # (who, since) while a transaction runs
        self._readers: list[Database] = []
        self._listeners: list[Listener] = []
        self._closed = False
        db.set_autocheckpoint(0)  # the checkpointer copies the WAL, off the committing thread
        self.checkpointer = Checkpointer(db, self._gate)
        _RUNTIMES.add(self)

    # -- connections -------------------------------------------------------------------------
    def database(self) -> Database:
        """The calling thread's connection: the writer inside its transaction, else its reader."""
        if getattr(self._local, "depth", 0):
            return self.writer
        if threading.get_ident() == self._owner:
            if self._owner_reader is None:
                self._owner_reader = self._open_reader()
            return self._owner_reader
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            db = self._open_reader()
            self._local.db = db
        return db

    def _open_reader(self) -> Database:
        with self._lock:
            if self._closed:
                raise StorageError("The session is closed; sign in again.")
            db = self.writer.reader()
            self._readers.append(db)
        return db

    @property
    def on_owner_thread(self) -> bool:
        return threading.get_ident() == self._owner

    def adopt(self) -> None:
        """Make the calling thread the owner (the app signs in on a job's thread, then the GUI
        thread takes the session over): the owner's read connection is now this thread's, and any
        connection the caller had opened for itself is closed."""
        self.release_thread()
        self._owner = threading.get_ident()

    def release_thread(self) -> None:
        """Close the calling thread's own read connection (a job's thread when the job ends)."""
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            return
        self._local.db = None
        self._forget(db)

    def _forget(self, db: Database) -> None:
        with self._lock:
            if db in self._readers:
                self._readers.remove(db)
        db.close()

    def connections(self) -> list[Database]:
        """Every open connection of this session: the writer first, then the readers."""
        with self._lock:
            return [] if self._closed else [self.writer, *self._readers]

    @property
    def open_connections(self) -> int:
        return len(self.connections())

    def close(self) -> None:
        self.checkpointer.close()
        with self._lock:
            self._closed = True
            readers, self._readers = self._readers, []
        self._owner_reader = None
        for db in readers:
            with contextlib.suppress(Exception):
                db.close()
        # Leave the WAL copied and empty (SQLite would also try when the last connection closes,
        # but not while another process still has the database open).
        with contextlib.suppress(Exception):
            self.writer.checkpoint("TRUNCATE", wait=False)
        self.writer.close()
        _RUNTIMES.discard(self)

    # -- the write gate ------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, who: str = "") -> Iterator[int]:
        """Hold the write gate on this thread: `session.db` here is the writer, open for writes.
        Yields how many transactions this thread already holds (0: this one is the outermost)."""
        depth: int = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield depth
            finally:
                self._local.depth = depth
            return
        if not self._gate.acquire(timeout=self._gate_timeout):
            raise StorageError(f"The database is busy: {self._holding()}; nothing was written. Try again when it "
                               "has finished.")
        try:
            if self._closed:
                raise StorageError("The session is closed; sign in again.")
            self.checkpointer.before_write()
            self._holder = (who or threading.current_thread().name, time.monotonic())
            self.writer.set_writable(True)
            self._local.depth = 1
            try:
                yield 0
            finally:
                self._local.depth = 0
                self._holder = None
                with contextlib.suppress(Exception):  # a closed writer refuses everything anyway
                    self.writer.set_writable(False)
        finally:
            self._gate.release()
        self.checkpointer.after_commit()

    def checkpoint(self, timeout: float | None = None) -> bool:
        """Copy the WAL into the database file now and wait (e.g. before a backup)."""
        return self.checkpointer.checkpoint(timeout)

    def flush_wal(self) -> None:
        """A long transaction stored a batch: start writing the WAL to disk beside it (see Checkpointer)."""
        self.checkpointer.flush()

    def _holding(self) -> str:
        holder = self._holder
        if holder is None:
            return "another write has held it for longer than the wait allows"
        who, since = holder
        return f"another write ({who}) has held it for {time.monotonic() - since:.0f} s"

    @property
    def writing_here(self) -> bool:
        """Whether the calling thread is inside a transaction."""
        return bool(getattr(self._local, "depth", 0))

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


# Live runtimes, so a job runner can close its thread's read connections when a job ends without
# knowing which session the job used.
_RUNTIMES: weakref.WeakSet[Runtime] = weakref.WeakSet()


def thread_done() -> None:
    """A job ends on this (pool) thread: close the read connections it opened in any session."""
    for runtime in list(_RUNTIMES):
        runtime.release_thread()


def merged(sets: Iterable[ChangeSet]) -> ChangeSet:
    return ChangeSet(tuple(c for s in sets for c in s.changes))
