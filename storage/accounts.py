"""Accounts repository."""

from __future__ import annotations

from typing import Any

from app.model.accounts import Account, Role
from app.model.errors import NotFound, ValidationError
from storage.db import Connection

_COLS = "id, username, display_name, role, disabled, created_at"


def _row(r: Any) -> Account:
    return Account(int(r[0]), r[1], r[2], Role(r[3]), bool(r[4]), r[5])


def insert(conn: Connection, username: str, display_name: str, role: Role, now: str, created_by: str,
           must_change_passphrase: bool = False) -> Account:
    if conn.execute("SELECT 1 FROM accounts WHERE username = ?", (username,)).fetchone():
        raise ValidationError("username", f"an account named {username!r} already exists")
    cur = conn.execute(
        "INSERT INTO accounts (username, display_name, role, created_at, created_by, must_change_passphrase)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (username, display_name, role.value, now, created_by, int(must_change_passphrase)),
    )
    return Account(int(cur.lastrowid or 0), username, display_name, role, False, now)


def get(conn: Connection, username: str) -> Account:
    r = conn.execute(f"SELECT {_COLS} FROM accounts WHERE username = ?", (username,)).fetchone()
    if r is None:
        raise NotFound(f"No account named {username!r}.")
    return _row(r)


def list_all(conn: Connection) -> list[Account]:
    return [_row(r) for r in conn.execute(f"SELECT {_COLS} FROM accounts ORDER BY username")]


def set_disabled(conn: Connection, username: str, disabled: bool) -> None:
    conn.execute("UPDATE accounts SET disabled = ? WHERE username = ?", (int(disabled), username))


def set_role(conn: Connection, username: str, role: Role) -> None:
    conn.execute("UPDATE accounts SET role = ? WHERE username = ?", (role.value, username))


def count_active_admins(conn: Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM accounts WHERE role = 'admin' AND disabled = 0").fetchone()[0])


def must_change_passphrase(conn: Connection, username: str) -> bool:
    row = conn.execute("SELECT must_change_passphrase FROM accounts WHERE username = ?", (username,)).fetchone()
    return bool(row and row[0])


def set_must_change_passphrase(conn: Connection, username: str, value: bool) -> None:
    conn.execute("UPDATE accounts SET must_change_passphrase = ? WHERE username = ?", (int(value), username))
