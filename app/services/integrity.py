"""Rollback and rewrite detection: the chain head each person last saw, signed by them.

Each account keeps a record {seq, hash, decisions, ca} of the audit chain it last saw, signed with
its personal key, in two places: the key header (beside the database) and the person's own state
folder outside the data directory (FRW_STATE_DIR, default the platform's user state folder). At
sign-in both are checked against the database: a chain that no longer holds the event the person
saw means the database was rolled back or the chain rewritten; a header record older than the
person's own copy means the data directory was rolled back; a CA other than the one they saw, or
fewer signed decisions, means the trust anchors were replaced. Each finding is shown to the
person and audited.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

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


def _local_path(db_id: str, username: str) -> Path:
    return state_dir() / db_id / f"{username}.seen.json"


def _valid(record: dict[str, Any], username: str, public_keys: dict[str, Any]) -> bool:
    key = public_keys.get(str(record.get("key")))
    if key is None or record.get("user") != username:
        return False
    try:
        sig = base64.b64decode(str(record.get("mac")), validate=True)
    except ValueError:
        return False
    return pki.verify_digest(key, hashlib.sha256(record_body(record)).digest(), sig)


def _read_local(db_id: str, username: str) -> dict[str, Any] | None:
    path = _local_path(db_id, username)
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
    path = _local_path(session.db_id, session.account.username)
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
    local = _read_local(session.db_id, username)
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
