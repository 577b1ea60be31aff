"""PKI repository: the workstation CA, per-account signing identities, trusted roots.

Keys and certificates are stored as DER bytes; parsing them is the service's job (storage
imports only app.model). Workstation identities no longer hold private keys: each person's key lives in
personal_keys, wrapped under their own passphrase (key_der remains only for PKCS#12 imports made
before schema 6 until their owner's next sign-in, and is then cleared).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.model.errors import NotFound, ValidationError
from app.model.trusted_root import StoredRoot
from storage.db import Connection
from storage.rows import fetch_all, fetch_one


@dataclass(frozen=True)
class StoredCA:
    subject: str
    fingerprint: str
    cert_der: bytes
    key_der: bytes
    created_at: str


@dataclass(frozen=True)
class StoredIdentity:
    id: int
    username: str
    source: str  # workstation | pkcs12 | pkcs11
    subject: str
    fingerprint: str
    not_after: str
    cert_der: bytes
    chain_pem: bytes
    key_der: bytes | None
    token_module: str
    token_label: str
    key_label: str
    active: bool
    created_at: str
    created_by: str
    legacy_key: bool  # its private key once lived under the shared data key


# -- CA ----------------------------------------------------------------------------------------


_CA_COLS = "subject, fingerprint, cert_der, key_der, created_at"
_CA: dict[str, Callable[[Any], Any]] = {"cert_der": bytes, "key_der": bytes}


def get_ca(conn: Connection) -> StoredCA | None:
    return fetch_one(conn, StoredCA, f"SELECT {_CA_COLS} FROM pki_ca WHERE id = 1", (), _CA)


def insert_ca(conn: Connection, ca: StoredCA) -> None:
    if get_ca(conn) is not None:
        raise ValidationError("workstation CA", "already exists; a workstation has exactly one CA")
    conn.execute(
        "INSERT INTO pki_ca (id, subject, fingerprint, cert_der, key_der, created_at) VALUES (1, ?, ?, ?, ?, ?)",
        (ca.subject, ca.fingerprint, ca.cert_der, ca.key_der, ca.created_at),
    )


# -- signing identities ------------------------------------------------------------------------

_ID_COLS = ("id, username, source, subject, fingerprint, not_after, cert_der, chain_pem, key_der, token_module, "
            "token_label, key_label, active, created_at, created_by, legacy_key")


_IDENTITY: dict[str, Callable[[Any], Any]] = {
    "id": int, "cert_der": bytes, "chain_pem": lambda v: bytes(v or b""),
    "key_der": lambda v: None if v is None else bytes(v), "active": bool, "legacy_key": bool,
}


def add_identity(conn: Connection, username: str, source: str, subject: str, fingerprint: str, not_after: str,
                 cert_der: bytes, chain_pem: bytes, key_der: bytes | None, now: str, actor: str,
                 token_module: str = "", token_label: str = "", key_label: str = "") -> int:
    """Store a new identity and make it the account's only active one (older ones stay for history)."""
    conn.execute("UPDATE signing_identities SET active = 0 WHERE username = ?", (username,))
    cur = conn.execute(
        "INSERT INTO signing_identities (username, source, subject, fingerprint, not_after, cert_der, chain_pem, "
        "key_der, token_module, token_label, key_label, active, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (username, source, subject, fingerprint, not_after, cert_der, chain_pem, key_der, token_module, token_label,
         key_label, now, actor),
    )
    return int(cur.lastrowid or 0)


def active_identity(conn: Connection, username: str) -> StoredIdentity | None:
    return fetch_one(conn, StoredIdentity, f"SELECT {_ID_COLS} FROM signing_identities WHERE username = ? AND "
                     "active = 1 ORDER BY id DESC LIMIT 1", (username,), _IDENTITY)


def identities(conn: Connection, username: str | None = None) -> list[StoredIdentity]:
    if username:
        return fetch_all(conn, StoredIdentity, f"SELECT {_ID_COLS} FROM signing_identities WHERE username = ? "
                         "ORDER BY id", (username,), _IDENTITY)
    return fetch_all(conn, StoredIdentity, f"SELECT {_ID_COLS} FROM signing_identities ORDER BY id", (), _IDENTITY)


def all_identity_certs(conn: Connection) -> list[bytes]:
    """Every certificate ever issued or imported here (to recognise earlier signatures)."""
    return [bytes(r[0]) for r in conn.execute("SELECT cert_der FROM signing_identities ORDER BY id")]


# -- trusted roots -----------------------------------------------------------------------------

_ROOT_COLS = "id, fingerprint, subject, origin, cert_der, added_by, added_at, removed_at"


_ROOT: dict[str, Callable[[Any], Any]] = {"id": int, "cert_der": bytes}


def add_root(conn: Connection, fingerprint: str, subject: str, origin: str, cert_der: bytes, actor: str,
             now: str) -> int:
    existing = conn.execute("SELECT id, removed_at FROM trusted_roots WHERE fingerprint = ?",
                            (fingerprint,)).fetchone()
    if existing is not None:
        if existing[1] is None:
            raise ValidationError("certificate", f"{subject} is already a trusted root")
        conn.execute("UPDATE trusted_roots SET removed_at = NULL, added_by = ?, added_at = ? WHERE id = ?",
                     (actor, now, existing[0]))
        return int(existing[0])
    cur = conn.execute(
        "INSERT INTO trusted_roots (fingerprint, subject, origin, cert_der, added_by, added_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (fingerprint, subject, origin, cert_der, actor, now),
    )
    return int(cur.lastrowid or 0)


def roots(conn: Connection, include_removed: bool = False) -> list[StoredRoot]:
    where = "" if include_removed else "WHERE removed_at IS NULL"
    return fetch_all(conn, StoredRoot, f"SELECT {_ROOT_COLS} FROM trusted_roots {where} ORDER BY id", (), _ROOT)


def remove_root(conn: Connection, fingerprint: str, now: str) -> StoredRoot:
    root = fetch_one(conn, StoredRoot, f"SELECT {_ROOT_COLS} FROM trusted_roots WHERE fingerprint = ? AND "
                     "removed_at IS NULL", (fingerprint,), _ROOT)
    if root is None:
        raise NotFound(f"No trusted root with fingerprint {fingerprint[:16]}…")
    if root.origin == "workstation":
        raise ValidationError("certificate", "the workstation's own CA cannot be removed from the trusted roots")
    conn.execute("UPDATE trusted_roots SET removed_at = ? WHERE id = ?", (now, root.id))
    return root


# -- revocation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revocation:
    fingerprint: str
    serial: str
    username: str
    revoked_at: str
    reason: str
    revoked_by: str


_REVOCATION_COLS = "fingerprint, serial, username, revoked_at, reason, revoked_by"


def add_revocation(conn: Connection, rev: Revocation) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO revocations (fingerprint, serial, username, revoked_at, reason, revoked_by) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (rev.fingerprint, rev.serial, rev.username, rev.revoked_at, rev.reason, rev.revoked_by),
    )


def revocations(conn: Connection) -> list[Revocation]:
    return fetch_all(conn, Revocation, f"SELECT {_REVOCATION_COLS} FROM revocations ORDER BY revoked_at")


def set_crl(conn: Connection, der: bytes, now: str) -> None:
    conn.execute("INSERT INTO crl (id, der, updated_at) VALUES (1, ?, ?) "
                 "ON CONFLICT (id) DO UPDATE SET der = excluded.der, updated_at = excluded.updated_at", (der, now))


def crl(conn: Connection) -> bytes | None:
    r = conn.execute("SELECT der FROM crl WHERE id = 1").fetchone()
    return bytes(r[0]) if r else None


def deactivate_identities(conn: Connection, username: str) -> None:
    conn.execute("UPDATE signing_identities SET active = 0 WHERE username = ?", (username,))


def clear_identity_key(conn: Connection, identity_id: int) -> None:
    """The key now lives wrapped under its owner's passphrase (personal_keys); drop the copy here."""
    conn.execute("UPDATE signing_identities SET key_der = NULL WHERE id = ?", (identity_id,))
