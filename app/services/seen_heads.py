"""The signed record of the audit chain a person last saw: {user, seq, hash, decisions, ca, key, mac}.

Written by the session after each change that extends the chain and at sign-in, lock and sign-out;
checked at sign-in by app.services.integrity. Kept apart from both so that the session (which every
service imports) depends on nothing above it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Protocol

from storage import decisions_repo, pki_repo
from storage.db import Connection


class Signer(Protocol):
    """A person's own signing key (app.services.identity.PersonalKey)."""

    fingerprint: str

    def sign(self, digest: bytes) -> bytes: ...


def ca_fingerprint(conn: Connection) -> str:
    stored = pki_repo.get_ca(conn)
    return stored.fingerprint if stored else ""


def record_body(record: dict[str, Any]) -> bytes:
    """The signed bytes: every field but the signature, canonical JSON."""
    fields = {k: record.get(k) for k in ("user", "seq", "hash", "decisions", "ca", "key")}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def signed_record(conn: Connection, username: str, personal: Signer, head: tuple[int, str]) -> dict[str, Any]:
    """The record of chain head `head` as `username` sees it now, signed with their key."""
    record: dict[str, Any] = {"user": username, "seq": head[0], "hash": head[1],
                              "decisions": decisions_repo.count(conn), "ca": ca_fingerprint(conn),
                              "key": personal.fingerprint}
    record["mac"] = base64.b64encode(personal.sign(hashlib.sha256(record_body(record)).digest())).decode()
    return record
