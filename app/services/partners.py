"""The partner register (issue 16, point 1): who may receive what leaves the workstation.

API (used by the release, CSAF-sharing and sealing code):

- `add(session, partner) -> Partner`, `update(session, partner_id, partner) -> Partner`,
  `deactivate(session, partner_id)`, `reactivate(session, partner_id)`,
  `add_certificate(session, partner_id, path, purpose) -> PartnerCertificate`: administrators only.
  Each change is audited and recorded as a decision signed by the administrator over the partner's
  whole content (fields, contacts, certificates by SHA-256 of their DER).
- `get(session, partner_id) -> Partner`, `find(session, name_or_id) -> Partner`,
  `for_developer(session, developer_name) -> Partner | None`: a partner is returned only when the
  newest signed decision on it verifies, was made by an administrator and covers exactly the row
  as it stands; otherwise IntegrityError "... is not signed ...". An insider who raises
  `max_level` or adds a REL TO code in the database is refused here.
- `certificates(session, partner_id, purpose) -> list[x509.Certificate]`: the partner's current
  (unexpired) certificates for `CertificatePurpose.ENCRYPTION` or `.RECEIPT`, after the same check.
- `list_all(session) -> list[Partner]` and `problem(session, partner_id) -> str | None` for screens
  that show every row, including ones that no longer hold.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.foundation.files import regular_file, shown_name
from app.model.accounts import Permission, Role
from app.model.dissemination import CertificatePurpose, PartnerCertificate
from app.model.errors import IntegrityError, NotFound, ValidationError
from app.model.partners import Partner, PartnerKind
from app.services import decisions
from app.services.session import Session
from reports import pki
from storage import partners_repo as repo
from storage.db import Connection

PARTNER_KINDS = ("partner.add", "partner.update", "partner.deactivate", "partner.reactivate", "partner.certificate")
MAX_CERT_BYTES = 64 * 1024


# -- what an administrator signs ----------------------------------------------------------------


def signed_content(conn: Connection, partner_id: int) -> dict[str, Any]:
    """The partner row and its certificates as a signed decision covers them."""
    p = repo.get_partner(conn, partner_id)
    certs = sorted(f"{c.purpose.value}:{hashlib.sha256(c.der).hexdigest()}"
                   for c in repo.certificates(conn, partner_id))
    return {"partner": partner_id, "name": p.name, "kind": p.kind.value, "codes": list(p.codes),
            "max_level": p.max_level.banner_word, "tlp": p.tlp.value, "accesses": list(p.accesses),
            "developer": p.developer, "active": p.active,
            "contacts": [[c.name, c.email, c.phone, c.role] for c in p.contacts], "certificates": certs}


def _decide(session: Session, conn: Connection, kind: str, partner_id: int) -> None:
    decisions.record(conn, session.personal, kind, "partner", partner_id, session.account.username, session.now(),
                     session.db_id, signed_content(conn, partner_id))


def _problem(session: Session, conn: Connection, partner_id: int) -> str | None:
    reg = decisions.Registry.load(conn, session.db_id)
    d, why = decisions.latest(conn, reg, "partner", partner_id, PARTNER_KINDS)
    if d is None:
        return "no administrator signed it"
    if why:
        return f"the signature on its last change by {d.actor} does not hold ({why})"
    if decisions.actor_role(conn, reg, d.actor) is not Role.ADMIN:
        return f"{d.actor}, who signed its last change, is not an administrator by any administrator's signature"
    if decisions.content_of(d) != signed_content(conn, partner_id):
        return f"it was changed in the database after {d.actor} signed it on {d.ts[:10]}"
    return None


def _checked(session: Session, conn: Connection, partner: Partner) -> Partner:
    assert partner.id is not None
    why = _problem(session, conn, partner.id)
    if why:
        raise IntegrityError(f"Partner {partner.name} (id {partner.id}) is not signed: {why}. An administrator must "
                             "review and re-save it before anything is shared with it.")
    return partner


# -- reading -----------------------------------------------------------------------------------


def get(session: Session, partner_id: int, conn: Connection | None = None) -> Partner:
    """The partner, after checking its administrator's signature (IntegrityError: not signed)."""
    session.require(Permission.VIEW_CONTENT)
    c = conn if conn is not None else session.db.conn
    return _checked(session, c, repo.get_partner(c, int(partner_id)))


def find_row(session: Session, name_or_id: str | int) -> Partner:
    """By id (digits) or by name, case-insensitive, as stored: for display, and for an administrator
    to review and re-save a row that no longer holds. Anything shared uses `find` or `get`."""
    session.require(Permission.VIEW_CONTENT)
    text = str(name_or_id).strip()
    found = (repo.get_partner(session.db.conn, int(text)) if text.isdigit()
             else repo.partner_by_name(session.db.conn, text))
    if found is None:
        raise NotFound(f"No partner named {text!r} (see `frontier-review partner list`).")
    return found


def find(session: Session, name_or_id: str | int) -> Partner:
    """By id (digits) or by name, case-insensitive; checked like `get`."""
    return _checked(session, session.db.conn, find_row(session, name_or_id))


def for_developer(session: Session, developer_name: str, conn: Connection | None = None) -> Partner | None:
    """The active developer partner registered for `developer_name` (as submissions record it)."""
    session.require(Permission.VIEW_CONTENT)
    c = conn if conn is not None else session.db.conn
    found = repo.partners_for_developer(c, developer_name)
    return _checked(session, c, found[0]) if found else None


def list_all(session: Session) -> list[Partner]:
    """Every partner row as stored (check each with `problem` before relying on it)."""
    session.require(Permission.VIEW_CONTENT)
    return repo.all_partners(session.db.conn)


def problem(session: Session, partner_id: int) -> str | None:
    """Why the partner row is not backed by a valid administrator's signature (None: it is)."""
    session.require(Permission.VIEW_CONTENT)
    return _problem(session, session.db.conn, partner_id)


def certificate_records(session: Session, partner_id: int) -> list[PartnerCertificate]:
    """Stored certificate records (for display: fingerprints, expiry)."""
    session.require(Permission.VIEW_CONTENT)
    return repo.certificates(session.db.conn, partner_id)


def certificates(session: Session, partner_id: int, purpose: CertificatePurpose | str,
                 conn: Connection | None = None) -> list[x509.Certificate]:
    """The signed partner's certificates for `purpose` that are valid now (expired ones are left out)."""
    c = conn if conn is not None else session.db.conn
    get(session, partner_id, c)
    now = session.clock()
    found = []
    for rec in repo.certificates(c, partner_id, CertificatePurpose(purpose)):
        cert = x509.load_der_x509_certificate(rec.der)
        if pki.validity_problem(cert, now) is None:
            found.append(cert)
    return found


# -- changes (administrators) ------------------------------------------------------------------


def _check_unique(conn: Connection, partner: Partner, partner_id: int | None) -> None:
    same = repo.partner_by_name(conn, partner.name)
    if same is not None and same.id != partner_id:
        raise ValidationError("name", f"a partner named {same.name!r} already exists (id {same.id})")
    if partner.kind is PartnerKind.DEVELOPER:
        for other in repo.partners_for_developer(conn, partner.developer):
            if other.id != partner_id and partner.active:
                raise ValidationError("developer", f"{other.name} (id {other.id}) is already the partner for "
                                                   f"developer {partner.developer!r}")


def add(session: Session, partner: Partner) -> Partner:
    """Administrator: register a partner (signed, audited)."""
    session.require(Permission.MANAGE_PARTNERS)
    with session.transaction() as conn:
        _check_unique(conn, partner, None)
        pid = repo.insert_partner(conn, replace(partner, active=True), session.account.username, session.now())
        _decide(session, conn, "partner.add", pid)
        session.audit(conn, "partner.add", "partner", pid, _summary(repo.get_partner(conn, pid)))
        return repo.get_partner(conn, pid)


def update(session: Session, partner_id: int, partner: Partner) -> Partner:
    """Administrator: change a partner's fields and contacts (its active state and certificates stay)."""
    session.require(Permission.MANAGE_PARTNERS)
    with session.transaction() as conn:
        before = repo.get_partner(conn, partner_id)
        after = replace(partner, active=before.active, id=partner_id)
        _check_unique(conn, after, partner_id)
        repo.update_partner(conn, partner_id, after, session.account.username, session.now())
        _decide(session, conn, "partner.update", partner_id)
        changed = {k: v for k, v in _summary(after).items() if _summary(before).get(k) != v}
        session.audit(conn, "partner.update", "partner", partner_id, {"name": after.name, "changed": changed})
        return repo.get_partner(conn, partner_id)


def _set_active(session: Session, partner_id: int, active: bool) -> Partner:
    session.require(Permission.MANAGE_PARTNERS)
    kind = "partner.reactivate" if active else "partner.deactivate"
    with session.transaction() as conn:
        before = repo.get_partner(conn, partner_id)
        if active:
            _check_unique(conn, replace(before, active=True), partner_id)
        repo.update_partner(conn, partner_id, replace(before, active=active), session.account.username,
                            session.now())
        _decide(session, conn, kind, partner_id)
        session.audit(conn, kind, "partner", partner_id, {"name": before.name})
        return repo.get_partner(conn, partner_id)


def deactivate(session: Session, partner_id: int) -> Partner:
    """Administrator: nothing more is shared with the partner; its history stays."""
    return _set_active(session, partner_id, False)


def reactivate(session: Session, partner_id: int) -> Partner:
    return _set_active(session, partner_id, True)


def read_certificate(path: Path, purpose: CertificatePurpose, now: datetime) -> x509.Certificate:
    """Load and check a partner certificate file (PEM or DER); ValidationError naming the file."""
    where = str(path)
    try:
        regular_file(path, "certificate")
        size = path.stat().st_size
        if size > MAX_CERT_BYTES:
            raise ValidationError(where, f"a certificate file is a few kilobytes; this one is {size} bytes")
        with path.open("rb") as fh:  # bounded: a file that grows after the size check is not read whole
            data = fh.read(MAX_CERT_BYTES + 1)
    except OSError as exc:
        raise ValidationError(where, f"cannot be read ({exc.strerror})") from None
    if len(data) > MAX_CERT_BYTES:
        raise ValidationError(where, f"a certificate file is a few kilobytes; this one grew past {MAX_CERT_BYTES} "
                              "bytes while being read")
    cert = pki.cert_from_bytes(data, where)
    try:
        public = cert.public_key()
        _ = cert.not_valid_after_utc, cert.subject.rfc4514_string()
    except ValueError as exc:
        raise ValidationError(where, f"the certificate is malformed ({exc})") from None
    validity = pki.validity_problem(cert, now)
    if validity:
        raise ValidationError(where, f"{validity}; ask the partner for a current certificate")
    if pki.is_ca(cert):
        raise ValidationError(where, "this is a CA certificate; register the partner's own (end-entity) certificate")
    if not isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise ValidationError(where, f"unsupported key type {type(public).__name__}; partners use RSA or ECDSA keys")
    pki.check_key_strength(public, where)
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None:
        if purpose is CertificatePurpose.RECEIPT and not (usage.digital_signature or usage.content_commitment):
            raise ValidationError(where, "its key usage does not allow signing (digitalSignature or nonRepudiation); "
                                         "it cannot sign receipts")
        if purpose is CertificatePurpose.ENCRYPTION:
            ok = usage.key_agreement if isinstance(public, ec.EllipticCurvePublicKey) else usage.key_encipherment
            if not ok:
                needed = "keyAgreement" if isinstance(public, ec.EllipticCurvePublicKey) else "keyEncipherment"
                raise ValidationError(where, f"its key usage lacks {needed}; packages cannot be encrypted to it")
    return cert


def add_certificate(session: Session, partner_id: int, pem_path: Path | str,
                    purpose: CertificatePurpose | str) -> PartnerCertificate:
    """Administrator: register a partner certificate for encryption or receipt signing (signed, audited).
    Expired, not yet valid, malformed, CA or weak-key certificates are refused naming the file."""
    session.require(Permission.MANAGE_PARTNERS)
    purpose = CertificatePurpose(purpose)
    path = Path(pem_path)
    cert = read_certificate(path, purpose, session.clock())
    der = pki.cert_to_der(cert)
    fp = hashlib.sha256(der).hexdigest()
    with session.transaction() as conn:
        partner = repo.get_partner(conn, partner_id)
        if any(c.fingerprint == fp for c in repo.certificates(conn, partner_id, purpose)):
            raise ValidationError(str(path), f"this certificate is already registered for {partner.name} "
                                             f"({purpose.value})")
        cid = repo.insert_certificate(conn, partner_id, purpose, der, fp, cert.subject.rfc4514_string(),
                                      cert.not_valid_after_utc, session.account.username, session.now())
        repo.update_partner(conn, partner_id, partner, session.account.username, session.now())
        _decide(session, conn, "partner.certificate", partner_id)
        session.audit(conn, "partner.certificate_add", "partner", partner_id,
                      {"name": partner.name, "purpose": purpose.value, "fingerprint": fp,
                       "subject": cert.subject.rfc4514_string(), "not_after": cert.not_valid_after_utc.isoformat(),
                       "file": shown_name(path.name)})
        return next(c for c in repo.certificates(conn, partner_id, purpose) if c.id == cid)


def _summary(p: Partner) -> dict[str, Any]:
    return {"name": p.name, "kind": p.kind.value, "codes": list(p.codes), "max_level": p.max_level.banner_word,
            "tlp": p.tlp.value, "accesses": list(p.accesses), "developer": p.developer,
            "contacts": len(p.contacts)}
