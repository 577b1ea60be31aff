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

from app.model.accounts import Account, Permission
from app.model.errors import IngestError, IntegrityError, NotFound, PermissionDenied, ValidationError
from app.services.session import Session
from reports import pki
from storage import accounts as accounts_repo
from storage import pki_repo
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


def load_ca(conn: Connection) -> pki.CertifiedKey:
    stored = pki_repo.get_ca(conn)
    if stored is None:
        raise NotFound("This workstation has no CA yet; an administrator must complete setup.")
    return pki.CertifiedKey(pki.key_from_der(stored.key_der), pki.cert_from_bytes(stored.cert_der), ())


def create_workstation_ca(conn: Connection, workstation_name: str, now: datetime | str,
                          actor: str = "setup") -> x509.Certificate:
    """Create the workstation CA once (idempotent) and trust it. Call inside the setup transaction."""
    existing = pki_repo.get_ca(conn)
    if existing is not None:
        return pki.cert_from_bytes(existing.cert_der)
    ca = pki.create_ca(workstation_name, _dt(now))
    fp = pki.fingerprint(ca.cert)
    pki_repo.insert_ca(conn, pki_repo.StoredCA(ca.cert.subject.rfc4514_string(), fp, pki.cert_to_der(ca.cert),
                                               pki.key_to_der(ca.key), _iso(now)))
    pki_repo.add_root(conn, fp, ca.cert.subject.rfc4514_string(), "workstation", pki.cert_to_der(ca.cert), actor,
                      _iso(now))
    return ca.cert


def issue_account_certificate(conn: Connection, account: Account, now: datetime | str,
                              actor: str = "setup") -> x509.Certificate:
    """Issue (or re-issue) the account's workstation signing certificate; it becomes the active identity."""
    ca = load_ca(conn)
    ident = pki.issue_signing_certificate(ca, account.display_name, account.username, account.role.label, _dt(now))
    pki_repo.add_identity(
        conn, account.username, "workstation", pki.common_name(ident.cert), pki.fingerprint(ident.cert),
        ident.cert.not_valid_after_utc.isoformat(), pki.cert_to_der(ident.cert), pki.certs_to_pem(ident.chain),
        pki.key_to_der(ident.key), _iso(now), actor,
    )
    return ident.cert


def setup_hook(session: Session, conn: Connection) -> None:
    """Called by workstation setup: the CA is created in the same transaction as the workstation."""
    cert = create_workstation_ca(conn, session.settings.workstation_name, session.now(), session.account.username)
    session.audit(conn, "pki.ca_create", "certificate", pki.fingerprint(cert),
                  {"subject": cert.subject.rfc4514_string()})


def account_hook(session: Session, conn: Connection, account: Account) -> None:
    """Called when an account is created: accounts that may sign get a certificate in that transaction."""
    if not account.can(Permission.SIGN):
        return
    if pki_repo.get_ca(conn) is None:
        setup_hook(session, conn)
    cert = issue_account_certificate(conn, account, session.now(), session.account.username)
    session.audit(conn, "pki.certificate_issue", "account", account.username,
                  {"fingerprint": pki.fingerprint(cert), "not_after": cert.not_valid_after_utc.isoformat()})


def ensure_ready(session: Session) -> None:
    """Create whatever is missing (CA, signing certificates) for workstations set up before the
    PKI hooks existed. Idempotent; each creation is audited."""
    with session.transaction() as conn:
        if pki_repo.get_ca(conn) is None:
            cert = create_workstation_ca(conn, session.settings.workstation_name, session.now(),
                                         session.account.username)
            session.audit(conn, "pki.ca_create", "certificate", pki.fingerprint(cert),
                          {"subject": cert.subject.rfc4514_string()})
        for account in accounts_repo.list_all(conn):
            if account.can(Permission.SIGN) and pki_repo.active_identity(conn, account.username) is None:
                cert = issue_account_certificate(conn, account, session.now(), session.account.username)
                session.audit(conn, "pki.certificate_issue", "account", account.username,
                              {"fingerprint": pki.fingerprint(cert)})


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
    """The active identity of `username` (services call this after re-authentication)."""
    stored = pki_repo.active_identity(session.db.conn, username)
    if stored is None:
        raise NotFound(f"Account '{username}' has no signing certificate; an administrator must issue one "
                       "or the account holder must import a PKCS#12 file or register a token.")
    chain = tuple(pki.certs_from_pem(stored.chain_pem)) if stored.chain_pem else ()
    key = pki.key_from_der(stored.key_der) if stored.key_der else None
    return LoadedIdentity(_info(stored), pki.cert_from_bytes(stored.cert_der), chain, key)


def reissue_certificate(session: Session, username: str, admin_passphrase: str) -> IdentityInfo:
    """Admin: issue a fresh workstation certificate (e.g. after expiry); audited."""
    session.require(Permission.MANAGE_USERS)
    session.reauthenticate(admin_passphrase)
    with session.transaction() as conn:
        account = accounts_repo.get(conn, username)
        if not account.can(Permission.SIGN):
            raise ValidationError("username", f"{username} has the role {account.role.label}, which does not sign")
        cert = issue_account_certificate(conn, account, session.now(), session.account.username)
        session.audit(conn, "pki.certificate_issue", "account", username, {"fingerprint": pki.fingerprint(cert)})
    info = identity_info(session, username)
    assert info is not None
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
            pki.key_to_der(ident.key), session.now(), username,
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
    return [pki.cert_from_bytes(r.cert_der) for r in pki_repo.roots(session.db.conn)]


def list_trusted_roots(session: Session) -> list[pki_repo.StoredRoot]:
    session.require(Permission.VIEW_CONTENT)
    return pki_repo.roots(session.db.conn)


def import_trusted_root(session: Session, path: Path, passphrase: str) -> pki_repo.StoredRoot:
    """Admin only, audited: trust another CA (agency PKI, or a peer workstation's CA)."""
    session.require(Permission.IMPORT_TRUSTED)
    if not session.account.can(Permission.MANAGE_USERS):
        raise PermissionDenied("Only an administrator may add trusted root certificates.")
    session.reauthenticate(passphrase)
    path = Path(path)
    try:
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
        session.audit(conn, "pki.root_import", "certificate", fp,
                      {"subject": cert.subject.rfc4514_string(), "file": path.name})
    return next(r for r in pki_repo.roots(session.db.conn) if r.id == root_id)


def remove_trusted_root(session: Session, fingerprint: str, passphrase: str) -> None:
    session.require(Permission.IMPORT_TRUSTED)
    if not session.account.can(Permission.MANAGE_USERS):
        raise PermissionDenied("Only an administrator may remove trusted root certificates.")
    session.reauthenticate(passphrase)
    with session.transaction() as conn:
        root = pki_repo.remove_root(conn, fingerprint, session.now())
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
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise IngestError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    return certificate_summary(pki.cert_from_bytes(data, str(path)))
