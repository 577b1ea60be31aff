"""Rollback and rewrite detection: the chain head each person last saw, signed by them.

Each account keeps a record {seq, hash, decisions, ca} of the audit chain it last saw, signed with
its personal key, in two places: the key header (beside the database) and the person's own state
folder outside the data directory (FRW_STATE_DIR, default the platform's user state folder). At
sign-in both are checked against the database: a chain that no longer holds the event the person
saw means the database was rolled back or the chain rewritten; a header record older than the
person's own copy means the data directory was rolled back; a CA other than the one they saw, or
fewer signed decisions, means the trust anchors were replaced. Each finding is shown to the
person and audited.

A copy restored from a backup has its own history from the backup on, so the records are kept per
copy (`copy_of`): the workstation as created, or the copy that the newest genuine `backup.restore`
event in its chain (hash recomputed, linked to the event before it, signed by its actor's key)
began. The restore's own sign-in reads and writes no record. Without that, restoring into a new
folder made the original and the copy each look rolled back or rewritten to whoever used both.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from app.model.audit import GENESIS
from app.model.errors import StorageError
from app.services.seen_heads import ca_fingerprint, record_body, signed_record
from reports import pki
from storage import audit as audit_log
from storage import decisions_repo
from storage.atomic import atomic_write
from storage.db import Connection

if TYPE_CHECKING:
    from app.services.session import Session

MAX_STATE_FILE = 64 * 1024


def state_dir() -> Path:
    return Path(os.environ.get("FRW_STATE_DIR") or platformdirs.user_state_dir("frontier-review", appauthor=False))


def _local_path(db_id: str, username: str, copy: str = "") -> Path:
    """The workstation as created keeps its records where they always were; a restored copy apart."""
    return state_dir() / db_id / (f"restored-{copy}" if copy else "") / f"{username}.seen.json"


@dataclass(frozen=True)
class Restore:
    """The newest `backup.restore` event of a chain: where a restored copy's own history begins."""

    seq: int
    ts: str
    actor: str
    backup_created_at: str
    genuine: str | None  # None, or why it is not


_RESTORE_COLUMNS = "seq, ts, actor, action, object_type, object_id, details, prev_hash, hash, signer, signature"


def newest_restore(conn: Connection, db_id: str) -> tuple[str, Restore | None]:
    """(copy, its restore): copy is "" for the workstation as created, else the first 16 hex digits of
    the newest genuine restore event's hash. A restore event that is not genuine names no copy: the
    chain is then checked against the records of the workstation as created (and says why)."""
    row = conn.execute(f"SELECT {_RESTORE_COLUMNS} FROM audit_events WHERE object_type = 'backup' AND "
                       "action = 'backup.restore' ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return "", None
    seq, ts, actor, action, otype, oid, details, prev_hash, h, key_fp, signature = row
    why = None
    before = audit_log.hash_at(conn, seq - 1) if seq > 1 else GENESIS
    if audit_log.event_hash(seq, ts, actor, action, otype, oid, details, prev_hash) != h:
        why = "it was modified after it was written"
    elif prev_hash != before:
        why = f"it does not link to event {seq - 1}"
    else:
        try:
            sig = base64.b64decode(str(signature), validate=True)
        except ValueError:
            sig = b""
        from app.services.decisions import Registry

        why = Registry.load(conn, db_id).check_signature(str(key_fp), actor, ts, bytes.fromhex(h), sig,
                                                         require_certified=False)
    try:
        created = str(json.loads(details).get("backup_created_at", ""))
    except (ValueError, AttributeError):
        created = ""
    restore = Restore(int(seq), str(ts), str(actor), created, why)
    return ("" if why else str(h)[:16]), restore


def _valid(record: dict[str, Any], username: str, public_keys: dict[str, Any]) -> bool:
    key = public_keys.get(str(record.get("key")))
    if key is None or record.get("user") != username:
        return False
    try:
        sig = base64.b64decode(str(record.get("mac")), validate=True)
    except ValueError:
        return False
    return pki.verify_digest(key, hashlib.sha256(record_body(record)).digest(), sig)


def _read_local(db_id: str, username: str, copy: str = "") -> dict[str, Any] | None:
    path = _local_path(db_id, username, copy)
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read(MAX_STATE_FILE))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"unreadable": True}
    return data if isinstance(data, dict) else {"unreadable": True}


def save_local(session: Session) -> None:
    """Write this person's signed record outside the data directory (sign-in, lock, sign-out)."""
    if session.personal is None:
        return
    record = signed_record(session.db.conn, session.account.username, session.personal,
                           audit_log.head(session.db.conn))
    if session.copy_of is None:
        return  # the restore's own sign-in: the copy's history begins with the restore event
    path = _local_path(session.db_id, session.account.username, session.copy_of)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, json.dumps(record, indent=1).encode())
    except (OSError, StorageError) as exc:
        session.integrity_warnings.append(f"Your own record of the audit trail could not be saved ({exc}); "
                                          "rollback of the data directory cannot be detected for you.")


def check(session: Session, header_record: dict[str, Any] | None) -> list[str]:
    """What the person's own records say about the database and data directory now."""
    conn = session.db.conn
    username = session.account.username
    public_keys: dict[str, Any] = {}
    from storage import identity_repo

    for pk in identity_repo.all_personal_keys(conn):
        if pk.username == username:
            try:
                public_keys[pk.fingerprint] = pki.load_public_key(pk.public_der)
            except Exception:  # noqa: S112  (an unreadable key verifies nothing)
                continue
    findings: list[str] = []
    copy, restore = newest_restore(conn, session.db_id)
    session.copy_of = copy
    if restore is not None and restore.genuine is not None:
        findings.append(f"The audit trail's newest restore from a backup (event {restore.seq}) is not genuine: "
                        f"{restore.genuine}. It is checked as the workstation it claims to be restored from.")
    local = _read_local(session.db_id, username, copy)
    if copy and local is None and restore is not None and _read_local(session.db_id, username, "") is not None:
        # not an alarm: a restore is an administrator's signed act, in the audit trail for all to see
        made = restore.backup_created_at[:16].replace("T", " ")
        session.notices.append(
            f"This is a copy of the workstation restored from a backup made "
            f"{made + ' UTC' if made else '(date unknown)'}, restored by {restore.actor} at "
            f"{restore.ts[:16].replace('T', ' ')} UTC (audit event "
            f"{restore.seq}). Work done on the original after that backup is not in it, and what you saw there "
            "is not compared with it.")
    records: list[tuple[str, dict[str, Any]]] = []
    for where, rec in (("the key header", header_record), ("your own state folder", local)):
        if rec is None:
            continue
        if rec.get("unreadable") or not _valid(rec, username, public_keys):
            findings.append(f"Your record of the audit trail in {where} is not signed by you: it was altered.")
            continue
        records.append((where, rec))
    for where, rec in records:
        seq, expected = int(rec["seq"]), str(rec["hash"])
        actual = audit_log.hash_at(conn, seq)
        if actual is None:
            findings.append(f"The audit trail ends before event {seq}, which you saw at your last sign-in "
                            f"({where}): the database was rolled back or events were deleted.")
        elif actual != expected:
            findings.append(f"Audit event {seq} is not the one you saw at your last sign-in ({where}): the audit "
                            "trail was rewritten.")
        if int(rec.get("decisions", 0)) > decisions_repo.count(conn):
            findings.append(f"There are fewer signed decisions than at your last sign-in ({where}): the database "
                            "was rolled back or decisions were deleted.")
        if rec.get("ca") and rec.get("ca") != ca_fingerprint(conn):
            findings.append(f"The workstation CA is not the one you saw at your last sign-in ({where}): the trust "
                            "anchors were replaced.")
    if len(records) == 2 and int(records[1][1]["seq"]) > int(records[0][1]["seq"]):
        findings.append("The key header holds an older record of the audit trail than your own state folder: the "
                        "data directory (database and key header) was rolled back.")
    elif header_record is None and local is not None:
        findings.append("The key header no longer holds your record of the audit trail: it was removed or the key "
                        "header was replaced by an older copy.")
    return list(dict.fromkeys(findings))


def event_checker(conn: Connection, db_id: str) -> tuple[audit_log.SignatureCheck, list[tuple[int, str, str, str]]]:
    """A per-event signature check for storage.audit.verify, and the list it fills (seq, actor,
    signer, status) so `audit verify` can say who signed each event."""
    from app.services.decisions import Registry

    reg = Registry.load(conn, db_id)
    results: list[tuple[int, str, str, str]] = []

    def check_event(seq: int, ts: str, actor: str, event_hash: str, key_fp: str, signature: str) -> str | None:
        try:
            sig = base64.b64decode(signature, validate=True)
        except ValueError:
            sig = b""
        info = reg.keys.get(key_fp)
        signer = info.username if info else "unknown key"
        why = reg.check_signature(key_fp, actor, ts, bytes.fromhex(event_hash), sig, require_certified=False)
        if why is None and info is not None and info.certified_by is None:
            status = "valid (certificate pending)"
        elif why is None:
            status = "valid" + (" (key once readable by all accounts)" if info and info.legacy else "")
        else:
            status = "INVALID: " + why
        results.append((seq, actor, signer, status))
        return why

    return check_event, results
