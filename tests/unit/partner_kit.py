"""Test helpers for partners: certificates a partner would hold, and receipts they would sign."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from tests.conftest import FIXED_NOW


@dataclass
class PartnerKey:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    cert: x509.Certificate
    cert_path: Path
    key_path: Path


def make_cert(folder: Path, name: str, purpose: str = "receipt", *, rsa_bits: int = 0, days: int = 365,
              not_before: datetime | None = None, ca: bool = False) -> PartnerKey:
    """A partner's self-signed certificate (what an allied agency or lab would send on media)."""
    folder.mkdir(parents=True, exist_ok=True)
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
        rsa.generate_private_key(65537, rsa_bits) if rsa_bits else ec.generate_private_key(ec.SECP256R1()))
    start = not_before or (FIXED_NOW - timedelta(days=30))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)])
    signing = purpose == "receipt"
    usage = x509.KeyUsage(digital_signature=signing or ca, content_commitment=signing, key_encipherment=not signing
                          and bool(rsa_bits), data_encipherment=False, key_agreement=not signing and not rsa_bits,
                          key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256()))
    stem = f"{name.lower().replace(' ', '_')}_{purpose}"
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return PartnerKey(key, cert, cert_path, key_path)


def receipt_json(manifest_sha256: str, partner: str, received_at: str = "2026-11-21T09:00:00+00:00",
                 note: str = "Received intact") -> bytes:
    return json.dumps({"manifest_sha256": manifest_sha256, "received_at": received_at, "partner": partner,
                       "note": note}, indent=2).encode()


def write_receipt(folder: Path, data: bytes, signer: PartnerKey, name: str = "receipt.json") -> Path:
    """receipt.json plus receipt.json.p7s: a detached DER CMS signature, as openssl cms -sign makes it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    signature = (pkcs7.PKCS7SignatureBuilder().set_data(data)
                 .add_signer(signer.cert, signer.key, hashes.SHA256())
                 .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                                    pkcs7.PKCS7Options.Binary]))
    (folder / f"{name}.p7s").write_bytes(signature)
    return path
