"""The per-workstation secret held in the OS keyring, when a secure backend exists.

Only the OS credential stores that keyring itself ships are trusted; a fail, null or plaintext
backend (keyrings.alt) is refused, also when keyring's ChainerBackend reaches it (ARCHITECTURE.md). The
secret is mixed into every passphrase wrapping key, so a copied database plus a passphrase is
not enough on another machine. Tests install an in-memory backend (tests/conftest.py).
"""

from __future__ import annotations

import base64
import secrets

import keyring
import keyring.backend
import keyring.errors

from app.model.errors import StorageError
from app.model.keyring_status import KeyringStatus

SERVICE = "frontier-review-workstation"
# The OS stores keyring ships. Anything else (keyrings.alt's files, a backend dropped into the
# environment) could keep the secret in plain text next to the database. Tests add their in-memory one.
TRUSTED_MODULE_PREFIXES: tuple[str, ...] = (
    "keyring.backends.SecretService", "keyring.backends.libsecret", "keyring.backends.kwallet",
    "keyring.backends.macOS", "keyring.backends.Windows",
)


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _problem(backend: keyring.backend.KeyringBackend) -> str:
    """Why `backend` is not a trusted OS store, or "" when it is."""
    name = _backend_name(backend)
    if not name.startswith(TRUSTED_MODULE_PREFIXES):
        return f"{name} is not a secure OS keyring (fail, null, plaintext or unknown backend)"
    try:
        priority = float(type(backend).priority)
    except Exception:
        priority = 1.0
    if priority <= 0:
        return f"{name} reports it is unusable"
    return ""


def status() -> KeyringStatus:
    from keyring.backends.chainer import ChainerBackend

    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring configuration is "unavailable", not a crash
        return KeyringStatus(False, "unavailable", f"keyring could not load: {exc}")
    name = _backend_name(backend)
    # The chainer reads from and writes to each chained backend in turn: every one must be trusted.
    chained = list(backend.backends) if isinstance(backend, ChainerBackend) else [backend]
    if not chained:
        return KeyringStatus(False, name, "no keyring backend available")
    problems = [p for b in chained if (p := _problem(b))]
    if problems:
        where = " (reached through keyring's ChainerBackend)" if isinstance(backend, ChainerBackend) else ""
        return KeyringStatus(False, name, "; ".join(problems) + where)
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
