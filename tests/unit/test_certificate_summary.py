"""app.services.pki summarises a certificate from media for the UI (which imports no reports.pki)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.model.errors import IngestError, ValidationError
from app.services import pki as pki_service
from reports import pki


def test_certificate_file_summary_names_the_subject_and_fingerprint(tmp_path: Path) -> None:
    ca = pki.create_ca("Receiving agency CA", datetime(2026, 11, 20, tzinfo=UTC))
    path = tmp_path / "ca.pem"
    path.write_bytes(pki.cert_to_pem(ca.cert))
    summary = pki_service.read_certificate_file(path)
    assert summary.common_name == pki.common_name(ca.cert) and summary.common_name.startswith("Receiving agency CA")
    assert summary.fingerprint == pki.fingerprint(ca.cert)


def test_unreadable_or_bad_certificate_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"missing\.pem: cannot be read"):
        pki_service.read_certificate_file(tmp_path / "missing.pem")
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValidationError, match=r"bad\.pem: not a readable X\.509 certificate"):
        pki_service.read_certificate_file(bad)
