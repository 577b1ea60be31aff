"""SQLCipher connection: raw-key open, integrity check, versioned migrations, transactions.

Who may write on which connection: a signed-in session writes only through `Session.transaction`,
on its runtime's one writer connection (app/services/runtime.py); every other connection the
session uses is opened by `reader()` with `PRAGMA query_only = ON`, so a write there fails in
SQLite itself. `Database.transaction` on a connection of one's own is for code that runs before a
session exists: the migrations `open` runs and workstation setup (app/services/workstation.py).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import sqlcipher3

from app.model.errors import StorageError


class Cursor(Protocol):
    """What repositories read from a query (sqlcipher3's cursor mirrors sqlite3.Cursor)."""

    @property
    def description(self) -> Any: ...
    @property
    def lastrowid(self) -> int | None: ...
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of a DB-API connection the storage layer uses. sqlcipher3 ships no type
    information; its connection mirrors sqlite3.Connection, which satisfies this protocol too."""

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...
    def close(self) -> None: ...
    def backup(self, target: Any, /, *, pages: int = ..., progress: Any = ..., name: str = ...,
               sleep: float = ...) -> None: ...
    def set_progress_handler(self, handler: Callable[[], int] | None, n: int, /) -> None: ...


DatabaseError = sqlcipher3.DatabaseError
# SQLCipher's page size is fixed when a database is created and must be given before its first
# read; the key header records it beside the wrapped key. A header without it means 4096 (every
# workstation created before the field existed).
LEGACY_PAGE_SIZE = 4096
PAGE_SIZES = (4096, 8192, 16384, 32768, 65536)
# How long a statement waits for another connection's lock (sqlcipher3.connect's timeout).
BUSY_TIMEOUT_S = 30
CHECKPOINT_MODES = ("PASSIVE", "FULL", "RESTART", "TRUNCATE")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped in storage/migrations, in order."""
    return list(_shipped_migrations())


@functools.cache
def _shipped_migrations() -> tuple[tuple[int, str, str], ...]:
    # Read once per process: every connection opens with a version check (a job's read connection
    # too, while the GUI thread paints), and the shipped files do not change while the app runs.
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    return tuple(found)


# (done, total, text): the schema updates an open runs, each announced before it runs
MigrationProgress = Callable[[int, int, str], None]


def migration_title(name: str) -> str:
    """What a migration does, from its file name: 0042_sample_sort_indexes.sql -> "sample sort indexes"."""
    m = _MIGRATION_NAME.match(name)
    return name.split("_", 1)[-1].removesuffix(".sql").replace("_", " ") if m else name


def latest_version() -> int:
    found = migrations()
    return found[-1][0] if found else 0


def _friendly(exc: Exception, path: Path, query_only: bool = False) -> StorageError:
    text = str(exc)
    if isinstance(exc, OSError):
        text = {errno.EROFS: "readonly", errno.EACCES: "readonly", errno.EPERM: "readonly",
                errno.ENOSPC: "disk is full"}.get(exc.errno or 0, f"unable to open ({exc.strerror})")
    if query_only and "readonly database" in text:
        return StorageError(f"Database {path}: a write outside Session.transaction was refused (this connection "
                            "is read-only); nothing was written.")
    if "readonly" in text or "read-only" in text:
        return StorageError(f"The data directory {path.parent} is read-only; the database cannot be written.")
    if "unable to open" in text:
        return StorageError(f"Cannot open database {path}: the file or its folder is not accessible.")
    if "database is locked" in text or "database is busy" in text:
        return StorageError(f"The database is busy: another program holds {path.name}'s write lock (another "
                            "frontier-review process on this workstation?); nothing was written. Try again when "
                            "it has finished.")
    if "disk is full" in text or "database or disk is full" in text:
        return StorageError(f"The disk holding {path} is full; nothing was written.")
    if "not a database" in text or "malformed" in text or "HMAC" in text:
        return StorageError(
            f"Database {path} cannot be decrypted or is damaged (file is not a database or fails its "
            "integrity check). It has not been modified; restore from a backup."
        )
    return StorageError(f"Database {path}: {text}")


# The imported results' bulk (a run's samples, transcripts and their full-text index: 2 s of a 1,000,000-
# sample, 420 MB database's 2.1 s quick_check, and it grows with every import) is checked after sign-in
# on a connection of its own (`quick_check`), not before it: everything else (accounts, keys, audit
# trail, assessments, findings: a few milliseconds) is still checked before the database is used.
DEFERRED_CHECK = ("eval_samples", "eval_transcripts")


def _deferred(table: str) -> bool:
    return any(table == t or table.startswith(t + "_") for t in DEFERRED_CHECK)


def _quick_check_at_open(conn: Connection) -> str | None:
    """The first problem SQLite's quick_check finds in any table but the deferred ones, or None."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")]
    for table in ["sqlite_schema", *(t for t in tables if not _deferred(t))]:
        row = conn.execute(f'PRAGMA quick_check("{table.replace(chr(34), chr(34) * 2)}")').fetchone()
        if not row or row[0] != "ok":
            return str(row[0]) if row else "?"
    return None


class Database:
    """One SQLCipher connection. `reader()` opens a read-only second connection (a session's
    threads), `another()` a read/write one (a writer of its own, e.g. a test playing an insider)."""

    def __init__(self, conn: Connection, path: Path, key: bytes, page_size: int = LEGACY_PAGE_SIZE) -> None:
        self.conn = conn
        self.path = path
        self.page_size = page_size
        self._key = key
        self._lock = threading.RLock()
        self._query_only = False

    @classmethod
    def open(cls, path: Path, key: bytes, create: bool = False, migrate_to: int | None = None,
             check: bool = True, *, page_size: int = LEGACY_PAGE_SIZE,
             on_migration: MigrationProgress | None = None) -> Database:
        """Open (or create) the database; `page_size` is the one its key header records.
        `on_migration(done, total, text)` is told of each schema update before it runs."""
        path = Path(path)
        if page_size not in PAGE_SIZES:
            raise StorageError(f"Database {path}: page size {page_size} is not one of {PAGE_SIZES}.")
        if not create and not path.is_file():
            raise StorageError(f"Database {path} does not exist.")
        if not create and path.stat().st_size == 0:
            # SQLite would treat an empty file as a new database and migrate it: refuse instead.
            raise StorageError(f"Database {path} is empty (0 bytes): it was truncated. Restore from a backup.")
        if create and path.exists():
            raise StorageError(f"Database {path} already exists; refusing to overwrite it.")
        if create:
            # Permission-first: the file exists with mode 0600 before a byte is written (SQLite
            # gives the -wal and -shm files the same mode).
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except OSError as exc:
                raise _friendly(exc, path) from None
        try:
            conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False,
                                     timeout=BUSY_TIMEOUT_S)
        except sqlcipher3.Error as exc:
            raise _friendly(exc, path) from None
        try:
            apply_key(conn, key, page_size)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlcipher3.DatabaseError:
                if not create:
                    _refuse_other_page_size(path, key, page_size)
                raise
            if check:
                problem = _quick_check_at_open(conn)
                if problem:
                    raise StorageError(f"Database {path} fails its integrity check: {problem}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            db = cls(conn, path, key, page_size)
            db.migrate(migrate_to, on_migration)
            return db
        except sqlcipher3.Error as exc:
            conn.close()
            raise _friendly(exc, path) from None
        except BaseException:
            conn.close()
            raise

    def another(self) -> Database:
        """A second read/write connection to the same database (a writer of its own)."""
        return Database.open(self.path, self._key, check=False, page_size=self.page_size)

    def reader(self) -> Database:
        """A second connection to the same database on which SQLite refuses every write
        (`PRAGMA query_only`): a session's read connections. Reads see the last commit (WAL)."""
        db = Database.open(self.path, self._key, check=False, migrate_to=0, page_size=self.page_size)
        db.set_writable(False)
        return db

    def set_writable(self, writable: bool) -> None:
        """Open or close this connection for writes (`PRAGMA query_only`). The runtime keeps its
        writer closed except while `Session.transaction` holds the write gate."""
        with self._lock:
            self.conn.execute(f"PRAGMA query_only = {'OFF' if writable else 'ON'}")
            self._query_only = not writable

    @property
    def writable(self) -> bool:
        with self._lock:
            return not int(self.conn.execute("PRAGMA query_only").fetchone()[0])

    def set_autocheckpoint(self, pages: int) -> None:
        """SQLite's automatic checkpoint after a COMMIT that leaves `pages` frames in the WAL (0: never;
        the runtime checkpoints its writer's WAL on a thread of its own instead)."""
        with self._lock:
            self.conn.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")

    def wal_bytes(self) -> int:
        """Size of the write-ahead log file (0 when there is none): at most what a checkpoint copies."""
        try:
            return os.stat(f"{self.path}-wal").st_size
        except OSError:
            return 0

    def checkpoint(self, mode: str = "PASSIVE", wait: bool = True) -> tuple[int, int, int]:
        """Copy committed WAL frames into the database file: (busy, frames in the WAL, frames copied).

        PASSIVE takes no lock that readers or writers wait for. TRUNCATE also takes the writer lock
        and empties the WAL file once no reader needs it; `wait=False` gives up at once (busy = 1)
        instead of waiting up to the busy timeout for readers and writers."""
        if mode not in CHECKPOINT_MODES:
            raise ValueError(f"unknown checkpoint mode {mode!r}")
        with self._lock:
            if not wait:
                self.conn.execute("PRAGMA busy_timeout = 0")
            try:
                row = self.conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            except sqlcipher3.Error as exc:
                raise _friendly(exc, self.path) from None
            finally:
                if not wait:
                    self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        return int(row[0]), int(row[1]), int(row[2])

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self, to: int | None = None, on_step: MigrationProgress | None = None) -> None:
        """Bring the schema to `to` (default the latest), one transaction per migration. `on_step`
        hears of each before it runs: on a large workstation one may take seconds (0042's indexes,
        5.5 s at 1,000,000 samples), during a sign-in that otherwise says nothing."""
        target = latest_version() if to is None else to
        current = self.version
        if current > latest_version():
            raise StorageError(
                f"Database {self.path} was written by a newer version (schema {current}); "
                f"this version knows schema {latest_version()}."
            )
        pending = [m for m in migrations() if current < m[0] <= target]
        for done, (version, name, sql) in enumerate(pending):
            if on_step is not None and current > 0:  # a new database's schema is no update
                on_step(done, len(pending), f"Updating the database to schema {version} of {target}: "
                        f"{migration_title(name)} (once)")
            with self.transaction() as conn:
                for statement in _split_sql(sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def savepoint(self, name: str) -> Iterator[Connection]:
        """A nested transaction inside the one this connection holds: on an exception only what
        was written inside it is undone, and the exception goes on to the outer transaction."""
        with self._lock:
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:
                    with contextlib.suppress(sqlcipher3.Error):
                        self.conn.execute(f"ROLLBACK TO {name}")
                        self.conn.execute(f"RELEASE {name}")
                raise
            self.conn.execute(f"RELEASE {name}")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """BEGIN IMMEDIATE ... COMMIT; rolls back on any exception, so nothing half-written stays."""
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlcipher3.Error as exc:
                raise _friendly(exc, self.path, self._query_only) from None
            try:
                yield self.conn
            except sqlcipher3.Error as exc:
                self._rollback()
                raise _friendly(exc, self.path, self._query_only) from None
            except BaseException:
                self._rollback()
                raise
            try:
                self.conn.execute("COMMIT")
            except sqlcipher3.Error as exc:
                self._rollback()
                raise _friendly(exc, self.path, self._query_only) from None

    def _rollback(self) -> None:
        # On SQLITE_FULL and some I/O errors SQLite has already rolled back; a second ROLLBACK
        # would raise and hide the real cause from the reviewer.
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlcipher3.Error:
                pass

    def query(self, sql: str, params: Any = ()) -> list[Any]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Any = ()) -> Any:
        with self._lock:
            return self.conn.execute(sql, params).fetchone()

    def quick_check(self, cancelled: Callable[[], bool] | None = None, every: int = 10_000) -> list[str]:
        """SQLite's quick_check of the whole database (the deferred tables included): the problems
        found, [] when sound. Reads every page: run it off the GUI thread, on a reader. SQLite asks
        `cancelled()` every `every` steps (inside the check itself: about twice a second on a 420 MB
        database) and stops when it is true (OperationalError "interrupted")."""
        with self._lock:
            if cancelled is not None:
                self.conn.set_progress_handler(lambda: int(cancelled()), every)
            try:
                return [r[0] for r in self.conn.execute("PRAGMA quick_check").fetchall() if r[0] != "ok"]
            finally:
                if cancelled is not None:
                    self.conn.set_progress_handler(None, 0)

    def integrity_check(self) -> list[str]:
        """Full check: SQLCipher page HMACs plus SQLite's structural check.

        cipher_integrity_check reads the database file alone. After a crash during a checkpoint the
        file can end in a partly written page whose committed copy is still in the WAL (SQLite reads
        it from there; nothing is lost), so the WAL's frames are moved into the file first and the
        file checked is the database SQLite sees."""
        with self._lock:
            with contextlib.suppress(sqlcipher3.DatabaseError):  # a damaged file: the checks say where
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            problems = [r[0] for r in self.conn.execute("PRAGMA cipher_integrity_check").fetchall()]
            rows = [r[0] for r in self.conn.execute("PRAGMA integrity_check").fetchall()]
        return problems + [r for r in rows if r != "ok"]

    def close(self) -> None:
        with self._lock:
            try:
                self.conn.close()
            except sqlcipher3.Error:
                pass


def apply_key(conn: Connection, key: bytes, page_size: int) -> None:
    """Raw key and page size: both must be set before the first read of the file."""
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute(f"PRAGMA cipher_page_size = {int(page_size)}")
    conn.execute("PRAGMA cipher_memory_security = OFF")


def _refuse_other_page_size(path: Path, key: bytes, page_size: int) -> None:
    """After a failed first read: if the key opens the file at another page size, say so (the key
    header and the database do not belong together) instead of calling the file damaged. Each
    probe is a read-only connection, so nothing is written either way."""
    for other in PAGE_SIZES:
        if other == page_size:
            continue
        try:
            probe = sqlcipher3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
        except sqlcipher3.Error:
            return
        try:
            apply_key(probe, key, other)
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.Error:
            continue
        finally:
            probe.close()
        raise StorageError(
            f"Database {path} has pages of {other} bytes, but its key header records {page_size}: the header "
            "was edited or belongs to another database. Nothing was modified; restore the key header from a "
            "backup of this workstation."
        )


def _split_sql(sql: str) -> list[str]:
    """Split a migration on statement boundaries (';' at end of line); triggers use 'END;'."""
    statements, current = [], []
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            stmt = "\n".join(current).strip()
            if sqlcipher3.complete_statement(stmt):
                statements.append(stmt)
                current = []
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return statements
