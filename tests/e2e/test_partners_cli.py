"""The partner register, dissemination log and receipts through the CLI alone (in-process)."""

from __future__ import annotations

import hashlib
import io
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app import cli as app_cli
from app.services import dissemination, partners
from tests.conftest import FIXED_NOW, PASSPHRASES
from tests.unit.partner_kit import make_cert, receipt_json, write_receipt


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(workstation, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(user: str, *args: str, stdin: str | None = None) -> CliRun:
        monkeypatch.setattr(sys, "stdin", io.StringIO(PASSPHRASES[user] + "\n" if stdin is None else stdin))
        code = app_cli.main(["--data-dir", str(workstation.data_dir), "--user", user, *args])
        out = capsys.readouterr()
        return CliRun(code, out.out, out.err)

    return run


def test_partner_register_dissemination_and_receipts_by_cli(cli, workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("admin", "partner", "add", "--name", "UK AI Security Institute", "--kind", "allied agency",
            "--codes", "GBR,FVEY", "--max-level", "SECRET", "--tlp", "AMBER",
            "--contact", "Pat Jones;pat@example.gov.uk;+44 20 7946 0000;liaison")
    assert r.returncode == 0, r.stderr
    assert "UK AI Security Institute" in r.stdout and "GBR, FVEY" in r.stdout and "up to SECRET" in r.stdout
    r = cli("reviewer", "partner", "add", "--name", "Acme AI", "--kind", "developer", "--codes", "USA")
    assert r.returncode == 2 and "does not allow this action (manage_partners)" in r.stderr
    r = cli("admin", "partner", "add", "--name", "Bad", "--kind", "lab", "--codes", "XXX")
    assert r.returncode == 2 and "unknown country or organisation code 'XXX'" in r.stderr

    key = make_cert(tmp_path / "uk", "UK AISI")
    r = cli("admin", "partner", "cert-add", "UK AI Security Institute", str(key.cert_path), "--purpose", "receipt")
    assert r.returncode == 0, r.stderr
    fp = partners.pki.fingerprint(key.cert)
    assert fp in r.stdout
    expired = make_cert(tmp_path / "old", "UK AISI", days=2)
    r = cli("admin", "partner", "cert-add", "1", str(expired.cert_path), "--purpose", "receipt")
    assert r.returncode == 2 and str(expired.cert_path) in r.stderr and "expired on" in r.stderr

    r = cli("admin", "partner", "update", "1", "--max-level", "TOP SECRET", "--access", "SI")
    assert r.returncode == 0 and "up to TOP SECRET" in r.stdout
    r = cli("reviewer", "partner", "show", "uk ai security institute")
    assert r.returncode == 0, r.stderr
    assert "signed: yes" in r.stdout and "accesses: SI" in r.stdout and "pat@example.gov.uk" in r.stdout
    assert f"SHA-256 {fp}" in r.stdout and "valid until" in r.stdout
    r = cli("auditor", "partner", "list")
    assert r.returncode == 0 and "UK AI Security Institute" in r.stdout and " yes" in r.stdout

    # Something leaves (the release and CSAF writers call this inside their own transaction).
    lead = workstation.session("lead")
    manifest = hashlib.sha256(b"manifest").hexdigest()
    with lead.transaction() as conn:
        entry = dissemination.record(lead, conn, kind="package", object_type="report", object_id="7", revision="1",
                                     partner_id=1, marking="SECRET//REL TO USA, GBR", tlp=None, embargo_until=None,
                                     manifest_sha256=manifest, media_label="SECRET", approved_by="lead")
    lead.close()
    r = cli("reviewer", "dissemination", "list", "--unacknowledged")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == lines[-1] == "SECRET//REL TO USA, GBR"  # banner lines around the marked list
    age = (datetime.now(UTC).date() - FIXED_NOW.date()).days  # the lead's session ran at FIXED_NOW
    assert "report 7 rev 1" in r.stdout and f"unacknowledged {age} d" in r.stdout and manifest[:16] in r.stdout
    assert ("OVERDUE" in r.stdout) == (age > 7)

    wrong = write_receipt(tmp_path / "wrong", receipt_json(hashlib.sha256(b"other").hexdigest(),
                                                           "UK AI Security Institute"), key)
    r = cli("reviewer", "receipt", "import", str(wrong))
    assert r.returncode == 2 and str(wrong) in r.stderr and "unknown manifest" in r.stderr
    good = write_receipt(tmp_path / "good", receipt_json(manifest, "UK AI Security Institute"), key)
    r = cli("reviewer", "receipt", "import", str(good))
    assert r.returncode == 0, r.stderr
    assert f"log entry {entry}" in r.stdout
    r = cli("reviewer", "dissemination", "list", "--unacknowledged")
    assert "report 7" not in r.stdout
    r = cli("reviewer", "dissemination", "list", "--partner", "UK AI Security Institute", "--kind", "package")
    assert "acknowledged 2026-11-21" in r.stdout

    out = tmp_path / "log.pdf"
    r = cli("reviewer", "dissemination", "print", "--out", str(out), "--media-label", "CUI")
    assert r.returncode == 2 and "labelled CUI" in r.stderr and not out.exists()
    r = cli("reviewer", "dissemination", "print", "--partner", "1", "--out", str(out), "--media-label", "SECRET")
    assert r.returncode == 0 and "marked SECRET//REL TO USA, GBR" in r.stdout and out.read_bytes()[:5] == b"%PDF-"

    media = tmp_path / "media"
    media.mkdir()
    r = cli("lead", "dissemination", "recall", str(entry), "--reason", "sent the wrong revision", "--out",
            str(media), "--media-label", "SECRET")  # no foreign release decision on the media: not for the UK
    assert r.returncode == 2 and "UK AI Security Institute may not receive" in r.stderr and not list(media.iterdir())
    r = cli("lead", "dissemination", "recall", str(entry), "--reason", "sent the wrong revision", "--out",
            str(media), "--media-label", "SECRET//REL TO USA, GBR")
    assert r.returncode == 0, r.stderr
    assert "recall notice for UK AI Security Institute (recalls 1)" in r.stdout and "NOT sealed" in r.stdout
    r = cli("auditor", "dissemination", "list", "--kind", "recall")
    assert "recalls 1" in r.stdout and "report 7 rev 1" in r.stdout

    r = cli("admin", "partner", "deactivate", "1")
    assert r.returncode == 0 and "deactivated" in r.stdout
