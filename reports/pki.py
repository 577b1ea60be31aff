"""Workstation PKI: a local CA, per-account signing certificates, PKCS#12 import, serialisation.

Air gap rules (ARCHITECTURE.md): ECDSA P-256 with SHA-256, a CA name unique to this workstation
(workstation name plus a random serial), and no network URL anywhere in a certificate (no AIA, no
CRL distribution point): a verifier must never be tempted to fetch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtensionOID, NameOID

from app.model.errors import IntegrityError, ValidationError

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CA_YEARS = 20
SIGNER_YEARS = 3
ORGANISATION = "Frontier Review Workstation"
# Extensions that point a verifier at the network; never present in certificates made here.
NETWORK_EXTENSIONS = (
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    ExtensionOID.CRL_DISTRIBUTION_POINTS,
    ExtensionOID.FRESHEST_CRL,
    ExtensionOID.SUBJECT_INFORMATION_ACCESS,
)
_FIPS_CURVES = (ec.SECP256R1, ec.SECP384R1)
_MIN_RSA_BITS = 3072


@dataclass(frozen=True)
class CertifiedKey:
    """A private key with its certificate and the chain above it (issuer first, root last)."""

    key: PrivateKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...] = field(default_factory=tuple)

    @property
    def subject(self) -> str:
        return common_name(self.cert)


def _utc(now: datetime) -> datetime:
    return now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)


def _name(common: str, unit: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION)]
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit[:64]))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common[:64]))
    return x509.Name(attrs)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def create_ca(workstation_name: str, now: datetime, years: int = CA_YEARS,
              key: ec.EllipticCurvePrivateKey | None = None) -> CertifiedKey:
    """Self-signed workstation CA. The random serial also goes into the name, so two workstations
    with the same display name still have distinct issuer names."""
    name = workstation_name.strip()
    if not name:
        raise ValidationError("workstation_name", "is required for the workstation CA")
    key = key or new_key()
    serial = x509.random_serial_number()
    start = _utc(now) - timedelta(minutes=5)  # tolerate small clock differences between steps
    # CN: workstation name + first 16 hex digits of the serial (CN is limited to 64 characters).
    subject = _name(f"{name[:40]} Review CA {serial:x}"[:64], unit=name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertifiedKey(key, cert, ())


def issue_signing_certificate(ca: CertifiedKey, display_name: str, username: str, role: str, now: datetime,
                              years: int = SIGNER_YEARS, key: ec.EllipticCurvePrivateKey | None = None,
                              not_after: datetime | None = None) -> CertifiedKey:
    """A document-signing certificate for one account (digitalSignature + nonRepudiation)."""
    key = key or new_key()
    cert = certify_public_key(ca, key.public_key(), display_name, username, role, now, years, not_after)
    return CertifiedKey(key, cert, (ca.cert,))


def certify_public_key(ca: CertifiedKey, public_key: ec.EllipticCurvePublicKey, display_name: str, username: str,
                       role: str, now: datetime, years: int = SIGNER_YEARS,
                       not_after: datetime | None = None) -> x509.Certificate:
    """The certificate for a key whose private half the CA never sees (a person's own key)."""
    if not display_name.strip() or not username.strip():
        raise ValidationError("account", "a signing certificate needs a display name and a username")
    start = _utc(now) - timedelta(minutes=5)
    end = _utc(not_after) if not_after else start + timedelta(days=365 * years)
    end = min(end, ca.cert.not_valid_after_utc)  # never outlive the issuer
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{role} ({username})"[:64]),
                x509.NameAttribute(NameOID.COMMON_NAME, display_name.strip()[:64]),
            ])
        )
        .issuer_name(ca.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return cert


# -- checks ------------------------------------------------------------------------------------


def network_extensions(cert: x509.Certificate) -> list[str]:
    """Names of extensions in `cert` that carry network locations (empty for our certificates)."""
    found = []
    for ext in cert.extensions:
        if ext.oid in NETWORK_EXTENSIONS:
            found.append(ext.oid._name)
    return found


def check_key_strength(key: object, where: str) -> None:
    """FIPS-approved key types only (SC-13): ECDSA P-256/P-384 or RSA >= 3072 bits."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, _FIPS_CURVES):
            raise ValidationError(where, f"curve {key.curve.name} is not allowed; use P-256 or P-384")
    elif isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            raise ValidationError(where, f"RSA key of {key.key_size} bits is too short; at least 3072 required")
    else:
        raise ValidationError(where, f"unsupported key type {type(key).__name__}; use ECDSA P-256/P-384 or RSA")


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def common_name(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else cert.subject.rfc4514_string()


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint of the DER certificate, hex, as shown to people comparing by phone."""
    return hashlib.sha256(cert_to_der(cert)).hexdigest()


def validity_problem(cert: x509.Certificate, at: datetime) -> str | None:
    at = _utc(at)
    if at < cert.not_valid_before_utc:
        return f"certificate of {common_name(cert)} is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
    if at > cert.not_valid_after_utc:
        return f"certificate of {common_name(cert)} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    return None


def chain_problem(cert: x509.Certificate, intermediates: Sequence[x509.Certificate],
                  roots: Sequence[x509.Certificate], at: datetime) -> str | None:
    """None when `cert` chains (by signature and validity at `at`) to one of `roots`; else why not."""
    pool = list(intermediates) + list(roots)
    root_ders = {cert_to_der(r) for r in roots}
    current = cert
    for _depth in range(8):
        problem = validity_problem(current, at)
        if problem:
            return problem
        if cert_to_der(current) in root_ders:
            return None
        issuers = [c for c in pool if c.subject == current.issuer and c is not current]
        for issuer in issuers:
            try:
                current.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):
                continue
            if cert_to_der(issuer) in root_ders:
                return validity_problem(issuer, at)
            current = issuer
            break
        else:
            return (f"certificate of {common_name(current)} (issued by {current.issuer.rfc4514_string()}) does not "
                    "chain to a trusted root on this workstation")
    return "certificate chain is too long"


def issuer_path(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """The CA certificates from `pool` above `cert`, issuer first, checked by signature: the chain a
    signature must carry so that a receiver trusting only its root can build the path."""
    path: list[x509.Certificate] = []
    current = cert
    for _depth in range(8):
        issuer = next((c for c in pool if c.subject == current.issuer and c != current and c not in path
                       and _issued_by(current, c)), None)
        if issuer is None:
            break
        path.append(issuer)
        if issuer.subject == issuer.issuer:
            break
        current = issuer
    return path


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


# -- PKCS#12 -----------------------------------------------------------------------------------


def load_pkcs12(data: bytes, password: str | None, source: str = "PKCS#12 file") -> CertifiedKey:
    """Read an agency-issued signing identity; the message names the file and the problem."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError as exc:
        text = str(exc).lower()
        if "password" in text or "mac" in text or "decrypt" in text:
            raise IntegrityError(f"{source}: wrong password or damaged PKCS#12 file") from None
        raise IntegrityError(f"{source}: not a readable PKCS#12 file ({exc})") from None
    if key is None or cert is None:
        raise ValidationError(source, "the PKCS#12 file must hold a private key and its certificate")
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValidationError(source, f"unsupported key type {type(key).__name__}")
    check_key_strength(key, source)
    if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
        raise ValidationError(source, "the private key does not belong to the certificate")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not (usage.digital_signature or usage.content_commitment):
            raise ValidationError(source, "the certificate is not allowed to sign documents (key usage)")
    except x509.ExtensionNotFound:
        pass
    chain = tuple(c for c in (extra or []) if c != cert)
    return CertifiedKey(key, cert, chain)


def to_pkcs12(identity: CertifiedKey, password: str, friendly_name: str = "signing key") -> bytes:
    """Export (used by tests and for handing a software identity to a token)."""
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode(), identity.key, identity.cert, list(identity.chain) or None,
        serialization.BestAvailableEncryption(password.encode()),
    )


# -- serialisation -----------------------------------------------------------------------------


def cert_to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_to_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def certs_to_pem(certs: Iterable[x509.Certificate]) -> bytes:
    return b"".join(cert_to_pem(c) for c in certs)


def cert_from_bytes(data: bytes, source: str = "certificate") -> x509.Certificate:
    """PEM or DER, one certificate."""
    try:
        if b"-----BEGIN" in data:
            return _parsed(x509.load_pem_x509_certificate(data), source)
        return _parsed(x509.load_der_x509_certificate(data), source)
    except ValueError:
        raise ValidationError(source, "not a readable X.509 certificate (PEM or DER)") from None


def certs_from_pem(data: bytes, source: str = "certificates") -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ValidationError(source, "not a readable PEM certificate bundle") from None
    return [_parsed(c, source) for c in certs]


def _parsed(cert: x509.Certificate, source: str) -> x509.Certificate:
    """`cert` with the parts cryptography parses only when first asked (extensions, public key)
    parsed here, where the file is named: a duplicate extension or a key algorithm it does not know
    raised DuplicateExtension / UnsupportedAlgorithm later (registering a partner certificate,
    importing a root), ending in a traceback. About 6 us a certificate."""
    try:
        _ = cert.extensions, cert.public_key()
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType, UnsupportedAlgorithm) as exc:
        raise ValidationError(source, f"not a usable X.509 certificate ({exc})") from None
    return cert


def key_to_der(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8: only ever stored inside the encrypted database."""
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def key_from_der(data: bytes) -> PrivateKey:
    key = serialization.load_der_private_key(data, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValidationError("private key", f"unsupported key type {type(key).__name__}")
    return key


def to_asn1_cert(cert: x509.Certificate):  # type: ignore[no-untyped-def]
    """cryptography -> asn1crypto (pyHanko's certificate type)."""
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(cert_to_der(cert))


def to_asn1_key(key: PrivateKey):  # type: ignore[no-untyped-def]
    from asn1crypto import keys as asn1_keys

    return asn1_keys.PrivateKeyInfo.load(key_to_der(key))


def from_asn1_cert(cert: object) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())  # type: ignore[attr-defined]


def dedupe(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    seen: set[bytes] = set()
    out = []
    for c in certs:
        der = cert_to_der(c)
        if der not in seen:
            seen.add(der)
            out.append(c)
    return out


# -- personal keys: digests signed by a person, requests, revocation -----------------------------

_DIGEST_SIG = ec.ECDSA(Prehashed(hashes.SHA256()))


def public_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_fingerprint(public_key: object) -> str:
    """SHA-256 over the DER SubjectPublicKeyInfo: names a key independently of any certificate."""
    return hashlib.sha256(public_der(public_key)).hexdigest()  # type: ignore[arg-type]


def load_public_key(der: bytes) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(der)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValidationError("public key", f"unsupported key type {type(key).__name__}")
    return key


def sign_digest(key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    """ECDSA P-256 over a SHA-256 digest (audit event hashes, decision statements)."""
    return key.sign(digest, _DIGEST_SIG)


def verify_digest(public_key: ec.EllipticCurvePublicKey, digest: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(signature, digest, _DIGEST_SIG)
    except (InvalidSignature, ValueError):
        return False
    return True


def make_request(key: ec.EllipticCurvePrivateKey, display_name: str, username: str) -> bytes:
    """A PKCS#10 request: proves possession of the key to the administrator who certifies it."""
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                                    x509.NameAttribute(NameOID.COMMON_NAME, (display_name or username)[:64])]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.DER)


def load_request(der: bytes) -> x509.CertificateSigningRequest:
    csr = x509.load_der_x509_csr(der)
    if not csr.is_signature_valid:
        raise IntegrityError("the certificate request's signature is not valid (no proof of possession)")
    return csr


def build_crl(ca: CertifiedKey, revoked: Iterable[tuple[int, datetime]], now: datetime) -> bytes:
    """A CRL signed by the workstation CA (no distribution point: it travels with packages)."""
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(ca.cert.subject)
               .last_update(_utc(now))
               .next_update(_utc(now) + timedelta(days=365)))
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(_utc(when)).build())
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def load_crl(der_or_pem: bytes, issuer: x509.Certificate) -> x509.CertificateRevocationList:
    try:
        crl = (x509.load_pem_x509_crl(der_or_pem) if der_or_pem.lstrip().startswith(b"-----")
               else x509.load_der_x509_crl(der_or_pem))
    except ValueError:
        raise IntegrityError("the revocation list is not a readable CRL") from None
    if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
        raise IntegrityError("the revocation list is not signed by the workstation CA")
    return crl
