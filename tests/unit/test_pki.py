"""Workstation CA, signing certificates, PKCS#12 import and detached CMS signatures (also via openssl)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from app.model.errors import IntegrityError, PermissionDenied, ValidationError
from reports import pki
from reports.detached import sign_detached, verify_detached

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> pki.CertifiedKey:
    return pki.create_ca("Analysis Room 3", NOW)


@pytest.fixture(scope="module")
def reviewer(ca: pki.CertifiedKey) -> pki.CertifiedKey:
    return pki.issue_signing_certificate(ca, "Rita Reviewer", "reviewer", "Reviewer", NOW)


def test_ca_is_p256_unique_and_has_no_network_urls(ca: pki.CertifiedKey) -> None:
    other = pki.create_ca("Analysis Room 3", NOW)
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey) and ca.key.curve.name == "secp256r1"
    assert "Analysis Room 3" in ca.cert.subject.rfc4514_string()
    assert ca.cert.subject != other.cert.subject  # same workstation name, distinct CA names
    assert ca.cert.serial_number != other.cert.serial_number
    assert pki.is_ca(ca.cert)
    assert pki.network_extensions(ca.cert) == []
    usage = ca.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    assert b"http" not in pki.cert_to_der(ca.cert).lower()


def test_signing_certificate_usage_and_chain(ca: pki.CertifiedKey, reviewer: pki.CertifiedKey) -> None:
    cert = reviewer.cert
    assert cert.issuer == ca.cert.subject
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert not pki.is_ca(cert)
    assert pki.network_extensions(cert) == []
    assert b"http" not in pki.cert_to_der(cert).lower()
    cert.verify_directly_issued_by(ca.cert)
    assert reviewer.subject == "Rita Reviewer"
    assert reviewer.chain == (ca.cert,)


def test_serialisation_round_trips(ca: pki.CertifiedKey, reviewer: pki.CertifiedKey) -> None:
    assert pki.cert_from_bytes(pki.cert_to_pem(ca.cert)) == ca.cert
    assert pki.cert_from_bytes(pki.cert_to_der(ca.cert)) == ca.cert
    assert pki.certs_from_pem(pki.certs_to_pem([ca.cert, reviewer.cert])) == [ca.cert, reviewer.cert]
    key = pki.key_from_der(pki.key_to_der(reviewer.key))
    assert key.private_numbers() == reviewer.key.private_numbers()  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match=r"not a readable X\.509"):
        pki.cert_from_bytes(b"garbage")
    assert len(pki.fingerprint(ca.cert)) == 64


def test_pkcs12_import(reviewer: pki.CertifiedKey, ca: pki.CertifiedKey) -> None:
    blob = pki.to_pkcs12(reviewer, "agency-pass-123")
    loaded = pki.load_pkcs12(blob, "agency-pass-123", "agency.p12")
    assert loaded.cert == reviewer.cert
    assert loaded.chain == (ca.cert,)
    with pytest.raises(IntegrityError, match=r"agency\.p12: wrong password"):
        pki.load_pkcs12(blob, "wrong-pass", "agency.p12")
    with pytest.raises(IntegrityError, match=r"agency\.p12"):
        pki.load_pkcs12(b"not pkcs12", "x", "agency.p12")


def test_pkcs12_refuses_weak_curve() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256K1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "weak")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW).not_valid_after(NOW + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    blob = pkcs12.serialize_key_and_certificates(b"w", key, cert, None, BestAvailableEncryption(b"pw"))
    with pytest.raises(ValidationError, match="secp256k1 is not allowed"):
        pki.load_pkcs12(blob, "pw", "weak.p12")


def test_detached_sign_and_verify(ca: pki.CertifiedKey, reviewer: pki.CertifiedKey) -> None:
    data = b"abc  report.pdf\n"
    sig = sign_detached(data, reviewer.key, reviewer.cert, reviewer.chain)
    info = verify_detached(data, sig, [ca.cert])
    assert info.subject == "Rita Reviewer"
    assert info.fingerprint == pki.fingerprint(reviewer.cert)
    assert info.signing_time is not None
    with pytest.raises(IntegrityError, match="changed after signing"):
        verify_detached(data + b"x", sig, [ca.cert], what="SHA256SUMS.p7s")
    stranger = pki.create_ca("Elsewhere", NOW)
    with pytest.raises(IntegrityError, match="does not chain to a trusted root"):
        verify_detached(data, sig, [stranger.cert])
    with pytest.raises(IntegrityError, match="does not chain to a trusted root"):
        verify_detached(data, sig, [])
    with pytest.raises(IntegrityError, match="not a readable CMS"):
        verify_detached(data, b"\x30\x03junk", [ca.cert])


def test_detached_expired_certificate(ca: pki.CertifiedKey) -> None:
    past = datetime(2020, 1, 1, tzinfo=UTC)
    old_ca = pki.create_ca("Old room", past, years=1)
    old = pki.issue_signing_certificate(old_ca, "Old Signer", "old", "Reviewer", past)
    sig = sign_detached(b"data", old.key, old.cert, old.chain)
    with pytest.raises(IntegrityError, match="expired on"):
        verify_detached(b"data", sig, [old_ca.cert])


def test_detached_verifies_with_openssl(tmp_path: Path, ca: pki.CertifiedKey, reviewer: pki.CertifiedKey) -> None:
    data = b"0123abcd  report.pdf\n4567ef  findings.json\n"
    (tmp_path / "SHA256SUMS").write_bytes(data)
    (tmp_path / "SHA256SUMS.p7s").write_bytes(sign_detached(data, reviewer.key, reviewer.cert, reviewer.chain))
    (tmp_path / "ca.pem").write_bytes(pki.cert_to_pem(ca.cert))
    cmd = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "SHA256SUMS.p7s",
           "-content", "SHA256SUMS", "-CAfile", "ca.pem", "-out", "/dev/null"]
    ok = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "Verification successful" in ok.stderr
    (tmp_path / "SHA256SUMS").write_bytes(data.replace(b"0123", b"0124"))
    bad = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert bad.returncode != 0
    # An unrelated CA must not verify it either.
    (tmp_path / "SHA256SUMS").write_bytes(data)
    (tmp_path / "ca.pem").write_bytes(pki.cert_to_pem(pki.create_ca("Other", NOW).cert))
    assert subprocess.run(cmd, cwd=tmp_path, capture_output=True, check=False).returncode != 0


def test_openssl_sees_no_urls(tmp_path: Path, reviewer: pki.CertifiedKey) -> None:
    (tmp_path / "c.pem").write_bytes(pki.cert_to_pem(reviewer.cert))
    text = subprocess.run(["openssl", "x509", "-in", "c.pem", "-noout", "-text"], cwd=tmp_path,
                          capture_output=True, text=True, check=True).stdout
    assert "Digital Signature, Non Repudiation" in text
    assert "URI:" not in text and "Authority Information Access" not in text
    assert "CRL Distribution" not in text


# -- service: CA at setup, certificates per signing account, trusted roots ----------------------


def _prepared(workstation):  # type: ignore[no-untyped-def]
    from app.services import pki as pki_service

    admin = workstation.session("admin")
    pki_service.ensure_ready(admin)
    return admin


def test_service_creates_ca_and_certificates(workstation) -> None:  # type: ignore[no-untyped-def]
    from app.services import pki as pki_service

    admin = _prepared(workstation)
    ca_cert = pki_service.workstation_ca(admin)
    assert "Test workstation" in ca_cert.subject.rfc4514_string()
    assert pki_service.trusted_roots(admin) == [ca_cert]
    # Everyone's own key is certified (it signs their audit events and decisions); only roles
    # that sign reports may use it for that (the services check the permission).
    for name in ("reviewer", "reviewer2", "lead", "auditor", "admin"):
        info = pki_service.identity_info(admin, name)
        assert info is not None and info.source == "workstation"
    # Nobody loads another person's key: it is wrapped under that person's own passphrase.
    with pytest.raises(PermissionDenied):
        pki_service.load_identity(admin, "reviewer")
    reviewer = workstation.session("reviewer")
    ident = pki_service.load_identity(reviewer, "reviewer")
    assert ident.key is not None and ident.cert.issuer == ca_cert.subject
    pki_service.ensure_ready(admin)  # idempotent: no second CA, no second certificate
    assert pki_service.workstation_ca(admin) == ca_cert
    assert pki_service.load_identity(reviewer, "reviewer").cert == ident.cert
    from app.services import audit

    actions = [e.action for e in audit.events(admin, 500)]
    assert actions.count("pki.ca_create") == 1 and actions.count("pki.certificate_issue") == 5


def test_hooks_issue_at_setup_and_account_creation(tmp_path: Path) -> None:
    from app.model.accounts import Role
    from app.services import pki as pki_service
    from app.services import users, workstation

    result = workstation.initialize(tmp_path / "ws", workstation_name="Hooked", system_high="SECRET",
                                    admin_username="admin", admin_display_name="A",
                                    admin_passphrase="correct-horse-42-granite")
    admin = result.session
    assert "Hooked" in pki_service.workstation_ca(admin).subject.rfc4514_string()
    assert pki_service.identity_info(admin, "admin") is not None  # certified at setup
    users.add_user(admin, "correct-horse-42-granite", "rev", "Rev One", Role.REVIEWER, "battery-staple-7-willow")
    # No key exists until the person sets their own passphrase at first sign-in.
    assert pki_service.identity_info(admin, "rev") is None
    workstation.change_initial_passphrase(tmp_path / "ws", "rev", "battery-staple-7-willow",
                                          "my-own-passphrase-31").close()
    assert pki_service.identity_info(admin, "rev") is None  # requested, not yet issued
    assert pki_service.issue_pending(admin) == ["rev"]
    assert pki_service.identity_info(admin, "rev") is not None
    admin.close()


def test_trusted_root_import_is_admin_only_and_audited(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.model.errors import AuthError, PermissionDenied
    from app.services import audit
    from app.services import pki as pki_service

    admin = _prepared(workstation)
    other = pki.create_ca("Peer workstation", NOW)
    path = tmp_path / "peer-ca.pem"
    path.write_bytes(pki.cert_to_pem(other.cert))
    reviewer = workstation.session("reviewer")
    with pytest.raises(PermissionDenied):
        pki_service.import_trusted_root(reviewer, path, workstation.passphrase("reviewer"))
    with pytest.raises(AuthError):
        pki_service.import_trusted_root(admin, path, "wrong passphrase!!")
    root = pki_service.import_trusted_root(admin, path, workstation.passphrase("admin"))
    assert root.origin == "imported" and root.fingerprint == pki.fingerprint(other.cert)
    assert other.cert in pki_service.trusted_roots(admin)
    with pytest.raises(ValidationError, match="already a trusted root"):
        pki_service.import_trusted_root(admin, path, workstation.passphrase("admin"))
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(pki.cert_to_pem(pki.issue_signing_certificate(other, "X", "x", "Reviewer", NOW).cert))
    with pytest.raises(ValidationError, match="not a CA certificate"):
        pki_service.import_trusted_root(admin, leaf, workstation.passphrase("admin"))
    events = audit.events(admin, 50, action_prefix="pki.root")
    assert [e.action for e in events] == ["pki.root_import"]
    pki_service.remove_trusted_root(admin, root.fingerprint, workstation.passphrase("admin"))
    assert other.cert not in pki_service.trusted_roots(admin)
    own = pki.fingerprint(pki_service.workstation_ca(admin))
    with pytest.raises(ValidationError, match="cannot be removed"):
        pki_service.remove_trusted_root(admin, own, workstation.passphrase("admin"))


def test_pkcs12_import_requires_trusted_issuer(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.model.errors import IntegrityError as Integrity
    from app.services import pki as pki_service

    admin = _prepared(workstation)
    agency = pki.create_ca("Agency PKI", NOW)
    ident = pki.issue_signing_certificate(agency, "Rita Reviewer (agency)", "reviewer", "Reviewer", NOW)
    blob = pki.to_pkcs12(ident, "p12-pass-1")
    reviewer = workstation.session("reviewer")
    with pytest.raises(Integrity, match="does not chain to a trusted root"):
        pki_service.import_pkcs12(reviewer, blob, "p12-pass-1", workstation.passphrase("reviewer"), "rita.p12")
    assert pki_service.identity_info(reviewer).source == "workstation"  # type: ignore[union-attr]
    path = tmp_path / "agency.pem"
    path.write_bytes(pki.cert_to_pem(agency.cert))
    pki_service.import_trusted_root(admin, path, workstation.passphrase("admin"))
    info = pki_service.import_pkcs12(reviewer, blob, "p12-pass-1", workstation.passphrase("reviewer"), "rita.p12")
    assert info.source == "pkcs12" and info.subject == "Rita Reviewer (agency)"
    assert pki_service.load_identity(reviewer, "reviewer").cert == ident.cert


def test_chain_problem_names_the_cause(ca: pki.CertifiedKey, reviewer: pki.CertifiedKey) -> None:
    assert pki.chain_problem(reviewer.cert, (), [ca.cert], NOW) is None
    assert pki.chain_problem(ca.cert, (), [ca.cert], NOW) is None
    other = pki.create_ca("Other room", NOW)
    assert "does not chain to a trusted root" in (pki.chain_problem(reviewer.cert, (), [other.cert], NOW) or "")
    # Same subject name, different key: the signature check, not the name, decides.
    impostor = pki.CertifiedKey(pki.new_key(), ca.cert, ())
    forged = pki.issue_signing_certificate(impostor, "Mallory", "mallory", "Reviewer", NOW)
    assert "does not chain" in (pki.chain_problem(forged.cert, (), [ca.cert], NOW) or "")
    later = NOW + timedelta(days=365 * 4)
    assert "expired on" in (pki.chain_problem(reviewer.cert, (), [ca.cert], later) or "")


def test_admin_reissues_an_expired_certificate(workstation) -> None:  # type: ignore[no-untyped-def]
    from app.model.errors import PermissionDenied
    from app.services import pki as pki_service

    admin = _prepared(workstation)
    before = pki_service.identity_info(admin, "reviewer")
    with pytest.raises(PermissionDenied):
        pki_service.reissue_certificate(workstation.session("lead"), "reviewer", workstation.passphrase("lead"))
    after = pki_service.reissue_certificate(admin, "reviewer", workstation.passphrase("admin"))
    assert before is not None and after.fingerprint != before.fingerprint
    assert pki_service.identity_info(admin, "reviewer").fingerprint == after.fingerprint


def _altered(cert: x509.Certificate, change) -> bytes:  # type: ignore[no-untyped-def]
    from asn1crypto import x509 as asn1_x509

    parsed = asn1_x509.Certificate.load(pki.cert_to_der(cert))
    change(parsed["tbs_certificate"])
    return parsed.dump(force=True)  # the signature no longer matches: loading does not check it


def _unknown_key_algorithm(tbs) -> None:  # type: ignore[no-untyped-def]
    tbs["subject_public_key_info"]["algorithm"]["algorithm"] = "1.2.3.4.5"


def _duplicate_extension(tbs) -> None:  # type: ignore[no-untyped-def]
    tbs["extensions"].append(tbs["extensions"][0].copy())


@pytest.mark.parametrize(("change", "problem"), [
    (_unknown_key_algorithm, "Unknown key type: 1.2.3.4.5"),  # public_key() raised UnsupportedAlgorithm
    (_duplicate_extension, "Duplicate 2.5.29.19 extension found"),  # .extensions raised DuplicateExtension
])
def test_a_certificate_from_media_that_cannot_be_used_is_refused_on_reading(
        reviewer: pki.CertifiedKey, tmp_path: Path, change, problem: str) -> None:  # type: ignore[no-untyped-def]
    """Parts parsed only when first asked for failed later with a traceback (registering a partner
    certificate, importing a root); they are parsed where the file is read and named."""
    der = _altered(reviewer.cert, change)
    with pytest.raises(ValidationError, match=f"partner.der: not a usable X.509 certificate \\({problem}\\)"):
        pki.cert_from_bytes(der, "partner.der")
    pem = x509.load_der_x509_certificate(der).public_bytes(pki.serialization.Encoding.PEM)
    with pytest.raises(ValidationError, match=f"bundle.pem: not a usable X.509 certificate \\({problem}\\)"):
        pki.certs_from_pem(pem, "bundle.pem")
    from app.model.dissemination import CertificatePurpose
    from app.services import partners

    path = tmp_path / "partner.der"
    path.write_bytes(der)
    with pytest.raises(ValidationError, match=problem):  # was UnsupportedAlgorithm / DuplicateExtension
        partners.read_certificate(path, CertificatePurpose.RECEIPT, NOW)


def test_certificate_and_key_files_that_are_named_pipes_are_refused(tmp_path: Path) -> None:
    """A named pipe picked as a certificate or key blocked the read until a writer came (a hang)."""
    import os

    from app.model.dissemination import CertificatePurpose
    from app.model.errors import IngestError
    from app.services import partners, sealing
    from app.services import pki as pki_service

    fifo = tmp_path / "partner.pem"
    os.mkfifo(fifo)
    for read in (lambda: partners.read_certificate(fifo, CertificatePurpose.RECEIPT, NOW),
                 lambda: pki_service.read_certificate_file(fifo), lambda: sealing.read_certificates(fifo),
                 lambda: sealing.read_private_key(fifo)):
        with pytest.raises(IngestError, match=r"partner\.pem: is not a regular file"):
            read()
    assert sealing.key_needs_password(fifo) is False
