"""Per-person keys: each person's signing key, the CA key for administrators, enrolment.

Key custody (docs/SECURITY.md):
- A person's signing key is created at their first sign-in, after they have replaced the first
  passphrase an administrator chose. It is wrapped under a key derived from their own passphrase
  only (storage.keys.Unlocked.personal_wrap): the shared data key, the recovery key and other
  people's passphrases cannot unwrap it.
- The CA key is wrapped once per administrator under that administrator's personal wrapping key.
- An administrator certifies a person's key from a certificate request authenticated with the
  *enrolment secret*: the personal wrapping key that the first passphrase gives. The creating
  administrator stored it for the CA holders (wrapped under a key derived from the CA key), so a
  request made by someone who did not know that first passphrase is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.model.accounts import Account
from app.model.errors import AuthError, IntegrityError, NotFound, PermissionDenied
from reports import pki
from storage import identity_repo, pki_repo
from storage.db import Connection
from storage.identity_repo import Wrapped
from storage.keys import Unlocked, seal, unseal


@dataclass(frozen=True)
class PersonalKey:
    """A signed-in person's own key, held in memory for the session only."""

    key_id: int
    username: str
    fingerprint: str
    key: ec.EllipticCurvePrivateKey = field(repr=False)

    def sign(self, digest: bytes) -> bytes:
        return pki.sign_digest(self.key, digest)


def _aad(db_id: str, what: str, username: str) -> bytes:
    return f"frontier-review|{db_id}|{what}|{username}".encode()


def _wrap(wrap_key: bytes, salt: str, data: bytes, aad: bytes) -> Wrapped:
    nonce, ct = seal(wrap_key, data, aad)
    return Wrapped(salt, nonce, ct)


# -- a person's own key --------------------------------------------------------------------------


def create_personal_key(conn: Connection, db_id: str, username: str, unlocked: Unlocked, now: str,
                        origin: str, key: ec.EllipticCurvePrivateKey | None = None) -> PersonalKey:
    key = key or pki.new_key()
    fp = pki.key_fingerprint(key.public_key())
    wrapped = _wrap(unlocked.personal_wrap, unlocked.slot_salt, pki.key_to_der(key), _aad(db_id, "personal", username))
    key_id = identity_repo.add_personal_key(conn, username, fp, pki.public_der(key.public_key()), wrapped, origin, now)
    return PersonalKey(key_id, username, fp, key)


def open_personal_key(conn: Connection, db_id: str, username: str, unlocked: Unlocked) -> PersonalKey | None:
    """The person's active key, or None when it was wrapped under a passphrase that an
    administrator has since replaced (the key is then unusable by anyone: a new one is made)."""
    stored = identity_repo.active_personal_key(conn, username)
    if stored is None or stored.wrap_salt != unlocked.slot_salt:
        return None
    der = unseal(unlocked.personal_wrap, stored.nonce, stored.wrapped, _aad(db_id, "personal", username),
                 "Your signing key")
    key = pki.key_from_der(der)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or pki.key_fingerprint(key.public_key()) != stored.fingerprint:
        raise IntegrityError(f"the stored signing key of {username} does not match its recorded fingerprint")
    return PersonalKey(stored.id, username, stored.fingerprint, key)


def rewrap_personal_key(conn: Connection, db_id: str, personal: PersonalKey, unlocked: Unlocked) -> None:
    wrapped = _wrap(unlocked.personal_wrap, unlocked.slot_salt, pki.key_to_der(personal.key),
                    _aad(db_id, "personal", personal.username))
    identity_repo.rewrap_personal_key(conn, personal.key_id, wrapped)


def migrate_legacy_key(conn: Connection, db_id: str, username: str, unlocked: Unlocked,
                       now: str) -> PersonalKey | None:
    """A workstation identity from before per-person keys kept its private key under the data key:
    move it under the person's own passphrase. The identity stays marked (legacy_key = 1): anyone
    with the data key could have copied it until now, and verification says so."""
    for ident in reversed(pki_repo.identities(conn, username)):
        if ident.active and ident.key_der:
            key = pki.key_from_der(ident.key_der)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                return None
            personal = create_personal_key(conn, db_id, username, unlocked, now, "migrated", key)
            pki_repo.clear_identity_key(conn, ident.id)
            return personal
    return None


# -- the CA key (administrators only) ------------------------------------------------------------


def wrap_ca_for(conn: Connection, db_id: str, username: str, unlocked: Unlocked, ca_key: pki.PrivateKey,
                now: str) -> None:
    identity_repo.set_ca_wrap(conn, username, _wrap(unlocked.personal_wrap, unlocked.slot_salt,
                                                    pki.key_to_der(ca_key), _aad(db_id, "ca", username)), now)


def open_ca_key(conn: Connection, db_id: str, account: Account, unlocked: Unlocked | None) -> pki.CertifiedKey:
    """The CA key for a signed-in administrator; nobody else holds a wrap of it."""
    stored = pki_repo.get_ca(conn)
    if stored is None:
        raise NotFound("This workstation has no CA yet; an administrator must complete setup.")
    wrapped = identity_repo.ca_wrap(conn, account.username)
    if wrapped is None or unlocked is None or wrapped.salt != unlocked.slot_salt:
        raise PermissionDenied("Only an administrator holding the CA key can issue or revoke certificates.")
    der = unseal(unlocked.personal_wrap, wrapped.nonce, wrapped.wrapped, _aad(db_id, "ca", account.username),
                 "The CA key")
    return pki.CertifiedKey(pki.key_from_der(der), pki.cert_from_bytes(stored.cert_der), ())


def migrate_legacy_ca(conn: Connection, db_id: str, account: Account, unlocked: Unlocked, now: str,
                      active_admins: list[str]) -> bool:
    """Workstations from before per-person keys kept the CA key under the data key. The first
    administrators to sign in take it into their own wraps; once every active administrator holds
    one, the copy under the data key is erased. Returns True when this call erased it."""
    stored = pki_repo.get_ca(conn)
    if stored is None or not stored.key_der:
        return False
    if identity_repo.ca_wrap(conn, account.username) is None:
        wrap_ca_for(conn, db_id, account.username, unlocked, pki.key_from_der(stored.key_der), now)
    holders = set(identity_repo.ca_wrap_holders(conn))
    if all(a in holders for a in active_admins):
        identity_repo.clear_legacy_ca_key(conn)
        return True
    return False


# -- enrolment and certificate requests ----------------------------------------------------------


def _enrolment_wrap_key(ca_key: pki.PrivateKey, db_id: str) -> bytes:
    return HKDF(algorithm=hashes.SHA512(), length=32, salt=db_id.encode(),
                info=b"frw/enrolment-wrap/v1").derive(pki.key_to_der(ca_key))


def store_enrolment(conn: Connection, db_id: str, username: str, first: Unlocked, ca_key: pki.PrivateKey,
                    now: str, actor: str) -> None:
    """Keep the enrolment secret (what the first passphrase gives) for the CA holders."""
    identity_repo.set_enrolment(conn, username, _wrap(_enrolment_wrap_key(ca_key, db_id), first.slot_salt,
                                                      first.personal_wrap, _aad(db_id, "enrolment", username)),
                                now, actor)


def request_certificate(conn: Connection, account: Account, personal: PersonalKey, enrolment_secret: bytes,
                        now: str) -> int:
    csr = pki.make_request(personal.key, account.display_name, account.username)
    proof = hmac.new(enrolment_secret, csr, hashlib.sha256).hexdigest()
    identity_repo.discard_requests(conn, account.username)
    return identity_repo.add_request(conn, account.username, personal.fingerprint, csr, proof, now)


@dataclass(frozen=True)
class Issued:
    username: str
    fingerprint: str
    key_fingerprint: str


def issue_requested(conn: Connection, db_id: str, ca: pki.CertifiedKey, account: Account,
                    request: identity_repo.CertificateRequest, now: datetime, iso_now: str,
                    actor: str, confirmed_key: str | None = None) -> Issued:
    """Certify the key of one request. Without a valid enrolment proof the administrator must
    confirm the key fingerprint the person reads from their own screen (`confirmed_key`)."""
    csr = pki.load_request(request.csr_der)
    public = csr.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise IntegrityError(f"the certificate request of {account.username} is not for an ECDSA key")
    fp = pki.key_fingerprint(public)
    active = identity_repo.active_personal_key(conn, account.username)
    if fp != request.key_fingerprint or active is None or active.fingerprint != fp:
        raise IntegrityError(f"the certificate request of {account.username} is not for their current key")
    if confirmed_key is None:
        enrol = identity_repo.enrolment(conn, account.username)
        if enrol is None:
            raise AuthError(f"{account.username}'s request has no enrolment record: confirm the key fingerprint "
                            "with the person (pki issue USER --key FINGERPRINT)")
        secret = unseal(_enrolment_wrap_key(ca.key, db_id), enrol.nonce, enrol.wrapped,
                        _aad(db_id, "enrolment", account.username), "The enrolment record")
        expected = hmac.new(secret, request.csr_der, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.proof):
            raise IntegrityError(f"the certificate request of {account.username} was not made with the first "
                                 "passphrase an administrator set: refused")
    elif confirmed_key.lower().replace(":", "") != fp:
        raise IntegrityError(f"the key fingerprint you confirmed does not match {account.username}'s request")
    cert = pki.certify_public_key(ca, public, account.display_name, account.username, account.role.label, now)
    cert_fp = pki.fingerprint(cert)
    pki_repo.add_identity(conn, account.username, "workstation", pki.common_name(cert), cert_fp,
                          cert.not_valid_after_utc.isoformat(), pki.cert_to_der(cert), pki.certs_to_pem([ca.cert]),
                          None, iso_now, actor)
    identity_repo.mark_issued(conn, request.id, iso_now, cert_fp)
    identity_repo.remove_enrolment(conn, account.username)
    return Issued(account.username, cert_fp, fp)
