"""Fixtures for reliability tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.services import backup
from app.services import pki as pki_service
from app.services.session import Session
from reports import pki


def ca_fingerprint(session: Session) -> str:
    """The workstation CA fingerprint (the CA is created on demand for workstations made without it)."""
    pki_service.ensure_ready(session)
    return pki.fingerprint(backup.PKI.trusted_roots(session)[0])


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """tmpfs("name", "2m") -> a real, tiny filesystem (full-disk tests). Needs root or CAP_SYS_ADMIN:
    skipped elsewhere; the injected-ENOSPC tests cover the same code paths without privileges."""
    mounted: list[Path] = []

    def make(name: str, size: str) -> Path:
        mnt = tmp_path / name
        mnt.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mnt)],
                              capture_output=True)
        if done.returncode != 0:
            pytest.skip("cannot mount a small tmpfs here (not root)")
        mounted.append(mnt)
        return mnt

    yield make
    for mnt in reversed(mounted):
        subprocess.run(["umount", "-l", str(mnt)], check=False)
