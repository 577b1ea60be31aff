"""The register of printers: name, accreditation label, location.

Rows prove nothing by themselves: app.services.printers believes a row only while the newest
signed decision on that printer is an administrator's registration of this label and location."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.model.errors import NotFound
from storage.db import Connection

_COLS = "id, name, label, location, registered_by, registered_at"


@dataclass(frozen=True)
class PrinterRow:
    id: int
    name: str
    label: str
    location: str
    registered_by: str
    registered_at: str


def _row(r: Any) -> PrinterRow:
    return PrinterRow(int(r[0]), r[1], r[2], r[3], r[4], r[5])


def insert(conn: Connection, name: str, label: str, location: str, actor: str, now: str) -> PrinterRow:
    cur = conn.execute("INSERT INTO printers (name, label, location, registered_by, registered_at) "
                       "VALUES (?, ?, ?, ?, ?)", (name, label, location, actor, now))
    return PrinterRow(int(cur.lastrowid or 0), name, label, location, actor, now)


def find(conn: Connection, name: str) -> PrinterRow | None:
    r = conn.execute(f"SELECT {_COLS} FROM printers WHERE name = ?", (name,)).fetchone()
    return _row(r) if r else None


def get(conn: Connection, name: str) -> PrinterRow:
    row = find(conn, name)
    if row is None:
        raise NotFound(f"No printer named {name!r} is registered.")
    return row


def all_printers(conn: Connection) -> list[PrinterRow]:
    return [_row(r) for r in conn.execute(f"SELECT {_COLS} FROM printers ORDER BY name COLLATE NOCASE")]


def delete(conn: Connection, name: str) -> None:
    conn.execute("DELETE FROM printers WHERE name = ?", (name,))
