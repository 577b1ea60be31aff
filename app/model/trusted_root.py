"""A trusted root certificate as the workstation holds it: signatures chain to one of these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoredRoot:
    id: int
    fingerprint: str
    subject: str
    origin: str  # workstation | imported
    cert_der: bytes
    added_by: str
    added_at: str
    removed_at: str | None
