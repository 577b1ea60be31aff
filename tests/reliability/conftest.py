"""Fixtures for reliability tests: the backup signer, and helpers for building real workstations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography import x509

from app.services import backup
from app.services.session import Session
from reports import detached, pki
from storage import db as storage_db
from storage.keys import KeyHeader

PKI_MIGRATION = 4  # storage/migrations/0004_*: the workstation CA lives in the database from then on


def workstation_pki_available() -> bool:
    from app.services import workstation

    return storage_db.latest_version() >= PKI_MIGRATION and any(
        getattr(h, "__module__", "") == "app.services.pki" for h in workstation.SETUP_HOOKS
    )


class InMemoryPKI:
    """Stand-in used only while the workstation PKI (issue 5) is not wired into setup: one CA per
    workstation id, certificates issued by it exactly as the real signer does."""

    def __init__(self) -> None:
        self.cas: dict[str, pki.CertifiedKey] = {}

    def ca_for(self, session: Session) -> pki.CertifiedKey:
        db_id = KeyHeader.load(session.header_path).db_id
        if db_id not in self.cas:
            self.cas[db_id] = pki.create_ca(session.settings.workstation_name, session.clock())
        return self.cas[db_id]

    def signer(self, session: Session) -> backup.BackupSigner:
        ca = self.ca_for(session)
        ident = pki.issue_signing_certificate(ca, f"{session.account.display_name} (backup)",
                                              session.account.username, "backup", session.clock(), years=1)
        return backup.BackupSigner(
            ca.cert, pki.common_name(ident.cert),
            lambda data: detached.sign_detached(data, ident.key, ident.cert, ident.chain),
        )

    def trusted_roots(self, session: Session) -> list[x509.Certificate]:
        return [self.ca_for(session).cert]


@pytest.fixture(autouse=True)
def backup_pki(monkeypatch: pytest.MonkeyPatch) -> Iterator[backup.BackupPKI]:
    if workstation_pki_available():
        yield backup.PKI
        return
    stand_in = InMemoryPKI()
    monkeypatch.setattr(backup, "PKI", stand_in)
    yield stand_in


def ca_fingerprint(session: Session) -> str:
    return pki.fingerprint(backup.PKI.trusted_roots(session)[0])
