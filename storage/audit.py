"""Append-only, hash-chained audit log. Each event stores the previous event's hash and is signed
(over its hash) with its actor's personal key; the signature is checked by app.services.integrity."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from app.model.audit import GENESIS, AuditEvent, ChainVerification
from storage.db import Connection
from storage.rows import column_names, fetch_all


def _canonical(seq: int, ts: str, actor: str, action: str, object_type: str, object_id: str,
               details: str, prev_hash: str) -> bytes:
    return json.dumps(
        [seq, ts, actor, action, object_type, object_id, details, prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    ).encode()


def event_hash(seq: int, ts: str, actor: str, action: str, object_type: str, object_id: str,
               details: str, prev_hash: str) -> str:
    return hashlib.sha256(_canonical(seq, ts, actor, action, object_type, object_id, details, prev_hash)).hexdigest()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(text: str, in_json: bool = False) -> str:
    """`text` with each lone surrogate shown as the six characters \\udc80: a file name that is
    not UTF-8, or a JSON escape in an untrusted document, would otherwise make the event
    unhashable and the change it records fail with it. The callers show such names already
    (app.foundation.files.shown_name); this keeps any one they miss from costing the change."""
    if text.isascii():
        return text
    slash = "\\\\" if in_json else "\\"  # inside a JSON string the backslash itself is escaped
    return _SURROGATE.sub(lambda m: f"{slash}u{ord(m.group()):04x}", text)


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), row[1]) if row else (0, GENESIS)


# event hash (hex) -> (signer key fingerprint, base64 signature)
EventSigner = Callable[[str], tuple[str, str]]
# (seq, ts, actor, event hash, signer, signature) -> problem or None
SignatureCheck = Callable[[int, str, str, str, str, str], str | None]


def append(conn: Connection, ts: str, actor: str, action: str, object_type: str,
           object_id: object, details: dict[str, Any] | None = None,
           signer: EventSigner | None = None) -> AuditEvent:
    """Append one event; call inside the transaction that makes the change it records."""
    seq, prev = head(conn)
    seq += 1
    raw_text = json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=str)
    details_text = _encodable(raw_text, in_json=True)
    if details_text is not raw_text:
        details = json.loads(details_text)  # what the event holds is what was stored
    oid = _encodable("" if object_id is None else str(object_id))
    actor, action, object_type = _encodable(actor), _encodable(action), _encodable(object_type)
    h = event_hash(seq, ts, actor, action, object_type, oid, details_text, prev)
    key_fp, signature = signer(h) if signer else ("", "")
    conn.execute(
        "INSERT INTO audit_events (seq, ts, actor, action, object_type, object_id, details, prev_hash, hash,"
        " signer, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, ts, actor, action, object_type, oid, details_text, prev, h, key_fp, signature),
    )
    return AuditEvent(seq, ts, actor, action, object_type, oid, details or {}, prev, h, key_fp, signature)


_COLS = "seq, ts, actor, action, object_type, object_id, details, prev_hash, hash, signer, signature"


class StoredEvent(NamedTuple):
    """One audit_events row exactly as stored, unconverted: the chain is verified over these values
    (details is the text the hash covers; a seq stored as text must not pass for a number)."""

    seq: Any
    ts: Any
    actor: Any
    action: Any
    object_type: Any
    object_id: Any
    details: Any
    prev_hash: Any
    hash: Any
    signer: Any
    signature: Any


def _details(text: str) -> dict[str, Any]:
    try:
        details: dict[str, Any] = json.loads(text)
    except ValueError:
        details = {"unreadable": text}
    return details


_EVENT: dict[str, Callable[[Any], Any]] = {"seq": int, "details": _details}


def iter_raw(conn: Connection) -> Iterator[StoredEvent]:
    """Every event in storage order. The columns are matched to StoredEvent's fields by name once per
    query (a per-row mapping would cost more than hashing the event), so a renamed, missing or
    reordered column fails here instead of feeding the wrong values to the hash."""
    cur = conn.execute(f"SELECT {_COLS} FROM audit_events ORDER BY rowid")
    names = column_names(cur)
    if names != StoredEvent._fields:
        raise TypeError(f"audit_events columns ({', '.join(names)}) are not StoredEvent's fields "
                        f"({', '.join(StoredEvent._fields)})")
    return map(StoredEvent._make, cur)


def hash_at(conn: Connection, seq: int) -> str | None:
    row = conn.execute("SELECT hash FROM audit_events WHERE seq = ?", (seq,)).fetchone()
    return row[0] if row else None


def verify(conn: Connection, known_head: tuple[int, str] | None = None,
           check_signature: SignatureCheck | None = None) -> ChainVerification:
    """Walk the chain in storage order; name the first modified, deleted or reordered event.

    `known_head` is the (seq, hash) recorded outside the database (key header, signed reports):
    it catches events removed from the end of the chain. `check_signature` judges each event's
    signature; once one event is signed, every later one must be (earlier events come from
    workstations created before events were signed).
    """
    prev = GENESIS
    expected_seq = 1
    count = 0
    hashes: dict[int, str] = {}
    signing_started = False
    unsigned_before = 0
    for row in iter_raw(conn):
        seq, ts, actor, action, otype, oid, details, prev_hash, h, key_fp, signature = row
        count += 1
        if seq != expected_seq:
            what = "deleted" if seq > expected_seq else "reordered or duplicated"
            problem = f"event {expected_seq} is missing or out of place (found event {seq} next): events {what}"
            return ChainVerification(False, count, prev, [problem], expected_seq)
        if prev_hash != prev:
            return ChainVerification(
                False, count, prev,
                [f"event {seq} ({action}) does not link to event {seq - 1}: chain reordered or an event replaced"],
                seq,
            )
        recomputed = event_hash(seq, ts, actor, action, otype, oid, details, prev_hash)
        if recomputed != h:
            return ChainVerification(
                False, count, prev,
                [f"event {seq} ({action} at {ts} by {actor}) was modified after it was written"], seq,
            )
        if check_signature is not None:
            if key_fp or signature:
                signing_started = True
                why = check_signature(seq, ts, actor, h, key_fp, signature)
                if why:
                    return ChainVerification(False, count, prev,
                                             [f"event {seq} ({action} at {ts} by {actor}): {why}"], seq)
            elif signing_started:
                return ChainVerification(False, count, prev,
                                         [f"event {seq} ({action} at {ts} by {actor}) carries no signature: "
                                          "written around the application"], seq)
            else:
                unsigned_before += 1
        hashes[seq] = h
        prev = h
        expected_seq += 1
    if known_head and known_head[0] > 0:
        kseq, khash = known_head
        if kseq > count:
            return ChainVerification(
                False, count, prev,
                [f"the chain ends at event {count} but event {kseq} was recorded: events {count + 1}-{kseq} "
                 "were deleted from the end"], count + 1,
            )
        if hashes.get(kseq) != khash:
            return ChainVerification(
                False, count, prev, [f"event {kseq} does not match the head recorded outside the database"], kseq
            )
    return ChainVerification(True, count, prev, unsigned_legacy=unsigned_before)


def list_events(conn: Connection, limit: int = 200, offset: int = 0, actor: str | None = None,
                action_prefix: str | None = None, object_type: str | None = None,
                object_id: str | None = None) -> list[AuditEvent]:
    clauses, params = [], []
    if actor:
        clauses.append("actor = ?")
        params.append(actor)
    if action_prefix:
        clauses.append("action LIKE ?")
        params.append(action_prefix + "%")
    if object_type:
        clauses.append("object_type = ?")
        params.append(object_type)
    if object_id is not None:
        clauses.append("object_id = ?")
        params.append(object_id)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    return fetch_all(conn, AuditEvent, f"SELECT {_COLS} FROM audit_events {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
                     (*params, limit, offset), _EVENT)


def has_action(conn: Connection, action: str) -> bool:
    return conn.execute("SELECT 1 FROM audit_events WHERE action = ? LIMIT 1", (action,)).fetchone() is not None


def count(conn: Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM audit_events").fetchone()[0])
