"""Suggestions from results: what the active rule set suggests for a prefill-bound checklist item
from the submission's imported results, accepting or overriding it (recorded with the rule set's
hash, the rules and runs it rests on), and which answers depart from their suggestion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from app.model.accounts import Permission
from app.model.approval import departs_from
from app.model.checklist import Answer, Status
from app.model.coverage import Suggestion, suggest
from app.model.errors import ValidationError
from app.model.markings import Marking, rollup
from app.services import coverage, rulesets, submission_signatures
from app.services.assessment import AssessmentView, editable_item, store_answer, template_of
from app.services.session import Session
from storage import assessment_repo as repo


def suggestion(session: Session, assessment_id: int, item_id: str) -> Suggestion | None:
    """What the active rule set suggests for a prefill-bound item, from this submission's results."""
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    row = repo.get_assessment(conn, assessment_id)
    item = template_of(conn, row).item(item_id)
    if not item.prefill:
        return None
    ruleset = rulesets.active_ruleset(session)
    return suggest(item_id, item.prefill, ruleset, coverage.inputs(session, row.submission_id))


def decide_suggestion(session: Session, assessment_id: int, item_id: str, accept: bool,
                      status: Status | None = None, reason: str = "") -> Answer:
    """Accept the suggestion (status and its explanation become the answer) or override it with a reason."""
    session.require(Permission.ASSESS)
    sug = suggestion(session, assessment_id, item_id)
    if sug is None or not sug.status:
        raise ValidationError("suggestion", f"item {item_id} has no suggested status from the active rule set "
                              "(results for a bound rule are missing); answer it by hand")
    ruleset = rulesets.active_ruleset(session)
    if accept:
        new_status, reason = Status(sug.status), reason.strip()
    else:
        if not reason.strip():
            raise ValidationError("reason", "overriding a suggestion needs a reason")
        if status is None:
            raise ValidationError("status", "choose the status that replaces the suggestion")
        new_status, reason = status, reason.strip()
    with session.transaction() as conn:
        row = editable_item(session, conn, assessment_id, item_id)
        old = repo.get_answer(conn, assessment_id, item_id) or Answer(item_id)
        sub_marking = submission_signatures.marking_floor(session, conn, row.submission_id)
        text = sug.text if accept else f"Suggestion overridden: {reason}\n\n{sug.text}"
        justification = old.justification.strip()
        justification = f"{justification}\n\n{text}" if justification else text
        # The suggestion quotes the rule set's thresholds and the submission's results: the answer is
        # marked at least as high as both.
        marking = rollup([old.marking, sub_marking, Marking.parse(sug.marking)])
        new = replace(old, status=new_status, justification=justification, marking=marking,
                      risk_approved_by=None, risk_approved_at=None)
        if new.status is not Status.RISK_ACCEPTED:
            new = replace(new, risk_expiry=None)
        decision = "accepted" if accept else "overridden"
        repo.add_suggestion_decision(conn, assessment_id, item_id, decision, sug.status, ruleset.sha256,
                                     list(sug.rule_ids), list(sug.run_ids), sug.text, reason,
                                     session.account.username, session.now())
        return store_answer(session, conn, assessment_id, old, new, f"suggestion {decision}" + (f": {reason}" if reason
                                                                                            else ""),
                      f"assessment.suggestion_{decision}")


def suggestions(session: Session, assessment_id: int) -> dict[str, Suggestion]:
    """Every prefill-bound item's suggestion, the inputs read once (the checklist tree marks departures)."""
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    row = repo.get_assessment(conn, assessment_id)
    bound = [i for i in template_of(conn, row).items() if i.prefill]
    if not bound:
        return {}
    ruleset = rulesets.active_ruleset(session)
    ins = coverage.inputs(session, row.submission_id)
    out = {}
    for item in bound:
        sug = suggest(item.id, item.prefill or "", ruleset, ins)
        if sug is not None:
            out[item.id] = sug
    return out


def departures(view: AssessmentView, sugs: Mapping[str, Suggestion]) -> set[str]:
    """Items whose answer departs from their suggestion."""
    return {i for i, s in sugs.items() if departs_from(s.status, view.answer(i).status)}


def suggestion_decisions(session: Session, assessment_id: int, item_id: str) -> list[dict[str, Any]]:
    session.require(Permission.VIEW_CONTENT)
    return repo.suggestion_decisions(session.db.conn, assessment_id, item_id)
