"""Trusted documents from media (checklist templates, coverage rule sets): FILE plus FILE.p7s, a
detached CMS signature by a certificate chaining to a trusted root (workstation CA or imported).
"""

from __future__ import annotations

from pathlib import Path

from app.foundation.files import read_bounded
from app.model.errors import IngestError, IntegrityError
from app.model.verification import SignerInfo
from app.services import pki as pki_service
from app.services.session import Session
from reports.detached import verify_detached

MAX_SIGNATURE = 1 << 20


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + ".p7s")


def read_signed(session: Session, path: Path, max_bytes: int, what: str) -> tuple[bytes, SignerInfo]:
    """The file's bytes and who signed them; IntegrityError when unsigned, tampered or untrusted."""
    path = Path(path)
    sig_path = signature_path(path)
    data = read_bounded(path, max_bytes, what)
    if not sig_path.is_file():
        raise IntegrityError(
            f"{path}: unsigned {what} refused. A {what} must come with a detached signature {sig_path.name} "
            "from a trusted authority certificate (the workstation CA or an imported root)."
        )
    try:
        if sig_path.stat().st_size > MAX_SIGNATURE:
            raise IntegrityError(f"{sig_path}: too large to be a signature")
        signature = sig_path.read_bytes()
    except OSError as exc:
        raise IngestError(str(sig_path), f"cannot be read ({exc.strerror or exc})") from None
    roots = pki_service.trusted_roots(session)
    signer = verify_detached(data, signature, roots, what=f"{sig_path} ({what} signature)", at=session.clock())
    _require_authority(session, signer, sig_path, what)
    return data, signer


def _require_authority(session: Session, signer: SignerInfo, sig_path: Path, what: str) -> None:
    """Reviewers' own certificates chain to the workstation CA too, but a reviewer must not be able
    to author the rules their work is judged by: under the workstation CA only the CA itself signs."""
    ca = pki_service.workstation_ca(session)
    if signer.certificate.issuer == ca.subject and signer.certificate != ca:
        raise IntegrityError(
            f"{sig_path}: signed by {signer.subject}, a workstation account certificate. A {what} must be "
            "signed by an authority: the workstation CA or a signing certificate of an imported agency root."
        )


def verify_stored(session: Session, data: bytes, signature: bytes, what: str) -> SignerInfo:
    """Re-verify a document kept in the database with its detached signature: an edit of the stored
    bytes (an insider with the database) is caught when the document is used, not trusted."""
    roots = pki_service.trusted_roots(session)
    signer = verify_detached(data, signature, roots, what=f"stored {what} signature", at=session.clock())
    _require_authority(session, signer, Path(f"stored {what}"), what)
    return signer
