"""Records that hold by their last editor's signature: what vuln_signatures and submission_signatures share.

A record of this kind is signed, at the end of every transaction that changes it through the
application, by the person who changed it: a decision (app/services/decisions.py) over digests of
the record's content. It holds while the newest such decision verifies, was made with a certified
key of a person whose signed role allows `permission`, and still matches the record. Each module
says what its digests cover and where a record that does not hold is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.model.accounts import ROLE_PERMISSIONS, Permission
from app.model.decision_record import StoredDecision
from app.model.errors import FrontierError, IntegrityError
from app.model.markings import Marking, rollup
from app.services import decisions
from app.services.session import Session
from storage import decisions_repo
from storage.db import Connection


@dataclass(frozen=True)
class Standing:
    """Whether a record is the content its last signer signed (problem None), and who that was."""

    object_id: str
    problem: str | None
    signed_by: str = ""
    signed_at: str = ""
    signed_revision: int | None = None
    changed: tuple[str, ...] = ()  # fields that differ from what was signed, where they can be named
    signed_values: tuple[tuple[str, str], ...] = ()  # (field, its signed value as text), where known

    def signed_lines(self, width: int = 120) -> list[str]:
        """"field: signed value" for each changed field whose signed value is known (for the reviewer
        deciding whether to sign the record as it now stands)."""
        return [f"{name}: {text if len(text) <= width else text[:width - 1] + '…'}"
                for name, text in self.signed_values]

    @property
    def holds(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        if self.problem is None:
            rev = f" (revision {self.signed_revision})" if self.signed_revision is not None else ""
            return f"holds: signed by {self.signed_by} on {self.signed_at[:10]}{rev}"
        return f"DOES NOT HOLD: {self.problem}"


def digest(value: Any) -> str:
    """SHA-256 of canonical JSON: a snapshot read back from a history table hashes as the live record."""
    return hashlib.sha256(decisions.canonical(value).encode()).hexdigest()


def sign(session: Session, conn: Connection, kind: str, object_type: str, object_id: object,
         content: dict[str, Any]) -> None:
    """Sign `content` for the record (last in the transaction that changed it). The certificate is
    checked when the record is read, so a person whose certificate is still pending can work (their
    records hold once it is issued)."""
    if session.personal is None:  # a workstation from before personal keys, until the next sign-in
        return
    decisions.record(conn, session.personal, kind, object_type, object_id, session.account.username, session.now(),
                     session.db_id, content, require_certified=False)


def newest(conn: Connection, object_type: str, object_ids: list[str], kind: str) -> dict[str, StoredDecision]:
    return decisions_repo.latest_for_objects(conn, object_type, object_ids, (kind,))


def signer_problem(conn: Connection, reg: decisions.Registry, oid: str, d: StoredDecision | None,
                   permission: Permission, who: str) -> Standing | None:
    """The standing of a record whose decision does not count (None: it does, compare the content).
    `who` completes "does not ..." for a signer whose role lacks `permission`."""
    if d is None:
        return Standing(oid, "no signature covers it: it was written outside the application (or recorded "
                             "before such records were signed)")
    why = decisions.problem(reg, d)
    if why:
        return Standing(oid, f"the signature by {d.actor} on its last change does not hold ({why})", d.actor, d.ts)
    role = decisions.actor_role(conn, reg, d.actor)
    if role is None or permission not in ROLE_PERMISSIONS[role]:
        return Standing(oid, f"{d.actor}, who signed its last change, does not {who} by any administrator's "
                             "signature", d.actor, d.ts)
    return None


def sign_again(session: Session, conn: Connection, before: Standing, sign_now: Callable[[], None], action: str,
               object_type: str, object_id: object, details: dict[str, Any] | None = None) -> bool:
    """Sign a record that does not hold, as it stands, after the person reviewed it; audited as `action`
    with what was wrong. False (nothing done) when it holds."""
    if before.holds:
        return False
    if session.personal is None:
        raise IntegrityError("This session holds no personal key to sign with; sign out and in again.")
    sign_now()
    session.audit(conn, action, object_type, object_id,
                  {**(details or {}), "was": before.problem, "changed": list(before.changed),
                   **({"signed_values": dict(before.signed_values)} if before.signed_values else {})})
    return True


def signed_marking(conn: Connection, reg: decisions.Registry, object_type: str, object_id: str, kind: str,
                   permission: Permission, stored: Marking) -> Marking:
    """`stored`, raised to every marking signed for the record (content "marking") since its newest
    signature that fully holds: what to show it under and where work about it starts.

    A marking lowered in the database, or by a decision an insider signed with a key of their own
    (a valid signature, no certificate), cannot take it below what the record's real editors signed;
    a genuine lowering counts once its signer's certificate is issued (until then the higher one is
    used: over-marking for a while, never under-marking)."""
    signed: list[Marking] = []
    for d in reversed(decisions_repo.for_object(conn, object_type, object_id, (kind,))):
        if decisions.problem(reg, d, require_certified=False):
            continue  # not even a valid signature by the key it names: it says nothing
        text = decisions.content_of(d).get("marking")
        if isinstance(text, str):
            try:
                signed.append(Marking.parse(text))
            except FrontierError:
                continue
        if signer_problem(conn, reg, object_id, d, permission, "") is None:
            break  # a signature that fully holds: nothing older matters
    return rollup([stored, *signed])
