"""The two-person rule as signatures: workflow decisions are signed, and a gate believes only them.

Each workflow step (assessment submit/approve/return/reopen, coverage record/approve, risk
acceptance approval, report signature and countersignature) is recorded as a signed decision
over what it covers (the answer-history and findings digests, the determination's inputs and outcome, the PDF's
SHA-256). The gates below are what the other services consult: an `approved_by` column that
somebody wrote without the approver's passphrase does not pass them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from app.model.accounts import Role
from app.model.assessment_record import AssessmentRow
from app.model.determination import Determination
from app.services import decisions, submission_signatures
from app.services.session import Session
from storage import assessment_repo as repo
from storage import decisions_repo
from storage.db import Connection

ASSESSMENT_KINDS = ("assessment.submit", "assessment.approve", "assessment.return", "assessment.reopen")


def record(session: Session, conn: Connection, kind: str, object_type: str, object_id: object,
           content: dict[str, Any]) -> None:
    decisions.record(conn, session.personal, kind, object_type, object_id, session.account.username, session.now(),
                     session.db_id, content)


def assessment_content(conn: Connection, row: AssessmentRow, to_state: str) -> dict[str, Any]:
    rows, digest = repo.history_digest(conn, row.id)
    return {"assessment": row.id, "submission": row.submission_id, "to": to_state,
            "history_rows": rows, "history_sha256": digest,
            "findings_sha256": repo.findings_digest(conn, row.submission_id)}


def _registry(session: Session, conn: Connection) -> decisions.Registry:
    return decisions.Registry.load(conn, session.db_id)


def assessment_approval_problem(session: Session, conn: Connection, assessment_id: int) -> str | None:
    """Why the assessment does not count as approved by two persons (None: it does)."""
    row = repo.get_assessment(conn, assessment_id)
    reg = _registry(session, conn)
    rows = [d for d in decisions_repo.for_object(conn, "assessment", str(assessment_id), ASSESSMENT_KINDS)]
    if not rows or rows[-1].kind != "assessment.approve":
        return "no signed approval by a lead is on record for its current state"
    approval = rows[-1]
    why = decisions.problem(reg, approval)
    if why:
        return f"the approval by {approval.actor} does not hold: {why}"
    if row.approved_by != approval.actor:
        return f"the approval on record names {row.approved_by}, but the signed approval is by {approval.actor}"
    if decisions.actor_role(conn, reg, approval.actor) is not Role.LEAD:
        return f"{approval.actor}, who signed the approval, is not a lead reviewer by any administrator's signature"
    submits = [d for d in rows[:-1] if d.kind == "assessment.submit"]
    if not submits:
        return "no signed submission precedes the approval"
    submit = submits[-1]
    why = decisions.problem(reg, submit)
    if why:
        return f"the submission by {submit.actor} does not hold: {why}"
    if submit.actor == approval.actor:
        return f"{approval.actor} both submitted and approved it (two-person rule)"
    content = decisions.content_of(approval)
    rows_now, digest_now = repo.history_digest(conn, assessment_id, int(content.get("history_rows", 0)))
    if digest_now != content.get("history_sha256") or rows_now != content.get("history_rows"):
        return "the answers were changed after the lead signed the approval"
    total, _ = repo.history_digest(conn, assessment_id)
    if total != rows_now:
        return "answers were added after the lead signed the approval"
    # Findings are locked with the approval (app/services/findings.py); approvals signed before the
    # digest was part of the content (December 2026) do not name it.
    if "findings_sha256" in content and content["findings_sha256"] != repo.findings_digest(conn, row.submission_id):
        return "the findings were changed after the lead signed the approval"
    # what the report and a release say of the model (its marking, dates) must be what someone signed
    held = submission_signatures.standing_in(session, conn, row.submission_id)
    if not held.holds:
        return f"the submission it is about does not hold its signature ({held.problem})"
    return None


def determination_content(det: Determination) -> dict[str, Any]:
    return {"determination": det.id, "submission": det.submission_id, "outcome": det.outcome,
            "ruleset": f"{det.ruleset_id} v{det.ruleset_version}", "ruleset_sha256": det.ruleset_sha256,
            "inputs_fingerprint": det.inputs_fingerprint,
            "rationale_sha256": hashlib.sha256(det.rationale.encode()).hexdigest(), "marking": str(det.marking)}


def determination_problem(session: Session, conn: Connection, det: Determination) -> str | None:
    """Why the determination does not count as recorded by one person and approved by another lead."""
    reg = _registry(session, conn)
    recorded, why = decisions.latest(conn, reg, "determination", det.id, ("coverage.record",))
    if recorded is None or why:
        return f"its recording is not signed ({why or 'no signed record'})"
    approved, why = decisions.latest(conn, reg, "determination", det.id, ("coverage.approve",))
    if approved is None:
        return "no lead has signed its approval"
    if why:
        return f"the approval by {approved.actor} does not hold: {why}"
    expected = determination_content(det)
    for d in (recorded, approved):
        if decisions.content_of(d) != expected:
            return f"it was changed after {d.actor} signed it"
    if approved.actor == recorded.actor:
        return "the same person recorded and approved it (two-person rule)"
    if decisions.actor_role(conn, reg, approved.actor) is not Role.LEAD:
        return f"{approved.actor}, who signed the approval, is not a lead reviewer by any administrator's signature"
    if det.approved_by != approved.actor:
        return f"the approval on record names {det.approved_by}, but the signed approval is by {approved.actor}"
    return None


def risk_content(assessment_id: int, answer: Any) -> dict[str, Any]:
    return {"assessment": assessment_id, "item": answer.item_id, "expiry": str(answer.risk_expiry or ""),
            "justification_sha256": hashlib.sha256((answer.justification or "").encode()).hexdigest()}


def risk_problems(session: Session, conn: Connection, assessment_id: int) -> list[str]:
    """Risk acceptances whose lead approval is not a valid signature by a lead other than the writer."""
    from app.model.checklist import Status

    reg = _registry(session, conn)
    problems = []
    for answer in repo.answers(conn, assessment_id).values():
        if answer.status is not Status.RISK_ACCEPTED or not answer.risk_approved_by:
            continue
        d, why = decisions.latest(conn, reg, "answer", f"{assessment_id}:{answer.item_id}", ("risk.approve",))
        if d is None or why:
            problems.append(f"the risk acceptance of {answer.item_id} has no valid lead signature ({why or 'none'})")
        elif decisions.content_of(d) != risk_content(assessment_id, answer) or d.actor != answer.risk_approved_by:
            problems.append(f"the risk acceptance of {answer.item_id} changed after {d.actor} signed its approval")
        elif decisions.actor_role(conn, reg, d.actor) is not Role.LEAD:
            problems.append(f"the risk acceptance of {answer.item_id} was approved by {d.actor}, not a lead")
    return problems
