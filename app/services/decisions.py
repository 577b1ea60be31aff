"""Signed decisions: the records other people rely on, and how a service checks one.

A decision is a canonical statement (kind, object, actor, time, workstation, CA fingerprint and
the content decided) whose SHA-256 is signed with the actor's personal key. It counts only when:
the signature verifies; the key belongs to the actor and is certified by this workstation's CA
(the CA whose fingerprint the statement names); the certificate was not revoked before the
decision; and the actor held the right role, itself established by decisions signed by an
administrator, back to the setup decision. A row written into the database by anyone else —
with the data key but without the actor's passphrase — fails at least one of these.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from app.model.accounts import Role
from app.model.decision_record import StoredDecision
from app.model.errors import IntegrityError, PermissionDenied
from reports import pki
from storage import decisions_repo, identity_repo, pki_repo
from storage.db import Connection

ACCOUNT_KINDS = ("workstation.init", "workstation.migrate", "account.create", "account.attest", "account.disable",
                 "account.enable", "account.passphrase_reset")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def statement(kind: str, object_type: str, object_id: str, actor: str, ts: str, db_id: str, ca_fp: str,
              content: dict[str, Any]) -> bytes:
    return canonical({"v": 1, "kind": kind, "object_type": object_type, "object_id": object_id, "actor": actor,
                      "ts": ts, "workstation": db_id, "ca": ca_fp, "content": content}).encode()


# -- keys and who they belong to -----------------------------------------------------------------


@dataclass
class KeyInfo:
    username: str
    public: ec.EllipticCurvePublicKey
    certified_by: str | None      # certificate fingerprint, None while the certificate is pending
    revoked_at: str | None = None
    legacy: bool = False          # the key once lived under the shared data key


@dataclass
class Registry:
    """Every personal key of this workstation, with its certification, for one verification pass."""

    db_id: str
    ca_fingerprint: str
    keys: dict[str, KeyInfo] = field(default_factory=dict)
    _states: dict[str, AccountState | str] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, db_id: str, only: str | None = None) -> Registry:
        """`only`: a key fingerprint; the registry then holds that key alone, checked exactly as in
        the full registry (recording a decision needs just the signer's key: no other certificate
        is parsed and verified)."""
        keys = identity_repo.all_personal_keys(conn)
        if only is not None:
            keys = [pk for pk in keys if pk.fingerprint == only]
        owners = {pk.username for pk in keys}
        stored_ca = pki_repo.get_ca(conn)
        ca_cert = pki.cert_from_bytes(stored_ca.cert_der) if stored_ca else None
        reg = cls(db_id, pki.fingerprint(ca_cert) if ca_cert else "")
        revoked = {r.fingerprint: r.revoked_at for r in pki_repo.revocations(conn)}
        certs: dict[str, tuple[str, str, bool]] = {}  # key fp -> (cert fp, username, legacy)
        for ident in pki_repo.identities(conn):
            if only is not None and ident.username not in owners:
                continue
            try:
                cert = pki.cert_from_bytes(ident.cert_der)
                if ca_cert is None:
                    continue
                cert.verify_directly_issued_by(ca_cert)
            except Exception:  # noqa: S112  (a certificate not issued by this CA certifies nothing here)
                continue
            if pki.common_name(cert) and _username_of(cert) == ident.username:
                certs[pki.key_fingerprint(cert.public_key())] = (ident.fingerprint, ident.username,
                                                                 ident.legacy_key)
        for pk in keys:
            try:
                public = pki.load_public_key(pk.public_der)
            except Exception:  # noqa: S112  (an unreadable key verifies nothing)
                continue
            if pki.key_fingerprint(public) != pk.fingerprint:
                continue
            cert_fp, owner, legacy = certs.get(pk.fingerprint, (None, pk.username, False))
            if owner != pk.username:
                cert_fp = None
            reg.keys[pk.fingerprint] = KeyInfo(pk.username, public, cert_fp,
                                               revoked.get(cert_fp) if cert_fp else None, legacy)
        return reg

    def check_signature(self, fingerprint: str, actor: str, ts: str, digest: bytes, signature: bytes,
                        require_certified: bool = True) -> str | None:
        """None when `signature` over `digest` is `actor`'s, made with a certified, unrevoked key."""
        info = self.keys.get(fingerprint)
        if info is None:
            return "signed with a key this workstation does not know"
        if info.username != actor:
            return f"signed with {info.username}'s key, not {actor}'s"
        if not pki.verify_digest(info.public, digest, signature):
            return "the signature does not match the content (forged or changed)"
        if info.certified_by is None and require_certified:
            return f"{actor}'s key has no certificate from this workstation's CA"
        if info.revoked_at is not None and ts > info.revoked_at:
            return f"{actor}'s certificate was revoked on {info.revoked_at[:19]}, before this was signed"
        return None


def _username_of(cert: x509.Certificate) -> str:
    """Workstation certificates carry 'role (username)' as their organisational unit."""
    from cryptography.x509.oid import NameOID

    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    text = str(units[0].value) if units else ""
    return text[text.rfind("(") + 1:-1] if text.endswith(")") and "(" in text else ""


# -- recording -------------------------------------------------------------------------------


def record(conn: Connection, signer: Any, kind: str, object_type: str, object_id: object, actor: str, ts: str,
           db_id: str, content: dict[str, Any], require_certified: bool = True) -> StoredDecision:
    """Sign and store a decision. `signer` is the actor's identity.PersonalKey."""
    if signer is None:
        raise PermissionDenied("This decision must be signed with your personal key, which this session does not "
                               "hold; sign out and in again.")
    reg = Registry.load(conn, db_id, only=signer.fingerprint)
    info = reg.keys.get(signer.fingerprint)
    if require_certified and (info is None or info.certified_by is None):
        raise PermissionDenied("Your signing certificate has not been issued yet: an administrator issues it "
                               "(Accounts screen, or `frontier-review pki issue USER`). Decisions that others rely "
                               "on need it.")
    oid = "" if object_id is None else str(object_id)
    body = statement(kind, object_type, oid, actor, ts, db_id, reg.ca_fingerprint, content)
    digest = hashlib.sha256(body).digest()
    signature = signer.sign(digest)
    content_text = canonical(content)
    did = decisions_repo.insert(conn, kind, object_type, oid, actor, ts, content_text, digest.hex(),
                                signer.fingerprint, signature)
    return StoredDecision(did, kind, object_type, oid, actor, ts, content_text, digest.hex(), signer.fingerprint,
                          signature)


def problem(reg: Registry, d: StoredDecision, require_certified: bool = True) -> str | None:
    """Why decision `d` does not count (None: it does)."""
    try:
        content = json.loads(d.content)
    except ValueError:
        return "its content is not readable"
    body = statement(d.kind, d.object_type, d.object_id, d.actor, d.ts, reg.db_id, reg.ca_fingerprint, content)
    digest = hashlib.sha256(body).digest()
    if digest.hex() != d.digest:
        return "its content, time or actor was changed after signing (or it was signed under another CA)"
    return reg.check_signature(d.key_fingerprint, d.actor, d.ts, digest, d.signature, require_certified)


def content_of(d: StoredDecision) -> dict[str, Any]:
    value = json.loads(d.content)
    return value if isinstance(value, dict) else {}


# -- accounts: roles and status hold only as an administrator signed them ----------------------


@dataclass(frozen=True)
class AccountState:
    role: Role
    disabled: bool
    decided_by: str


def account_state(conn: Connection, reg: Registry, username: str, _depth: int = 0) -> AccountState:
    """The role and status of `username` as signed decisions establish them; IntegrityError if
    they do not (a role no administrator signed, a forged or broken signature)."""
    cached = reg._states.get(username)
    if isinstance(cached, AccountState):
        return cached
    if isinstance(cached, str):
        raise IntegrityError(cached)
    if _depth > 16:
        raise IntegrityError("the chain of administrator decisions is too deep or circular")
    reg._states[username] = f"the role of {username} rests on a circular chain of decisions"
    try:
        state = _account_state(conn, reg, username, _depth)
    except IntegrityError as exc:
        reg._states[username] = str(exc)
        raise
    reg._states[username] = state
    return state


def _base_admin(conn: Connection, reg: Registry) -> str | None:
    for kind in ("workstation.init", "workstation.migrate"):
        for d in decisions_repo.by_kind(conn, kind):
            if d.object_id == reg.db_id and problem(reg, d) is None:
                return d.actor
    return None


def _account_state(conn: Connection, reg: Registry, username: str, depth: int) -> AccountState:
    base = _base_admin(conn, reg)
    state: AccountState | None = None
    for d in decisions_repo.for_object(conn, "account", username, ACCOUNT_KINDS):
        why = problem(reg, d)
        if why:
            raise IntegrityError(f"the decision '{d.kind}' on account {username} ({d.ts[:19]}, by {d.actor}) does "
                                 f"not hold: {why}")
        if d.actor == username and d.actor == base and d.kind in ("account.create", "account.attest"):
            pass  # the setup (or migrating) administrator attests their own account once
        else:
            actor = account_state(conn, reg, d.actor, depth + 1)
            if actor.role is not Role.ADMIN or actor.disabled:
                raise IntegrityError(f"the decision '{d.kind}' on account {username} was signed by {d.actor}, who "
                                     "is not an administrator")
        content = content_of(d)
        if d.kind in ("account.create", "account.attest"):
            try:
                role = Role(str(content.get("role")))
            except ValueError:
                raise IntegrityError(f"the decision on account {username} names an unknown role") from None
            state = AccountState(role, bool(content.get("disabled", False)), d.actor)
        elif state is None:
            raise IntegrityError(f"account {username} has a '{d.kind}' decision but no signed creation")
        elif d.kind == "account.disable":
            state = AccountState(state.role, True, d.actor)
        elif d.kind == "account.enable":
            state = AccountState(state.role, False, d.actor)
    if state is None:
        raise IntegrityError(f"no administrator signed the creation of account {username}")
    return state


def has_signed_accounts(conn: Connection) -> bool:
    return bool(decisions_repo.by_kind(conn, "workstation.init") or decisions_repo.by_kind(conn, "workstation.migrate"))


# -- decisions on work: who approved what -------------------------------------------------------


def latest(conn: Connection, reg: Registry, object_type: str, object_id: object,
           kinds: tuple[str, ...]) -> tuple[StoredDecision | None, str | None]:
    """The newest decision of `kinds` on the object and why it does not count (None: it does)."""
    rows = decisions_repo.for_object(conn, object_type, str(object_id), kinds)
    if not rows:
        return None, None
    d = rows[-1]
    return d, problem(reg, d)


def actor_role(conn: Connection, reg: Registry, username: str) -> Role | None:
    try:
        state = account_state(conn, reg, username)
    except IntegrityError:
        return None
    return None if state.disabled else state.role
