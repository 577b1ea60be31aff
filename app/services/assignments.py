"""A lead splits a review among reviewers (a submission, or sections of its checklist), and the
dashboard queues built on it: "My work" and, for leads, "Awaiting my decision"."""

from __future__ import annotations

from dataclasses import dataclass

from app.model.accounts import Permission, Role
from app.model.assignment import Assignment
from app.model.errors import NotFound, ValidationError
from app.model.submissions import Submission
from app.model.workflow import Act, Stage
from app.services import review_overview, workflow
from app.services.session import Session
from storage import accounts as accounts_repo
from storage import assessment_repo, submissions_repo, workflow_repo

# Actions only a lead takes: a submission where one is open to me is "awaiting my decision".
DECISIONS = (Act.APPROVE, Act.RETURN, Act.APPROVE_DETERMINATION, Act.APPROVE_RISK, Act.COUNTERSIGN)


def sections(session: Session, submission_id: int) -> list[str]:
    from app.services.assessment_templates import builtin_template_bytes, stored_template

    conn = session.db.conn
    row = assessment_repo.assessment_for_submission(conn, submission_id)
    if row is not None:
        return [s.id for s in stored_template(conn, row.template_pk).sections]
    from app.ingest import checklist_template

    return [s.id for s in checklist_template.parse(builtin_template_bytes(), "built-in template").sections]


def assign(session: Session, submission_id: int, username: str, section_id: str = "") -> Assignment:
    """A lead assigns a reviewer or lead to a submission ('' = the whole checklist) or one section."""
    workflow.require(session, submission_id, Act.ASSIGN)
    account = accounts_repo.get(session.db.conn, username)  # NotFound names the account
    if account.role not in (Role.REVIEWER, Role.LEAD) or account.disabled:
        raise ValidationError("assignee", f"{username} is {'disabled' if account.disabled else account.role.label}; "
                              "only active reviewers and leads are assigned review work")
    section_id = section_id.strip().upper()
    known = sections(session, submission_id)
    if section_id and section_id not in known:
        raise ValidationError("section", f"{section_id!r} is not a section of the checklist ({', '.join(known)})")
    with session.transaction() as conn:
        for a in workflow_repo.assignments(conn, submission_id):
            if a.username == username and a.section_id == section_id:
                raise ValidationError("assignment", f"{username} is already assigned to {a.scope} of submission "
                                      f"{submission_id}")
        aid = workflow_repo.add_assignment(conn, submission_id, username, section_id, session.account.username,
                                           session.now())
        session.audit(conn, "assignment.add", "submission", submission_id,
                      {"assignment": aid, "user": username, "section": section_id or "all"})
        return next(a for a in workflow_repo.assignments(conn, submission_id) if a.id == aid)


def unassign(session: Session, assignment_id: int) -> Assignment:
    session.require(Permission.APPROVE)
    with session.transaction() as conn:
        removed = workflow_repo.remove_assignment(conn, assignment_id, session.account.username, session.now())
        session.audit(conn, "assignment.remove", "submission", removed.submission_id,
                      {"assignment": assignment_id, "user": removed.username, "section": removed.section_id or "all"})
        return removed


def for_submission(session: Session, submission_id: int) -> list[Assignment]:
    session.require(Permission.VIEW_CONTENT)
    return workflow_repo.assignments(session.db.conn, submission_id)


@dataclass(frozen=True)
class QueueRow:
    submission: Submission
    stage: Stage
    next_step: str
    who: str
    detail: str  # the sections assigned, or the decisions open to me


def _row(session: Session, sid: int, detail: str) -> QueueRow | None:
    try:
        ov = review_overview.overview(session, sid)
    except NotFound:
        return None
    return QueueRow(submissions_repo.get(session.db.conn, sid), ov.stage, ov.next.text, ov.next.who, detail)


def my_work(session: Session) -> list[QueueRow]:
    """Open submissions assigned to me, with their next step."""
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    me = session.account.username
    stages = workflow.stages(session, workflow_repo.assigned_submissions(conn, me))
    rows = []
    for sid, stage in stages.items():
        if not stage.is_open:
            continue
        mine = [a.scope for a in workflow_repo.assignments(conn, sid) if a.username == me]
        row = _row(session, sid, ", ".join(mine))
        if row is not None:
            rows.append(row)
    return sorted(rows, key=lambda r: r.submission.planned_release)


def awaiting_decision(session: Session) -> list[QueueRow]:
    """For a lead: open submissions where a lead's decision is open to me now (approve or return an
    assessment, approve a determination or a risk acceptance, countersign)."""
    session.require(Permission.VIEW_CONTENT)
    if not session.account.can(Permission.APPROVE):
        return []
    conn = session.db.conn
    facts = workflow_repo.stage_facts(conn)
    candidates = {sid for sid, f in facts.items()
                  if f.assessment_state == "submitted" or f.report_state == "signed"
                  or (f.determination_recorded_by and not f.determination_approved_by)}
    candidates |= {int(r[0]) for r in conn.execute(
        "SELECT DISTINCT a.submission_id FROM answers x JOIN assessments a ON a.id = x.assessment_id "
        "WHERE x.status = 'risk_accepted' AND x.risk_approved_by IS NULL")}
    rows = []
    for sid in sorted(candidates):
        if sid not in facts:
            continue
        ov = review_overview.overview(session, sid)
        open_to_me = [a.value for a in DECISIONS if ov.can(a)]
        if open_to_me and ov.stage.is_open:
            rows.append(QueueRow(submissions_repo.get(conn, sid), ov.stage, ov.next.text, ov.next.who,
                                 ", ".join(open_to_me)))
    return sorted(rows, key=lambda r: r.submission.planned_release)
