"""Findings reports: every built version of a report's PDF and its signing state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.model.errors import NotFound
from storage.db import Connection


@dataclass(frozen=True)
class StoredReport:
    id: int
    submission_id: int
    version: int
    control_number: str
    state: str  # built | signed | countersigned
    marking: str
    title: str
    built_sha256: str
    sha256: str
    audit_head: str
    built_by: str
    built_at: str
    signed_by: str | None
    signed_at: str | None
    countersigned_by: str | None
    countersigned_at: str | None


_COLS = ("id, submission_id, version, control_number, state, marking, title, built_sha256, sha256, audit_head, "
         "built_by, built_at, signed_by, signed_at, countersigned_by, countersigned_at")


def _row(r: Any) -> StoredReport:
    return StoredReport(int(r[0]), int(r[1]), int(r[2]), *r[3:])


def next_version(conn: Connection, submission_id: int) -> int:
    r = conn.execute("SELECT COALESCE(MAX(version), 0) FROM reports WHERE submission_id = ?",
                     (submission_id,)).fetchone()
    return int(r[0]) + 1


def insert(conn: Connection, submission_id: int, version: int, control_number: str, marking: str, title: str,
           pdf: bytes, sha256: str, audit_head: str, actor: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO reports (submission_id, version, control_number, state, marking, title, built_sha256, sha256, "
        "pdf, audit_head, built_by, built_at) VALUES (?, ?, ?, 'built', ?, ?, ?, ?, ?, ?, ?, ?)",
        (submission_id, version, control_number, marking, title, sha256, sha256, pdf, audit_head, actor, now),
    )
    return int(cur.lastrowid or 0)


def get(conn: Connection, report_id: int) -> StoredReport:
    r = conn.execute(f"SELECT {_COLS} FROM reports WHERE id = ?", (report_id,)).fetchone()
    if r is None:
        raise NotFound(f"No report with id {report_id}.")
    return _row(r)


def pdf(conn: Connection, report_id: int) -> bytes:
    r = conn.execute("SELECT pdf FROM reports WHERE id = ?", (report_id,)).fetchone()
    if r is None:
        raise NotFound(f"No report with id {report_id}.")
    return bytes(r[0])


def for_submission(conn: Connection, submission_id: int) -> list[StoredReport]:
    return [_row(r) for r in conn.execute(
        f"SELECT {_COLS} FROM reports WHERE submission_id = ? ORDER BY version DESC", (submission_id,))]


def latest(conn: Connection, limit: int = 200) -> list[StoredReport]:
    return [_row(r) for r in conn.execute(f"SELECT {_COLS} FROM reports ORDER BY id DESC LIMIT ?", (limit,))]


def record_signature(conn: Connection, report_id: int, pdf_bytes: bytes, sha256: str, actor: str, now: str,
                     countersign: bool) -> None:
    """Replace the PDF by its signed version (an incremental update keeps the earlier bytes inside)."""
    if countersign:
        conn.execute(
            "UPDATE reports SET pdf = ?, sha256 = ?, state = 'countersigned', countersigned_by = ?, "
            "countersigned_at = ? WHERE id = ?", (pdf_bytes, sha256, actor, now, report_id))
    else:
        conn.execute(
            "UPDATE reports SET pdf = ?, sha256 = ?, state = 'signed', signed_by = ?, signed_at = ? WHERE id = ?",
            (pdf_bytes, sha256, actor, now, report_id))
