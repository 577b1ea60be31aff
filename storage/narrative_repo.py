"""The report narrative of a submission and the lead's comments on its parts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.model.markings import Marking
from app.model.narrative import Confidence, KeyJudgment, Narrative, NarrativeComment
from storage.db import Connection

PARTS = ("bottom_line", "judgments", "recommendations")


@dataclass(frozen=True)
class StoredNarrative:
    narrative: Narrative
    updated_by: str
    updated_at: str


def get(conn: Connection, submission_id: int) -> StoredNarrative | None:
    r = conn.execute(
        "SELECT bottom_line, bottom_line_marking, judgments, recommendations, recommendations_marking, updated_by, "
        "updated_at FROM report_narratives WHERE submission_id = ?", (submission_id,)).fetchone()
    if r is None:
        return None
    judgments = tuple(KeyJudgment(j["text"], Confidence(j["confidence"]), Marking.parse(j["marking"]))
                      for j in json.loads(r[2]))
    return StoredNarrative(Narrative(r[0], Marking.parse(r[1]), judgments, r[3], Marking.parse(r[4])), r[5], r[6])


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
    rows = conn.execute(
        "SELECT id, part, action, comment, author, created_at, resolved_by, resolved_at FROM narrative_comments "
        "WHERE submission_id = ? ORDER BY id", (submission_id,)).fetchall()
    return [NarrativeComment(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]
