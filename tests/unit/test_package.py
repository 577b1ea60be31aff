"""Export packages: atomic write, media label rule, verification with the app and with stock tools."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.model.errors import ValidationError
from app.model.markings import Marking
from reports import findings_json, oscal, pki
from reports.detached import sign_detached
from reports.package import ExportError, write_package
from reports.pdf import build_pdf
from reports.sample import sample_input
from reports.signing import lead_request, reviewer_request, sign_pdf, software_signer
from reports.verify_package import verify_package

NOW = datetime.now(UTC) - timedelta(hours=1)
SECRET_NF = Marking.parse("SECRET//NOFORN")


@pytest.fixture(scope="module")
def material() -> dict:  # type: ignore[type-arg]
    ca = pki.create_ca("Package tests", NOW)
    rev = pki.issue_signing_certificate(ca, "Rita Reviewer", "reviewer", "Reviewer", NOW)
    lead = pki.issue_signing_certificate(ca, "Lee Lead", "lead", "Lead reviewer", NOW)
    report = sample_input(8)
    built = build_pdf(report)
    signed = sign_pdf(built.data, software_signer(rev.key, rev.cert, rev.chain),
                      reviewer_request(built.signature_page, built.signature_boxes))
    both = sign_pdf(signed, software_signer(lead.key, lead.cert, lead.chain),
                    lead_request(built.signature_page, built.signature_boxes))
    files = {"report.pdf": both, "assessment-results.json": oscal.to_json(report),
             "findings.json": findings_json.to_json(report)}
    return {"ca": ca, "rev": rev, "report": report, "files": files}


def _write(material: dict, dest: Path, media: Marking = SECRET_NF, name: str = "FRW-pkg"):  # type: ignore[no-untyped-def,type-arg]
    rev = material["rev"]
    return write_package(dest, name, material["files"], material["report"].overall_marking(), media,
                         lambda data: sign_detached(data, rev.key, rev.cert, rev.chain),
                         pki.cert_to_pem(material["ca"].cert))


def test_package_contents_and_app_verification(tmp_path: Path, material) -> None:  # type: ignore[no-untyped-def]
    result = _write(material, tmp_path)
    names = sorted(p.name for p in result.path.iterdir())
    assert names == ["MARKING.txt", "SHA256SUMS", "SHA256SUMS.p7s", "assessment-results.json", "ca.pem",
                     "findings.json", "report.pdf"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
    assert (result.path / "MARKING.txt").read_text().startswith("SECRET//NOFORN")
    check = verify_package(result.path, [material["ca"].cert])
    assert check.ok, check.lines()
    assert check.manifest_signer is not None and check.manifest_signer.subject == "Rita Reviewer"
    assert check.pdf is not None and len(check.pdf.signatures) == 2
    doc = json.loads((result.path / "findings.json").read_text())
    assert doc["overall_marking"] == "SECRET//NOFORN" and len(doc["findings"]) == 8


def test_stock_tools_verify_the_package(tmp_path: Path, material) -> None:  # type: ignore[no-untyped-def]
    pkg = _write(material, tmp_path).path
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=pkg, capture_output=True, text=True, check=False)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert sums.stdout.count(": OK") == 5
    cms = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "SHA256SUMS.p7s",
                          "-content", "SHA256SUMS", "-CAfile", "ca.pem", "-out", "/dev/null"],
                         cwd=pkg, capture_output=True, text=True, check=False)
    assert cms.returncode == 0 and "Verification successful" in cms.stderr, cms.stderr


def test_oscal_is_valid_and_deterministic(material) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(material["files"]["assessment-results.json"])
    oscal.validate(doc)
    ar = doc["assessment-results"]
    assert ar["metadata"]["props"][0] == {"name": "marking", "ns": oscal.NS, "value": "SECRET//NOFORN"}
    states = {f["target"]["status"]["state"] for f in ar["results"][0]["findings"]}
    assert states == {"satisfied", "not-satisfied"}
    assert len(ar["results"][0]["risks"]) == 8
    assert oscal.to_json(material["report"]) == material["files"]["assessment-results.json"]
    doc["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "fine"
    with pytest.raises(ValidationError, match="target.status.state"):
        oscal.validate(doc)


@pytest.mark.parametrize("case", ["pdf-byte", "manifest", "missing", "extra", "signature", "untrusted"])
def test_tampered_packages_are_refused(tmp_path: Path, material, case: str) -> None:  # type: ignore[no-untyped-def]
    pkg = _write(material, tmp_path).path
    roots = [material["ca"].cert]
    if case == "pdf-byte":
        data = bytearray((pkg / "report.pdf").read_bytes())
        data[len(data) // 3] ^= 0x01
        (pkg / "report.pdf").write_bytes(bytes(data))
        expected = "report.pdf was changed"
    elif case == "manifest":
        text = (pkg / "SHA256SUMS").read_text().replace("findings.json", "findings.jsom")
        (pkg / "SHA256SUMS").write_text(text)
        expected = "SHA256SUMS.p7s: the signed content was changed"
    elif case == "missing":
        (pkg / "findings.json").unlink()
        expected = "findings.json is listed in the manifest but missing"
    elif case == "extra":
        (pkg / "notes.txt").write_text("added later")
        expected = "notes.txt is in the folder but not in the manifest"
    elif case == "signature":
        (pkg / "SHA256SUMS.p7s").unlink()
        expected = "SHA256SUMS.p7s is missing"
    else:
        roots = [pki.create_ca("Stranger", NOW).cert]
        expected = "does not chain to a trusted root"
    check = verify_package(pkg, roots)
    assert not check.ok
    assert any(expected in p for p in check.problems), check.problems


def test_media_labelled_too_low_is_refused(tmp_path: Path, material) -> None:  # type: ignore[no-untyped-def]
    for media in ("SECRET", "CONFIDENTIAL//NOFORN", "UNCLASSIFIED"):
        with pytest.raises(ValidationError, match=f"media is labelled {media}"):
            _write(material, tmp_path, Marking.parse(media))
    assert list(tmp_path.iterdir()) == []
    _write(material, tmp_path, Marking.parse("TOP SECRET//NOFORN"))


def test_disk_full_leaves_nothing(tmp_path: Path, material, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    real_write = os.write
    written = {"n": 0}

    def filling_write(fd: int, data) -> int:  # type: ignore[no-untyped-def]
        written["n"] += len(data)
        if written["n"] > 40_000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", filling_write)
    with pytest.raises(ExportError, match="is full; the package was not written"):
        _write(material, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_media_removed_during_write(tmp_path: Path, material, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    media = tmp_path / "usb"
    media.mkdir()
    real_fsync = os.fsync
    calls = {"n": 0}

    def vanishing_fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            shutil.rmtree(media)
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", vanishing_fsync)
    with pytest.raises(ExportError, match="disappeared or failed during the write"):
        _write(material, media)
    assert not media.exists()


def test_destination_not_writable_or_missing(tmp_path: Path, material, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ExportError, match="absent does not exist"):
        _write(material, tmp_path / "absent")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ExportError, match="a-file is not a folder"):
        _write(material, tmp_path / "a-file")

    def read_only_mkdir(path, mode=0o777) -> None:  # type: ignore[no-untyped-def]
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "mkdir", read_only_mkdir)
    with pytest.raises(ExportError, match="is not writable"):
        _write(material, tmp_path)
    monkeypatch.undo()
    _write(material, tmp_path)
    with pytest.raises(ExportError, match="already exists"):
        _write(material, tmp_path)


def test_an_oscal_file_nested_too_deeply_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    """assessment-results.json is parsed whatever its digest says; 100,000 levels of '[' ended the
    verification in json.loads' RecursionError."""
    from reports import verify_package as vp

    (tmp_path / vp.MANIFEST).write_text("0" * 64 + "  " + vp.OSCAL_FILE + "\n")
    (tmp_path / vp.MANIFEST_SIG).write_bytes(b"not a signature")
    (tmp_path / vp.OSCAL_FILE).write_bytes(b"[" * 100_000 + b"]" * 100_000)
    result = verify_package(tmp_path, [])
    assert f"{vp.OSCAL_FILE}: JSON nested too deeply" in result.problems


def test_a_flipped_pdf_byte_in_a_package_is_not_blamed_on_the_ca(tmp_path: Path, material) -> None:  # type: ignore[no-untyped-def]
    """Walk 3 #2: the package's PDF changed; its signers' certificates still chain to the trusted CA."""
    pkg = _write(material, tmp_path).path
    data = bytearray((pkg / "report.pdf").read_bytes())
    data[len(data) // 2] ^= 0x20
    (pkg / "report.pdf").write_bytes(bytes(data))
    check = verify_package(pkg, [material["ca"].cert])
    assert not check.ok and any("report.pdf was changed" in p for p in check.problems)
    assert check.pdf is not None and check.pdf.signatures
    text = "\n".join(check.lines())
    assert all(not s.intact and s.trusted for s in check.pdf.signatures), text
    assert "signed content CHANGED after signing" in text
    assert "not a trusted root" not in text and "no changes after signing" not in text
