"""Review workflow storage: the facts the lifecycle is computed from, releases, assignments,
discussion threads and item-by-item approvals (migration 0009)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from app.model.approval import ItemApproval
from app.model.assignment import Assignment
from app.model.discussion import Comment
from app.model.errors import NotFound
from app.model.markings import Marking
from app.model.workflow import StageFacts
from storage.db import Connection
from storage.rows import column_names, fetch_all, fetch_one, mapper

# The latest report of each submission (highest version) and whether it was exported; columns
# named like StageFacts' fields (storage/rows.py maps them by name).
_FACTS = """
SELECT s.id AS submission_id, s.status,
       EXISTS (SELECT 1 FROM eval_runs r WHERE r.submission_id = s.id) AS has_results,
       a.state AS assessment_state, a.submitted_by,
       d.recorded_by AS determination_recorded_by, d.approved_by AS determination_approved_by,
       rp.state AS report_state, rp.control_number AS report_label, rp.signed_by AS report_signed_by,
       EXISTS (SELECT 1 FROM report_releases x WHERE x.report_id = rp.id) AS released
FROM submissions s
LEFT JOIN assessments a ON a.submission_id = s.id
LEFT JOIN coverage_determinations d ON d.id = (
    SELECT id FROM coverage_determinations WHERE submission_id = s.id AND superseded_at IS NULL
    ORDER BY id DESC LIMIT 1)
LEFT JOIN reports rp ON rp.id = (
    SELECT id FROM reports WHERE submission_id = s.id ORDER BY version DESC LIMIT 1)
WHERE s.deleted = 0
"""


# The lifecycle stage in SQL, for filtering and sorting the windowed submissions table without
# reading every row: the same rules as app.model.workflow.stage (tests hold the two together).
# `{outer}` is the alias of the submissions row in the enclosing query.
_STAGE_OF = """(SELECT CASE
    WHEN s.status = 'withdrawn' THEN 'withdrawn'
    WHEN a.state = 'approved' THEN CASE
        WHEN EXISTS (SELECT 1 FROM report_releases x WHERE x.report_id = rp.id) THEN 'released'
        WHEN rp.state IN ('signed', 'countersigned') THEN 'signed'
        ELSE 'approved' END
    WHEN a.state = 'submitted' THEN 'findings drafted'
    WHEN d.recorded_by IS NOT NULL AND d.recorded_by != '' THEN 'determination'
    WHEN a.state IS NOT NULL OR EXISTS (SELECT 1 FROM eval_runs r WHERE r.submission_id = s.id) THEN 'in review'
    ELSE 'received' END
FROM submissions s
LEFT JOIN assessments a ON a.submission_id = s.id
LEFT JOIN coverage_determinations d ON d.id = (
    SELECT id FROM coverage_determinations WHERE submission_id = s.id AND superseded_at IS NULL
    ORDER BY id DESC LIMIT 1)
LEFT JOIN reports rp ON rp.id = (
    SELECT id FROM reports WHERE submission_id = s.id ORDER BY version DESC LIMIT 1)
WHERE s.id = {outer}.id)"""


def stage_sql(outer: str) -> str:
    """A scalar SQL expression: the lifecycle stage value ('in review', 'released', ...) of the
    submissions row aliased `outer` in the enclosing query."""
    return _STAGE_OF.format(outer=outer)


def stage_rank_sql(outer: str, stages: list[str]) -> str:
    """A scalar SQL expression ordering by position along the journey (`stages` in order)."""
    whens = " ".join(f"WHEN '{v}' THEN {i}" for i, v in enumerate(stages))
    return f"(CASE {stage_sql(outer)} {whens} ELSE {len(stages)} END)"


_FACT: dict[str, Callable[[Any], Any]] = {
    "submission_id": int, "has_results": bool, "report_label": lambda v: v or "", "released": bool,
}


def _facts(conn: Connection, sql: str, params: Iterable[Any] = ()) -> dict[int, StageFacts]:
    cur = conn.execute(sql, tuple(params))
    to_facts = mapper(StageFacts, column_names(cur), _FACT, complete=True)
    return {f.submission_id: f for f in map(to_facts, cur)}


def stage_facts(conn: Connection, submission_ids: Iterable[int] | None = None) -> dict[int, StageFacts]:
    if submission_ids is None:
        return _facts(conn, _FACTS)
    ids = list(submission_ids)
    out: dict[int, StageFacts] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        out.update(_facts(conn, _FACTS + f" AND s.id IN ({marks})", chunk))
    return out


# -- releases ----------------------------------------------------------------------------------


def record_release(conn: Connection, report_id: int, submission_id: int, destination: str, media: str, actor: str,
                   now: str) -> None:
    conn.execute("INSERT INTO report_releases (report_id, submission_id, destination, media, released_by, "
                 "released_at) VALUES (?, ?, ?, ?, ?, ?)", (report_id, submission_id, destination, media, actor, now))


# -- assignments -------------------------------------------------------------------------------


_A_COLS = "id, submission_id, username, section_id, assigned_by, assigned_at"  # Assignment's fields
_ASSIGNMENT: dict[str, Callable[[Any], Any]] = {"id": int, "submission_id": int}


def add_assignment(conn: Connection, submission_id: int, username: str, section_id: str, actor: str,
                   now: str) -> int:
    cur = conn.execute("INSERT INTO assignments (submission_id, username, section_id, assigned_by, assigned_at) "
                       "VALUES (?, ?, ?, ?, ?)", (submission_id, username, section_id, actor, now))
    return int(cur.lastrowid or 0)


def remove_assignment(conn: Connection, assignment_id: int, actor: str, now: str) -> Assignment:
    r = fetch_one(conn, Assignment, f"SELECT {_A_COLS} FROM assignments WHERE id = ? AND removed_at IS NULL",
                  (assignment_id,), _ASSIGNMENT, complete=True)
    if r is None:
        raise NotFound(f"No current assignment with id {assignment_id}.")
    conn.execute("UPDATE assignments SET removed_by = ?, removed_at = ? WHERE id = ?", (actor, now, assignment_id))
    return r


def assignments(conn: Connection, submission_id: int) -> list[Assignment]:
    return fetch_all(conn, Assignment,
                     f"SELECT {_A_COLS} FROM assignments WHERE submission_id = ? AND removed_at IS NULL ORDER BY id",
                     (submission_id,), _ASSIGNMENT, complete=True)


def assigned_submissions(conn: Connection, username: str) -> list[int]:
    return [int(sid) for (sid,) in conn.execute(
        "SELECT DISTINCT a.submission_id FROM assignments a JOIN submissions s ON s.id = a.submission_id "
        "WHERE a.username = ? AND a.removed_at IS NULL AND s.deleted = 0 ORDER BY a.submission_id", (username,))]


# -- discussion --------------------------------------------------------------------------------


_C_COLS = "id, submission_id, target_type, target_id, body, marking, author, created_at"  # Comment's fields
_COMMENT: dict[str, Callable[[Any], Any]] = {
    "id": int, "submission_id": lambda v: None if v is None else int(v), "marking": Marking.parse,
}


def add_comment(conn: Connection, submission_id: int | None, target_type: str, target_id: str, body: str,
                marking: Marking, actor: str, now: str) -> int:
    cur = conn.execute("INSERT INTO discussion (submission_id, target_type, target_id, body, marking, author, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (submission_id, target_type, target_id, body, marking.banner(), actor, now))
    return int(cur.lastrowid or 0)


def thread(conn: Connection, target_type: str, target_id: str) -> list[Comment]:
    return fetch_all(conn, Comment, f"SELECT {_C_COLS} FROM discussion WHERE target_type = ? AND target_id = ? "
                     "ORDER BY id", (target_type, target_id), _COMMENT, complete=True)


def submission_comments(conn: Connection, submission_id: int) -> list[Comment]:
    return fetch_all(conn, Comment, f"SELECT {_C_COLS} FROM discussion WHERE submission_id = ? ORDER BY id",
                     (submission_id,), _COMMENT, complete=True)


def comment_counts(conn: Connection, target_type: str, target_ids: list[str]) -> dict[str, int]:
    if not target_ids:
        return {}
    marks = ", ".join("?" * len(target_ids))
    return {target: int(n) for target, n in conn.execute(
        f"SELECT target_id, count(*) FROM discussion WHERE target_type = ? AND target_id IN ({marks}) "
        "GROUP BY target_id", (target_type, *target_ids))}


# -- item-by-item approval ---------------------------------------------------------------------


def approve_item(conn: Connection, assessment_id: int, item_id: str, answer_digest: str, actor: str,
                 now: str) -> None:
    conn.execute("INSERT OR REPLACE INTO item_approvals (assessment_id, item_id, answer_digest, approved_by, "
                 "approved_at) VALUES (?, ?, ?, ?, ?)", (assessment_id, item_id, answer_digest, actor, now))


def item_approvals(conn: Connection, assessment_id: int) -> dict[str, ItemApproval]:
    """item id -> its approval (pinned to the digest of the answer approved)."""
    return {a.item_id: a for a in fetch_all(
        conn, ItemApproval, "SELECT item_id, answer_digest, approved_by, approved_at FROM item_approvals "
        "WHERE assessment_id = ?", (assessment_id,), complete=True)}
