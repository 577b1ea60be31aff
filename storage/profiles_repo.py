"""Imported report profiles: exact bytes, detached signature, which one is in use."""

from __future__ import annotations

from typing import Any

from app.model.errors import NotFound
from app.model.report_profile import StoredProfile
from storage.db import Connection

_COLS = "id, profile_id, version, name, sha256, content, signature, signer, imported_by, imported_at, active"


def _row(r: Any) -> StoredProfile:
    return StoredProfile(int(r[0]), r[1], int(r[2]), r[3], r[4], bytes(r[5]), bytes(r[6]), r[7], r[8], r[9],
                         bool(r[10]))


def insert(conn: Connection, profile_id: str, version: int, name: str, sha256: str, content: bytes,
           signature: bytes, signer: str, actor: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO report_profiles (profile_id, version, name, sha256, content, signature, signer, imported_by, "
        "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (profile_id, version, name, sha256, content, signature, signer, actor, now))
    return int(cur.lastrowid or 0)


def find(conn: Connection, profile_id: str, version: int) -> StoredProfile | None:
    r = conn.execute(f"SELECT {_COLS} FROM report_profiles WHERE profile_id = ? AND version = ?",
                     (profile_id, version)).fetchone()
    return _row(r) if r else None


def get(conn: Connection, pk: int) -> StoredProfile:
    r = conn.execute(f"SELECT {_COLS} FROM report_profiles WHERE id = ?", (pk,)).fetchone()
    if r is None:
        raise NotFound(f"No report profile with id {pk}.")
    return _row(r)


def all_profiles(conn: Connection) -> list[StoredProfile]:
    return [_row(r) for r in conn.execute(f"SELECT {_COLS} FROM report_profiles ORDER BY profile_id, version")]


def active(conn: Connection) -> StoredProfile | None:
    r = conn.execute(f"SELECT {_COLS} FROM report_profiles WHERE active = 1 ORDER BY id DESC LIMIT 1").fetchone()
    return _row(r) if r else None


def set_active(conn: Connection, pk: int | None) -> None:
    conn.execute("UPDATE report_profiles SET active = 0 WHERE active = 1")
    if pk is not None:
        conn.execute("UPDATE report_profiles SET active = 1 WHERE id = ?", (pk,))
