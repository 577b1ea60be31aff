"""Seal an exported package to partners' certificates (issue 16, point 3) and open one received.

Sealing goes to registered partners only: their signed encryption certificates from the partner
register, the releasability rule (`app.model.partners.withholding`) on the package's marking, and one
dissemination log entry per partner (manifest hash, media label). It re-checks the package against
this workstation's trusted roots first (a package changed on the media is never passed on), takes
its marking from the signed MARKING.txt, clears the media label through the one egress check,
writes NAME.sealed/ (reports/sealed_package.py) and audits `package.seal` with every recipient's
fingerprint and the sealed file's SHA-256.
Opening needs no workstation: a partner's key and certificate, then the normal verification.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from app.foundation.files import read_bounded
from app.model.accounts import Permission
from app.model.errors import FrontierError, IntegrityError, ValidationError
from app.model.markings import Marking
from app.model.package_result import SealedResult
from app.model.verification import PackageVerification
from app.services import egress
from app.services import pki as pki_service
from app.services import reports as reports_service
from app.services.session import Session
from reports import cms_seal, pki
from reports.package import MANIFEST, MARKING_FILE, write_folder
from reports.sealed_package import (
    find_sealed_file,
    open_sealed_package,
    read_package_folder,
    write_sealed_package,
)

# Files picked on media are read whole, so each is refused above what it can be: a certificate chain
# or a key is a few kilobytes (a disk image picked by mistake used to be read into memory whole); a
# sealed package holds a report, its companions and evidence, and is opened in memory. IngestError
# names the file (read_bounded), as for a file that is not a regular file.
MAX_CERT_FILE = pki_service.MAX_CERT_FILE
MAX_KEY_FILE = 1 << 20
MAX_SEALED_FILE = 2 << 30


def read_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM (or one DER) file, naming the file when it cannot be read."""
    data = read_bounded(Path(path), MAX_CERT_FILE, "certificate file")
    return pki.certs_from_pem(data, str(path)) if b"-----BEGIN" in data else [pki.cert_from_bytes(data, str(path))]


def read_private_key(path: Path, password: str | None = None) -> cms_seal.PrivateKey:
    """A PEM or DER private key (RSA or EC), optionally password-protected."""
    data = read_bounded(Path(path), MAX_KEY_FILE, "private key")
    secret = password.encode() if password else None
    try:
        load = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
        key = load(data, secret)
    except TypeError:
        raise ValidationError(str(path), "the key is password-protected: give its password") from None
    except ValueError:
        raise ValidationError(str(path), "not a readable private key (or the password is wrong)") from None
    if not isinstance(key, cms_seal.PrivateKey):
        raise ValidationError(str(path), f"a {type(key).__name__}; only RSA and EC keys open sealed packages")
    return key


def key_needs_password(path: Path) -> bool:
    """Whether the key file is password-protected (PEM or DER), so the caller asks before loading."""
    try:
        data = read_bounded(Path(path), MAX_KEY_FILE, "private key")
    except FrontierError:
        return False  # read_private_key names the problem
    load = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    try:
        load(data, None)
    except TypeError:
        return True
    except ValueError:
        return False
    return False


@dataclass(frozen=True)
class SealOutcome:
    result: SealedResult
    verification: PackageVerification


def seal_folder(session: Session, folder: Path, partner_names: Sequence[str], destination: Path,
                media_label: str) -> SealOutcome:
    """Seal a verified package folder to the registered encryption certificates of `partner_names`
    as destination/NAME.sealed, and log it in the dissemination log once per partner."""
    from app.model.dissemination import CertificatePurpose, DisseminationKind
    from app.model.partners import withholding
    from app.services import dissemination, partners

    session.require(Permission.EXPORT)
    if not partner_names:
        raise ValidationError("partner", "name at least one registered partner to seal the package to")
    chosen = [partners.find(session, n) for n in dict.fromkeys(partner_names)]
    certs: list[x509.Certificate] = []
    for p in chosen:
        assert p.id is not None
        if not p.active:
            raise ValidationError("partner", f"{p.name} is deactivated; nothing more is shared with it")
        found = partners.certificates(session, p.id, CertificatePurpose.ENCRYPTION)
        if not found:
            raise ValidationError("partner", f"{p.name} has no valid encryption certificate registered (an "
                                             "administrator adds one: partner cert-add --purpose encryption)")
        certs += found
    verification = reports_service.verify_path(Path(folder), pki_service.trusted_roots(session))
    if not isinstance(verification, PackageVerification) or not verification.ok:
        problems = "; ".join(getattr(verification, "problems", [])) or "a signature is not valid"
        raise IntegrityError(f"{folder}: the package does not verify, so it is not sealed ({problems})")
    name, files = read_package_folder(Path(folder))
    try:
        marking = Marking.parse(files[MARKING_FILE].decode("utf-8").splitlines()[0])
    except (KeyError, IndexError, UnicodeDecodeError, ValidationError):
        raise ValidationError(str(folder), f"{MARKING_FILE} (the package's signed marking) is missing or "
                                           "unreadable") from None
    for p in chosen:
        reasons = withholding(p, marking)
        if reasons:
            raise ValidationError("partner", f"the package is marked {marking.banner()} and may not go to {p.name}: "
                                             f"{'; '.join(reasons)} (build a release for them instead)")
    cleared = egress.clear(session, f"the package {name}", marking, media_label, destination, recipients=chosen)
    egress.check_folder(destination)
    result = write_sealed_package(Path(destination), name, files, certs, marking, cleared.media, session.clock())
    manifest_sha256 = hashlib.sha256(files[MANIFEST]).hexdigest()
    try:
        with session.transaction() as conn:
            for p in chosen:
                assert p.id is not None
                dissemination.record(session, conn, kind=DisseminationKind.PACKAGE, object_type="package",
                                     object_id=name, revision="", partner_id=p.id, marking=marking, tlp=None,
                                     embargo_until=None, manifest_sha256=manifest_sha256,
                                     media_label=cleared.media, approved_by="",
                                     reason=f"sealed to {p.name}, {result.sealed_file} SHA-256 {result.sha256}")
            session.audit(conn, "package.seal", "package", name,
                          {"source": str(folder), "destination": str(result.path), "sealed_sha256": result.sha256,
                           "manifest_sha256": manifest_sha256, "partners": [p.name for p in chosen],
                           "recipients": result.recipients, "marking": marking.banner(),
                           "media": cleared.media.banner()})
            egress.record(session, conn, cleared, sealed_sha256=result.sha256, recipients=result.recipients)
    except BaseException:
        # Nothing leaves unlogged: without its dissemination entries the sealed folder is removed.
        shutil.rmtree(result.path, ignore_errors=True)
        raise
    return SealOutcome(result, verification)


def open_to_folder(sealed: Path, key: cms_seal.PrivateKey, cert: x509.Certificate, destination: Path) -> Path:
    """Decrypt a sealed package (NAME.p7m or the NAME.sealed folder) into destination/NAME."""
    path = find_sealed_file(Path(sealed))
    data = read_bounded(path, MAX_SEALED_FILE, "sealed package")
    name, files = open_sealed_package(data, key, cert, str(path))
    return write_folder(Path(destination), name, files)
