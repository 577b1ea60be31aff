"""Signed decisions: what was decided, by whom, over which content, and the actor's signature.

Rows here prove nothing by themselves: app.services.decisions verifies each signature against
the actor's certified personal key before a decision counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.model.decision_record import StoredDecision
from storage.db import Connection
from storage.rows import fetch_all

# StoredDecision's fields, in the order insert() writes them after the id (storage/rows.py maps by name).
_COLS = "id, kind, object_type, object_id, actor, ts, content, digest, key_fingerprint, signature"
_DECISION: dict[str, Callable[[Any], Any]] = {"id": int, "signature": bytes}


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
    return fetch_all(conn, StoredDecision, sql + " ORDER BY id", params, _DECISION, complete=True)


def latest_for_objects(conn: Connection, object_type: str, object_ids: list[str],
                       kinds: tuple[str, ...]) -> dict[str, StoredDecision]:
    """The newest decision of `kinds` on each of `object_ids` that has one (one query per 500 ids)."""
    out: dict[str, StoredDecision] = {}
    for i in range(0, len(object_ids), 500):
        chunk = object_ids[i:i + 500]
        sql = (f"SELECT {_COLS} FROM decisions WHERE object_type = ? AND object_id IN "
               f"({', '.join('?' for _ in chunk)}) AND kind IN ({', '.join('?' for _ in kinds)}) ORDER BY id")
        for d in fetch_all(conn, StoredDecision, sql, [object_type, *chunk, *kinds], _DECISION, complete=True):
            out[d.object_id] = d  # ascending ids: the last one seen is the newest
    return out


def by_kind(conn: Connection, kind: str) -> list[StoredDecision]:
    return fetch_all(conn, StoredDecision, f"SELECT {_COLS} FROM decisions WHERE kind = ? ORDER BY id", (kind,),
                     _DECISION, complete=True)


def any_of_kind(conn: Connection, object_type: str, kind: str) -> bool:
    """Whether any decision of `kind` on an object of `object_type` exists (decisions_object index)."""
    return conn.execute("SELECT 1 FROM decisions WHERE object_type = ? AND kind = ? LIMIT 1",
                        (object_type, kind)).fetchone() is not None


def count(conn: Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM decisions").fetchone()[0])
