"""Findings reports: every built version of a report's PDF and its signing state."""

from __future__ import annotations

import json
from typing import Any

from app.model.errors import NotFound, ValidationError
from app.model.report_version import StoredReport
from storage.db import Connection
from storage.rows import fetch_all, fetch_one

_COLS = ("id, submission_id, version, control_number, state, marking, title, built_sha256, sha256, audit_head, "
         "built_by, built_at, signed_by, signed_at, countersigned_by, countersigned_at")


def next_version(conn: Connection, submission_id: int) -> int:
    r = conn.execute("SELECT COALESCE(MAX(version), 0) FROM reports WHERE submission_id = ?",
                     (submission_id,)).fetchone()
    return int(r[0]) + 1


def insert(conn: Connection, submission_id: int, version: int, control_number: str, marking: str, title: str,
           pdf: bytes, sha256: str, audit_head: str, actor: str, now: str,
           signature_layout: dict[str, Any] | None = None, oscal_json: bytes = b"",
           findings_json: bytes = b"") -> int:
    if conn.execute("SELECT 1 FROM reports WHERE control_number = ?", (control_number,)).fetchone():
        raise ValidationError("control number", f"{control_number} is already used by another report")
    cur = conn.execute(
        "INSERT INTO reports (submission_id, version, control_number, state, marking, title, built_sha256, sha256, "
        "pdf, signature_layout, oscal_json, findings_json, audit_head, built_by, built_at) "
        "VALUES (?, ?, ?, 'built', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (submission_id, version, control_number, marking, title, sha256, sha256, pdf,
         json.dumps(signature_layout or {}, sort_keys=True), oscal_json, findings_json, audit_head, actor, now),
    )
    return int(cur.lastrowid or 0)


def companions(conn: Connection, report_id: int) -> tuple[bytes, bytes]:
    """(OSCAL assessment results, findings JSON) made from the same input as the PDF, at build time."""
    r = conn.execute("SELECT oscal_json, findings_json FROM reports WHERE id = ?", (report_id,)).fetchone()
    if r is None:
        raise NotFound(f"No report with id {report_id}.")
    return bytes(r[0]), bytes(r[1])


def signature_layout(conn: Connection, report_id: int) -> dict[str, Any]:
    """{"page": n, "boxes": {field: [x1, y1, x2, y2]}} recorded when the PDF was laid out."""
    r = conn.execute("SELECT signature_layout FROM reports WHERE id = ?", (report_id,)).fetchone()
    if r is None:
        raise NotFound(f"No report with id {report_id}.")
    return dict(json.loads(r[0] or "{}"))


def get(conn: Connection, report_id: int) -> StoredReport:
    r = fetch_one(conn, StoredReport, f"SELECT {_COLS} FROM reports WHERE id = ?", (report_id,))
    if r is None:
        raise NotFound(f"No report with id {report_id}.")
    return r


def pdf(conn: Connection, report_id: int) -> bytes:
    r = conn.execute("SELECT pdf FROM reports WHERE id = ?", (report_id,)).fetchone()
    if r is None:
        raise NotFound(f"No report with id {report_id}.")
    return bytes(r[0])


def for_submission(conn: Connection, submission_id: int) -> list[StoredReport]:
    return fetch_all(conn, StoredReport, f"SELECT {_COLS} FROM reports WHERE submission_id = ? ORDER BY version DESC",
                     (submission_id,))


def latest(conn: Connection, limit: int = 200) -> list[StoredReport]:
    return fetch_all(conn, StoredReport, f"SELECT {_COLS} FROM reports ORDER BY id DESC LIMIT ?", (limit,))


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
