"""Workstation PKI use cases: the CA at setup, a signing certificate per signing account,
agency PKCS#12 identities, PKCS#11 tokens, and the trusted roots used for verification.

workstation.initialize calls setup_hook and account_hook, and users.add_user calls account_hook,
inside their transactions: the CA and each signing certificate exist exactly when the workstation
and the account do. ensure_ready covers workstations set up before that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from app.foundation.files import read_bounded, regular_file, shown_name
from app.model.accounts import Account, Permission, Role
from app.model.errors import IntegrityError, NotFound, PermissionDenied, ValidationError
from app.model.trusted_root import StoredRoot
from app.services.session import Session
from reports import pki
from storage import accounts as accounts_repo
from storage import identity_repo, pki_repo
from storage.db import Connection

MAX_CERT_FILE = 1 << 20


@dataclass(frozen=True)
class IdentityInfo:
    """What a person sees about a signing identity (never the key)."""

    username: str
    source: str  # workstation | pkcs12 | pkcs11
    subject: str
    issuer: str
    fingerprint: str
    not_after: str
    token_module: str = ""
    token_label: str = ""
    key_label: str = ""


@dataclass(frozen=True)
class LoadedIdentity:
    """A signing identity ready for reports.signing: a software key, or a token reference."""

    info: IdentityInfo
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    key: pki.PrivateKey | None  # None for PKCS#11 tokens


def _dt(now: datetime | str) -> datetime:
    return datetime.fromisoformat(now) if isinstance(now, str) else now


def _iso(now: datetime | str) -> str:
    return _dt(now).astimezone(UTC).isoformat(timespec="microseconds")


# -- CA ----------------------------------------------------------------------------------------


def load_ca(session: Session) -> pki.CertifiedKey:
    """The CA key, for a signed-in administrator who holds a wrap of it (nobody else can)."""
    from app.services import identity

    return identity.open_ca_key(session.db.conn, session.db_id, session.account, session.unlocked)


def create_workstation_ca(conn: Connection, workstation_name: str, now: datetime | str,
                          actor: str = "setup") -> pki.CertifiedKey:
    """Create the workstation CA and trust it. Call inside the setup transaction; the caller wraps
    the key for the administrator (the database keeps no usable copy)."""
    ca = pki.create_ca(workstation_name, _dt(now))
    fp = pki.fingerprint(ca.cert)
    pki_repo.insert_ca(conn, pki_repo.StoredCA(ca.cert.subject.rfc4514_string(), fp, pki.cert_to_der(ca.cert),
                                               b"", _iso(now)))
    pki_repo.add_root(conn, fp, ca.cert.subject.rfc4514_string(), "workstation", pki.cert_to_der(ca.cert), actor,
                      _iso(now))
    return ca


def certify_key(conn: Connection, ca: pki.CertifiedKey, account: Account, public_key: object, now: datetime | str,
                actor: str) -> x509.Certificate:
    """Issue the account's workstation certificate for its own key; it becomes the active identity."""
    cert = pki.certify_public_key(ca, public_key, account.display_name, account.username,  # type: ignore[arg-type]
                                  account.role.label, _dt(now))
    pki_repo.add_identity(
        conn, account.username, "workstation", pki.common_name(cert), pki.fingerprint(cert),
        cert.not_valid_after_utc.isoformat(), pki.cert_to_der(cert), pki.certs_to_pem([ca.cert]), None, _iso(now),
        actor,
    )
    return cert


def issue_pending(session: Session, confirmed: dict[str, str] | None = None) -> list[str]:
    """Administrator: certify the keys people created at their first sign-in. Requests proven with
    the enrolment secret are issued; others only with the key fingerprint the administrator
    confirmed with the person (`confirmed`: username -> fingerprint). Returns who got one."""
    from app.services import identity

    session.require(Permission.MANAGE_USERS)
    confirmed = confirmed or {}
    issued: list[str] = []
    requests = pki_repo_pending(session)
    if not requests:
        return issued
    ca = load_ca(session)
    for request in requests:
        with session.transaction() as conn:
            try:
                account = accounts_repo.get(conn, request.username)
                done = identity.issue_requested(conn, session.db_id, ca, account, request, session.clock(),
                                                session.now(), session.account.username,
                                                confirmed.get(request.username))
            except (IntegrityError, PermissionDenied, NotFound) as exc:
                if request.username in confirmed:
                    raise
                session.audit(conn, "pki.request_refused", "account", request.username, {"reason": str(exc)})
                continue
            except Exception as exc:  # an unusable request is reported and left, never issued
                if request.username in confirmed:
                    raise
                session.audit(conn, "pki.request_refused", "account", request.username,
                              {"reason": type(exc).__name__})
                continue
            session.audit(conn, "pki.certificate_issue", "account", account.username,
                          {"fingerprint": done.fingerprint, "key": done.key_fingerprint})
            issued.append(account.username)
    return issued


def pki_repo_pending(session: Session) -> list[identity_repo.CertificateRequest]:
    return identity_repo.pending_requests(session.db.conn)


@dataclass(frozen=True)
class PendingRequest:
    username: str
    key_fingerprint: str
    requested_at: str
    enrolment_proof: bool  # made with the first passphrase; otherwise the administrator confirms the key


def pending_requests(session: Session) -> list[PendingRequest]:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    return [PendingRequest(r.username, r.key_fingerprint, r.requested_at,
                           bool(r.proof) and identity_repo.enrolment(conn, r.username) is not None)
            for r in identity_repo.pending_requests(conn)]


def ensure_ready(session: Session) -> list[str]:
    """Administrator duties that keep the PKI current: issue pending certificate requests."""
    if not session.account.can(Permission.MANAGE_USERS):
        return []
    return issue_pending(session)


def workstation_ca(session: Session) -> x509.Certificate:
    stored = pki_repo.get_ca(session.db.conn)
    if stored is None:
        raise NotFound("This workstation has no CA yet; an administrator must complete setup.")
    return pki.cert_from_bytes(stored.cert_der)


# -- signing identities ------------------------------------------------------------------------


def _info(stored: pki_repo.StoredIdentity) -> IdentityInfo:
    cert = pki.cert_from_bytes(stored.cert_der)
    return IdentityInfo(stored.username, stored.source, stored.subject, cert.issuer.rfc4514_string(),
                        stored.fingerprint, stored.not_after, stored.token_module, stored.token_label,
                        stored.key_label)


def identity_info(session: Session, username: str | None = None) -> IdentityInfo | None:
    stored = pki_repo.active_identity(session.db.conn, username or session.account.username)
    return _info(stored) if stored else None


def load_identity(session: Session, username: str) -> LoadedIdentity:
    """The active identity of `username` with its key, which only that person's own session holds."""
    stored = pki_repo.active_identity(session.db.conn, username)
    if stored is None:
        if identity_repo.pending_requests(session.db.conn) and any(
                r.username == username for r in identity_repo.pending_requests(session.db.conn)):
            raise NotFound(f"The signing certificate of '{username}' is waiting for an administrator to issue it "
                           "(Accounts screen, or `frontier-review pki issue`).")
        raise NotFound(f"Account '{username}' has no signing certificate; an administrator must issue one "
                       "or the account holder must import a PKCS#12 file or register a token.")
    chain = tuple(pki.certs_from_pem(stored.chain_pem)) if stored.chain_pem else ()
    cert = pki.cert_from_bytes(stored.cert_der)
    key: pki.PrivateKey | None = None
    if stored.source != "pkcs11":
        if username != session.account.username:
            raise PermissionDenied(f"Only {username} can use their own signing key.")
        if stored.key_der and stored.key_der.startswith(SEALED):
            key = _unseal_identity_key(session, stored.key_der)
        elif stored.key_der:
            key = pki.key_from_der(stored.key_der)  # legacy, moved at the owner's next sign-in
        elif session.personal is not None and session.personal.fingerprint == pki.key_fingerprint(cert.public_key()):
            key = session.personal.key
        else:
            raise NotFound(f"Your signing certificate ({stored.fingerprint[:16]}…) is not for the key you hold; ask "
                           "an administrator to issue a certificate for your current key.")
    return LoadedIdentity(_info(stored), cert, chain, key)


SEALED = b"FRW-SEALED-1"


def _seal_identity_key(session: Session, key: pki.PrivateKey) -> bytes:
    """A PKCS#12 identity's key, wrapped under the importing person's own wrapping key."""
    from storage.keys import seal

    if session.unlocked is None:
        raise PermissionDenied("Sign in again: your personal wrapping key is not available in this session.")
    nonce, ct = seal(session.unlocked.personal_wrap, pki.key_to_der(key),
                     f"frontier-review|{session.db_id}|pkcs12|{session.account.username}".encode())
    return SEALED + session.unlocked.slot_salt.encode() + b"|" + nonce + ct


def _unseal_identity_key(session: Session, blob: bytes) -> pki.PrivateKey:
    from storage.keys import unseal

    rest = blob[len(SEALED):]
    salt, _, body = rest.partition(b"|")
    if session.unlocked is None or salt.decode() != session.unlocked.slot_salt:
        raise PermissionDenied("This signing key was wrapped under an earlier passphrase; import it again.")
    der = unseal(session.unlocked.personal_wrap, body[:12], body[12:],
                 f"frontier-review|{session.db_id}|pkcs12|{session.account.username}".encode(), "Your signing key")
    return pki.key_from_der(der)


def reissue_certificate(session: Session, username: str, admin_passphrase: str,
                        confirmed_key: str | None = None) -> IdentityInfo:
    """Admin: certify `username`'s current personal key again (e.g. after expiry), or a pending
    request whose key fingerprint the administrator confirmed with the person; audited."""
    session.require(Permission.MANAGE_USERS)
    session.reauthenticate(admin_passphrase)
    pending = [r for r in identity_repo.pending_requests(session.db.conn) if r.username == username]
    if pending:
        issue_pending(session, {username: confirmed_key} if confirmed_key else None)
    else:
        ca = load_ca(session)
        with session.transaction() as conn:
            account = accounts_repo.get(conn, username)
            personal = identity_repo.active_personal_key(conn, username)
            if personal is None:
                raise NotFound(f"{username} has no personal key yet: they create it at their first sign-in")
            cert = certify_key(conn, ca, account, pki.load_public_key(personal.public_der), session.now(),
                               session.account.username)
            session.audit(conn, "pki.certificate_issue", "account", username, {"fingerprint": pki.fingerprint(cert)})
    info = identity_info(session, username)
    if info is None:
        raise NotFound(f"{username}'s certificate request was not issued (see the audit trail for why)")
    return info


def import_pkcs12(session: Session, data: bytes, p12_password: str, passphrase: str,
                  source: str = "PKCS#12 file") -> IdentityInfo:
    """The account holder imports an agency-issued identity for their own account.

    The certificate must chain to a trusted root here (the admin imports the agency CA first),
    otherwise signatures made with it could not be verified on this or the receiving workstation.
    """
    session.require(Permission.SIGN)
    session.reauthenticate(passphrase)
    ident = pki.load_pkcs12(data, p12_password, source)
    roots = trusted_roots(session)
    problem = pki.chain_problem(ident.cert, ident.chain, roots, session.clock())
    if problem:
        raise IntegrityError(f"{source}: {problem}. An administrator must import the issuing CA first.")
    username = session.account.username
    with session.transaction() as conn:
        pki_repo.add_identity(
            conn, username, "pkcs12", pki.common_name(ident.cert), pki.fingerprint(ident.cert),
            ident.cert.not_valid_after_utc.isoformat(), pki.cert_to_der(ident.cert), pki.certs_to_pem(ident.chain),
            _seal_identity_key(session, ident.key), session.now(), username,
        )
        session.audit(conn, "pki.identity_import", "account", username,
                      {"source": "pkcs12", "subject": pki.common_name(ident.cert),
                       "fingerprint": pki.fingerprint(ident.cert)})
    info = identity_info(session)
    assert info is not None
    return info


def register_token(session: Session, passphrase: str, module: str, token_label: str, key_label: str,
                   pin: str) -> IdentityInfo:
    """Use a PKCS#11 token (smart card) for the account's signatures: read its certificate once."""
    from reports.signing import token_certificate

    session.require(Permission.SIGN)
    session.reauthenticate(passphrase)
    cert, chain = token_certificate(module, token_label, key_label, pin)
    roots = trusted_roots(session)
    problem = pki.chain_problem(cert, chain, roots, session.clock())
    if problem:
        raise IntegrityError(f"token {token_label}: {problem}")
    # Kept up to the trusted root, so signatures and export packages carry the token's CA chain.
    chain = tuple(pki.issuer_path(cert, [*chain, *roots]))
    username = session.account.username
    with session.transaction() as conn:
        pki_repo.add_identity(
            conn, username, "pkcs11", pki.common_name(cert), pki.fingerprint(cert),
            cert.not_valid_after_utc.isoformat(), pki.cert_to_der(cert), pki.certs_to_pem(chain), None,
            session.now(), username, token_module=module, token_label=token_label, key_label=key_label,
        )
        session.audit(conn, "pki.identity_import", "account", username,
                      {"source": "pkcs11", "module": module, "token": token_label, "key": key_label,
                       "fingerprint": pki.fingerprint(cert)})
    info = identity_info(session)
    assert info is not None
    return info


# -- trusted roots -----------------------------------------------------------------------------


def trusted_roots(session: Session) -> list[x509.Certificate]:
    """The workstation CA plus imported roots that an administrator's signed decision trusts:
    a row inserted into trusted_roots without one is ignored."""
    from app.services import decisions

    conn = session.db.conn
    stored = pki_repo.roots(conn)
    ca = pki_repo.get_ca(conn)
    reg: decisions.Registry | None = None
    out = []
    for r in stored:
        if r.origin == "workstation":
            if ca is not None and r.fingerprint == ca.fingerprint:
                out.append(pki.cert_from_bytes(r.cert_der))
            continue
        if not decisions.has_signed_accounts(conn):
            out.append(pki.cert_from_bytes(r.cert_der))  # before signed decisions (attested at the next admin sign-in)
            continue
        reg = reg or decisions.Registry.load(conn, session.db_id)
        d, why = decisions.latest(conn, reg, "certificate", r.fingerprint, ("root.trust", "root.remove"))
        if d is not None and why is None and d.kind == "root.trust" \
                and decisions.actor_role(conn, reg, d.actor) is Role.ADMIN:
            out.append(pki.cert_from_bytes(r.cert_der))
    return out


def list_trusted_roots(session: Session) -> list[StoredRoot]:
    session.require(Permission.VIEW_CONTENT)
    return pki_repo.roots(session.db.conn)


def import_trusted_root(session: Session, path: Path, passphrase: str) -> StoredRoot:
    """Admin only, audited, signed: trust another CA (agency PKI, or a peer workstation's CA)."""
    from app.services import decisions

    session.require(Permission.IMPORT_TRUSTED)
    if not session.account.can(Permission.MANAGE_USERS):
        raise PermissionDenied("Only an administrator may add trusted root certificates.")
    session.reauthenticate(passphrase)
    path = Path(path)
    try:
        regular_file(path, "CA certificate")
        if path.stat().st_size > MAX_CERT_FILE:
            raise ValidationError(str(path), "is too large to be a CA certificate")
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(str(path), f"cannot be read ({exc.strerror})") from None
    cert = pki.cert_from_bytes(data, str(path))
    if not pki.is_ca(cert):
        raise ValidationError(str(path), "is not a CA certificate (basicConstraints CA is not set)")
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:
        raise ValidationError(str(path), "is not a self-signed root certificate") from None
    problem = pki.validity_problem(cert, session.clock())
    if problem:
        raise ValidationError(str(path), problem)
    fp = pki.fingerprint(cert)
    with session.transaction() as conn:
        root_id = pki_repo.add_root(conn, fp, cert.subject.rfc4514_string(), "imported", pki.cert_to_der(cert),
                                    session.account.username, session.now())
        decisions.record(conn, session.personal, "root.trust", "certificate", fp, session.account.username,
                         session.now(), session.db_id, {"fingerprint": fp, "subject": cert.subject.rfc4514_string()})
        session.audit(conn, "pki.root_import", "certificate", fp,
                      {"subject": cert.subject.rfc4514_string(), "file": shown_name(path.name)})
    return next(r for r in pki_repo.roots(session.db.conn) if r.id == root_id)


def remove_trusted_root(session: Session, fingerprint: str, passphrase: str) -> None:
    from app.services import decisions

    session.require(Permission.IMPORT_TRUSTED)
    if not session.account.can(Permission.MANAGE_USERS):
        raise PermissionDenied("Only an administrator may remove trusted root certificates.")
    session.reauthenticate(passphrase)
    with session.transaction() as conn:
        root = pki_repo.remove_root(conn, fingerprint, session.now())
        decisions.record(conn, session.personal, "root.remove", "certificate", fingerprint,
                         session.account.username, session.now(), session.db_id, {"fingerprint": fingerprint})
        session.audit(conn, "pki.root_remove", "certificate", fingerprint, {"subject": root.subject})


def manifest_signer(session: Session, pin: str | None, why: str = "") -> tuple[Callable[[bytes], bytes], bytes]:
    """(sign, ca_pem) for an export package's manifest: the signed-in account's identity signs
    (software key, or its PKCS#11 token with `pin`); ca_pem holds the CA certificates to ship."""
    from reports.detached import sign_detached, sign_detached_with
    from reports.signing import token_signer

    if identity_info(session) is None:
        raise ValidationError("signing certificate", "your account has no signing certificate to sign the package "
                              f"manifest{'; ' + why if why else ''}")
    ident = load_identity(session, session.account.username)
    ca = workstation_ca(session)

    def sign(data: bytes) -> bytes:
        if ident.key is not None:
            return sign_detached(data, ident.key, ident.cert, ident.chain)
        if pin is None:
            raise ValidationError("PIN", f"your signing key is on token '{ident.info.token_label}': enter its PIN")
        with token_signer(ident.info.token_module, ident.info.token_label, ident.info.key_label, pin, ident.cert,
                          ident.chain) as signer:
            return sign_detached_with(signer, data)

    return sign, pki.certs_to_pem(pki.dedupe([ca, *[c for c in ident.chain if pki.is_ca(c)]]))


@dataclass(frozen=True)
class CertificateSummary:
    """What a person compares before trusting a certificate (the UI imports no reports.pki)."""

    common_name: str
    fingerprint: str


def certificate_summary(cert: x509.Certificate) -> CertificateSummary:
    return CertificateSummary(pki.common_name(cert), pki.fingerprint(cert))


def read_certificate_file(path: Path) -> CertificateSummary:
    """A certificate file from media, summarised; ValidationError/IngestError name the file."""
    data = read_bounded(Path(path), MAX_CERT_FILE, "certificate")  # IngestError names the file
    return certificate_summary(pki.cert_from_bytes(data, str(path)))


CRL_FILE = "crl.pem"


def revocation_files(session: Session) -> dict[str, bytes]:
    """The workstation CRL for an export package or backup (nothing before the first revocation):
    a receiver can tell a signature made after its certificate was revoked."""
    from app.services.revocation import crl_pem

    pem = crl_pem(session)
    return {CRL_FILE: pem} if pem else {}


def legacy_fingerprints(session: Session) -> frozenset[str]:
    """Certificates whose key lived under the shared data key (workstations before schema 6)."""
    return frozenset(i.fingerprint for i in pki_repo.identities(session.db.conn) if i.legacy_key)
