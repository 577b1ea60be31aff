"""Rewrite a workstation's database at another SQLCipher page size (workstations set up before
32 KiB pages keep their 4 KiB pages until rewritten), so that a crash at any point leaves a
workstation that opens, at the old page size or the new one.

The new database is written beside the old one, checked, and swapped in; only then does the key
header (which says which page size to open with) change. What each step leaves if the process
dies there, and what `settle` (run at the next sign-in, with the data key) makes of it:

1. The old database leaves WAL mode (refused while any other connection, in any process, has it
   open) and stays under an exclusive lock until the end: nobody writes to it meanwhile.
2. `sqlcipher_export` into `.workstation.db.repage` at the new page size, schema version copied,
   fsynced. 3. Checked: SQLCipher's and SQLite's integrity checks, every table's row count
   against the old one, the audit chain against the head the key header records.
   -> old database and header untouched; `settle` or the next rewrite removes the leftover file.
4. The journal `.workstation.repage.json` (from, to) is written durably.
5. The old database is kept as `.workstation.db.pre-repage` (a hard link) and the new one renamed
   over `workstation.db` (atomic), the directory fsynced.
   -> new database, old header: the journal says so; `settle` sets the header's page size once
      the database opens at the journal's new size with the data key.
6. The key header's page size is set (atomic, under the credentials lock).
7. The journal and the old database's link are removed.
An exception (not a crash) after step 5 puts the old database back before it is raised.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import sqlcipher3

from app.model.errors import IntegrityError, StorageError
from app.model.repage import RepageResult
from storage import audit as audit_log
from storage.atomic import atomic_write, fsync_dir
from storage.credentials import Credentials
from storage.db import PAGE_SIZES, apply_key

TEMP_SUFFIX = ".repage"  # .workstation.db.repage: the new database while it is written and checked
OLD_SUFFIX = ".pre-repage"  # .workstation.db.pre-repage: the old one between the swap and the header
JOURNAL_NAME = ".workstation.repage.json"
MAX_JOURNAL_BYTES = 4096
BUSY_MS = 2000  # how long to wait for another connection to let go before refusing

Step = Callable[[str], None]


def no_step(name: str) -> None:
    del name


def _temp(db_file: Path) -> Path:
    return db_file.with_name(f".{db_file.name}{TEMP_SUFFIX}")


def _old(db_file: Path) -> Path:
    return db_file.with_name(f".{db_file.name}{OLD_SUFFIX}")


def _journal(db_file: Path) -> Path:
    return db_file.with_name(JOURNAL_NAME)


def _remove(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _connect(path: Path, key: bytes, page_size: int) -> sqlcipher3.Connection:
    conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_MS / 1000)
    apply_key(conn, key, page_size)
    return conn


def _counts(conn: sqlcipher3.Connection, schema: str = "main") -> dict[str, int]:
    names = [r[0] for r in conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' ORDER BY name")]
    return {n: int(conn.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0]) for n in names}


def rewrite(db_file: Path, key: bytes, creds: Credentials, to: int, step: Step = no_step) -> RepageResult:
    """Rewrite `db_file` at `to`-byte pages (steps above); `step(name)` is called as each one
    begins (tests stop there)."""
    if to not in PAGE_SIZES:
        raise StorageError(f"Page size {to} is not one of {PAGE_SIZES}.")
    settle(db_file, key, creds)  # what an earlier attempt left
    header = creds.read()
    old_size = header.page_size
    if old_size == to:
        raise StorageError(f"Database {db_file} already has {to}-byte pages; nothing to rewrite.")
    temp, old, journal = _temp(db_file), _old(db_file), _journal(db_file)
    _remove(temp, old)
    old_bytes = db_file.stat().st_size
    src = _connect(db_file, key, old_size)
    swapped = False
    try:
        step("exclusive")
        try:
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            mode = src.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            src.execute("PRAGMA main.locking_mode = EXCLUSIVE")
            src.execute("BEGIN EXCLUSIVE")  # taken now and kept (locking_mode) until the connection closes
            src.execute("COMMIT")
        except sqlcipher3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            mode = "busy"
        if str(mode).lower() != "delete":
            raise StorageError(f"Database {db_file} is open elsewhere (another frontier-review window or "
                               "command?): close it and try again. Nothing was changed.")
        step("export")
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        src.execute(f"ATTACH DATABASE ? AS repage KEY \"x'{key.hex()}'\"", (str(temp),))
        src.execute(f"PRAGMA repage.cipher_page_size = {int(to)}")
        src.execute("PRAGMA repage.journal_mode = DELETE")
        version = int(src.execute("PRAGMA main.user_version").fetchone()[0])
        src.execute("BEGIN")
        src.execute("SELECT sqlcipher_export('repage')")
        src.execute(f"PRAGMA repage.user_version = {version}")
        src.execute("COMMIT")
        before = _counts(src)
        src.execute("DETACH DATABASE repage")
        step("check")
        head = _check(temp, key, to, version, before, (int(header.audit_head.get("seq", 0) or 0),
                                                         str(header.audit_head.get("hash", ""))))
        with open(temp, "rb+") as fh:
            os.fsync(fh.fileno())
        step("journal")
        atomic_write(journal, json.dumps({"db_id": header.db_id, "from": old_size, "to": to}).encode())
        step("swap")
        os.link(db_file, old)
        os.replace(temp, db_file)
        swapped = True
        fsync_dir(db_file.parent)
        step("header")
        with creds.update() as fresh:
            fresh.page_size = to
        swapped = False  # the header says `to`: the new database stands
        step("cleanup")
        src.close()
        _remove(journal, old)
        fsync_dir(db_file.parent)
        return RepageResult(old_size, to, len(before), sum(before.values()), old_bytes, db_file.stat().st_size,
                            head)
    except BaseException:
        src.close()
        if swapped and old.exists():  # the header still says the old size: put the old database back
            os.replace(old, db_file)
            fsync_dir(db_file.parent)
        if not swapped:
            _remove(temp)
        _remove(journal, old)
        raise


def _check(path: Path, key: bytes, page_size: int, version: int, want: dict[str, int],
           known_head: tuple[int, str]) -> int:
    """The new database opens at its page size with every table and row of the old one and an
    unbroken audit chain ending at the header's head; returns the chain's length."""
    conn = _connect(path, key, page_size)
    try:
        problems = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check")]
        problems += [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        if int(conn.execute("PRAGMA page_size").fetchone()[0]) != page_size:
            problems.append("the page size was not applied")
        if int(conn.execute("PRAGMA user_version").fetchone()[0]) != version:
            problems.append("the schema version differs")
        got = _counts(conn)
        if got != want:
            differ = sorted(n for n in set(got) | set(want) if got.get(n) != want.get(n))
            problems.append(f"row counts differ in {', '.join(differ[:5])}")
        chain = audit_log.verify(conn, known_head)
        problems += chain.problems
    finally:
        conn.close()
    if problems:
        raise IntegrityError(f"The rewritten database fails its checks ({'; '.join(problems[:3])}); "
                             "the workstation was not changed.")
    return chain.events


def settle(db_file: Path, key: bytes, creds: Credentials) -> int:
    """Finish or undo a rewrite a crash interrupted (steps in the module docstring); returns the
    page size to open the database with. Without a journal only a leftover copy is removed."""
    journal, temp, old = _journal(db_file), _temp(db_file), _old(db_file)
    if not journal.exists():
        if temp.exists():
            _remove(temp)
        return creds.read().page_size
    with creds.locked():
        header = creds.read()
        to = _journal_target(journal, header.db_id)
        if temp.exists():  # the rename never happened: the old database stands
            _remove(temp)
        elif to is not None and header.page_size != to and _opens(db_file, key, to):
            with creds.update() as fresh:
                fresh.page_size = to
        _remove(old, journal)
        fsync_dir(db_file.parent)
        return creds.read().page_size


def _journal_target(journal: Path, db_id: str) -> int | None:
    """The journal's new page size, if it is one of ours (bounded and checked: it was written
    without authentication, so it may only point at a size the data key then has to open)."""
    try:
        with open(journal, "rb") as fh:
            data = json.loads(fh.read(MAX_JOURNAL_BYTES + 1))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("db_id") != db_id:
        return None
    to = data.get("to")
    return to if type(to) is int and to in PAGE_SIZES else None


def _opens(path: Path, key: bytes, page_size: int) -> bool:
    try:
        probe = sqlcipher3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    except sqlcipher3.Error:
        return False
    try:
        apply_key(probe, key, page_size)
        probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher3.Error:
        return False
    finally:
        probe.close()
