"""Fixtures for reliability tests."""

from __future__ import annotations

from app.services import backup
from app.services import pki as pki_service
from app.services.session import Session
from reports import pki


def ca_fingerprint(session: Session) -> str:
    """The workstation CA fingerprint (the CA is created on demand for workstations made without it)."""
    pki_service.ensure_ready(session)
    return pki.fingerprint(backup.PKI.trusted_roots(session)[0])
