"""Append-only, hash-chained audit log. Each event stores the previous event's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from app.model.audit import GENESIS, AuditEvent, ChainVerification
from storage.db import Connection


def _canonical(seq: int, ts: str, actor: str, action: str, object_type: str, object_id: str,
               details: str, prev_hash: str) -> bytes:
    return json.dumps(
        [seq, ts, actor, action, object_type, object_id, details, prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    ).encode()


def event_hash(seq: int, ts: str, actor: str, action: str, object_type: str, object_id: str,
               details: str, prev_hash: str) -> str:
    return hashlib.sha256(_canonical(seq, ts, actor, action, object_type, object_id, details, prev_hash)).hexdigest()


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), row[1]) if row else (0, GENESIS)


def append(conn: Connection, ts: str, actor: str, action: str, object_type: str,
           object_id: object, details: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event; call inside the transaction that makes the change it records."""
    seq, prev = head(conn)
    seq += 1
    details_text = json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=str)
    oid = "" if object_id is None else str(object_id)
    h = event_hash(seq, ts, actor, action, object_type, oid, details_text, prev)
    conn.execute(
        "INSERT INTO audit_events (seq, ts, actor, action, object_type, object_id, details, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, ts, actor, action, object_type, oid, details_text, prev, h),
    )
    return AuditEvent(seq, ts, actor, action, object_type, oid, details or {}, prev, h)


def _row_to_event(row: Any) -> AuditEvent:
    try:
        details = json.loads(row[6])
    except ValueError:
        details = {"unreadable": row[6]}
    return AuditEvent(int(row[0]), row[1], row[2], row[3], row[4], row[5], details, row[7], row[8])


def iter_raw(conn: Connection) -> Iterator[tuple[Any, ...]]:
    cur = conn.execute(
        "SELECT seq, ts, actor, action, object_type, object_id, details, prev_hash, hash"
        " FROM audit_events ORDER BY rowid"
    )
    yield from cur


def verify(conn: Connection, known_head: tuple[int, str] | None = None) -> ChainVerification:
    """Walk the chain in storage order; name the first modified, deleted or reordered event.

    `known_head` is the (seq, hash) recorded outside the database (key header, signed reports):
    it catches events removed from the end of the chain.
    """
    prev = GENESIS
    expected_seq = 1
    count = 0
    hashes: dict[int, str] = {}
    for row in iter_raw(conn):
        seq, ts, actor, action, otype, oid, details, prev_hash, h = row
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
    return ChainVerification(True, count, prev)


def list_events(conn: Connection, limit: int = 200, offset: int = 0, actor: str | None = None,
                action_prefix: str | None = None, object_type: str | None = None,
                object_id: str | None = None) -> list[AuditEvent]:
    clauses, params = [], []  # type: ignore[var-annotated]
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
    rows = conn.execute(
        "SELECT seq, ts, actor, action, object_type, object_id, details, prev_hash, hash FROM audit_events "
        f"{where} ORDER BY seq DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    return [_row_to_event(r) for r in rows]


def count(conn: Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM audit_events").fetchone()[0])
