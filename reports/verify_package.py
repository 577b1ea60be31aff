"""Verify an export package offline: manifest signature, every file's hash, missing and extra
files, the PDF's signatures and the OSCAL document."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from app.model.errors import FrontierError, IntegrityError
from app.model.verification import PackageVerification
from reports import oscal, pki
from reports.detached import verify_detached
from reports.package import CA_FILE, FINDINGS_FILE, MANIFEST, MANIFEST_SIG, OSCAL_FILE, PDF_FILE
from reports.verify import verify_pdf

_LINE = re.compile(r"^([0-9a-f]{64}) [ *]([A-Za-z0-9][A-Za-z0-9._-]{0,127})$")
MAX_FILE = 2 << 30


def parse_manifest(text: bytes, source: str = MANIFEST) -> dict[str, str]:
    entries: dict[str, str] = {}
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        raise IntegrityError(f"{source}: not a SHA-256 manifest (non-ASCII content)") from None
    for n, line in enumerate(decoded.splitlines(), start=1):
        m = _LINE.match(line)
        if not m:
            raise IntegrityError(f"{source} line {n}: not '<sha256>  <file name>'")
        if m.group(2) in entries:
            raise IntegrityError(f"{source} line {n}: {m.group(2)} is listed twice")
        entries[m.group(2)] = m.group(1)
    if not entries:
        raise IntegrityError(f"{source}: the manifest lists no files")
    return entries


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_package(folder: Path, trusted_roots: Sequence[x509.Certificate]) -> PackageVerification:
    """Never trusts the package's own ca.pem: trust comes from `trusted_roots` (this workstation's
    roots, or a CA the receiver obtained separately)."""
    folder = Path(folder)
    result = PackageVerification(folder)
    if not folder.is_dir():
        raise IntegrityError(f"{folder}: not a folder (or the media is not mounted)")
    manifest_path, sig_path = folder / MANIFEST, folder / MANIFEST_SIG
    for p in (manifest_path, sig_path):
        if not p.is_file():
            result.problems.append(f"{p.name} is missing: the package cannot be verified")
    if result.problems:
        return result
    manifest = manifest_path.read_bytes()
    try:
        result.manifest_signer = verify_detached(manifest, sig_path.read_bytes(), trusted_roots, what=MANIFEST_SIG)
        result.checked.append(f"{MANIFEST} signature")
    except IntegrityError as exc:
        result.problems.append(str(exc))
    try:
        entries = parse_manifest(manifest)
    except IntegrityError as exc:
        result.problems.append(str(exc))
        return result
    present = {p.name for p in folder.iterdir()} - {MANIFEST, MANIFEST_SIG}
    for extra in sorted(present - set(entries)):
        result.problems.append(f"{extra} is in the folder but not in the manifest (added after signing)")
    for name, expected in sorted(entries.items()):
        path = folder / name
        if not path.is_file():
            result.problems.append(f"{name} is listed in the manifest but missing")
            continue
        if path.stat().st_size > MAX_FILE:
            result.problems.append(f"{name} is larger than any file this app writes")
            continue
        if _sha256(path) != expected:
            result.problems.append(f"{name} was changed: its SHA-256 does not match the signed manifest")
        else:
            result.checked.append(f"{name} SHA-256 matches")
    if (folder / CA_FILE).is_file():
        try:
            data = (folder / CA_FILE).read_bytes()
            cas = pki.certs_from_pem(data, CA_FILE) if b"-----BEGIN" in data else [pki.cert_from_bytes(data, CA_FILE)]
            result.package_cas = [f"{pki.common_name(c)} (SHA-256 {pki.fingerprint(c)})" for c in cas]
        except FrontierError as exc:
            result.problems.append(f"{CA_FILE}: {exc}")
    pdf_path = folder / PDF_FILE
    if pdf_path.is_file():
        try:
            result.pdf = verify_pdf(pdf_path.read_bytes(), trusted_roots, PDF_FILE)
        except IntegrityError as exc:
            result.problems.append(str(exc))
    elif PDF_FILE not in entries and ({OSCAL_FILE, FINDINGS_FILE} & set(entries)):
        # A report package always carries its signed PDF; a CSAF-only package carries none.
        result.problems.append(f"{PDF_FILE} is not part of the package")
    oscal_path = folder / OSCAL_FILE
    if oscal_path.is_file():
        try:
            oscal.validate(json.loads(oscal_path.read_bytes()), OSCAL_FILE)
            result.checked.append(f"{OSCAL_FILE} is valid OSCAL assessment results")
        except (ValueError, FrontierError) as exc:
            result.problems.append(f"{OSCAL_FILE}: {exc}")
        except RecursionError:  # checked whatever its digest says: json.loads' own limit ended the check
            result.problems.append(f"{OSCAL_FILE}: JSON nested too deeply")
    return result
