"""Sealed packages end to end: a signed export package sealed to a partner (reports/sealed_package.py),
opened with the documented openssl commands and with `frontier-review package open`, verified
unchanged; `package seal` on a workstation (verification first, media label, audit); hostile archives."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import sys
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app import cli
from app.model.errors import ValidationError
from app.model.markings import Marking
from app.services import audit, sealing
from reports import cms_seal, findings_json, oscal, pki
from reports.cms_seal import SealError
from reports.detached import sign_detached
from reports.package import signed_content, write_folder, write_package
from reports.pdf import build_pdf
from reports.sample import sample_input
from reports.sealed_package import (
    RECIPIENTS_FILE,
    open_sealed_package,
    package_tar,
    read_package_folder,
    seal_package,
    write_sealed_package,
)
from reports.signing import lead_request, reviewer_request, sign_pdf, software_signer
from reports.verify_package import verify_package
from tests.unit.test_cms_seal import Party, make_party

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC) - timedelta(hours=1)
SECRET_NF = Marking.parse("SECRET//NOFORN")
NAME = "FRW-8CA1B0-2026-00017-V1"  # the name docs/VERIFYING.md uses
TOOLS = ("openssl", "tar", "sha256sum", "pdfsig", "certutil")
needs_tools = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                 reason=f"needs the stock tools {', '.join(TOOLS)}")


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    ca = pki.create_ca("Sealed package tests", NOW)
    rev = pki.issue_signing_certificate(ca, "Rita Reviewer", "reviewer", "Reviewer", NOW)
    lead = pki.issue_signing_certificate(ca, "Lee Lead", "lead", "Lead reviewer", NOW)
    report = sample_input(3)
    built = build_pdf(report)
    signed = sign_pdf(built.data, software_signer(rev.key, rev.cert, rev.chain),
                      reviewer_request(built.signature_page, built.signature_boxes))
    both = sign_pdf(signed, software_signer(lead.key, lead.cert, lead.chain),
                    lead_request(built.signature_page, built.signature_boxes))
    files = {"report.pdf": both, "assessment-results.json": oscal.to_json(report),
             "findings.json": findings_json.to_json(report)}
    content = signed_content(files, report.overall_marking(),
                             lambda data: sign_detached(data, rev.key, rev.cert, rev.chain),
                             pki.cert_to_pem(ca.cert))
    tmp = tmp_path_factory.mktemp("partners")
    partners = {"rsa": make_party(tmp, "partner-rsa", rsa.generate_private_key(65537, 2048)),
                "ec": make_party(tmp, "partner-ec", ec.generate_private_key(ec.SECP384R1())),
                "other": make_party(tmp, "other", ec.generate_private_key(ec.SECP256R1()))}
    return {"ca": ca, "report": report, "content": content, "partners": partners}


def _documented_block() -> str:
    text = (ROOT / "docs" / "VERIFYING.md").read_text()
    m = re.search(r"<!-- tested: tests/unit/test_sealed_package\.py::test_documented_openssl_commands_open_and_verify"
                  r" runs this block -->\n```bash\n(.*?)```", text, re.S)
    assert m, "docs/VERIFYING.md lost its tested openssl block"
    return m.group(1)


@needs_tools
@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_documented_openssl_commands_open_and_verify(tmp_path: Path, material, kind: str) -> None:  # type: ignore[no-untyped-def]
    partner: Party = material["partners"][kind]
    result = write_sealed_package(tmp_path, NAME, material["content"], [partner.cert], SECRET_NF, SECRET_NF)
    shutil.copy(partner.cert_pem, tmp_path / "partner-cert.pem")
    shutil.copy(partner.key_pem, tmp_path / "partner-key.pem")
    (tmp_path / "sender-ca.pem").write_bytes(pki.cert_to_pem(material["ca"].cert))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", _documented_block()], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    serial = f"{partner.cert.serial_number:X}"
    serial = serial.zfill(len(serial) + len(serial) % 2)  # OpenSSL prints whole bytes
    assert f"serialNumber: 0x{serial}" in out and f"serial={serial}" in out
    assert "CMS Verification successful" in out
    assert out.count(": OK") == 5 and "FAILED" not in out and "no extra files" in out
    assert out.count("Signature is Valid") == 2 and out.count("Certificate is Trusted") == 2
    opened = tmp_path / NAME
    assert sorted(p.name for p in opened.iterdir()) == sorted(material["content"])
    assert verify_package(opened, [material["ca"].cert]).ok
    assert result.path == tmp_path / f"{NAME}.sealed"


@needs_tools
@pytest.mark.parametrize("case", ["another key", "a changed byte"])
def test_documented_commands_refuse_another_key_and_a_changed_byte(tmp_path: Path, material, case: str) -> None:  # type: ignore[no-untyped-def]
    partner = material["partners"]["ec"]
    holder = material["partners"]["other"] if case == "another key" else partner
    write_sealed_package(tmp_path, NAME, material["content"], [partner.cert], SECRET_NF, SECRET_NF)
    sealed = tmp_path / f"{NAME}.sealed" / f"{NAME}.p7m"
    if case == "a changed byte":
        data = bytearray(sealed.read_bytes())
        data[len(data) // 2] ^= 0x01
        sealed.write_bytes(bytes(data))
    shutil.copy(holder.cert_pem, tmp_path / "partner-cert.pem")
    shutil.copy(holder.key_pem, tmp_path / "partner-key.pem")
    (tmp_path / "sender-ca.pem").write_bytes(pki.cert_to_pem(material["ca"].cert))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", _documented_block()], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    out = done.stdout + done.stderr
    assert done.returncode != 0 and "NOT OPENED" in out, out
    expected = "Error decrypting CMS using private key" if case == "another key" else "Error decrypting CMS structure"
    assert expected in out
    assert not (tmp_path / f"{NAME}.tar").exists() and not (tmp_path / NAME).exists()


def test_layout_marking_and_recipients(tmp_path: Path, material) -> None:  # type: ignore[no-untyped-def]
    parties = material["partners"]
    result = write_sealed_package(tmp_path, NAME, material["content"], [parties["rsa"].cert, parties["ec"].cert],
                                  SECRET_NF, SECRET_NF)
    assert sorted(p.name for p in result.path.iterdir()) == sorted(["MARKING.txt", f"{NAME}.p7m", RECIPIENTS_FILE])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
    assert (result.path / "MARKING.txt").read_text().startswith("SECRET//NOFORN\n")
    recipients = (result.path / RECIPIENTS_FILE).read_text()
    assert "CN=partner-rsa" in recipients and "CN=partner-ec" in recipients
    assert pki.fingerprint(parties["ec"].cert).replace(":", "").upper() in recipients.replace(":", "").upper()
    for party in (parties["rsa"], parties["ec"]):
        name, files = open_sealed_package((result.path / f"{NAME}.p7m").read_bytes(), party.key, party.cert)
        assert name == NAME and files == material["content"]
    with pytest.raises(cms_seal.NotARecipient):
        open_sealed_package((result.path / f"{NAME}.p7m").read_bytes(), parties["other"].key, parties["other"].cert)


def test_media_labelled_too_low_writes_nothing(tmp_path: Path, material) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="media is labelled CONFIDENTIAL"):
        write_sealed_package(tmp_path, NAME, material["content"], [material["partners"]["ec"].cert], SECRET_NF,
                             Marking.parse("CONFIDENTIAL"))
    assert list(tmp_path.iterdir()) == []


def test_tar_is_deterministic_and_round_trips_through_a_folder(tmp_path: Path, material) -> None:  # type: ignore[no-untyped-def]
    content = material["content"]
    assert package_tar(NAME, content, 1_700_000_000) == package_tar(NAME, dict(reversed(content.items())),
                                                                    1_700_000_000)
    pkg = write_package(tmp_path, NAME, {k: content[k] for k in ("report.pdf", "assessment-results.json",
                                                                   "findings.json")},
                        material["report"].overall_marking(), SECRET_NF, lambda d: content["SHA256SUMS.p7s"],
                        pki.cert_to_pem(material["ca"].cert))
    name, files = read_package_folder(pkg.path)
    assert name == NAME and set(files) == set(content)
    partner = material["partners"]["rsa"]
    name2, files2 = open_sealed_package(seal_package(name, files, [partner.cert]), partner.key, partner.cert)
    (tmp_path / "received").mkdir()
    out = write_folder(tmp_path / "received", name2, files2)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files


def _hostile_tar(entries: list[tuple[str, bytes | None, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == tarfile.SYMTYPE:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            elif kind == tarfile.DIRTYPE:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == tarfile.CHRTYPE:
                info.type = tarfile.CHRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize(("case", "entries", "message"), [
    ("symlink", [("PKG/SHA256SUMS", tarfile.SYMTYPE, b"")], "not a plain file"),
    ("dot-dot", [("PKG/../../evil", None, b"x")], "not a plain file"),
    ("absolute", [("/etc/cron.d/x", None, b"x")], "outside the package folder"),
    ("two folders", [("PKG/a", None, b"x"), ("OTHER/b", None, b"y")], "outside the package folder"),
    ("nested", [("PKG/sub/a", None, b"x")], "not a plain file"),
    ("device", [("PKG/dev", tarfile.CHRTYPE, b"")], "not a plain file"),
    ("duplicate", [("PKG/a", None, b"x"), ("PKG/a", None, b"y")], "appears twice"),
    ("empty", [("PKG", tarfile.DIRTYPE, b"")], "holds no package files"),
])
def test_hostile_archives_are_refused(material, case: str, entries, message: str) -> None:  # type: ignore[no-untyped-def]
    partner = material["partners"]["ec"]
    sealed = cms_seal.seal(_hostile_tar(entries), [partner.cert])
    with pytest.raises(SealError, match=rf"^evil\.p7m: .*{message}"):
        open_sealed_package(sealed, partner.key, partner.cert, "evil.p7m")


def test_not_a_tar_is_refused(material) -> None:  # type: ignore[no-untyped-def]
    partner = material["partners"]["ec"]
    with pytest.raises(SealError, match="not a package archive|holds no package files"):
        open_sealed_package(cms_seal.seal(b"just some bytes" * 100, [partner.cert]), partner.key, partner.cert)


# ---------------------------------------------------------------- the CLI on a workstation

def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ws, user: str | None,  # type: ignore[no-untyped-def]
         *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin if stdin is not None else ws.passphrase(user) + "\n"))
    argv = ["--data-dir", str(ws.data_dir)] + (["--user", user] if user else []) + list(args)
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_seal_and_open_journey(workstation, tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from app.model.dissemination import CertificatePurpose
    from app.model.markings import Level
    from app.model.partners import Partner, PartnerKind
    from app.model.vulnerabilities import Tlp
    from app.services import dissemination, partners
    from tests.unit.partner_kit import make_cert
    from tests.unit.test_signing_service import _approved_submission, _configure

    admin = workstation.session("admin")
    _configure(admin)
    lab = partners.add(admin, Partner(name="Federal Test Lab", kind=PartnerKind.AGENCY, codes=("USA",),
                                      max_level=Level.SECRET, tlp=Tlp.AMBER))
    allied = partners.add(admin, Partner(name="Allied Institute", kind=PartnerKind.ALLIED, codes=("GBR",),
                                         max_level=Level.SECRET, tlp=Tlp.AMBER))
    partner = make_cert(tmp_path / "lab", "Federal Test Lab", "encryption")
    other = make_cert(tmp_path / "other", "Someone Else", "encryption")
    assert lab.id is not None and allied.id is not None
    partners.add_certificate(admin, lab.id, partner.cert_path, CertificatePurpose.ENCRYPTION)
    partners.add_certificate(admin, allied.id, make_cert(tmp_path / "gbr", "Allied", "encryption").cert_path,
                             CertificatePurpose.ENCRYPTION)
    sid = _approved_submission(workstation)
    for user, *args in [("reviewer", "report", "build", str(sid)), ("reviewer", "report", "sign", "1"),
                        ("lead", "report", "countersign", "1")]:
        code, _, err = _run(monkeypatch, capsys, workstation, user, *args)
        assert code == 0, err
    usb, partner_usb = tmp_path / "usb", tmp_path / "partner-usb"
    usb.mkdir()
    partner_usb.mkdir()
    code, _, err = _run(monkeypatch, capsys, workstation, "reviewer", "report", "export", "1", str(usb),
                        "--media", "SECRET//NOFORN", "--release")
    assert code == 0, err
    pkg = next(usb.iterdir())

    def seal(user: str, who: str, media: str, source: Path = pkg) -> tuple[int, str, str]:
        return _run(monkeypatch, capsys, workstation, user, "package", "seal", str(source), str(partner_usb),
                    "--partner", who, "--media", media)

    code, _, err = seal("reviewer", "Federal Test Lab", "CONFIDENTIAL")
    assert code == 2 and "media is labelled CONFIDENTIAL" in err
    code, _, err = seal("reviewer", "Allied Institute", "SECRET//NOFORN")  # a NOFORN package never goes abroad
    assert code == 2 and "may not go to Allied Institute" in err and "NOFORN" in err, err
    code, _, err = seal("auditor", "Federal Test Lab", "SECRET//NOFORN")
    assert code == 2
    code, _, err = seal("reviewer", "Nobody Registered", "SECRET//NOFORN")
    assert code == 2 and "Nobody Registered" in err
    assert list(partner_usb.iterdir()) == []
    code, out, err = seal("reviewer", "Federal Test Lab", "SECRET//NOFORN")
    assert code == 0, err
    assert "sealed package written" in out and "CN=Federal Test Lab" in out and "dissemination log" in out
    sealed_dir = partner_usb / f"{pkg.name}.sealed"
    events = [e for e in audit.events(workstation.session("auditor"), 50) if e.action == "package.seal"]
    assert len(events) == 1 and "CN=Federal Test Lab" in str(events[0].details)
    logged = [e for e in dissemination.entries(workstation.session("auditor")) if e.object_id == pkg.name]
    assert [(e.partner_name, e.kind.value, e.marking.banner(), e.media_label) for e in logged] == \
        [("Federal Test Lab", "package", "SECRET//NOFORN", "SECRET//NOFORN")]
    assert logged[0].manifest_sha256 == hashlib.sha256((pkg / "SHA256SUMS").read_bytes()).hexdigest()

    # The receiving side needs no workstation: key, certificate, and the sender's CA for --ca.
    received = tmp_path / "received"
    received.mkdir()
    code, out, err = _run(monkeypatch, capsys, workstation, None, "package", "open", str(sealed_dir), str(received),
                          "--key", str(other.key_path), "--cert", str(other.cert_path), stdin="")
    assert code == 2 and "not sealed to certificate" in err and "CN=Someone Else" in err and list(received.iterdir()) == []
    code, out, err = _run(monkeypatch, capsys, workstation, None, "package", "open", str(sealed_dir), str(received),
                          "--key", str(partner.key_path), "--cert", str(partner.cert_path), "--ca",
                          str(pkg / "ca.pem"), stdin="")
    assert code == 0, out + err
    assert "sealed to O=Federal Test Lab,CN=Federal Test Lab" in out and "package VERIFIED" in out and "FINAL: all signatures valid" in out
    assert {p.name: p.read_bytes() for p in (received / pkg.name).iterdir()} == \
        {p.name: p.read_bytes() for p in pkg.iterdir()}

    # A password-protected key asks for its password (one line on standard input when scripted).
    locked = tmp_path / "locked-key.pem"
    locked.write_bytes(partner.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.BestAvailableEncryption(b"partner-pass")))
    again = tmp_path / "again"
    again.mkdir()
    code, out, err = _run(monkeypatch, capsys, workstation, None, "package", "open",
                          str(sealed_dir / f"{pkg.name}.p7m"), str(again), "--key", str(locked), "--cert",
                          str(partner.cert_path), stdin="wrong\n")
    assert code == 2 and "password is wrong" in err
    code, out, err = _run(monkeypatch, capsys, workstation, None, "package", "open",
                          str(sealed_dir / f"{pkg.name}.p7m"), str(again), "--key", str(locked), "--cert",
                          str(partner.cert_path), stdin="partner-pass\n")
    assert code == 0 and "verify it: frontier-review verify" in out, err
    locked_der = tmp_path / "locked-key.der"
    locked_der.write_bytes(partner.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                     serialization.BestAvailableEncryption(b"partner-pass")))
    assert sealing.key_needs_password(locked_der) and sealing.key_needs_password(locked)
    assert not sealing.key_needs_password(partner.key_path)
    der_opened = sealing.read_private_key(locked_der, "partner-pass")
    assert der_opened.private_numbers() == partner.key.private_numbers()

    # Nothing leaves unlogged: when the log entry cannot be written, the sealed folder is removed.
    shutil.rmtree(sealed_dir)

    def refuse(*args: object, **kwargs: object) -> int:
        raise ValidationError("partner", "the log refused the entry")

    with monkeypatch.context() as m:
        m.setattr(dissemination, "record", refuse)
        code, _, err = seal("reviewer", "Federal Test Lab", "SECRET//NOFORN")
    assert code == 2 and "the log refused the entry" in err and list(partner_usb.iterdir()) == []

    # A package changed on the media is not sealed and passed on.
    (pkg / "findings.json").write_text("{}")
    code, _, err = seal("reviewer", "Federal Test Lab", "SECRET//NOFORN")
    assert code == 2 and "does not verify" in err and "findings.json was changed" in err
    assert list(partner_usb.iterdir()) == []


def test_files_picked_for_sealing_are_refused_above_what_they_can_be(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A disk image picked as a certificate, key or sealed package used to be read into memory whole;
    each is now refused by name, before it is read, above its bound (the check that the package is
    one regular file, and what follows, are unchanged)."""
    from app.model.errors import IngestError
    from app.services import pki as pki_service

    big = tmp_path / "disk.img"
    with big.open("wb") as fh:
        fh.truncate(3 << 20)  # sparse: 3 MB that take no room
    for read, what in ((sealing.read_certificates, "certificate file"),
                       (lambda p: sealing.read_private_key(p), "private key")):
        with pytest.raises(IngestError, match=rf"disk\.img: is larger than 1 MB; not a {what}"):
            read(big)
    assert sealing.key_needs_password(big) is False  # read_private_key says why
    with pytest.raises(IngestError, match=r"disk\.img: is larger than 1 MB; not a certificate"):
        pki_service.read_certificate_file(big)
    monkeypatch.setattr(sealing, "MAX_SEALED_FILE", 2 << 20)
    with pytest.raises(IngestError, match=r"disk\.img: is larger than 2 MB; not a sealed package"):
        sealing.open_to_folder(big, None, None, tmp_path / "out")  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()
