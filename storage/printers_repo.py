"""The register of printers: name, accreditation label, location.

Rows prove nothing by themselves: app.services.printers believes a row only while the newest
signed decision on that printer is an administrator's registration of this label and location."""

from __future__ import annotations

from app.model.errors import NotFound
from app.model.printer_record import PrinterRow
from storage.db import Connection
from storage.rows import fetch_all, fetch_one

_COLS = "id, name, label, location, registered_by, registered_at"  # PrinterRow's fields (storage/rows.py)


def insert(conn: Connection, name: str, label: str, location: str, actor: str, now: str) -> PrinterRow:
    cur = conn.execute("INSERT INTO printers (name, label, location, registered_by, registered_at) "
                       "VALUES (?, ?, ?, ?, ?)", (name, label, location, actor, now))
    return PrinterRow(int(cur.lastrowid or 0), name, label, location, actor, now)


def find(conn: Connection, name: str) -> PrinterRow | None:
    return fetch_one(conn, PrinterRow, f"SELECT {_COLS} FROM printers WHERE name = ?", (name,), {"id": int},
                     complete=True)


def get(conn: Connection, name: str) -> PrinterRow:
    row = find(conn, name)
    if row is None:
        raise NotFound(f"No printer named {name!r} is registered.")
    return row


def all_printers(conn: Connection) -> list[PrinterRow]:
    return fetch_all(conn, PrinterRow, f"SELECT {_COLS} FROM printers ORDER BY name COLLATE NOCASE", (),
                     {"id": int}, complete=True)


def delete(conn: Connection, name: str) -> None:
    conn.execute("DELETE FROM printers WHERE name = ?", (name,))
