"""Fixtures for reliability tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.services import backup
from app.services import pki as pki_service
from app.services.session import Session
from reports import pki
from tests.reliability.tmpfs import mounted_tmpfs


def ca_fingerprint(session: Session) -> str:
    """The workstation CA fingerprint (the CA is created on demand for workstations made without it)."""
    pki_service.ensure_ready(session)
    return pki.fingerprint(backup.PKI.trusted_roots(session)[0])


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """tmpfs("name", "2m") -> a real, tiny filesystem (full-disk tests), for this test."""
    with mounted_tmpfs(tmp_path) as make:
        yield make
