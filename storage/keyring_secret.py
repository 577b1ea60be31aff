"""The per-workstation secret held in the OS keyring, when a secure backend exists.

A fail, null, chained-empty or plaintext backend is never trusted (ARCHITECTURE.md). The
secret is mixed into every passphrase wrapping key, so a copied database plus a passphrase is
not enough on another machine. Tests install an in-memory backend (tests/conftest.py).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

import keyring
import keyring.backend
import keyring.errors

from app.model.errors import StorageError

SERVICE = "frontier-review-workstation"
_UNTRUSTED_MODULE_PREFIXES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


@dataclass(frozen=True)
class KeyringStatus:
    trusted: bool
    backend: str
    reason: str


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def status() -> KeyringStatus:
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring configuration is "unavailable", not a crash
        return KeyringStatus(False, "unavailable", f"keyring could not load: {exc}")
    name = _backend_name(backend)
    if name.startswith(_UNTRUSTED_MODULE_PREFIXES):
        return KeyringStatus(False, name, "no secure OS keyring backend (fail, null or plaintext)")
    if type(backend).__name__ == "ChainerBackend" and not getattr(backend, "backends", []):
        return KeyringStatus(False, name, "no keyring backend available")
    try:
        priority = float(type(backend).priority)  # type: ignore[arg-type]
    except Exception:
        priority = 1.0
    if priority <= 0:
        return KeyringStatus(False, name, "keyring backend reports it is unusable")
    return KeyringStatus(True, name, "secure OS keyring")


def create(db_id: str) -> bytes:
    secret = secrets.token_bytes(32)
    try:
        keyring.set_password(SERVICE, db_id, base64.b64encode(secret).decode())
    except keyring.errors.KeyringError as exc:
        raise StorageError(f"The OS keyring refused to store the workstation secret: {exc}") from exc
    return secret


def load(db_id: str) -> bytes:
    try:
        value = keyring.get_password(SERVICE, db_id)
    except keyring.errors.KeyringError as exc:
        raise StorageError(f"The OS keyring is unavailable: {exc}") from exc
    if value is None:
        raise StorageError(
            "This workstation database is bound to an OS keyring secret that is not present on this "
            "machine. It cannot be opened with a passphrase here; use the recovery key to restore it."
        )
    return base64.b64decode(value)


def delete(db_id: str) -> None:
    try:
        keyring.delete_password(SERVICE, db_id)
    except keyring.errors.KeyringError:
        pass
