"""The report narrative of a submission and the lead's comments on its parts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from app.model.markings import Marking
from app.model.narrative import Confidence, KeyJudgment, Narrative, NarrativeComment, StoredNarrative
from storage.db import Connection
from storage.rows import column_names, fetch_all, mapper

PARTS = ("bottom_line", "judgments", "recommendations")
# Columns named like the fields of the app.model types they fill (storage/rows.py maps them by name).
_NARRATIVE_COLS = "bottom_line, bottom_line_marking, judgments, recommendations, recommendations_marking"
_NARRATIVE: dict[str, Callable[[Any], Any]] = {
    "bottom_line_marking": Marking.parse, "recommendations_marking": Marking.parse,
    "judgments": lambda text: tuple(KeyJudgment(j["text"], Confidence(j["confidence"]), Marking.parse(j["marking"]))
                                    for j in json.loads(text)),
}
_COMMENT_COLS = "id, part, action, comment, author, created_at, resolved_by, resolved_at"


def get(conn: Connection, submission_id: int) -> StoredNarrative | None:
    # Who saved it last comes first; the rest of the row is the Narrative, by name.
    cur = conn.execute(f"SELECT updated_by, updated_at, {_NARRATIVE_COLS} FROM report_narratives "
                       "WHERE submission_id = ?", (submission_id,))
    to_narrative = mapper(Narrative, column_names(cur)[2:], _NARRATIVE, complete=True)
    r = cur.fetchone()
    if r is None:
        return None
    updated_by, updated_at, *parts = r
    return StoredNarrative(to_narrative(parts), updated_by, updated_at)


def save(conn: Connection, submission_id: int, n: Narrative, actor: str, now: str) -> None:
    judgments = json.dumps([{"text": j.text, "confidence": j.confidence.value, "marking": j.marking.banner()}
                            for j in n.judgments], ensure_ascii=False)
    conn.execute(
        "INSERT INTO report_narratives (submission_id, bottom_line, bottom_line_marking, judgments, recommendations, "
        "recommendations_marking, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (submission_id) DO UPDATE SET bottom_line = excluded.bottom_line, "
        "bottom_line_marking = excluded.bottom_line_marking, judgments = excluded.judgments, "
        "recommendations = excluded.recommendations, recommendations_marking = excluded.recommendations_marking, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        (submission_id, n.bottom_line, n.bottom_line_marking.banner(), judgments, n.recommendations,
         n.recommendations_marking.banner(), actor, now))


def add_comment(conn: Connection, submission_id: int, part: str, action: str, comment: str, actor: str,
                now: str) -> int:
    cur = conn.execute(
        "INSERT INTO narrative_comments (submission_id, part, action, comment, author, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)", (submission_id, part, action, comment, actor, now))
    return int(cur.lastrowid or 0)


def resolve_returns(conn: Connection, submission_id: int, parts: list[str], actor: str, now: str) -> int:
    if not parts:
        return 0
    marks = ", ".join("?" for _ in parts)
    cur = conn.execute(
        f"UPDATE narrative_comments SET resolved_by = ?, resolved_at = ? WHERE submission_id = ? AND action = 'return' "
        f"AND resolved_at = '' AND part IN ({marks})", (actor, now, submission_id, *parts))
    return int(cur.rowcount or 0)


def comments(conn: Connection, submission_id: int) -> list[NarrativeComment]:
    return fetch_all(conn, NarrativeComment, f"SELECT {_COMMENT_COLS} FROM narrative_comments WHERE submission_id = ? "
                     "ORDER BY id", (submission_id,), {"id": int}, complete=True)
