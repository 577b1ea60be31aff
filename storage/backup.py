"""Backup folders: a consistent SQLCipher snapshot, the key header, a manifest and its signature.

A backup is one folder `frontier-backup-<workstation>-<UTC stamp>/` holding

    workstation.db        SQLCipher snapshot, still encrypted under the data key (evidence blobs inside)
    workstation.keys.json key header: the data key only ever wrapped (account slots, recovery slot)
    backup.json           who/when/what: workstation id and name, schema, audit-chain head, CA fingerprint
    ca.pem                the workstation CA certificate (trust is decided by fingerprint, never by file)
    SHA256SUMS            SHA-256 of the four files above (`sha256sum -c` compatible)
    SHA256SUMS.p7s        detached CMS signature over SHA256SUMS (signing happens in app.services)

It is written into a hidden `.frontier-backup-*.partial` folder, every file fsynced, then renamed:
a reader sees a complete backup or none. A full disk or vanished medium removes the partial folder.
Everything read back from media is bounded and checked before use; errors name the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlcipher3

from app.foundation.files import fsync_file, write_new_file
from app.foundation.files import sha256_file as digest_and_size
from app.foundation.oserrors import folder_problem, os_error_problem
from app.model.audit import ChainVerification
from app.model.backup import BackupMeta, BackupRecord
from app.model.errors import Cancelled, IntegrityError, StorageError
from storage import audit as audit_log
from storage.atomic import fsync_dir
from storage.db import Database, apply_key
from storage.keys import KeyHeader
from storage.rows import column_names, mapper

PREFIX = "frontier-backup-"
PARTIAL_PREFIX = ".frontier-backup-"
PARTIAL_SUFFIX = ".partial"
DB_FILE = "workstation.db"
HEADER_FILE = "workstation.keys.json"
META_FILE = "backup.json"
CA_FILE = "ca.pem"
MANIFEST_FILE = "SHA256SUMS"
SIGNATURE_FILE = "SHA256SUMS.p7s"
CONTENT_FILES = (DB_FILE, HEADER_FILE, META_FILE, CA_FILE)
ALL_FILES = (*CONTENT_FILES, MANIFEST_FILE, SIGNATURE_FILE)
# Bounds for everything but the snapshot: a hostile folder cannot make us read gigabytes of JSON.
MAX_SMALL_FILE = 1 << 20
STEP_BYTES = 4 << 20  # pages copied between progress reports and cancel checks (any page size)
_MANIFEST_LINE = re.compile(r"^([0-9a-f]{64}) [ *]([A-Za-z0-9._-]{1,64})$")
_STALE_PARTIAL_SECONDS = 3600

Progress = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class BackupContents:
    """A backup folder whose files all match its manifest (signature not yet checked)."""

    path: Path
    meta: BackupMeta
    header: KeyHeader
    manifest: bytes
    signature: bytes
    ca_pem: bytes

    @property
    def db_file(self) -> Path:
        return self.path / DB_FILE


# -- writing -------------------------------------------------------------------------------------


def _sqlite_problem(exc: Exception, dest: Path) -> str:
    text = str(exc)
    if "full" in text:
        return f"the medium holding {dest} is full"
    if "unable to open" in text or "disk I/O" in text or "readonly" in text:
        return f"{dest} disappeared or became unwritable during the write (medium removed?)"
    return f"the snapshot could not be written ({text})"


def sha256_file(path: Path, cancel: CancelCheck | None = None) -> str:
    digest, _size = digest_and_size(path, cancel)
    if cancel is not None and cancel():
        raise Cancelled("Backup")
    return digest


def manifest_bytes(folder: Path, names: tuple[str, ...] = CONTENT_FILES,
                   cancel: CancelCheck | None = None) -> bytes:
    return "".join(f"{sha256_file(folder / n, cancel)}  {n}\n" for n in names).encode()


def snapshot(source: Database, key: bytes, target: Path, progress: Progress | None = None,
             cancel: CancelCheck | None = None) -> tuple[int, tuple[int, str]]:
    """Copy `source` page by page into a new SQLCipher file under the same key.

    A read transaction held on `source` pins one consistent view (WAL), so writers on other
    connections carry on and the copy never restarts. The copy has `source.page_size` pages (the
    backup's key header records it). Returns (schema version, audit head).
    """
    conn = source.conn
    # SQLite creates files with the process umask (often 0644); the encrypted copy is still
    # nobody else's business, so it exists as 0600 before SQLite opens it (journals inherit that).
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    dst = sqlcipher3.connect(str(target), isolation_level=None, check_same_thread=False)
    try:
        apply_key(dst, key, source.page_size)  # page by page: the copy has the source's page size
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

            def step(status: int, remaining: int, total: int) -> None:
                if cancel is not None and cancel():
                    raise Cancelled("Backup")
                if progress is not None:
                    progress(total - remaining, total, "Copying the encrypted database")

            conn.backup(dst, pages=max(1, STEP_BYTES // source.page_size), progress=step)
        finally:
            conn.execute("COMMIT")
        # The copy inherits WAL mode; a backup must be one self-contained file.
        dst.execute("PRAGMA journal_mode = DELETE")
        ok = dst.execute("PRAGMA quick_check").fetchone()
        if not ok or ok[0] != "ok":
            raise IntegrityError(f"Snapshot {target} fails its integrity check: {ok[0] if ok else '?'}")
        version = int(dst.execute("PRAGMA user_version").fetchone()[0])
        head = audit_log.head(dst)
    finally:
        dst.close()
    return version, head


def sweep_partials(dest: Path, older_than: float = _STALE_PARTIAL_SECONDS) -> list[Path]:
    """Remove partial folders left by a killed backup (only ours, only stale ones)."""
    removed = []
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in dest.iterdir():
            if entry.name.startswith(PARTIAL_PREFIX) and entry.name.endswith(PARTIAL_SUFFIX) and entry.is_dir():
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime >= older_than:
                        shutil.rmtree(entry)
                        removed.append(entry)
    return removed


def folder_name(workstation_name: str, created_at: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", workstation_name).strip("-")[:40] or "workstation"
    stamp = re.sub(r"[^0-9T]", "", created_at[:19]) + "Z"
    return f"{PREFIX}{slug}-{stamp}"


def _free_name(dest: Path, name: str) -> Path:
    """Two backups within one second get -2, -3... (rename onto an existing folder must never happen)."""
    candidate, n = dest / name, 1
    while candidate.exists():
        n += 1
        candidate = dest / f"{name}-{n}"
    return candidate


def write_backup(
    dest: Path,
    source: Database,
    key: bytes,
    header: KeyHeader,
    make_meta: Callable[[int, tuple[int, str], int], BackupMeta],
    ca_pem: bytes,
    sign: Callable[[bytes], bytes],
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> tuple[Path, BackupMeta, bytes]:
    """Write a complete backup folder into `dest` atomically; returns (folder, meta, manifest).

    `make_meta(schema_version, audit_head, db_bytes)` builds the metadata once the snapshot
    exists; `sign(manifest)` returns the detached signature. Any failure leaves nothing behind.
    """
    dest = Path(dest)
    problem = folder_problem(dest)
    if problem:
        raise StorageError(f"Backup destination {problem}; no backup was kept.")
    sweep_partials(dest)
    tmp = dest / f"{PARTIAL_PREFIX}{os.getpid()}-{time.time_ns()}{PARTIAL_SUFFIX}"
    try:
        os.mkdir(tmp, 0o700)
        version, head = snapshot(source, key, tmp / DB_FILE, progress, cancel)
        fsync_file(tmp / DB_FILE)
        meta = make_meta(version, head, (tmp / DB_FILE).stat().st_size)
        copy = parse_header(header.to_json(), "key header")
        copy.audit_head = {"seq": head[0], "hash": head[1]}
        copy.page_size = source.page_size  # what the snapshot was written with
        copy.failures = {}
        copy.seen_heads = {}  # each person's record is re-made at their next sign-in after a restore
        write_new_file(tmp / HEADER_FILE, copy.to_json())
        write_new_file(tmp / META_FILE, meta.to_json())
        write_new_file(tmp / CA_FILE, ca_pem)
        if progress is not None:
            progress(0, 1, "Manifest and signature")
        manifest = manifest_bytes(tmp, cancel=cancel)
        write_new_file(tmp / MANIFEST_FILE, manifest)
        write_new_file(tmp / SIGNATURE_FILE, sign(manifest))
        fsync_dir(tmp)
        final = _free_name(dest, folder_name(meta.workstation_name, meta.created_at))
        os.rename(tmp, final)
        fsync_dir(dest)
        return final, meta, manifest
    except BaseException as exc:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        if isinstance(exc, OSError):
            raise StorageError(f"Backup failed: {os_error_problem(exc, dest)}; no backup was kept.") from None
        if isinstance(exc, sqlcipher3.Error):
            raise StorageError(f"Backup failed: {_sqlite_problem(exc, dest)}; no backup was kept.") from None
        raise


def parse_header(raw: bytes, where: str) -> KeyHeader:
    """KeyHeader from a backup's bytes, checked field by field by storage.keys (a hostile header
    fails there with a message, not inside PBKDF2 or AES-GCM); reported as an integrity failure."""
    if len(raw) > MAX_SMALL_FILE:
        raise IntegrityError(f"{where} is damaged: {len(raw)} bytes is far larger than a key header")
    try:
        return KeyHeader.parse(raw, where)
    except StorageError as exc:
        raise IntegrityError(str(exc)) from None


# -- reading -------------------------------------------------------------------------------------


def _read_small(path: Path, name: str) -> bytes:
    where = f"{path.parent}/{name}"
    try:
        size = path.stat().st_size
        if size > MAX_SMALL_FILE:
            raise IntegrityError(f"{where}: {size} bytes is far larger than this file can be")
        with open(path, "rb") as fh:
            return fh.read(MAX_SMALL_FILE + 1)
    except FileNotFoundError:
        raise IntegrityError(f"{where} is missing: this is not a complete backup") from None
    except IsADirectoryError:
        raise IntegrityError(f"{where} is a folder, not a file") from None
    except OSError as exc:
        raise IntegrityError(f"{where} cannot be read ({exc.strerror or exc})") from None


def parse_manifest(raw: bytes, where: str) -> dict[str, str]:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise IntegrityError(f"{where}: not a SHA-256 manifest (non-ASCII bytes)") from None
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        m = _MANIFEST_LINE.match(line)
        if not m:
            raise IntegrityError(f"{where}: line {number} is not '<sha256>  <file name>'")
        digest, name = m.groups()
        if name not in CONTENT_FILES:
            raise IntegrityError(f"{where}: line {number} lists an unexpected file '{name}'")
        if name in entries:
            raise IntegrityError(f"{where}: '{name}' is listed twice")
        entries[name] = digest
    missing = [n for n in CONTENT_FILES if n not in entries]
    if missing:
        raise IntegrityError(f"{where}: does not list {', '.join(missing)}")
    return entries


def read_backup(path: Path, cancel: CancelCheck | None = None) -> BackupContents:
    """Open a backup folder and check every file against its manifest (bounded, streaming)."""
    path = Path(path)
    if not path.is_dir():
        raise IntegrityError(f"{path} is not a backup folder (it does not exist or is a file)")
    try:
        extra = sorted(e.name for e in path.iterdir() if e.name not in ALL_FILES)
    except OSError as exc:
        raise IntegrityError(f"{path} cannot be listed ({exc.strerror or exc})") from None
    if extra:
        raise IntegrityError(f"{path}: unexpected file(s) {', '.join(extra[:5])} in the backup folder")
    manifest = _read_small(path / MANIFEST_FILE, MANIFEST_FILE)
    entries = parse_manifest(manifest, f"{path}/{MANIFEST_FILE}")
    signature = _read_small(path / SIGNATURE_FILE, SIGNATURE_FILE)
    for name in CONTENT_FILES:
        file = path / name
        if not file.is_file():
            raise IntegrityError(f"{path}/{name} is missing: this is not a complete backup")
        try:
            actual = sha256_file(file, cancel)
        except OSError as exc:
            raise IntegrityError(f"{path}/{name} cannot be read ({exc.strerror or exc})") from None
        if actual != entries[name]:
            raise IntegrityError(f"{path}/{name} was modified or damaged: its SHA-256 does not match the manifest")
    meta = BackupMeta.from_json(_read_small(path / META_FILE, META_FILE), f"{path}/{META_FILE}")
    header = parse_header(_read_small(path / HEADER_FILE, HEADER_FILE), f"{path}/{HEADER_FILE}")
    if header.db_id != meta.db_id:
        raise IntegrityError(f"{path}/{HEADER_FILE} belongs to another workstation than {META_FILE} names")
    ca_pem = _read_small(path / CA_FILE, CA_FILE)
    return BackupContents(path, meta, header, manifest, signature, ca_pem)


@dataclass(frozen=True)
class SnapshotCheck:
    problems: list[str]
    chain: ChainVerification | None
    schema_version: int

    @property
    def ok(self) -> bool:
        return not self.problems


def check_snapshot(contents: BackupContents, key: bytes) -> SnapshotCheck:
    """Decrypt the snapshot read-only: page HMACs, SQLite structure, audit chain to the recorded head."""
    where = f"{contents.path}/{DB_FILE}"
    uri = contents.db_file.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlcipher3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlcipher3.Error:
        return SnapshotCheck([f"{where} cannot be opened"], None, 0)
    try:
        apply_key(conn, key, contents.header.page_size)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.Error:
            return SnapshotCheck([f"{where} cannot be decrypted with this workstation's key"], None, 0)
        problems = [f"{where}: {r[0]}" for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
        problems += [f"{where}: {r[0]}" for r in conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        chain = None
        if not problems:
            chain = audit_log.verify(conn, (contents.meta.audit_seq, contents.meta.audit_hash))
            if not chain.ok:
                problems.append(f"{where}: audit chain: {chain.problems[0]}")
        if version != contents.meta.schema_version:
            problems.append(f"{where}: schema {version} differs from the {contents.meta.schema_version} recorded")
        return SnapshotCheck(problems, chain, version)
    except sqlcipher3.Error as exc:
        return SnapshotCheck([f"{where} is damaged ({exc})"], None, 0)
    finally:
        conn.close()


def install(contents: BackupContents, target: Path) -> None:
    """Copy the snapshot and key header of a checked backup into a new folder `target` (fsynced)."""
    try:
        os.mkdir(target, 0o700)
        for name in (DB_FILE, HEADER_FILE):
            with open(contents.path / name, "rb") as src, open(target / name, "xb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            os.chmod(target / name, 0o600)
        fsync_dir(target)
    except OSError as exc:
        raise StorageError(f"Restore failed: {os_error_problem(exc, target.parent)}") from None


# -- history (from the audit trail: no table of its own, so it can never disagree with it) --------


@dataclass(frozen=True)
class _BackupEvent:
    """The audit event a backup record is read from (details: the event's JSON text)."""

    ts: str
    actor: str
    action: str
    object_id: str
    details: str


_EVENT_COLS = "ts, actor, action, object_id, details"


def _record(event: _BackupEvent) -> BackupRecord:
    try:
        details = json.loads(event.details)
    except ValueError:
        details = {}
    if not isinstance(details, dict):
        details = {}
    action = event.action
    if action == "backup.create":
        ok, deep = bool(details.get("verified")), bool(details.get("verified"))
    elif action == "backup.verify":
        ok, deep = bool(details.get("ok")), bool(details.get("contents_checked"))
    else:
        ok, deep = action == "backup.restore", False
    folder = str(details.get("folder") or details.get("destination") or event.object_id)
    return BackupRecord(event.ts, event.actor, action, folder, ok, deep)


def _records(conn: Any, where: str, params: tuple[Any, ...] = ()) -> Iterator[BackupRecord]:
    """Backup records newest first, read by column name as the caller iterates."""
    cur = conn.execute(f"SELECT {_EVENT_COLS} FROM audit_events WHERE object_type = 'backup'{where}", params)
    to_event = mapper(_BackupEvent, column_names(cur))
    return (_record(to_event(row)) for row in cur)


def history(conn: Any, limit: int = 20) -> list[BackupRecord]:
    return list(_records(conn, " ORDER BY seq DESC LIMIT ?", (limit,)))


def last_verified(conn: Any) -> str | None:
    """Time of the newest backup whose decrypted contents were checked (at creation or later)."""
    for record in _records(conn, " AND action IN ('backup.create', 'backup.verify') ORDER BY seq DESC"):
        if record.ok and record.contents_checked:
            return record.ts
    return None
