"""Submissions and artifacts repository, with keyset paging for the windowed table (storage/keyset.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Any

from app.model.errors import NotFound
from app.model.markings import Marking
from app.model.submissions import (
    AccessMethod,
    Artifact,
    ComputeEstimate,
    Contact,
    Modality,
    Submission,
    SubmissionStatus,
)
from app.model.workflow import Stage
from storage import keyset
from storage.db import Connection
from storage.keyset import Key, Term
from storage.rows import fetch_all, fetch_one
from storage.workflow_repo import stage_rank_sql, stage_sql

_COLS = (  # named like Submission's fields (storage/rows.py maps them by name)
    "id, developer, model_name, version, modality, access_method, training_flop, compute_estimate, "
    "received, planned_release, status, marking, notes, notes_marking, contacts, created_by, updated_at"
)
SORT_COLUMNS = {
    "id": "o.id",
    "developer": "o.developer COLLATE NOCASE",
    "model": "o.model_name COLLATE NOCASE",
    "version": "o.version COLLATE NOCASE",
    "received": "o.received",
    "release": "o.planned_release",
    "status": stage_rank_sql("o", [st.value for st in Stage]),  # the computed lifecycle stage
    "marking": "o.marking",
}
# Each sort with the id as tie-breaker. Every one but "status" (computed from other tables, so no
# index can hold it) has its index, id included as the rowid (migration 0041).
DEEP_OFFSET = 2_000  # from here a page read by OFFSET sorts instead of walking the sort's index
SORT_KEYS = {name: Key((Term(sql), Term("o.id"))) if name != "id" else Key((Term("o.id"),))
             for name, sql in SORT_COLUMNS.items()}


_SUBMISSION: dict[str, Callable[[Any], Any]] = {
    "id": int, "modality": Modality, "access_method": AccessMethod, "compute_estimate": ComputeEstimate,
    "received": date.fromisoformat, "planned_release": date.fromisoformat, "status": SubmissionStatus,
    "marking": Marking.parse, "notes_marking": Marking.parse,
    "contacts": lambda text: tuple(Contact(**c) for c in json.loads(text)),
}


def _values(s: Submission) -> tuple[Any, ...]:
    return (
        s.developer, s.model_name, s.version, s.modality.value, s.access_method.value, s.training_flop,
        s.compute_estimate.value, s.received.isoformat(), s.planned_release.isoformat(), s.status.value,
        s.marking.banner(), s.notes, s.notes_marking.banner(), json.dumps([asdict(c) for c in s.contacts]),
    )


def insert(conn: Connection, s: Submission, actor: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO submissions (developer, model_name, version, modality, access_method, training_flop, "
        "compute_estimate, received, planned_release, status, marking, notes, notes_marking, contacts, "
        "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*_values(s), actor, now, now),
    )
    return int(cur.lastrowid or 0)


def update(conn: Connection, s: Submission, now: str) -> None:
    assert s.id is not None
    conn.execute(
        "UPDATE submissions SET developer=?, model_name=?, version=?, modality=?, access_method=?, "
        "training_flop=?, compute_estimate=?, received=?, planned_release=?, status=?, marking=?, notes=?, "
        "notes_marking=?, contacts=?, updated_at=? WHERE id=? AND deleted=0",
        (*_values(s), now, s.id),
    )


def get(conn: Connection, submission_id: int) -> Submission:
    r = fetch_one(conn, Submission, f"SELECT {_COLS} FROM submissions WHERE id = ? AND deleted = 0", (submission_id,),
                  _SUBMISSION, complete=True)
    if r is None:
        raise NotFound(f"No submission with id {submission_id}.")
    return r


def many(conn: Connection, submission_ids: list[int]) -> list[Submission]:
    out: list[Submission] = []
    for start in range(0, len(submission_ids), 500):
        chunk = submission_ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        out += fetch_all(conn, Submission, f"SELECT {_COLS} FROM submissions WHERE id IN ({marks})", chunk,
                         _SUBMISSION, complete=True)
    return out


_SIGNED = (*_COLS.replace(" ", "").split(","), "created_at", "deleted")


def signed_fields(conn: Connection, submission_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Every stored column a submission's signature covers, deleted rows included, by id."""
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(submission_ids), 500):
        chunk = submission_ids[start:start + 500]
        cur = conn.execute(f"SELECT {', '.join(_SIGNED)} FROM submissions WHERE id IN ({', '.join('?' * len(chunk))})",
                           chunk)
        for r in cur:
            out[int(r[0])] = dict(zip(_SIGNED, r, strict=True))
    return out


def mark_deleted(conn: Connection, submission_id: int, now: str) -> None:
    conn.execute("UPDATE submissions SET deleted = 1, updated_at = ? WHERE id = ?", (now, submission_id))


def _where(search: str, stage: str | None, open_only: bool) -> tuple[str, list[Any]]:
    """Filters of the windowed table over `submissions o`. `stage` and `open_only` use the lifecycle
    stage computed from the work (not the stored status column)."""
    clauses = ["o.deleted = 0"]
    params: list[Any] = []
    if search:
        like = f"%{search}%"
        clauses.append("(o.developer LIKE ? OR o.model_name LIKE ? OR o.version LIKE ? OR CAST(o.id AS TEXT) = ?)")
        params += [like, like, like, search]
    if stage:
        clauses.append(f"{stage_sql('o')} = ?")
        params.append(stage)
    if open_only:
        clauses.append(f"{stage_sql('o')} NOT IN ('{Stage.RELEASED.value}', '{Stage.WITHDRAWN.value}')")
    return " AND ".join(clauses), params


def count(conn: Connection, search: str = "", stage: str | None = None, open_only: bool = False) -> int:
    where, params = _where(search, stage, open_only)
    return int(conn.execute(f"SELECT count(*) FROM submissions o WHERE {where}", params).fetchone()[0])


def page(conn: Connection, offset: int, limit: int, sort: str = "release", descending: bool = False,
         search: str = "", stage: str | None = None, open_only: bool = False,
         after_id: int | None = None) -> list[Submission]:
    """`limit` rows from `offset` in this order. With `after_id` (the row just before `offset`) and
    from the first row, by key (storage/keyset.py): index seeks, whatever the depth. Else by OFFSET."""
    where, params = _where(search, stage, open_only)
    key = SORT_KEYS.get(sort, SORT_KEYS["release"])
    cols = ", ".join(f"o.{c.strip()}" for c in _COLS.split(","))

    def fetch(sql: str, args: tuple[Any, ...]) -> list[Submission]:
        return fetch_all(conn, Submission, sql, args, _SUBMISSION, complete=True)

    after = None if after_id is None else keyset.key_of(conn, "submissions o", "o.id", key, after_id)
    if after is not None or offset == 0:
        return keyset.read(fetch, f"SELECT {cols} FROM submissions o", where, params, key, descending, after, limit)
    # Walking a sort index to a deep OFFSET reads every skipped row from the table (about 10 s CPU to
    # the end of 100,000 on a loaded machine); a sort of the matching rows costs about 0.5 s there.
    # The id order is the table's own: walking it reads nothing twice (66 ms there, 307 sorted).
    order = key.order_by(descending, sort_all=offset >= DEEP_OFFSET and sort != "id")
    return fetch(f"SELECT {cols} FROM submissions o WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                 (*params, limit, offset))


# -- artifacts ---------------------------------------------------------------------------------

_ART = "id, submission_id, kind, filename, sha256, size, added_by, added_at, marking"


_ARTIFACT: dict[str, Callable[[Any], Any]] = {"id": int, "submission_id": int, "size": int, "marking": Marking.parse}


def add_artifact(conn: Connection, submission_id: int, kind: str, filename: str, sha256: str, size: int,
                 marking: Marking, actor: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO artifacts (submission_id, kind, filename, sha256, size, marking, added_by, added_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (submission_id, kind, filename, sha256, size, marking.banner(), actor, now),
    )
    return int(cur.lastrowid or 0)


def artifacts(conn: Connection, submission_id: int) -> list[Artifact]:
    return fetch_all(conn, Artifact, f"SELECT {_ART} FROM artifacts WHERE submission_id = ? ORDER BY id",
                     (submission_id,), _ARTIFACT, complete=True)


def artifact(conn: Connection, artifact_id: int) -> Artifact:
    r = fetch_one(conn, Artifact, f"SELECT {_ART} FROM artifacts WHERE id = ?", (artifact_id,), _ARTIFACT,
                  complete=True)
    if r is None:
        raise NotFound(f"No artifact with id {artifact_id}.")
    return r
