"""Clearinghouse sharing rules for CSAF advisories (issue 16 point 6).

Every advisory goes to a recipient from the partner register. What the partner may not receive is
decided by the one releasability rule (`app.model.partners.withholding`), in two kinds:

- marking reasons (level above the partner's, NOFORN or a REL TO list without it, compartments,
  originator controls): never shared, no override;
- embargo (still in force) and TLP (more restricted than the partner accepts): refused unless a
  lead overrides with a reason. The override is a decision the lead signs, audited.

Each export records its recipients per advisory revision (csaf_recipients, bound to a signed
decision of the person who exported) and one dissemination log entry per advisory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.model.accounts import Permission, Role
from app.model.csaf_recipients import RecipientRow
from app.model.dissemination import DisseminationKind
from app.model.errors import PermissionDenied, ValidationError
from app.model.markings import UNCLASSIFIED, Marking
from app.model.partners import Partner, PartnerKind, withholding
from app.model.vulnerabilities import Vulnerability
from app.services import decisions, dissemination, partners
from app.services.session import Session
from storage import csaf_recipients_repo as repo
from storage import decisions_repo, submissions_repo, vulns_repo
from storage.db import Connection

SHARE, OVERRIDE = "csaf.share", "csaf.share_override"
MIN_REASON, MAX_REASON = 10, 200  # the dissemination log keeps reasons of up to 200 characters


@dataclass(frozen=True)
class Withheld:
    """Why one register entry may not go to the recipient."""

    vuln_id: str
    title: str
    marking: tuple[str, ...]  # never shared
    handling: tuple[str, ...]  # embargo / TLP: a lead may override with a reason

    @property
    def overridable(self) -> bool:
        return not self.marking

    def describe(self) -> str:
        return f"{self.vuln_id} ({self.title}): {'; '.join((*self.marking, *self.handling))}"


@dataclass(frozen=True)
class Clearance:
    """The recipient and, when embargo or TLP had to be overridden, the lead's reason."""

    partner: Partner
    override_reason: str = ""
    overridden: tuple[Withheld, ...] = ()


@dataclass(frozen=True)
class Shipped:
    """One advisory file as written, for the recipients log."""

    vuln: Vulnerability
    tracking_id: str
    version: int
    file: str
    sha256: str


def _own(conn: Connection, partner: Partner, v: Vulnerability) -> bool:
    """The developer partner receiving a vulnerability found in its own submitted model."""
    if partner.kind is not PartnerKind.DEVELOPER or v.context.submission_id is None:
        return False
    developer = submissions_repo.get(conn, v.context.submission_id).developer
    return developer.strip().casefold() == partner.developer.strip().casefold()


def withheld(session: Session, partner: Partner, vulns: Sequence[Vulnerability]) -> list[Withheld]:
    """Entries the partner may not receive, each with every reason; [] when all may go."""
    conn, today = session.db.conn, session.today()
    out = []
    for v in vulns:
        own = _own(conn, partner, v)
        hard = withholding(partner, v.marking, own=own)
        # The same rule on an unmarked portion leaves only the handling reasons (TLP, embargo).
        soft = withholding(partner, UNCLASSIFIED, tlp=v.tlp, embargo_until=v.embargo_until, today=today, own=own)
        if hard or soft:
            out.append(Withheld(v.id, v.title, hard, soft))
    return out


def check(session: Session, vuln_ids: Sequence[str], recipient: str | int) -> tuple[Partner, list[Withheld]]:
    """The recipient (a signed, active partner) and what it may not receive: for the export dialog."""
    session.require(Permission.VIEW_CONTENT)
    partner = partners.find(session, recipient)
    if not partner.active:
        raise ValidationError("recipient", f"{partner.name} is deactivated; nothing more is shared with it")
    vulns = [vulns_repo.get(session.db.conn, vid) for vid in dict.fromkeys(vuln_ids)]
    return partner, withheld(session, partner, vulns)


def may_override(session: Session) -> bool:
    return session.account.role is Role.LEAD and session.account.can(Permission.APPROVE)


def clear(session: Session, vuln_ids: Sequence[str], recipient: str | int, override_reason: str = "") -> Clearance:
    """Allow sharing the entries with the recipient, or refuse (audited, nothing written).

    Marking reasons are never overridden. Embargo and TLP reasons pass only with a lead's reason."""
    partner, found = check(session, vuln_ids, recipient)
    reason = " ".join(override_reason.split())
    if not found:
        return Clearance(partner)
    hard = [w for w in found if not w.overridable]
    problem = ""
    if hard:
        problem = ("not releasable to " + partner.name + " (markings are never overridden): "
                   + " | ".join(w.describe() for w in hard))
    elif not reason:
        problem = (f"not shared with {partner.name}: " + " | ".join(w.describe() for w in found)
                   + ". A lead may override with a reason (--override-reason).")
    elif not may_override(session):
        problem = (f"only a lead may override embargo or TLP; {session.account.username} is "
                   f"{session.account.role.label}")
    elif not MIN_REASON <= len(reason) <= MAX_REASON or not reason.isprintable():
        problem = f"the override reason must be {MIN_REASON} to {MAX_REASON} printable characters"
    if problem:
        with session.transaction() as conn:
            session.audit(conn, "csaf.share_refused", "partner", partner.id, {
                "recipient": partner.name, "vulnerabilities": list(vuln_ids), "reasons": [w.describe() for w in found],
                "override_reason": reason, "refused": problem})
        if problem.startswith("only a lead"):
            raise PermissionDenied(problem)
        raise ValidationError("recipient", problem)
    return Clearance(partner, reason, tuple(found))


def record(session: Session, conn: Connection, clearance: Clearance, shipped: Sequence[Shipped], media: Marking,
           destination: Path | str, manifest_sha256: str = "") -> int:
    """In the export's transaction: the signed decision, one recipients row per advisory revision,
    one dissemination log entry each, and the audit event. Returns the decision id."""
    partner = clearance.partner
    assert partner.id is not None
    actor, now = session.account.username, session.now()
    override = clearance.override_reason
    rows = [RecipientRow(0, s.vuln.id, s.tracking_id, s.version, partner.name, partner.id, s.vuln.tlp.value,
                         s.vuln.marking.banner(), s.vuln.embargo_until, media.banner(), str(destination), s.file,
                         s.sha256, manifest_sha256, override, actor if override else "", 0, actor, now)
            for s in shipped]
    withheld_text = [w.describe() for w in clearance.overridden]
    content: dict[str, Any] = {
        "recipient": partner.name, "partner": partner.id, "media": media.banner(), "destination": str(destination),
        "manifest_sha256": manifest_sha256, "advisories": [r.signed_part() for r in rows],
        "override": {"reason": override, "withheld": withheld_text} if override else None,
    }
    kind = OVERRIDE if override else SHARE
    decision = decisions.record(conn, session.personal, kind, "partner", partner.id, actor, now, session.db_id,
                                content)
    for row, s in zip(rows, shipped, strict=True):
        repo.insert(conn, dataclasses.replace(row, decision_id=decision.id))
        dissemination.record(
            session, conn, kind=DisseminationKind.CSAF, object_type="csaf", object_id=s.tracking_id,
            revision=s.version, partner_id=partner.id, marking=s.vuln.marking, tlp=s.vuln.tlp,
            embargo_until=s.vuln.embargo_until, manifest_sha256=manifest_sha256 or s.sha256, media_label=media,
            approved_by=actor if override else "", reason=override, own=_own(conn, partner, s.vuln))
    session.audit(conn, kind, "partner", partner.id, {
        "recipient": partner.name, "advisories": [f"{s.tracking_id} v{s.version}" for s in shipped],
        "media": media.banner(), "destination": str(destination), "decision": decision.id,
        **({"override_reason": override, "withheld": withheld_text} if override else {})})
    return decision.id


@dataclass(frozen=True)
class Recipient:
    """One recipient of one advisory revision, with whether its signed record holds."""

    row: RecipientRow
    problem: str | None  # None: the signed decision backs this row


def _problem(conn: Connection, reg: decisions.Registry, row: RecipientRow) -> str | None:
    found = [d for d in decisions_repo.for_object(conn, "partner", str(row.partner_id), (SHARE, OVERRIDE))
             if d.id == row.decision_id]
    if not found:
        return "no signed record of this export"
    d = found[0]
    why = decisions.problem(reg, d)
    if why:
        return why
    content = decisions.content_of(d)
    if row.signed_part() not in content.get("advisories", []) or d.actor != row.exported_by or (
            content.get("recipient"), content.get("partner")) != (row.recipient, row.partner_id):
        return f"changed after {d.actor} signed the export"
    override = content.get("override") or {}
    if (override.get("reason") or "") != row.override_reason or (d.kind == OVERRIDE) != bool(row.override_reason):
        return "the override on record is not the one signed"
    if d.kind == OVERRIDE and decisions.actor_role(conn, reg, d.actor) is not Role.LEAD:
        return f"{d.actor}, who signed the override, is not a lead by any administrator's signature"
    return None


def recipients(session: Session, vuln_id: str) -> list[Recipient]:
    """Who received which revision of the entry's advisory, oldest first, each checked."""
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    reg = decisions.Registry.load(conn, session.db_id)
    return [Recipient(r, _problem(conn, reg, r)) for r in repo.for_vuln(conn, vuln_id)]
