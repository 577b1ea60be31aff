"""Who received which CSAF advisory revision (csaf_recipients, append-only; migration 0026)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from app.model.csaf_recipients import RecipientRow
from storage.db import Connection
from storage.rows import fetch_all

_COLS = (  # RecipientRow's fields, in the order insert() writes them after the id (storage/rows.py)
    "id, vuln_id, tracking_id, version, recipient, partner_id, tlp, marking, embargo_until, media_marking, "
    "destination, file, sha256, manifest_sha256, override_reason, override_by, decision_id, exported_by, "
    "exported_at"
)


_RECIPIENT: dict[str, Callable[[Any], Any]] = {
    "id": int, "version": int, "embargo_until": lambda text: date.fromisoformat(text) if text else None,
    "decision_id": int,
}


def insert(conn: Connection, row: RecipientRow) -> int:
    values = (row.vuln_id, row.tracking_id, row.version, row.recipient, row.partner_id, row.tlp, row.marking,
              row.embargo_until.isoformat() if row.embargo_until else None, row.media_marking, row.destination,
              row.file, row.sha256, row.manifest_sha256, row.override_reason, row.override_by, row.decision_id,
              row.exported_by, row.exported_at)
    cur = conn.execute(f"INSERT INTO csaf_recipients ({_COLS.removeprefix('id, ')}) VALUES "
                       f"({', '.join('?' for _ in values)})", values)
    return int(cur.lastrowid or 0)


def for_vuln(conn: Connection, vuln_id: str) -> list[RecipientRow]:
    return fetch_all(conn, RecipientRow, f"SELECT {_COLS} FROM csaf_recipients WHERE vuln_id = ? ORDER BY version, id",
                     (vuln_id,), _RECIPIENT, complete=True)
