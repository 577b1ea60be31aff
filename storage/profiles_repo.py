"""Imported report profiles: exact bytes, detached signature, which one is in use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.model.errors import NotFound
from app.model.report_profile import StoredProfile
from storage.db import Connection
from storage.rows import fetch_all, fetch_one

_COLS = "id AS pk, profile_id, version, name, sha256, content, signature, signer, imported_by, imported_at, active"


_PROFILE: dict[str, Callable[[Any], Any]] = {
    "pk": int, "version": int, "content": bytes, "signature": bytes, "active": bool,
}


def _one(conn: Connection, where: str, params: tuple[Any, ...] = ()) -> StoredProfile | None:
    return fetch_one(conn, StoredProfile, f"SELECT {_COLS} FROM report_profiles {where}", params, _PROFILE)


def insert(conn: Connection, profile_id: str, version: int, name: str, sha256: str, content: bytes,
           signature: bytes, signer: str, actor: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO report_profiles (profile_id, version, name, sha256, content, signature, signer, imported_by, "
        "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (profile_id, version, name, sha256, content, signature, signer, actor, now))
    return int(cur.lastrowid or 0)


def find(conn: Connection, profile_id: str, version: int) -> StoredProfile | None:
    return _one(conn, "WHERE profile_id = ? AND version = ?", (profile_id, version))


def get(conn: Connection, pk: int) -> StoredProfile:
    profile = _one(conn, "WHERE id = ?", (pk,))
    if profile is None:
        raise NotFound(f"No report profile with id {pk}.")
    return profile


def all_profiles(conn: Connection) -> list[StoredProfile]:
    return fetch_all(conn, StoredProfile, f"SELECT {_COLS} FROM report_profiles ORDER BY profile_id, version", (),
                     _PROFILE)


def active(conn: Connection) -> StoredProfile | None:
    return _one(conn, "WHERE active = 1 ORDER BY id DESC LIMIT 1")


def set_active(conn: Connection, pk: int | None) -> None:
    conn.execute("UPDATE report_profiles SET active = 0 WHERE active = 1")
    if pk is not None:
        conn.execute("UPDATE report_profiles SET active = 1 WHERE id = ?", (pk,))
