"""Partners' receipts (issue 16, point 5): a signed acknowledgment of a manifest hash closes the loop.

Format (docs/PARTNERS.md): `receipt.json` = {"manifest_sha256", "received_at", "partner", "note"}
and `receipt.json.p7s`, a detached DER CMS signature made with the partner's receipt-signing
certificate registered here. `import_receipt` refuses, naming the file and recording nothing:
malformed JSON, an unknown manifest hash, a partner that did not receive that manifest, a
signature by anyone but that partner's registered receipt certificate (or by an expired one), a
signature that does not match, and a second receipt for the same entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from app.foundation.files import shown_name
from app.ingest import receipt as receipt_file
from app.model.accounts import Permission
from app.model.dissemination import CertificatePurpose, DisseminationEntry, Receipt, ReceiptStatement
from app.model.errors import ValidationError
from app.services import partners
from app.services.session import Session
from reports import pki
from storage import partners_repo as repo


def _entry_for(session: Session, entries: list[DisseminationEntry], named: str, source: str,
               manifest: str) -> DisseminationEntry:
    wanted = named.strip().casefold()
    mine = [e for e in entries if e.partner_name.casefold() == wanted or str(e.partner_id) == wanted]
    if not mine:
        to = ", ".join(sorted({e.partner_name for e in entries}))
        raise ValidationError(source, f"the receipt is from {named!r}, but the package with manifest "
                                      f"{manifest[:16]}… was sent to {to}, not to them")
    open_ = [e for e in mine if e.receipt is None]
    if not open_:
        first = mine[0].receipt
        assert first is not None
        raise ValidationError(source, f"a duplicate: {mine[0].partner_name} already acknowledged log entry "
                                      f"{mine[0].id} (receipt imported {first.imported_at[:10]} by "
                                      f"{first.imported_by})")
    return open_[0]


def _verify_signer(session: Session, entry: DisseminationEntry, data: bytes, signature: bytes,
                   source: str) -> x509.Certificate:
    sig_source = f"{source}{receipt_file.SIGNATURE_SUFFIX}"
    partners.get(session, entry.partner_id)  # the register row must hold before its certificates count
    records = repo.certificates(session.db.conn, entry.partner_id, CertificatePurpose.RECEIPT)
    if not records:
        raise ValidationError(source, f"no receipt-signing certificate is registered for {entry.partner_name}; an "
                                      "administrator adds it (Partners screen or `partner cert-add`) first")
    certs = [x509.load_der_x509_certificate(r.der) for r in records]
    cert = receipt_file.signer(data, signature, certs, sig_source,
                               f"{entry.partner_name}'s registered receipt certificate")
    expired = pki.validity_problem(cert, session.clock())
    if expired:
        raise ValidationError(sig_source, f"signed with {entry.partner_name}'s receipt {expired}; a receipt needs "
                                          "a current certificate")
    return cert


def import_receipt(session: Session, path: Path | str) -> Receipt:
    """Import receipt.json (+ .p7s) from media; one transaction, audited as `receipt.import`."""
    session.require(Permission.EXPORT)
    path, data, signature, statement = receipt_file.read(path)
    source = str(path)
    entries = repo.entries_by_manifest(session.db.conn, statement.manifest_sha256)
    if not entries:
        raise ValidationError(source, f"unknown manifest: nothing with manifest SHA-256 "
                                      f"{statement.manifest_sha256} left this workstation (see the dissemination "
                                      "log)")
    entry = _entry_for(session, entries, statement.partner, source, statement.manifest_sha256)
    cert = _verify_signer(session, entry, data, signature, source)
    with session.transaction() as conn:
        used = repo.receipt_with_content(conn, statement.manifest_sha256, data)
        if used is not None:
            # The same package sent twice to one partner is two deliveries: a receipt names the package,
            # not the delivery, so one receipt file must not acknowledge both.
            raise ValidationError(source, f"a duplicate: this very receipt already acknowledged log entry "
                                          f"{used.entry_id} (imported {used.imported_at[:10]} by {used.imported_by}); "
                                          "a later delivery of the same package needs the partner's own receipt for it")
        if repo.receipt_for(conn, entry.id) is not None:
            raise ValidationError(source, f"a duplicate: log entry {entry.id} was acknowledged meanwhile")
        rid = repo.insert_receipt(
            conn, entry_id=entry.id, partner_id=entry.partner_id, manifest_sha256=statement.manifest_sha256,
            received_at=statement.received_at, note=statement.note, content=data, signature=signature,
            signer_fingerprint=pki.fingerprint(cert), file_name=shown_name(path.name), actor=session.account.username,
            now=session.now())
        session.audit(conn, "receipt.import", "dissemination", entry.id,
                      {"partner": entry.partner_name, "manifest_sha256": statement.manifest_sha256,
                       "received_at": statement.received_at, "signer_fingerprint": pki.fingerprint(cert),
                       "file": shown_name(path.name), "receipt": rid})
        found = repo.receipt_for(conn, entry.id)
        assert found is not None
        return found


_VERIFIED: dict[str, str | None] = {}  # digest of (bytes, manifest, certificates) -> outcome
_MAX_REMEMBERED = 20_000


def _stored_problem(data: bytes, signature: bytes, manifest: str, cert_ders: tuple[bytes, ...], file_name: str,
                    partner: str) -> str | None:
    """Why stored receipt bytes do not acknowledge `manifest` under these certificates (None: they do).
    The outcome depends on nothing else, so it is remembered by a digest of all of them: a log of
    thousands of receipts is verified once per process, not on every refresh."""
    h = hashlib.sha256()
    for part in (data, signature, manifest.encode(), *cert_ders):
        h.update(len(part).to_bytes(8, "big") + part)
    key = h.hexdigest()
    if key not in _VERIFIED:
        if len(_VERIFIED) >= _MAX_REMEMBERED:
            _VERIFIED.clear()
        _VERIFIED[key] = _check_stored(data, signature, manifest, cert_ders, file_name, partner)
    return _VERIFIED[key]


def _check_stored(data: bytes, signature: bytes, manifest: str, cert_ders: tuple[bytes, ...], file_name: str,
                  partner: str) -> str | None:
    try:
        statement = ReceiptStatement.parse(data, file_name)
        if statement.manifest_sha256 != manifest:
            return "the stored receipt acknowledges another manifest"
        certs = [x509.load_der_x509_certificate(der) for der in cert_ders]
        receipt_file.signer(data, signature, certs, file_name, f"{partner}'s receipt certificate")
    except ValidationError as exc:
        return exc.reason
    return None


def verify_many(session: Session, entries: Sequence[DisseminationEntry]) -> dict[int, str | None]:
    """entry id -> why its stored receipt does not hold (None: it holds), for the acknowledged ones:
    an insider who inserts or edits a receipt row cannot forge the partner's signature."""
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    acked = [e for e in entries if e.receipt is not None]
    blobs = repo.receipt_blobs_for(conn, [e.id for e in acked])
    certs: dict[int, tuple[bytes, ...]] = {}
    found: dict[int, str | None] = {}
    for e in acked:
        if e.partner_id not in certs:
            certs[e.partner_id] = tuple(r.der for r in repo.certificates(conn, e.partner_id,
                                                                         CertificatePurpose.RECEIPT))
        data, signature, file_name = blobs[e.id]
        found[e.id] = _stored_problem(data, signature, e.manifest_sha256, certs[e.partner_id], file_name,
                                      e.partner_name)
    return found


def verify_stored(session: Session, entry_id: int) -> str | None:
    """Re-verify one entry's stored receipt against the partner's registered certificate now."""
    session.require(Permission.VIEW_CONTENT)
    entry = repo.get_entry(session.db.conn, entry_id)
    if entry.receipt is None:
        return "no receipt"
    return verify_many(session, [entry])[entry.id]
