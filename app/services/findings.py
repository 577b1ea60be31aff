"""Findings register per submission: create, edit, delete (with reason), list.

Findings belong to the assessment: once the submission's assessment is approved they are locked
with it, until a lead reopens the assessment.
"""

from __future__ import annotations

from dataclasses import replace

from app.model import report_markings
from app.model.accounts import Permission
from app.model.checklist import State
from app.model.errors import NotFound, PermissionDenied, ValidationError
from app.model.findings import Finding
from app.services import assessment_templates, derivation, submission_signatures
from app.services.session import Session
from storage import assessment_repo as repo
from storage import blobs, results_repo, submissions_repo
from storage.db import Connection


def _check_unlocked(conn: Connection, submission_id: int) -> None:
    row = repo.assessment_for_submission(conn, submission_id)
    if row is not None and row.state is State.APPROVED:
        raise PermissionDenied(f"The assessment of submission {submission_id} is approved and locked; a lead must "
                               "reopen it before findings can change.")


def locked(session: Session, submission_id: int) -> bool:
    """The submission's assessment is approved: its findings cannot change until a lead reopens it."""
    session.require(Permission.VIEW_CONTENT)
    row = repo.assessment_for_submission(session.db.conn, submission_id)
    return row is not None and row.state is State.APPROVED


def _check_links(conn: Connection, f: Finding) -> None:
    row = repo.assessment_for_submission(conn, f.submission_id)
    if f.item_ids:
        if row is None:
            raise ValidationError("linked items", "start the assessment before linking checklist items")
        template = assessment_templates.stored_template(conn, row.template_pk)
        for item_id in f.item_ids:
            template.item(item_id)
    for ev in f.evidence:
        if ev.kind in ("run", "sample"):
            run_text = ev.ref.split(":", 1)[0]
            if not run_text.isdigit():
                raise ValidationError("evidence", f"{ev} does not name a run id")
            run = results_repo.get_run(conn, int(run_text), lambda task: "")
            if run.submission_id != f.submission_id:
                raise ValidationError("evidence", f"run {run_text} belongs to another submission")
        elif ev.kind == "blob":
            try:
                next(blobs.iter_chunks(conn, ev.ref), None)
            except NotFound:
                raise ValidationError("evidence", f"no stored file with SHA-256 {ev.ref[:16]}…") from None


def _check_quotes(session: Session, conn: Connection, f: Finding) -> None:
    """A finding marked below its submission may not quote the submission's name or its results'
    values: the report's lint would refuse the whole report later, far from the cause."""
    source = submission_signatures.marking_floor(session, conn, f.submission_id)
    if f.marking.dominates(source):
        return
    sub = submissions_repo.get(conn, f.submission_id)
    metrics = [(f"run {run.id} {run.task} {m.metric}", m.value)
               for run in results_repo.runs_for_submission(conn, f.submission_id, lambda task: "")
               for m in run.metrics if m.value is not None]
    values = report_markings.submission_values(
        (sub.display_name, sub.model_name, f"{sub.model_name} {sub.version}"), source, metrics)
    text = "\n".join(part for part in (f.title, f.description, f.impact, f.recommendation) if part)
    problems = report_markings.record_quotes(values, f.marking, text)
    if problems:
        raise ValidationError("marking", f"the finding is marked {f.marking.portion()} but quotes information "
                              f"marked {source.portion()}: " + "; ".join(problems[:3])
                              + f". Mark it {source.portion()} or leave the quoted values out of it.")


def create(session: Session, finding: Finding, lower_reason: str = "") -> Finding:
    """Record a finding; it is marked at least as high as the submission it is about, unless the
    writer lowers it with a reason (audited)."""
    session.require(Permission.ASSESS)
    finding.validate()
    with session.transaction() as conn:
        floor = submission_signatures.marking_floor(session, conn, finding.submission_id)
        finding = replace(finding, marking=derivation.settle(
            session, conn, finding.marking, floor, lower_reason, f"the finding {finding.title!r}",
            "submission", finding.submission_id))
        _check_unlocked(conn, finding.submission_id)
        _check_links(conn, finding)
        _check_quotes(session, conn, finding)
        fid = repo.insert_finding(conn, finding, session.account.username, session.now())
        stored = repo.get_finding(conn, fid)
        session.audit(conn, "finding.create", "submission", finding.submission_id,
                      {"finding": stored.label, "severity": stored.severity.value, "marking": stored.marking.banner()})
        return stored


def update(session: Session, finding: Finding, lower_reason: str = "") -> Finding:
    session.require(Permission.ASSESS)
    finding.validate()
    fid = finding.id
    if fid is None:
        raise ValidationError("finding", "has no id; create it first")
    with session.transaction() as conn:
        old = repo.get_finding(conn, fid)
        if old.submission_id != finding.submission_id:
            raise ValidationError("finding", "cannot move to another submission")
        _check_unlocked(conn, old.submission_id)
        _check_links(conn, finding)
        finding = replace(finding, marking=derivation.settle(
            session, conn, finding.marking, old.marking, lower_reason, f"the finding {old.label}",
            "submission", old.submission_id))
        _check_quotes(session, conn, finding)
        fields = ("title", "description", "severity", "recommendation", "impact", "item_ids", "evidence", "marking")
        changed = [name for name in fields if getattr(old, name) != getattr(finding, name)]
        if not changed:
            return old
        repo.update_finding(conn, finding, session.now())
        session.audit(conn, "finding.update", "submission", old.submission_id,
                      {"finding": old.label, "fields": changed})
        return repo.get_finding(conn, fid)


def delete(session: Session, finding_id: int, reason: str) -> None:
    session.require(Permission.ASSESS)
    if not reason.strip():
        raise ValidationError("reason", "a reason is required to delete a finding")
    with session.transaction() as conn:
        old = repo.get_finding(conn, finding_id)
        _check_unlocked(conn, old.submission_id)
        repo.delete_finding(conn, finding_id, session.now())
        session.audit(conn, "finding.delete", "submission", old.submission_id,
                      {"finding": old.label, "title": old.title, "reason": reason.strip()})


def get(session: Session, finding_id: int) -> Finding:
    session.require(Permission.VIEW_CONTENT)
    return repo.get_finding(session.db.conn, finding_id)


def list_findings(session: Session, submission_id: int) -> list[Finding]:
    session.require(Permission.VIEW_CONTENT)
    return repo.findings(session.db.conn, submission_id)
