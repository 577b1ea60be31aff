"""`frontier-review report build|sign|countersign|export|verify` and `frontier-review verify PATH`."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from app import cli
from tests.unit.test_signing_service import _approved_submission, _configure


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ws, user: str | None,  # type: ignore[no-untyped-def]
        *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin if stdin is not None else ws.passphrase(user) + "\n"))
    argv = ["--data-dir", str(ws.data_dir)] + (["--user", user] if user else []) + list(args)
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_report_journey(workstation, tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    _configure(workstation.session("admin"))
    sid = _approved_submission(workstation)
    code, out, err = run(monkeypatch, capsys, workstation, "reviewer", "report", "build", str(sid))
    assert code == 0, err
    assert "report 1 built" in out and "SECRET//NOFORN" in out
    code, out, _ = run(monkeypatch, capsys, workstation, "reviewer", "report", "list")
    assert "built" in out and "-V1" in out
    code, _, err = run(monkeypatch, capsys, workstation, "reviewer", "report", "sign", "1")
    assert code == 0, err
    code, out, err = run(monkeypatch, capsys, workstation, "lead", "report", "countersign", "1")
    assert code == 0 and "countersigned" in out, err
    code, out, _ = run(monkeypatch, capsys, workstation, "reviewer", "report", "verify", "1")
    assert code == 0 and out.count("VALID: ") == 2
    usb = tmp_path / "usb"
    usb.mkdir()
    code, _, err = run(monkeypatch, capsys, workstation, "reviewer", "report", "export", "1", str(usb),
                       "--media", "CONFIDENTIAL")
    assert code == 2 and "media is labelled CONFIDENTIAL" in err
    # The first export releases the findings and closes the review: it says so and needs --release.
    code, out, err = run(monkeypatch, capsys, workstation, "reviewer", "report", "export", "1", str(usb),
                         "--media", "SECRET//NOFORN")
    assert code == 3 and f"closes the review of submission {sid}" in err and "--release" in err, out + err
    assert not any(usb.iterdir())
    code, out, err = run(monkeypatch, capsys, workstation, "reviewer", "report", "export", "1", str(usb),
                         "--media", "SECRET//NOFORN", "--release")
    assert code == 0, err
    assert f"released; the review of submission {sid} is now closed" in out
    code, status, _ = run(monkeypatch, capsys, workstation, "reviewer", "review", "status", str(sid))
    assert "released · closed" in status
    pkg = next(usb.iterdir())
    # Once released, another export is a copy: no flag needed, and it says the review did not change.
    copy = tmp_path / "usb2"
    copy.mkdir()
    code, out2, err = run(monkeypatch, capsys, workstation, "reviewer", "report", "export", "1", str(copy),
                          "--media", "SECRET//NOFORN")
    assert code == 0 and "further copy" in out2 and "now closed" not in out2, err
    assert "report.pdf" in out and "SHA256SUMS" not in out.split("package written")[0]

    # Offline verification with an explicitly named CA: no workstation, no sign-in.
    code, out, err = run(monkeypatch, capsys, workstation, None, "verify", str(pkg), "--ca", str(pkg / "ca.pem"),
                         stdin="")
    assert code == 0 and "package VERIFIED" in out, out + err
    code, out, _ = run(monkeypatch, capsys, workstation, None, "verify", str(pkg / "report.pdf"), "--ca",
                       str(pkg / "ca.pem"), stdin="")
    assert code == 0 and "all signatures valid" in out
    (pkg / "findings.json").write_text("{}")
    code, out, _ = run(monkeypatch, capsys, workstation, "auditor", "verify", str(pkg))
    assert code == 1 and "findings.json was changed" in out


def test_cli_pki_commands(workstation, second_workstation, tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from app.services import pki as pki_service
    from reports import pki

    code, _, err = run(monkeypatch, capsys, workstation, "reviewer", "pki", "setup")
    assert code == 2 and "does not allow" in err
    code, out, err = run(monkeypatch, capsys, workstation, "admin", "pki", "setup")
    assert code == 0 and "SHA-256 fingerprint" in out, err
    code, out, err = run(monkeypatch, capsys, workstation, "admin", "pki", "issue", "lead")
    assert code == 0 and out.startswith("issued to lead: Lee Lead"), err
    code, pem, _ = run(monkeypatch, capsys, workstation, "reviewer", "pki", "ca", "--pem")
    assert code == 0 and pem.startswith("-----BEGIN CERTIFICATE-----")
    ca_file = tmp_path / "sender-ca.pem"
    ca_file.write_text(pem)
    code, out, _ = run(monkeypatch, capsys, workstation, "reviewer", "pki", "identity")
    assert code == 0 and "Rita Reviewer (workstation)" in out

    pki_service.ensure_ready(second_workstation.session("admin"))
    code, _, err = run(monkeypatch, capsys, second_workstation, "reviewer", "pki", "trust", str(ca_file))
    assert code == 2 and "does not allow" in err
    code, out, err = run(monkeypatch, capsys, second_workstation, "admin", "pki", "trust", str(ca_file))
    assert code == 0, err
    assert pki.fingerprint(pki.cert_from_bytes(pem.encode())) in out
    code, out, _ = run(monkeypatch, capsys, second_workstation, "admin", "pki", "roots")
    assert out.count("imported") == 1 and out.count("workstation") >= 1

    agency = pki.create_ca("Agency", pki_service.workstation_ca(workstation.session("admin")).not_valid_before_utc)
    p12 = tmp_path / "rita.p12"
    p12.write_bytes(pki.to_pkcs12(pki.issue_signing_certificate(
        agency, "Rita (agency)", "reviewer", "Reviewer", agency.cert.not_valid_before_utc), "p12-secret"))
    stdin = workstation.passphrase("reviewer") + "\np12-secret\n"
    code, _, err = run(monkeypatch, capsys, workstation, "reviewer", "pki", "import-p12", str(p12), stdin=stdin)
    assert code == 2 and "import the issuing CA first" in err
