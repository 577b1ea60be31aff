"""Demo partners for screenshots and demonstrations: a register with certificates, a few packages
in the dissemination log (one superseded, one acknowledged with a real signed receipt).

The partners' own keys are made here, in `folder`, as each partner would hold them; nothing on a
real workstation calls this.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from app.model.dissemination import CertificatePurpose, DisseminationKind
from app.model.markings import Level
from app.model.partners import Contact, Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from app.services import dissemination, partners, receipts
from app.services.session import Session

DEMO_PARTNERS = (
    Partner(name="UK AI Security Institute", kind=PartnerKind.ALLIED, codes=("GBR", "FVEY"), max_level=Level.SECRET,
            tlp=Tlp.AMBER, contacts=(Contact("Pat Jones", "pat.jones@example.gov.uk", "+44 20 7946 0000",
                                             "liaison officer"),)),
    Partner(name="CISA", kind=PartnerKind.AGENCY, codes=("USA",), max_level=Level.SECRET, tlp=Tlp.RED,
            contacts=(Contact("Duty officer", "clearinghouse@example.gov", "+1 202 555 0100"),)),
    Partner(name="Cobalt Systems", kind=PartnerKind.DEVELOPER, codes=("USA",), max_level=Level.CUI, tlp=Tlp.AMBER,
            developer="Cobalt Systems", contacts=(Contact("Sam Lee", "security@cobalt-systems.example", role="CISO"),)),
)


def _certificate(folder: Path, name: str, purpose: CertificatePurpose,
                 session: Session) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} ({purpose.value})"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)])
    signing = purpose is CertificatePurpose.RECEIPT
    now = session.clock()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=30))
            .not_valid_after(now + timedelta(days=700))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=signing, content_commitment=signing, key_encipherment=False,
                                         data_encipherment=False, key_agreement=not signing, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    path = folder / f"{name.replace(' ', '_')}_{purpose.value}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    # The partner's own key beside it (NAME_PURPOSE.key), as the partner holds it: opens what is sealed to it.
    path.with_suffix(".key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return key, cert, path


def populate(admin: Session, lead: Session, folder: Path) -> None:
    """Register the demo partners (admin) and send them a few packages (lead)."""
    folder.mkdir(parents=True, exist_ok=True)
    ids: dict[str, int] = {}
    receipt_keys: dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate]] = {}
    for p in DEMO_PARTNERS:
        stored = partners.add(admin, p)
        ids[p.name] = int(stored.id or 0)
        for purpose in CertificatePurpose:
            key, cert, path = _certificate(folder, p.name, purpose, admin)
            partners.add_certificate(admin, ids[p.name], path, purpose)
            if purpose is CertificatePurpose.RECEIPT:
                receipt_keys[p.name] = (key, cert)

    def send(name: str, kind: DisseminationKind, object_type: str, object_id: str, revision: str, marking: str,
             tlp: Tlp | None, supersedes: int | None = None) -> int:
        manifest = hashlib.sha256(f"{name}/{object_type}/{object_id}/{revision}".encode()).hexdigest()
        with lead.transaction() as conn:
            return dissemination.record(lead, conn, kind=kind, object_type=object_type, object_id=object_id,
                                        revision=revision, partner_id=ids[name], marking=marking, tlp=tlp,
                                        embargo_until=None, manifest_sha256=manifest, media_label="SECRET//NOFORN",
                                        approved_by=lead.account.username, supersedes=supersedes)

    first = send("UK AI Security Institute", DisseminationKind.PACKAGE, "report", "FRW-C3-2026-0007", "1",
                 "SECRET//REL TO USA, GBR", None)
    send("UK AI Security Institute", DisseminationKind.PACKAGE, "report", "FRW-C3-2026-0007", "2",
         "SECRET//REL TO USA, GBR", None, supersedes=first)
    send("CISA", DisseminationKind.CSAF, "csaf", "FRW-VULN-2026-0003", "1", "CUI", Tlp.AMBER)
    send("Cobalt Systems", DisseminationKind.RELEASE, "submission", "3", "1", "CUI", None)
    # The UK institute acknowledged revision 1 with a receipt signed by its registered key.
    entry = dissemination.get(lead, first)
    body = json.dumps({"manifest_sha256": entry.manifest_sha256, "received_at": lead.now()[:19] + "+00:00",
                       "partner": entry.partner_name, "note": "Received intact; held in the secure room."},
                      indent=2).encode()
    key, cert = receipt_keys["UK AI Security Institute"]
    receipt = folder / "receipt.json"
    receipt.write_bytes(body)
    (folder / "receipt.json.p7s").write_bytes(
        pkcs7.PKCS7SignatureBuilder().set_data(body).add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))
    receipts.import_receipt(lead, receipt)
