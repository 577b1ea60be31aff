"""Vulnerability register use cases: record, list, create from findings/samples, the report annex.

CSAF exchange lives beside it: app/services/csaf_exchange.py (export) and csaf_merge.py (import).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from app.model.accounts import Permission
from app.model.errors import NotFound, ValidationError
from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.report import VulnerabilityRow
from app.model.vulnerabilities import (
    CvssSeverity,
    DiscoveryContext,
    Filters,
    HistoryEntry,
    Vulnerability,
    VulnStatus,
    default_embargo,
)
from app.services import derivation, submission_signatures, vuln_signatures
from app.services.session import Session
from storage import submissions_repo
from storage import vulns_repo as repo

OBJECT = "vulnerability"


# -- register --------------------------------------------------------------------------------

def _check_duplicate_cve(conn: Any, v: Vulnerability) -> None:
    if v.cve:
        other = repo.find_by_cve(conn, v.cve)
        if other is not None and other.id != v.id:
            raise ValidationError("cve", f"{v.cve} is already recorded as {other.id} ('{other.title}'); "
                                         "duplicate CVE ids are refused")


def _check_submission(conn: Any, v: Vulnerability) -> None:
    sid = v.context.submission_id
    if sid is not None:
        try:
            submissions_repo.get(conn, sid)
        except NotFound:
            raise ValidationError("submission_id", f"no submission with id {sid}") from None


def _settle_marking(session: Session, conn: Any, v: Vulnerability, floor: Marking, lower_reason: str) -> Vulnerability:
    """A vulnerability is marked at least as high as the submission it was found in (issue 11): lower only
    as an explicit, audited act with a reason."""
    if v.context.submission_id is not None:
        floor = rollup([floor, submission_signatures.marking_floor(session, conn, v.context.submission_id)])
    return replace(v, marking=derivation.settle(session, conn, v.marking, floor, lower_reason,
                                                f"the vulnerability {v.title!r}", OBJECT, v.id))


def marking_floor(session: Session, v: Vulnerability) -> Marking:
    """Where the vulnerability's marking starts: its stored marking and its submission's (editors ask for a
    reason below this)."""
    conn = session.db.conn
    # never below what the entry's and the submission's editors signed (a lowered row does not count)
    found = [vuln_signatures.signed_marking_in(session, conn, repo.get(conn, v.id))] if v.id else []
    if v.context.submission_id is not None:
        found.append(submission_signatures.marking_floor(session, conn, v.context.submission_id))
    return rollup(found)


def create(session: Session, v: Vulnerability, lower_reason: str = "") -> Vulnerability:
    """Record a new vulnerability; the embargo defaults to the linked submission's planned release."""
    session.require(Permission.MANAGE_VULNS)
    v = v.validate()
    with session.transaction() as conn:
        _check_submission(conn, v)
        _check_duplicate_cve(conn, v)
        v = _settle_marking(session, conn, v, UNCLASSIFIED, lower_reason)
        if v.embargo_until is None and v.context.submission_id is not None:
            sub = submissions_repo.get(conn, v.context.submission_id)
            v = replace(v, embargo_until=default_embargo(sub.planned_release, v.discovered))
        if v.discovered is None:
            v = replace(v, discovered=session.today())
        vid = repo.insert(conn, v, session.account.username, session.now())
        stored = repo.get(conn, vid)
        session.audit(conn, "vulnerability.create", OBJECT, vid, {
            "title": stored.title, "severity": stored.severity.value if stored.severity else "",
            "cvss": stored.cvss_vector, "marking": stored.marking.banner(), "tlp": stored.tlp.value,
            "context": _context(stored.context),
        })
        vuln_signatures.sign(session, conn, vid)
        return stored


def update(session: Session, v: Vulnerability, lower_reason: str = "") -> Vulnerability:
    """Save an edit made on revision `v.revision`; refuses if someone saved in between."""
    session.require(Permission.MANAGE_VULNS)
    v = v.validate()
    with session.transaction() as conn:
        _check_submission(conn, v)
        _check_duplicate_cve(conn, v)
        if v.id:
            signed = vuln_signatures.signed_marking_in(session, conn, repo.get(conn, v.id))
            v = _settle_marking(session, conn, v, signed, lower_reason)
        stored, changes = repo.update(conn, v, session.account.username, session.now(), v.revision)
        if changes:
            session.audit(conn, "vulnerability.update", OBJECT, v.id, {"changes": changes})
            vuln_signatures.sign(session, conn, v.id)
        return stored


def get(session: Session, vid: str) -> Vulnerability:
    session.require(Permission.VIEW_CONTENT)
    return repo.get(session.db.conn, vid)


def history(session: Session, vid: str) -> list[HistoryEntry]:
    session.require(Permission.VIEW_CONTENT)
    return repo.history(session.db.conn, vid)


def filters(session: Session, severities: Sequence[CvssSeverity] = (), statuses: Sequence[VulnStatus] = (),
            embargo_within_days: int | None = None, search: str = "", submission_id: int | None = None,
            open_only: bool = False) -> Filters:
    """Filters relative to the session's clock ("embargo ending within N days" counts from today)."""
    if embargo_within_days is not None and embargo_within_days < 0:
        raise ValidationError("embargo_within_days", "must be zero or more days")
    return Filters(tuple(severities), tuple(statuses), embargo_within_days, session.today(), search.strip(),
                   submission_id, open_only)


def count(session: Session, f: Filters | None = None) -> int:
    session.require(Permission.VIEW_CONTENT)
    return repo.count(session.db.conn, f or Filters(today=session.today()))


def page(session: Session, f: Filters | None, offset: int, limit: int, sort: str = "id",
         descending: bool = False, after_id: str | None = None) -> list[Vulnerability]:
    """`after_id` (the record just before `offset`) lets the page be read by key instead of by offset."""
    session.require(Permission.VIEW_CONTENT)
    return repo.page(session.db.conn, f or Filters(today=session.today()), offset, limit, sort, descending,
                     after_id)


def list_all(session: Session, f: Filters | None = None, sort: str = "id", descending: bool = False,
             limit: int = 100_000) -> list[Vulnerability]:
    return page(session, f, 0, limit, sort, descending)


def _context(c: DiscoveryContext) -> dict[str, Any]:
    return {"submission_id": c.submission_id, "run_id": c.run_id, "sample_id": c.sample_id,
            "finding_id": c.finding_id}


# -- from a finding or a sample (keeping the link) ------------------------------------------

def draft_from_finding(session: Session, finding: Any) -> Vulnerability:
    """An unsaved vulnerability prefilled from a finding; the editor shows it for completion."""
    session.require(Permission.MANAGE_VULNS)
    fid = getattr(finding, "id", None)
    if fid in (None, ""):
        raise ValidationError("finding_id", "the finding has no id yet; save it first")
    sid = getattr(finding, "submission_id", None)
    title = str(getattr(finding, "title", "") or "")
    description = str(getattr(finding, "description", "") or getattr(finding, "statement", "") or "")
    marking = getattr(finding, "marking", UNCLASSIFIED)
    run_id, sample_id = str(getattr(finding, "run_id", "") or ""), str(getattr(finding, "sample_id", "") or "")
    for ev in getattr(finding, "evidence", ()) or ():
        # findings cite samples as EvidenceRef(kind="sample", ref="RUN:SAMPLE"): keep the first
        if getattr(ev, "kind", "") == "sample" and ":" in str(getattr(ev, "ref", "")) and not sample_id:
            run_id, sample_id = str(ev.ref).split(":", 1)
        elif getattr(ev, "kind", "") == "run" and not run_id:
            run_id = str(ev.ref)
    ctx = DiscoveryContext(submission_id=sid, run_id=run_id, sample_id=sample_id, finding_id=str(fid))
    return _draft(session, title, description, ctx, marking if isinstance(marking, Marking) else UNCLASSIFIED)


def draft_from_sample(session: Session, submission_id: int | None, run_id: str, sample_id: str,
                      title: str = "", excerpt: str = "", marking: Marking = UNCLASSIFIED) -> Vulnerability:
    """An unsaved vulnerability prefilled from a transcript sample (run id + sample id kept)."""
    session.require(Permission.MANAGE_VULNS)
    if not run_id or not sample_id:
        raise ValidationError("sample_id", "a run id and a sample id are needed to link the sample")
    ctx = DiscoveryContext(submission_id=submission_id, run_id=str(run_id), sample_id=str(sample_id))
    title = title or f"Vulnerability found in sample {sample_id} of run {run_id}"
    description = f"Observed in evaluation run {run_id}, sample {sample_id}."
    if excerpt:
        description += "\n\nTranscript excerpt:\n" + excerpt[:5000]
    return _draft(session, title, description, ctx, marking)


def _draft(session: Session, title: str, description: str, ctx: DiscoveryContext,
           marking: Marking) -> Vulnerability:
    embargo = None
    if ctx.submission_id is not None:
        try:
            sub = submissions_repo.get(session.db.conn, ctx.submission_id)
        except NotFound:
            raise ValidationError("submission_id", f"no submission with id {ctx.submission_id}") from None
        embargo = default_embargo(sub.planned_release, session.today())
        marking = rollup([marking, sub.marking])
    return Vulnerability(title=title[:500], description=description, context=ctx, discovered=session.today(),
                         embargo_until=embargo, marking=marking)


def create_from_finding(session: Session, finding: Any, **overrides: Any) -> Vulnerability:
    return create(session, replace(draft_from_finding(session, finding), **overrides))


def create_from_sample(session: Session, submission_id: int | None, run_id: str, sample_id: str,
                       **overrides: Any) -> Vulnerability:
    return create(session, replace(draft_from_sample(session, submission_id, run_id, sample_id), **overrides))


# -- findings report annex ------------------------------------------------------------------

def annex_rows(session: Session, submission_id: int) -> tuple[VulnerabilityRow, ...]:
    """Vulnerabilities found while testing a submission, most severe first, for the findings
    report's annex (ReportInput.vulnerabilities); each row keeps its own portion marking."""
    session.require(Permission.VIEW_CONTENT)
    rows = []
    found = repo.for_submission(session.db.conn, submission_id)
    vuln_signatures.require_holding(session, session.db.conn, found, "quoted in a report")
    for v in found:
        sev = v.severity
        vector = v.cvss_vector or v.cvss_v3_vector
        status = f"{v.status.value}; TLP:{v.tlp.value}"
        if v.embargo_until:
            status += f"; embargo until {v.embargo_until.isoformat()}"
        # Only what is known is printed: no "(product not named)" placeholder in the report.
        named = v.named_in_rows
        rows.append(VulnerabilityRow(
            id=v.id, title=f"{v.title} ({named})" if named else v.title,
            severity=sev.value if sev else "not scored", score=f"{v.score} ({vector})" if vector else "",
            status=status, cwe=v.cwe, marking=v.marking, tlp=v.tlp.value, embargo_until=v.embargo_until,
        ))
    return tuple(rows)
