"""PAdES signing and countersigning, verification in-process and with poppler's pdfsig, PKCS#11 (SoftHSM2)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.model.errors import AuthError, IntegrityError, ValidationError
from app.model.verification import FINAL
from reports import pki
from reports.pdf import SIG_FIELD_LEAD, SIG_FIELD_REVIEWER, BuiltPdf, build_pdf
from reports.sample import sample_input
from reports.signing import (
    SignatureRequest,
    existing_fields,
    sign_pdf,
    software_signer,
    token_certificate,
    token_signer,
)
from reports.verify import verify_pdf
from tests.conftest import FIXED_NOW

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def pkiset() -> dict[str, pki.CertifiedKey]:
    # Valid both now and at the fixture workstations' pinned clock (service tests reuse these).
    start = min(NOW, FIXED_NOW) - timedelta(days=1)
    ca = pki.create_ca("Signing tests", start)
    return {
        "ca": ca,
        "reviewer": pki.issue_signing_certificate(ca, "Rita Reviewer", "reviewer", "Reviewer", start),
        "lead": pki.issue_signing_certificate(ca, "Lee Lead", "lead", "Lead reviewer", start),
    }


@pytest.fixture(scope="module")
def built() -> BuiltPdf:
    return build_pdf(sample_input(6))


def _req(built: BuiltPdf, field: str, role: str) -> SignatureRequest:
    return SignatureRequest(field, role, built.signature_page, built.signature_boxes[field])


def _certify(built: BuiltPdf) -> SignatureRequest:
    """The reviewer's request as the service makes it: certify (P=2) and reserve the lead's field."""
    return SignatureRequest(SIG_FIELD_REVIEWER, "Reviewer", built.signature_page,
                            built.signature_boxes[SIG_FIELD_REVIEWER], certify=True,
                            reserve=((SIG_FIELD_LEAD, built.signature_page, built.signature_boxes[SIG_FIELD_LEAD]),))


@pytest.fixture(scope="module")
def countersigned(pkiset, built) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    r, lead = pkiset["reviewer"], pkiset["lead"]
    signed = sign_pdf(built.data, software_signer(r.key, r.cert, r.chain), _certify(built))
    both = sign_pdf(signed, software_signer(lead.key, lead.cert, lead.chain),
                    _req(built, SIG_FIELD_LEAD, "Lead reviewer"))
    return signed, both


def test_sign_and_countersign_verify(pkiset, built, countersigned) -> None:  # type: ignore[no-untyped-def]
    signed, both = countersigned
    assert signed.startswith(built.data) and both.startswith(signed)  # incremental updates only
    assert existing_fields(signed) == {SIG_FIELD_REVIEWER: True, SIG_FIELD_LEAD: False}  # reserved, empty
    assert existing_fields(both) == {SIG_FIELD_REVIEWER: True, SIG_FIELD_LEAD: True}
    result = verify_pdf(both, [pkiset["ca"].cert])
    assert result.ok and result.state == FINAL, result.lines()
    assert result.lines()[0].endswith("FINAL: all signatures valid (reviewer's certification signature and lead's "
                                      "countersignature)")
    first, second = result.signatures
    assert (first.field_name, first.signer, first.after_signing) == (SIG_FIELD_REVIEWER, "Rita Reviewer",
                                                                      "countersignature only")
    assert first.certification == "form filling and signing only" and not second.certification
    assert (second.signer, second.after_signing) == ("Lee Lead", "none")
    assert first.signing_time is not None and abs(first.signing_time - datetime.now(UTC)) < timedelta(minutes=10)
    assert "signer's local clock" in first.summary()


def test_unsigned_and_double_signed_are_refused(pkiset, built, countersigned) -> None:  # type: ignore[no-untyped-def]
    result = verify_pdf(built.data, [pkiset["ca"].cert])
    assert not result.ok and "carries no signature" in result.problems[0]
    r = pkiset["reviewer"]
    with pytest.raises(ValidationError, match="already carries that signature"):
        sign_pdf(countersigned[0], software_signer(r.key, r.cert, r.chain),
                 _req(built, SIG_FIELD_REVIEWER, "Reviewer"))


def test_one_byte_changed_after_signing_is_detected(pkiset, countersigned) -> None:  # type: ignore[no-untyped-def]
    _signed, both = countersigned
    i = both.index(b"/Producer")
    tampered = both[:i] + b"/Producex" + both[i + 9:]  # same length: offsets still valid
    result = verify_pdf(tampered, [pkiset["ca"].cert])
    assert not result.ok
    assert all(not s.intact for s in result.signatures)
    assert "signed content CHANGED after signing" in result.signatures[0].summary()


def test_changes_after_signing_are_reported(pkiset, countersigned) -> None:  # type: ignore[no-untyped-def]
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(countersigned[1]))
    writer.root["/OpenAction"] = generic.NameObject("/Sneaky")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    result = verify_pdf(out.getvalue(), [pkiset["ca"].cert])
    assert not result.ok
    assert all(s.intact and s.trusted and s.after_signing == "changed" for s in result.signatures)
    assert "document CHANGED after signing" in result.signatures[1].summary()


def test_untrusted_and_expired(pkiset, built) -> None:  # type: ignore[no-untyped-def]
    stranger = pki.create_ca("Somewhere else", NOW)
    r = pkiset["reviewer"]
    signed = sign_pdf(built.data, software_signer(r.key, r.cert, r.chain), _req(built, SIG_FIELD_REVIEWER, "Reviewer"))
    result = verify_pdf(signed, [stranger.cert])
    assert not result.ok and result.signatures[0].intact and not result.signatures[0].trusted
    assert "not a trusted root" in result.signatures[0].trust_problem
    past = datetime(2021, 1, 1, tzinfo=UTC)
    old_ca = pki.create_ca("Old", past, years=30)
    old = pki.issue_signing_certificate(old_ca, "Old Signer", "old", "Reviewer", past, years=1)
    expired = sign_pdf(built.data, software_signer(old.key, old.cert, old.chain),
                       _req(built, SIG_FIELD_REVIEWER, "Reviewer"))
    result = verify_pdf(expired, [old_ca.cert])
    assert not result.ok and "expired on 2021-12-31" in result.signatures[0].trust_problem


def test_not_a_pdf(pkiset) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError, match="x.pdf: not a readable PDF"):
        verify_pdf(b"%PDF-1.7 nonsense", [pkiset["ca"].cert], "x.pdf")


def _nss_db(tmp_path: Path, ca: pki.CertifiedKey) -> Path:
    db = tmp_path / "nss"
    db.mkdir()
    (tmp_path / "ca.pem").write_bytes(pki.cert_to_pem(ca.cert))
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "frw-ca", "-t", "CT,C,C", "-i",
                    str(tmp_path / "ca.pem")], check=True, capture_output=True)
    return db


def test_pdfsig_third_party_verification(tmp_path: Path, pkiset, countersigned) -> None:  # type: ignore[no-untyped-def]
    db = _nss_db(tmp_path, pkiset["ca"])
    path = tmp_path / "signed.pdf"
    path.write_bytes(countersigned[1])
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{db}", str(path)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("Signature Validation: Signature is Valid.") == 2
    assert out.stdout.count("Certificate Validation: Certificate is Trusted.") == 2
    assert "Signer Certificate Common Name: Rita Reviewer" in out.stdout
    assert "Signer Certificate Common Name: Lee Lead" in out.stdout
    data = countersigned[1]
    i = data.index(b"/Producer")
    path.write_bytes(data[:i] + b"/Producex" + data[i + 9:])
    bad = subprocess.run(["pdfsig", "-nssdir", f"sql:{db}", str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" not in bad.stdout


# -- PKCS#11 with SoftHSM2 ---------------------------------------------------------------------

SOFTHSM = next((p for p in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
                if os.path.exists(p)), None)


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:  # type: ignore[type-arg]
    """One SoftHSM2 token for the whole run: the library reads SOFTHSM2_CONF once per process.

    The token holds a lead's key and certificate issued by its own CA ("Token tests"), as an
    agency smart card would. Other test modules import this fixture (a second fixture instance),
    so the token is cached on the pkcs11 module, which exists once per process.
    """
    import pkcs11

    cached = getattr(pkcs11, "_frw_test_token", None)
    if cached is not None:
        yield cached
        return
    if SOFTHSM is None or shutil.which("softhsm2-util") is None:
        pytest.fail("SoftHSM2 is required for the PKCS#11 tests (apt install softhsm2)")
    start = min(NOW, FIXED_NOW) - timedelta(days=1)
    ca = pki.create_ca("Token tests", start)
    lead = pki.issue_signing_certificate(ca, "Lee Lead", "lead", "Lead reviewer", start)
    tmp = tmp_path_factory.mktemp("softhsm")
    tokens = tmp / "tokens"
    tokens.mkdir()
    conf = tmp / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # kept: the library reads it once per process
    env = {**os.environ}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "frw-card", "--pin", "123456",
                    "--so-pin", "87654321"], check=True, capture_output=True, env=env)
    from cryptography.hazmat.primitives import serialization

    key_pem = tmp / "key.pem"
    key_pem.write_bytes(lead.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    subprocess.run(["softhsm2-util", "--import", str(key_pem), "--token", "frw-card", "--label", "lead-sign",
                    "--id", "01", "--pin", "123456"], check=True, capture_output=True, env=env)
    key_pem.unlink()
    # Put the certificate on the card too, as an agency would.
    from pkcs11 import Attribute, CertificateType, ObjectClass

    lib = pkcs11.lib(SOFTHSM)
    token = lib.get_token(token_label="frw-card")
    with token.open(user_pin="123456", rw=True) as session:
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.LABEL: "lead-sign", Attribute.ID: b"\x01", Attribute.TOKEN: True,
            Attribute.VALUE: pki.cert_to_der(lead.cert), Attribute.SUBJECT: lead.cert.subject.public_bytes(),
            Attribute.ISSUER: lead.cert.issuer.public_bytes(),
            Attribute.SERIAL_NUMBER: pki.to_asn1_cert(lead.cert)["tbs_certificate"]["serial_number"].dump(),
        })
    token_info = {"module": SOFTHSM, "token": "frw-card", "key": "lead-sign", "pin": "123456", "ca": ca, "lead": lead}
    pkcs11._frw_test_token = token_info  # type: ignore[attr-defined]
    yield token_info


def test_pkcs11_token_countersigns(softhsm, pkiset, built, countersigned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert, _chain = token_certificate(softhsm["module"], softhsm["token"], softhsm["key"], softhsm["pin"])
    assert cert == softhsm["lead"].cert
    r = pkiset["reviewer"]
    signed = sign_pdf(built.data, software_signer(r.key, r.cert, r.chain), _certify(built))
    with token_signer(softhsm["module"], softhsm["token"], softhsm["key"], softhsm["pin"], cert,
                      (softhsm["ca"].cert,)) as signer:
        both = sign_pdf(signed, signer, _req(built, SIG_FIELD_LEAD, "Lead reviewer"))
    result = verify_pdf(both, [pkiset["ca"].cert, softhsm["ca"].cert])
    assert result.ok, result.lines()
    assert result.signatures[1].signer == "Lee Lead"
    db = _nss_db(tmp_path, pkiset["ca"])
    (tmp_path / "token-ca.pem").write_bytes(pki.cert_to_pem(softhsm["ca"].cert))
    subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "token-ca", "-t", "CT,C,C", "-i",
                    str(tmp_path / "token-ca.pem")], check=True, capture_output=True)
    path = tmp_path / "token.pdf"
    path.write_bytes(both)
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{db}", str(path)], capture_output=True, text=True, check=False)
    assert out.stdout.count("Signature is Valid.") == 2, out.stdout


def test_pkcs11_wrong_pin(softhsm) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthError, match="rejected the PIN"):
        token_certificate(softhsm["module"], softhsm["token"], softhsm["key"], "000000")
    with pytest.raises(ValidationError, match="cannot open token 'no-such-card'"):
        token_certificate(softhsm["module"], "no-such-card", softhsm["key"], softhsm["pin"])


def test_signature_stamps_use_the_embedded_font(tmp_path: Path, countersigned) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "signed.pdf"
    path.write_bytes(countersigned[1])
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all("DejaVu" in row and " yes yes " in row for row in fonts), fonts
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Signed by Rita Reviewer" in text and "Signed by Lee Lead" in text
    assert text.count("(signer's local clock)") == 2 and "Role: Lead reviewer" in text
