"""Per-person keys, the CA key's per-administrator wraps, enrolments and certificate requests.

Everything secret here is stored wrapped by the service layer under a key that only its owner's
passphrase produces; this module stores and returns bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.db import Connection
from storage.rows import fetch_all, fetch_one


@dataclass(frozen=True)
class StoredPersonalKey:
    id: int
    username: str
    fingerprint: str
    public_der: bytes
    wrap_salt: str
    nonce: bytes
    wrapped: bytes
    origin: str
    created_at: str
    retired_at: str | None


@dataclass(frozen=True)
class Wrapped:
    salt: str
    nonce: bytes
    wrapped: bytes


@dataclass(frozen=True)
class CertificateRequest:
    id: int
    username: str
    key_fingerprint: str
    csr_der: bytes
    proof: str
    requested_at: str
    issued_at: str | None
    certificate_fingerprint: str | None


_PK = "id, username, fingerprint, public_der, wrap_salt, nonce, wrapped, origin, created_at, retired_at"


_BYTES: dict[str, Callable[[Any], Any]] = {
    "id": int, "public_der": bytes, "nonce": bytes, "wrapped": bytes, "csr_der": bytes,
}
_WRAP_COLS = "nonce, wrapped"  # with the table's salt column AS salt


def _wrapped(conn: Connection, table: str, salt: str, username: str) -> Wrapped | None:
    return fetch_one(conn, Wrapped, f"SELECT {salt} AS salt, {_WRAP_COLS} FROM {table} WHERE username = ?",
                     (username,), _BYTES)


def add_personal_key(conn: Connection, username: str, fingerprint: str, public_der: bytes, wrapped: Wrapped,
                     origin: str, now: str) -> int:
    conn.execute("UPDATE personal_keys SET retired_at = ? WHERE username = ? AND retired_at IS NULL",
                 (now, username))
    cur = conn.execute(
        "INSERT INTO personal_keys (username, fingerprint, public_der, wrap_salt, nonce, wrapped, origin, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (username, fingerprint, public_der, wrapped.salt, wrapped.nonce, wrapped.wrapped, origin, now),
    )
    return int(cur.lastrowid or 0)


def rewrap_personal_key(conn: Connection, key_id: int, wrapped: Wrapped) -> None:
    conn.execute("UPDATE personal_keys SET wrap_salt = ?, nonce = ?, wrapped = ? WHERE id = ?",
                 (wrapped.salt, wrapped.nonce, wrapped.wrapped, key_id))


def active_personal_key(conn: Connection, username: str) -> StoredPersonalKey | None:
    return fetch_one(conn, StoredPersonalKey, f"SELECT {_PK} FROM personal_keys WHERE username = ? AND "
                     "retired_at IS NULL ORDER BY id DESC LIMIT 1", (username,), _BYTES)


def personal_key_by_fingerprint(conn: Connection, fingerprint: str) -> StoredPersonalKey | None:
    return fetch_one(conn, StoredPersonalKey, f"SELECT {_PK} FROM personal_keys WHERE fingerprint = ?",
                     (fingerprint,), _BYTES)


def all_personal_keys(conn: Connection) -> list[StoredPersonalKey]:
    return fetch_all(conn, StoredPersonalKey, f"SELECT {_PK} FROM personal_keys ORDER BY id", (), _BYTES)


def retire_personal_keys(conn: Connection, username: str, now: str, keep: int | None = None) -> None:
    """Retire and destroy: the public key stays to verify earlier signatures; the wrapped private
    key is erased so that not even its owner's old passphrase can bring it back."""
    conn.execute("UPDATE personal_keys SET retired_at = COALESCE(retired_at, ?), wrapped = x'', nonce = x'' "
                 "WHERE username = ? AND id != ?", (now, username, -1 if keep is None else keep))


# -- the CA key, wrapped per administrator ------------------------------------------------------


def set_ca_wrap(conn: Connection, username: str, wrapped: Wrapped, now: str) -> None:
    conn.execute(
        "INSERT INTO ca_key_wraps (username, wrap_salt, nonce, wrapped, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (username) DO UPDATE SET wrap_salt = excluded.wrap_salt, nonce = excluded.nonce, "
        "wrapped = excluded.wrapped, created_at = excluded.created_at",
        (username, wrapped.salt, wrapped.nonce, wrapped.wrapped, now),
    )


def ca_wrap(conn: Connection, username: str) -> Wrapped | None:
    return _wrapped(conn, "ca_key_wraps", "wrap_salt", username)


def remove_ca_wrap(conn: Connection, username: str) -> None:
    conn.execute("DELETE FROM ca_key_wraps WHERE username = ?", (username,))


def ca_wrap_holders(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT username FROM ca_key_wraps ORDER BY username")]


def clear_legacy_ca_key(conn: Connection) -> None:
    """The CA key stops living under the data key once the administrators hold it wrapped."""
    conn.execute("UPDATE pki_ca SET key_der = x'' WHERE id = 1")


# -- enrolment secrets and certificate requests ------------------------------------------------


def set_enrolment(conn: Connection, username: str, wrapped: Wrapped, now: str, actor: str) -> None:
    conn.execute(
        "INSERT INTO enrolments (username, salt, nonce, wrapped, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (username) DO UPDATE SET salt = excluded.salt, nonce = excluded.nonce, "
        "wrapped = excluded.wrapped, created_at = excluded.created_at, created_by = excluded.created_by",
        (username, wrapped.salt, wrapped.nonce, wrapped.wrapped, now, actor),
    )


def enrolment(conn: Connection, username: str) -> Wrapped | None:
    return _wrapped(conn, "enrolments", "salt", username)


def remove_enrolment(conn: Connection, username: str) -> None:
    conn.execute("DELETE FROM enrolments WHERE username = ?", (username,))


_CR = "id, username, key_fingerprint, csr_der, proof, requested_at, issued_at, certificate_fingerprint"


def add_request(conn: Connection, username: str, key_fingerprint: str, csr_der: bytes, proof: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO certificate_requests (username, key_fingerprint, csr_der, proof, requested_at)"
        " VALUES (?, ?, ?, ?, ?)", (username, key_fingerprint, csr_der, proof, now))
    return int(cur.lastrowid or 0)


def pending_requests(conn: Connection) -> list[CertificateRequest]:
    return fetch_all(conn, CertificateRequest, f"SELECT {_CR} FROM certificate_requests WHERE issued_at IS NULL "
                     "ORDER BY id", (), _BYTES)


def requests_for(conn: Connection, username: str) -> list[CertificateRequest]:
    return fetch_all(conn, CertificateRequest, f"SELECT {_CR} FROM certificate_requests WHERE username = ? "
                     "ORDER BY id", (username,), _BYTES)


def mark_issued(conn: Connection, request_id: int, now: str, cert_fingerprint: str) -> None:
    conn.execute("UPDATE certificate_requests SET issued_at = ?, certificate_fingerprint = ? WHERE id = ?",
                 (now, cert_fingerprint, request_id))


def discard_requests(conn: Connection, username: str) -> None:
    conn.execute("DELETE FROM certificate_requests WHERE username = ? AND issued_at IS NULL", (username,))
