"""Who received which CSAF advisory revision (csaf_recipients, append-only; migration 0026)."""

from __future__ import annotations

from datetime import date

from app.model.csaf_recipients import RecipientRow
from storage.db import Connection

_COLS = ("id, vuln_id, tracking_id, version, recipient, partner_id, tlp, marking, embargo_until, media_marking, "
         "destination, file, sha256, manifest_sha256, override_reason, override_by, decision_id, exported_by, "
         "exported_at")


def insert(conn: Connection, row: RecipientRow) -> int:
    values = (row.vuln_id, row.tracking_id, row.version, row.recipient, row.partner_id, row.tlp, row.marking,
              row.embargo_until.isoformat() if row.embargo_until else None, row.media_marking, row.destination,
              row.file, row.sha256, row.manifest_sha256, row.override_reason, row.override_by, row.decision_id,
              row.exported_by, row.exported_at)
    cur = conn.execute(f"INSERT INTO csaf_recipients ({_COLS.removeprefix('id, ')}) VALUES "
                       f"({', '.join('?' for _ in values)})", values)
    return int(cur.lastrowid or 0)


def for_vuln(conn: Connection, vuln_id: str) -> list[RecipientRow]:
    rows = conn.execute(f"SELECT {_COLS} FROM csaf_recipients WHERE vuln_id = ? ORDER BY version, id",
                        (vuln_id,)).fetchall()
    return [RecipientRow(int(r[0]), r[1], r[2], int(r[3]), r[4], r[5], r[6], r[7],
                         date.fromisoformat(r[8]) if r[8] else None, r[9], r[10], r[11], r[12], r[13], r[14], r[15],
                         int(r[16]), r[17], r[18])
            for r in rows]
