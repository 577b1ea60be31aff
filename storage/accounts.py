"""Accounts repository."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.model.accounts import Account, Role
from app.model.errors import NotFound, ValidationError
from storage.db import Connection
from storage.rows import fetch_all, fetch_one

_COLS = "id, username, display_name, role, disabled, created_at"


_ACCOUNT: dict[str, Callable[[Any], Any]] = {"id": int, "role": Role, "disabled": bool}


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
    account = fetch_one(conn, Account, f"SELECT {_COLS} FROM accounts WHERE username = ?", (username,), _ACCOUNT)
    if account is None:
        raise NotFound(f"No account named {username!r}.")
    return account


def list_all(conn: Connection) -> list[Account]:
    return fetch_all(conn, Account, f"SELECT {_COLS} FROM accounts ORDER BY username", (), _ACCOUNT)


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
