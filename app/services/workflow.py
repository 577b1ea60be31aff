"""The review workflow as one service: the lifecycle stage of a submission, the next step and who
must take it, and for the signed-in person which actions are available now and why not.

The rules live in app.model.workflow; this module gathers the facts from storage. Services call
`require` before a workflow action, so the reason a refusal gives is the same text the UI shows
as the disabled action's tooltip.
"""

from __future__ import annotations

from dataclasses import replace

from app.model import checklist as cl
from app.model.accounts import Permission
from app.model.checklist import State
from app.model.errors import NotFound, PermissionDenied, ValidationError
from app.model.report_version import StoredReport
from app.model.submissions import SubmissionStatus
from app.model.workflow import (
    Act,
    Actor,
    Availability,
    Refusal,
    Stage,
    StageFacts,
    WorkState,
    availability,
    stage,
)
from app.services.session import Session
from storage import assessment_repo, narrative_repo, reports_repo, submissions_repo, workflow_repo
from storage.db import Connection


def actor(session: Session) -> Actor:
    a = session.account
    return Actor(a.username, a.role, a.disabled)


def _facts_state(f: StageFacts) -> WorkState:
    return WorkState(
        withdrawn=f.status == SubmissionStatus.WITHDRAWN.value, has_results=f.has_results,
        assessment=State(f.assessment_state) if f.assessment_state else None, submitted_by=f.submitted_by,
        determination_recorded_by=f.determination_recorded_by,
        determination_approved_by=f.determination_approved_by, report_state=f.report_state,
        report_label=f.report_label, report_signed_by=f.report_signed_by, released=f.released)


def stages(session: Session, submission_ids: list[int] | None = None) -> dict[int, Stage]:
    """Lifecycle stage of many submissions at once (dashboard, tables): one query."""
    session.require(Permission.VIEW_CONTENT)
    facts = workflow_repo.stage_facts(session.db.conn, submission_ids)
    return {sid: stage(_facts_state(f)) for sid, f in facts.items()}


def work_state(session: Session, submission_id: int, report: StoredReport | None = None,
               report_blockers: tuple[str, ...] = ()) -> WorkState:
    """Everything the workflow rules need about one submission (`report`: the report an action
    concerns; default the latest). `report_blockers` (settings the report would lack) come from
    app.services.review_overview, which assembles the report; the gate itself does not need them:
    building a report refuses a missing setting when it assembles."""
    session.require(Permission.VIEW_CONTENT)
    conn: Connection = session.db.conn
    submissions_repo.get(conn, submission_id)  # NotFound names it
    facts = workflow_repo.stage_facts(conn, [submission_id]).get(submission_id)
    if facts is None:
        raise NotFound(f"No submission with id {submission_id}.")
    w = _facts_state(facts)
    row = assessment_repo.assessment_for_submission(conn, submission_id)
    answered = total = 0
    submit_problems: tuple[str, ...] = ()
    approval_problems: tuple[str, ...] = ()
    pending: tuple[tuple[str, str], ...] = ()
    if row is not None:
        from app.services.assessment_templates import stored_template

        template = stored_template(conn, row.template_pk)
        answers = assessment_repo.answers(conn, row.id)
        progress = cl.overall_progress(template, answers)
        answered, total = progress.done, progress.total
        submit_problems = tuple(cl.submission_problems(template, answers, session.today()))
        approval_problems = tuple(cl.approval_problems(template, answers, session.today()))
        pending = tuple((a.item_id, a.updated_by) for a in answers.values() if a.item_id in template and a.risk_pending)
    if report is not None:
        released = bool(conn.execute("SELECT 1 FROM report_releases WHERE report_id = ?", (report.id,)).fetchone())
        report_fields = {"report_state": report.state, "report_label": report.control_number,
                         "report_signed_by": report.signed_by, "released": released}
    else:
        report_fields = {}
    findings = int(conn.execute("SELECT count(*) FROM findings WHERE submission_id = ? AND deleted = 0",
                                (submission_id,)).fetchone()[0])
    assigned = tuple(sorted({a.username for a in workflow_repo.assignments(conn, submission_id)}))
    narrative = narrative_repo.get(conn, submission_id) if row is not None else None
    return replace(w, answered=answered, total=total, submit_problems=submit_problems,
                   approval_problems=approval_problems, pending_risks=pending, findings=findings,
                   report_blockers=report_blockers, assigned=assigned,
                   narrative_written=row is None or (narrative is not None and not narrative.narrative.empty),
                   **report_fields)  # type: ignore[arg-type]


def check(session: Session, submission_id: int, act: Act, report: StoredReport | None = None) -> Availability:
    return availability(work_state(session, submission_id, report), actor(session), act)


def require(session: Session, submission_id: int, act: Act, report: StoredReport | None = None) -> None:
    """Refuse `act` with the same reason the UI shows: PermissionDenied for role and two-person
    rules, ValidationError when the work is not ready for it."""
    if session.locked:
        raise PermissionDenied("The workstation is locked; unlock it first.")
    avail = check(session, submission_id, act, report)
    if avail.allowed:
        return
    if avail.refusal in (Refusal.ROLE, Refusal.PERSON):
        raise PermissionDenied(avail.reason)
    raise ValidationError(act.value, avail.reason)


def require_report(session: Session, report_id: int, act: Act) -> StoredReport:
    report = reports_repo.get(session.db.conn, report_id)
    require(session, report.submission_id, act, report)
    return report
