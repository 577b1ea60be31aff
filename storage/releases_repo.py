"""Releasable versions of findings reports (migration 0025): one row per build for one partner."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from app.model.errors import NotFound
from app.model.release_record import StoredRelease
from storage.db import Connection
from storage.rows import fetch_all, fetch_one

_COLS = (  # named like StoredRelease's fields (storage/rows.py maps them by name)
    "id, submission_id, partner_id, partner_name, own, control_number, state, marking, title, full_sha256, "
    "withheld, built_sha256, sha256, built_by, built_at, approved_by, approved_at, exported_by, exported_at, "
    "export_path, manifest_sha256, media_label, dissemination_id"
)


_RELEASE: dict[str, Callable[[Any], Any]] = {
    "id": int, "submission_id": int, "partner_id": int, "own": bool,
    "withheld": lambda text: dict(json.loads(text or "{}")),
    "dissemination_id": lambda v: int(v) if v is not None else None,
}


def count_for_submission(conn: Connection, submission_id: int) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM releases WHERE submission_id = ?", (submission_id,)).fetchone()[0])


def insert(conn: Connection, *, submission_id: int, partner_id: int, partner_name: str, own: bool,
           control_number: str, marking: str, title: str, full_sha256: str, full_json: bytes, full_text: str,
           released_text: str, withheld: dict[str, Any], pdf: bytes, sha256: str, findings_json: bytes,
           signature_layout: dict[str, Any], actor: str, now: str, oscal_json: bytes | None = None) -> int:
    cur = conn.execute(
        "INSERT INTO releases (submission_id, partner_id, partner_name, own, control_number, state, marking, title, "
        "full_sha256, full_json, full_text, released_text, withheld, built_sha256, sha256, pdf, findings_json, "
        "signature_layout, built_by, built_at, oscal_json) "
        "VALUES (?, ?, ?, ?, ?, 'built', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (submission_id, partner_id, partner_name, int(own), control_number, marking, title, full_sha256, full_json,
         full_text, released_text, json.dumps(withheld, sort_keys=True), sha256, sha256, pdf, findings_json,
         json.dumps(signature_layout, sort_keys=True), actor, now, oscal_json))
    return int(cur.lastrowid or 0)


def get(conn: Connection, release_id: int) -> StoredRelease:
    r = fetch_one(conn, StoredRelease, f"SELECT {_COLS} FROM releases WHERE id = ?", (release_id,), _RELEASE,
                  complete=True)
    if r is None:
        raise NotFound(f"No release with id {release_id}.")
    return r


def listing(conn: Connection, submission_id: int | None = None) -> list[StoredRelease]:
    where, args = ("WHERE submission_id = ?", (submission_id,)) if submission_id is not None else ("", ())
    return fetch_all(conn, StoredRelease, f"SELECT {_COLS} FROM releases {where} ORDER BY id", args, _RELEASE,
                     complete=True)


def blob(conn: Connection, release_id: int, column: str) -> bytes:
    if column not in ("pdf", "findings_json", "full_json"):
        raise ValueError(column)
    r = conn.execute(f"SELECT {column} FROM releases WHERE id = ?", (release_id,)).fetchone()
    if r is None:
        raise NotFound(f"No release with id {release_id}.")
    return bytes(r[0])


def oscal(conn: Connection, release_id: int) -> bytes | None:
    """The release's OSCAL assessment results; None for a release built before schema 34."""
    r = conn.execute("SELECT oscal_json FROM releases WHERE id = ?", (release_id,)).fetchone()
    if r is None:
        raise NotFound(f"No release with id {release_id}.")
    return bytes(r[0]) if r[0] is not None else None


def texts(conn: Connection, release_id: int) -> tuple[str, str]:
    """(full_text, released_text) JSON for the side-by-side."""
    r = conn.execute("SELECT full_text, released_text FROM releases WHERE id = ?", (release_id,)).fetchone()
    if r is None:
        raise NotFound(f"No release with id {release_id}.")
    full_text, released_text = r
    return str(full_text), str(released_text)


def signature_layout(conn: Connection, release_id: int) -> dict[str, Any]:
    r = conn.execute("SELECT signature_layout FROM releases WHERE id = ?", (release_id,)).fetchone()
    if r is None:
        raise NotFound(f"No release with id {release_id}.")
    return dict(json.loads(r[0] or "{}"))


def record_approval(conn: Connection, release_id: int, pdf: bytes, sha256: str, actor: str, now: str) -> None:
    conn.execute("UPDATE releases SET state = 'approved', pdf = ?, sha256 = ?, approved_by = ?, approved_at = ? "
                 "WHERE id = ?", (pdf, sha256, actor, now, release_id))


def record_export(conn: Connection, release_id: int, path: str, manifest_sha256: str, media_label: str,
                  dissemination_id: int | None, actor: str, now: str) -> None:
    conn.execute("UPDATE releases SET state = 'exported', export_path = ?, manifest_sha256 = ?, media_label = ?, "
                 "dissemination_id = ?, exported_by = ?, exported_at = ? WHERE id = ?",
                 (path, manifest_sha256, media_label, dissemination_id, actor, now, release_id))


def previous_export(conn: Connection, submission_id: int, partner_id: int, before: int) -> int | None:
    """The dissemination entry of the latest earlier release of this submission to this partner."""
    r = conn.execute("SELECT dissemination_id FROM releases WHERE submission_id = ? AND partner_id = ? AND id < ? "
                     "AND dissemination_id IS NOT NULL ORDER BY id DESC LIMIT 1",
                     (submission_id, partner_id, before)).fetchone()
    return int(r[0]) if r else None
