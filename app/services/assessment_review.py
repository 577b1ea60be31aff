"""Deciding an assessment: submit, a lead's approval (item by item and of the whole) or return
with comments, reopening with a reason, and what the lead sees before approving. Every step is a
signed decision over the answer history it covers (checked again by verify_history).

Who may do what (app.model.workflow decides, the UI shows the same reason):
- a reviewer or lead (Permission.ASSESS) submits a complete draft;
- a lead (Permission.APPROVE) who is NOT the account that submitted approves or returns it;
- approved assessments are locked; reopening is a recorded transition with a reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from app.model import checklist as cl
from app.model.accounts import Permission
from app.model.approval import ApprovalSummary, ItemApproval, Override, RiskAcceptance, count_statuses
from app.model.assessment_record import AssessmentRow
from app.model.checklist import Action, Answer, Status
from app.model.errors import PermissionDenied, ValidationError
from app.model.findings import Severity
from app.model.markings import rollup
from app.model.workflow import Act
from app.services import approvals, coverage, findings, workflow
from app.services.assessment import AssessmentView, editable, get, template_of, view_of
from app.services.assessment_suggestions import departures, suggestions
from app.services.session import Session
from storage import assessment_repo as repo
from storage import audit as audit_log
from storage import narrative_repo, workflow_repo
from storage.db import Connection

MAX_COMMENT = 20_000


def _move(session: Session, conn: Connection, row: AssessmentRow, action: Action, comment: str = "",
          **who: str | None) -> int:
    new = cl.transition(row.state, action)
    repo.set_state(conn, row.id, new, session.now(), **who)
    tid = repo.add_transition(conn, row.id, action.value, row.state, new, session.account.username, session.now(),
                              comment)
    rows, digest = repo.history_digest(conn, row.id)
    # The step itself is a decision others rely on: signed over the answer history it covers.
    approvals.record(session, conn, f"assessment.{action.value}", "assessment", row.id,
                     approvals.assessment_content(conn, row, new.value) | ({"comment": comment} if comment else {}))
    session.audit(conn, f"assessment.{action.value}", "assessment", row.id,
                  {"from": row.state.value, "to": new.value, "submission": row.submission_id,
                   "history": {"rows": rows, "sha256": digest}}
                  | ({"comment": comment} if comment else {}))
    return tid


def verify_history(session: Session, assessment_id: int) -> list[str]:
    """Problems found when re-checking the answer history against every digest sealed in the audit
    chain (empty: intact)."""
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    problems = []
    for event in audit_log.list_events(conn, 10_000, 0, object_type="assessment", object_id=str(assessment_id)):
        sealed = event.details.get("history") if isinstance(event.details, dict) else None
        if not isinstance(sealed, dict):
            continue
        rows, digest = repo.history_digest(conn, assessment_id, int(sealed["rows"]))
        if rows != int(sealed["rows"]) or digest != sealed["sha256"]:
            problems.append(f"answer history of assessment {assessment_id} no longer matches what was sealed at "
                            f"{event.action} (audit event {event.seq}, {event.ts[:19]}): it was changed afterwards")
    return problems


def submit(session: Session, assessment_id: int, comment: str = "") -> AssessmentView:
    session.require(Permission.ASSESS)
    workflow.require(session, repo.get_assessment(session.db.conn, assessment_id).submission_id, Act.SUBMIT)
    with session.transaction() as conn:
        row = editable(session, conn, assessment_id)
        problems = cl.submission_problems(template_of(conn, row), repo.answers(conn, assessment_id),
                                          session.today())
        if problems:
            raise ValidationError("assessment", "cannot be submitted yet: " + "; ".join(problems))
        _move(session, conn, row, Action.SUBMIT, comment.strip(), submitted_by=session.account.username,
              submitted_at=session.now(), approved_by=None, approved_at=None)
        return view_of(conn, repo.get_assessment(conn, assessment_id))


def approve(session: Session, assessment_id: int, comment: str = "") -> AssessmentView:
    """A lead other than the submitter approves and locks the assessment. Which conditions hold
    (submitted, two persons, checklist complete, risk acceptances and coverage determination
    approved) is decided by app.model.workflow, the same rule the UI shows."""
    session.require(Permission.APPROVE)
    row = repo.get_assessment(session.db.conn, assessment_id)
    workflow.require(session, row.submission_id, Act.APPROVE)
    with session.transaction() as conn:
        row = repo.get_assessment(conn, assessment_id)
        det = repo.current_determination(conn, row.submission_id)
        problems = []
        if det is not None:
            why = approvals.determination_problem(session, conn, det)
            if why:
                problems.append(f"the coverage determination's approval does not hold: {why}")
        problems.extend(approvals.risk_problems(session, conn, assessment_id))
        if problems:
            # The rows say approved; the signatures do not (written around the application).
            raise ValidationError("assessment", "cannot be approved: " + "; ".join(problems))
        _move(session, conn, row, Action.APPROVE, comment.strip(), approved_by=session.account.username,
              approved_at=session.now())
        return view_of(conn, repo.get_assessment(conn, assessment_id))


def return_for_changes(session: Session, assessment_id: int, comment: str,
                       item_comments: Mapping[str, str] | None = None) -> AssessmentView:
    """A lead sends a submitted assessment back with an overall comment and comments on items."""
    session.require(Permission.APPROVE)
    item_comments = {k: v.strip() for k, v in (item_comments or {}).items() if v.strip()}
    if not comment.strip() and not item_comments:
        raise ValidationError("comment", "say what must change: an overall comment or comments on items")
    if any(len(c) > MAX_COMMENT for c in [comment, *item_comments.values()]):
        raise ValidationError("comment", f"must be at most {MAX_COMMENT:,} characters")
    workflow.require(session, repo.get_assessment(session.db.conn, assessment_id).submission_id, Act.RETURN)
    with session.transaction() as conn:
        row = repo.get_assessment(conn, assessment_id)
        template = template_of(conn, row)
        for item_id in item_comments:
            template.item(item_id)
        tid = _move(session, conn, row, Action.RETURN, comment.strip())
        if comment.strip():
            repo.add_comment(conn, assessment_id, tid, None, comment.strip(), session.account.username, session.now())
        for item_id, text in item_comments.items():
            repo.add_comment(conn, assessment_id, tid, item_id, text, session.account.username, session.now())
        return view_of(conn, repo.get_assessment(conn, assessment_id))


def reopen(session: Session, assessment_id: int, reason: str) -> AssessmentView:
    """Unlock an approved assessment: an explicit, audited decision by a lead, with a reason."""
    session.require(Permission.APPROVE)
    if not reason.strip():
        raise ValidationError("reason", "reopening an approved assessment needs a reason")
    with session.transaction() as conn:
        row = repo.get_assessment(conn, assessment_id)
        _move(session, conn, row, Action.REOPEN, reason.strip(), approved_by=None, approved_at=None,
              submitted_by=None, submitted_at=None)
        return view_of(conn, repo.get_assessment(conn, assessment_id))


def approval_summary(session: Session, assessment_id: int) -> ApprovalSummary:
    """What the lead approves: counts by status, overrides of suggestions with their reasons, risk
    acceptances, findings by severity, the determination, items approved one by one."""
    view = get(session, assessment_id)
    sugs = suggestions(session, assessment_id)
    overrides = []
    departed = departures(view, sugs)
    for item_id in view.template.item_ids:
        if item_id in departed:
            a = view.answer(item_id)
            decisions = [d for d in repo.suggestion_decisions(session.db.conn, assessment_id, item_id)
                         if d["decision"] == "overridden"]
            reason = decisions[-1]["reason"] if decisions else a.justification
            overrides.append(Override(item_id, Status(sugs[item_id].status), a.status, reason.strip()))
    risks = tuple(RiskAcceptance(a.item_id, a.risk_expiry.isoformat() if a.risk_expiry else "none",
                                 a.risk_approved_by or "")
                  for a in (view.answer(i) for i in view.template.item_ids) if a.status is Status.RISK_ACCEPTED)
    finds = findings.list_findings(session, view.submission_id)
    sev = {s.value: sum(1 for f in finds if f.severity is s) for s in Severity}
    det = coverage.current_determination(session, view.submission_id)
    det_text = ("not recorded" if det is None else
                f"{det.outcome}, recorded by {det.recorded_by}, "
                + (f"approved by {det.approved_by}" if det.approved_by else "NOT YET APPROVED"))
    approvals = _current_item_approvals(view, workflow_repo.item_approvals(session.db.conn, assessment_id))
    marking = rollup([view.marking, *(f.marking for f in finds), *([det.marking] if det else [])])
    return ApprovalSummary(len(view.template.item_ids),
                           count_statuses([view.answer(i).status for i in view.template.item_ids]),
                           tuple(overrides), risks, sev, det_text, len(approvals), marking.banner(),
                           _narrative_text(session, view.submission_id))


def _narrative_text(session: Session, submission_id: int) -> str:
    stored = narrative_repo.get(session.db.conn, submission_id)
    n = stored.narrative if stored else None
    if n is None or n.empty:
        return ("EMPTY: the report will open with no bottom line, key judgments or recommendations, and the "
                "narrative locks with this approval")
    parts = [p for p, there in (("bottom line", bool(n.bottom_line.strip())),
                                (f"{len(n.judgments)} key judgment(s)", bool(n.judgments)),
                                ("recommendations", bool(n.recommendations.strip()))) if there]
    missing = [p for p, there in (("no bottom line", not n.bottom_line.strip()),
                                  ("no key judgments", not n.judgments),
                                  ("no recommendations", not n.recommendations.strip())) if there]
    return ", ".join(parts) + (f" ({', '.join(missing)})" if missing else "")


def _current_item_approvals(view: AssessmentView, stored: Mapping[str, ItemApproval]) -> dict[str, tuple[str, str]]:
    """item -> (approved by, at), only where the answer is still the version that was approved."""
    return {i: (a.approved_by, a.approved_at) for i, a in stored.items()
            if i in view.template and answer_digest(view.answer(i)) == a.answer_digest}


def answer_digest(a: Answer) -> str:
    """What an item approval is pinned to: any change of the answer's content voids the approval."""
    content = [a.item_id, a.status.value, a.justification, a.marking.banner(),
               a.risk_expiry.isoformat() if a.risk_expiry else "", a.updated_by]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


def item_approvals(session: Session, assessment_id: int) -> dict[str, tuple[str, str]]:
    view = get(session, assessment_id)
    return _current_item_approvals(view, workflow_repo.item_approvals(session.db.conn, assessment_id))


def approve_item(session: Session, assessment_id: int, item_id: str) -> None:
    """A lead approves one answer of a submitted assessment (item by item); never its author. A
    later change of the answer voids the approval. Recorded and audited."""
    session.require(Permission.APPROVE)
    conn = session.db.conn
    row = repo.get_assessment(conn, assessment_id)
    workflow.require(session, row.submission_id, Act.RETURN)  # the same gate as a decision on the whole
    template_of(conn, row).item(item_id)
    a = repo.get_answer(conn, assessment_id, item_id)
    if a is None or not a.complete:
        raise ValidationError("item", f"{item_id} is not answered; only a complete answer is approved")
    if a.updated_by == session.account.username:
        raise PermissionDenied(f"You wrote the answer of {item_id}; another lead must approve it (two-person rule).")
    with session.transaction() as conn:
        digest = answer_digest(a)
        workflow_repo.approve_item(conn, assessment_id, item_id, digest, session.account.username, session.now())
        session.audit(conn, "assessment.approve_item", "assessment", assessment_id,
                      {"item": item_id, "status": a.status.value, "answer_sha256": digest})
