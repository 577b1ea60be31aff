"""Revocation: a disabled account's, or a replaced key's, certificates stop counting.

The workstation keeps the list of revoked certificates and a CRL signed by its CA; the CRL
travels in every export package and backup so that a receiving workstation (or openssl) can tell
that a signature was made after its certificate was revoked."""

from __future__ import annotations

from datetime import datetime

from app.model.accounts import Permission
from app.services.session import Session
from reports import pki
from storage import identity_repo, pki_repo
from storage.db import Connection


def revoke_account(session: Session, conn: Connection, ca: pki.CertifiedKey | None, username: str,
                   reason: str, keep_key: int | None = None) -> list[str]:
    """Retire `username`'s personal keys and revoke their workstation certificates; returns the
    revoked certificate fingerprints. Call inside the transaction that disables or resets."""
    now = session.now()
    revoked: list[str] = []
    known = {r.fingerprint for r in pki_repo.revocations(conn)}
    for ident in pki_repo.identities(conn, username):
        if ident.fingerprint in known or ident.source == "pkcs11":
            continue
        cert = pki.cert_from_bytes(ident.cert_der)
        if ident.source == "pkcs12":
            continue  # another CA's certificate: only its issuer can revoke it
        pki_repo.add_revocation(conn, pki_repo.Revocation(ident.fingerprint, format(cert.serial_number, "x"), username,
                                                          now, reason, session.account.username))
        revoked.append(ident.fingerprint)
    identity_repo.retire_personal_keys(conn, username, now, keep=keep_key)
    identity_repo.discard_requests(conn, username)
    pki_repo.deactivate_identities(conn, username)
    if ca is not None:
        rebuild_crl(conn, ca, session.clock())
    if revoked:
        session.audit(conn, "pki.revoke", "account", username, {"certificates": revoked, "reason": reason,
                                                                "crl_updated": ca is not None})
    return revoked


def rebuild_crl(conn: Connection, ca: pki.CertifiedKey, now: datetime) -> bytes:
    entries = []
    for rev in pki_repo.revocations(conn):
        entries.append((int(rev.serial, 16), datetime.fromisoformat(rev.revoked_at)))
    der = pki.build_crl(ca, entries, now)
    pki_repo.set_crl(conn, der, now.isoformat())
    return der


def crl_pem(session: Session) -> bytes | None:
    """The current CRL (PEM) for packages and backups; None before anything was revoked."""
    session.require(Permission.VIEW_CONTENT)
    der = pki_repo.crl(session.db.conn)
    if der is None:
        return None
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    return x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM)


def revoked_fingerprints(session: Session) -> dict[str, str]:
    """certificate fingerprint -> revocation time (ISO), for verification."""
    return {r.fingerprint: r.revoked_at for r in pki_repo.revocations(session.db.conn)}
