"""Signed decisions: what was decided, by whom, over which content, and the actor's signature.

Rows here prove nothing by themselves: app.services.decisions verifies each signature against
the actor's certified personal key before a decision counts."""

from __future__ import annotations

from typing import Any

from app.model.decision_record import StoredDecision
from storage.db import Connection

_COLS = "id, kind, object_type, object_id, actor, ts, content, digest, key_fingerprint, signature"


def _row(r: Any) -> StoredDecision:
    return StoredDecision(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], bytes(r[9]))


def insert(conn: Connection, kind: str, object_type: str, object_id: str, actor: str, ts: str, content: str,
           digest: str, key_fingerprint: str, signature: bytes) -> int:
    cur = conn.execute(
        f"INSERT INTO decisions ({_COLS.split(', ', 1)[1]}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, object_type, object_id, actor, ts, content, digest, key_fingerprint, signature),
    )
    return int(cur.lastrowid or 0)


def for_object(conn: Connection, object_type: str, object_id: str, kinds: tuple[str, ...] = ()) -> list[StoredDecision]:
    sql = f"SELECT {_COLS} FROM decisions WHERE object_type = ? AND object_id = ?"
    params: list[Any] = [object_type, object_id]
    if kinds:
        sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
        params.extend(kinds)
    return [_row(r) for r in conn.execute(sql + " ORDER BY id", params)]


def by_kind(conn: Connection, kind: str) -> list[StoredDecision]:
    return [_row(r) for r in conn.execute(f"SELECT {_COLS} FROM decisions WHERE kind = ? ORDER BY id", (kind,))]


def count(conn: Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM decisions").fetchone()[0])
