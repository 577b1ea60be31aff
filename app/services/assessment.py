"""Assessment answers and state: start the one assessment of a submission, answer items
(autosave), a lead's approval of a risk acceptance, the answer history, transitions and comments,
and moving an assessment to a newer template version (answers carry over).

The rest of an assessment lives beside it, each module doing one thing:
assessment_templates (built-in and imported templates), assessment_evidence (evidence on items),
assessment_suggestions (suggestions from results), assessment_review (submit, approve, return,
reopen, item approvals, the approval summary) and assessment_export (the JSON export).

Who may do what is decided here (the UI only reflects it):
- reviewers and leads answer (Permission.ASSESS) while the assessment is draft or returned;
- a risk acceptance is approved by a lead other than the person who last wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from app.model import checklist as cl
from app.model.accounts import Permission
from app.model.approval import departs_from
from app.model.assessment_record import AssessmentRow, Comment, HistoryEntry, Transition
from app.model.checklist import Action, Answer, State, Status, Template
from app.model.coverage import Suggestion, suggest
from app.model.errors import PermissionDenied, ValidationError
from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.services import approvals, derivation, submission_signatures
from app.services.assessment_templates import ensure_builtin_template, parse_stored
from app.services.session import Session
from storage import assessment_repo as repo
from storage import submissions_repo
from storage.db import Connection

_UNSET: Any = object()


# -- views -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentView:
    """Everything a screen or the CLI shows about one assessment."""

    id: int
    submission_id: int
    state: State
    template: Template
    template_pk: int
    answers: dict[str, Answer]
    evidence_counts: dict[str, int]
    created_by: str
    submitted_by: str | None
    submitted_at: str | None
    approved_by: str | None
    approved_at: str | None
    newer_template: tuple[int, int] | None  # (template pk, version) of a newer version of the same template
    submission_marking: Marking = UNCLASSIFIED  # where a new answer or evidence starts

    def answer(self, item_id: str) -> Answer:
        """The stored answer, or the blank one (which starts at the submission's marking)."""
        return self.answers.get(item_id) or Answer(item_id, marking=self.submission_marking)

    @property
    def sections(self) -> dict[str, cl.Progress]:
        return cl.section_progress(self.template, self.answers)

    @property
    def progress(self) -> cl.Progress:
        return cl.overall_progress(self.template, self.answers)

    @property
    def marking(self) -> Marking:
        return rollup(a.marking for a in self.answers.values())

    @property
    def locked(self) -> bool:
        return not self.state.editable


def view_of(conn: Connection, row: AssessmentRow) -> AssessmentView:
    doc = repo.get_template(conn, row.template_pk)
    template = parse_stored(doc)
    latest = repo.latest_template(conn, doc.doc_id)
    newer = (latest.pk, latest.version) if latest is not None and latest.version > doc.version else None
    return AssessmentView(row.id, row.submission_id, row.state, template, row.template_pk, repo.answers(conn, row.id),
                          repo.evidence_counts(conn, row.id), row.created_by, row.submitted_by, row.submitted_at,
                          row.approved_by, row.approved_at, newer,
                          submissions_repo.get(conn, row.submission_id).marking)


def get(session: Session, assessment_id: int) -> AssessmentView:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    return view_of(conn, repo.get_assessment(conn, assessment_id))


def for_submission(session: Session, submission_id: int) -> AssessmentView | None:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    row = repo.assessment_for_submission(conn, submission_id)
    return view_of(conn, row) if row else None


def list_all(session: Session) -> list[AssessmentRow]:
    session.require(Permission.VIEW_CONTENT)
    return repo.list_assessments(session.db.conn)


def start(session: Session, submission_id: int, template_pk: int | None = None) -> AssessmentView:
    """Begin the one assessment of a submission, pinned to a template version (default: the latest
    version of the built-in template on this workstation)."""
    session.require(Permission.ASSESS)
    with session.transaction() as conn:
        submissions_repo.get(conn, submission_id)
        if repo.assessment_for_submission(conn, submission_id) is not None:
            raise ValidationError("assessment", f"submission {submission_id} already has an assessment "
                                  "(one per submission)")
        builtin = ensure_builtin_template(conn, session.now(), session.account.username)
        if template_pk is None:
            latest = repo.latest_template(conn, builtin.doc_id)
            doc = latest or builtin
        else:
            doc = repo.get_template(conn, template_pk)
        aid = repo.insert_assessment(conn, submission_id, doc.pk, session.account.username, session.now())
        session.audit(conn, "assessment.start", "assessment", aid,
                      {"submission": submission_id, "template": doc.doc_id, "version": doc.version,
                       "sha256": doc.sha256})
        return view_of(conn, repo.get_assessment(conn, aid))


# -- editing -----------------------------------------------------------------------------------


def editable(session: Session, conn: Connection, assessment_id: int) -> AssessmentRow:
    """The assessment row, after checking it may change; a returned one goes back to draft (recorded)."""
    row = repo.get_assessment(conn, assessment_id)
    why = cl.edit_refusal(row.state)
    if why:
        raise PermissionDenied(f"Assessment {assessment_id} cannot be edited: {why}.")
    if row.state is State.RETURNED:
        new = cl.transition(row.state, Action.RESUME)
        repo.set_state(conn, assessment_id, new, session.now())
        repo.add_transition(conn, assessment_id, Action.RESUME.value, row.state, new, session.account.username,
                            session.now())
        session.audit(conn, "assessment.resume", "assessment", assessment_id, {})
        row = repo.get_assessment(conn, assessment_id)
    return row


def template_of(conn: Connection, row: AssessmentRow) -> Template:
    """The parsed template the assessment is pinned to."""
    return parse_stored(repo.get_template(conn, row.template_pk))


def editable_item(session: Session, conn: Connection, assessment_id: int, item_id: str) -> AssessmentRow:
    """`editable`, and `item_id` must be an item of the assessment's template."""
    row = editable(session, conn, assessment_id)
    template_of(conn, row).item(item_id)
    return row


def _diff(old: Answer, new: Answer) -> dict[str, list[str]]:
    out = {}
    for name in ("status", "justification", "marking", "risk_expiry", "risk_approved_by"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out[name] = ["" if a is None else str(a), "" if b is None else str(b)]
    return out


def store_answer(session: Session, conn: Connection, assessment_id: int, old: Answer, new: Answer, reason: str,
           action: str | None = None) -> Answer:
    """Write the answer and its history row. Plain answer saves (autosave) are not audited one by one:
    the append-only history holds every change, and its digest is sealed into the audit chain at each
    workflow transition (_move). Decisions by a second person (`action` given) are audited at once."""
    changes = _diff(old, new)
    if not changes:
        return old
    new = replace(new, updated_by=session.account.username, updated_at=session.now())
    repo.put_answer(conn, assessment_id, new)
    repo.add_history(conn, assessment_id, new, changes, reason, session.account.username, session.now())
    repo.touch(conn, assessment_id, session.now())
    if action is None:
        return new
    # The justification text itself stays in the (encrypted) answer history, not in the audit details.
    details: dict[str, Any] = {"item": new.item_id, "fields": sorted(changes)}
    if "status" in changes:
        details["status"] = changes["status"]
    if reason:
        details["reason"] = reason
    session.audit(conn, action, "assessment", assessment_id, details)
    return new


def answer(session: Session, assessment_id: int, item_id: str, *, status: Status | None = None,
           justification: str | None = None, marking: Marking | None = None,
           risk_expiry: Any = _UNSET, reason: str = "", lower_reason: str = "") -> Answer:
    """Save one answer (autosave-friendly: one short transaction, no-op when nothing changed).

    A first answer starts at the submission's marking; a marking below the answer's floor (the
    submission's for a new answer, its own otherwise) needs `lower_reason` and is audited.

    A final status whose justification or expiry is still missing is saved, but does not count as
    answered until completed; submit names such items.
    """
    session.require(Permission.ASSESS)
    with session.transaction() as conn:
        row = editable(session, conn, assessment_id)
        return answer_in(session, conn, row, item_id, status=status, justification=justification, marking=marking,
                         risk_expiry=risk_expiry, reason=reason, lower_reason=lower_reason)


def answer_in(session: Session, conn: Connection, row: AssessmentRow, item_id: str, *,
              status: Status | None = None, justification: str | None = None, marking: Marking | None = None,
              risk_expiry: Any = _UNSET, reason: str = "", lower_reason: str = "") -> Answer:
    """`answer` inside a transaction the caller holds on an editable assessment (batch imports)."""
    assessment_id = row.id
    template = template_of(conn, row)
    template.item(item_id)
    stored = repo.get_answer(conn, assessment_id, item_id)
    floor = stored.marking if stored else submission_signatures.marking_floor(session, conn, row.submission_id)
    old = stored or Answer(item_id, marking=floor)  # a blank answer is at the submission's marking
    new = replace(old, marking=derivation.settle(session, conn, marking, floor, lower_reason,
                                                 f"the answer to {item_id}", "assessment", assessment_id))
    if status is not None:
        new = replace(new, status=status)
    if justification is not None:
        new = replace(new, justification=justification)
    if risk_expiry is not _UNSET:
        new = replace(new, risk_expiry=risk_expiry)
    if new.status is not Status.RISK_ACCEPTED:
        new = replace(new, risk_expiry=None)
    if len(new.justification) > cl.MAX_JUSTIFICATION:
        raise ValidationError("justification", f"must be at most {cl.MAX_JUSTIFICATION:,} characters")
    # A new expiry must lie ahead; an older one that has since passed does not block other edits
    # (submit and approval name it).
    if risk_expiry is not _UNSET and new.risk_expiry is not None and new.risk_expiry <= session.today():
        raise ValidationError("risk expiry", f"must be after today ({session.today().isoformat()})")
    if old.content_differs(new):
        # Any change to what was accepted voids an earlier risk approval.
        new = replace(new, risk_approved_by=None, risk_approved_at=None)
    if status is not None and status is not old.status:
        override = _override_check(session, conn, row, item_id, new)
        if override is not None:
            sug, ruleset_sha = override
            repo.add_suggestion_decision(conn, assessment_id, item_id, "overridden", sug.status, ruleset_sha,
                                         list(sug.rule_ids), list(sug.run_ids), sug.text,
                                         new.justification.strip()[:2000], session.account.username,
                                         session.now())
            return store_answer(session, conn, assessment_id, old, new, reason or "suggestion overridden",
                          "assessment.suggestion_overridden")
    return store_answer(session, conn, assessment_id, old, new, reason)


def _override_check(session: Session, conn: Connection, row: AssessmentRow, item_id: str,
                    new: Answer) -> tuple[Suggestion, str] | None:
    """(suggestion, rule-set hash) when `new` departs from the rule set's suggestion; refuses such
    a departure without a justification (issue 14: no override with one key and no reason)."""
    from app.services import coverage, rulesets

    item = template_of(conn, row).item(item_id)
    if not item.prefill:
        return None
    ruleset = rulesets.active_ruleset(session)
    sug = suggest(item_id, item.prefill, ruleset, coverage.inputs(session, row.submission_id))
    if sug is None or not departs_from(sug.status, new.status):
        return None
    if not new.justification.strip():
        raise ValidationError("justification", f"the active rule set suggests '{Status(sug.status).label}' for "
                              f"{item_id}; answering '{new.status.label}' overrides it and needs a justification "
                              "saying why")
    return sug, ruleset.sha256


def approve_risk(session: Session, assessment_id: int, item_id: str) -> Answer:
    """A lead approves a 'Risk accepted' answer written by someone else."""
    session.require(Permission.APPROVE)
    with session.transaction() as conn:
        row = repo.get_assessment(conn, assessment_id)
        if row.state is State.APPROVED:
            raise PermissionDenied(f"Assessment {assessment_id} is approved and locked.")
        a = repo.get_answer(conn, assessment_id, item_id)
        if a is None or a.status is not Status.RISK_ACCEPTED:
            raise ValidationError("status", f"item {item_id} is not answered 'Risk accepted'")
        cl.validate_answer(a, session.today())
        if a.updated_by == session.account.username:
            raise PermissionDenied(f"You wrote the risk acceptance of item {item_id}; another lead must approve it "
                                   "(two-person rule).")
        new = replace(a, risk_approved_by=session.account.username, risk_approved_at=session.now())
        approvals.record(session, conn, "risk.approve", "answer", f"{assessment_id}:{item_id}",
                         approvals.risk_content(assessment_id, new))
        return store_answer(session, conn, assessment_id, a, new, "risk acceptance approved", "assessment.approve_risk")


def migrate_template(session: Session, assessment_id: int, template_pk: int | None = None
                     ) -> list[cl.TemplateChange]:
    """Move an assessment to a newer version of its template; answers carry over where item ids match."""
    session.require(Permission.ASSESS)
    with session.transaction() as conn:
        row = editable(session, conn, assessment_id)
        old_doc = repo.get_template(conn, row.template_pk)
        new_doc = repo.get_template(conn, template_pk) if template_pk else repo.latest_template(conn, old_doc.doc_id)
        if new_doc is None or new_doc.pk == old_doc.pk:
            raise ValidationError("template", f"no newer version of {old_doc.doc_id} v{old_doc.version} is installed")
        old_t, new_t = parse_stored(old_doc), parse_stored(new_doc)
        answers = repo.answers(conn, assessment_id)
        carried, changes = cl.carry_forward(old_t, new_t, answers)
        reason = f"template {old_t.label} -> {new_t.label}"
        for item_id, before in answers.items():
            after = carried.get(item_id)
            if after is None:
                repo.delete_answer(conn, assessment_id, item_id)
                repo.add_history(conn, assessment_id, before, {"template": [old_t.label, "item removed"]}, reason,
                                 session.account.username, session.now())
            elif after != before:
                repo.put_answer(conn, assessment_id, after)
                diff = _diff(before, after) | {"template": [old_t.label, new_t.label]}
                repo.add_history(conn, assessment_id, after, diff, reason + " (item reworded: re-check)",
                                 session.account.username, session.now())
        repo.set_template(conn, assessment_id, new_doc.pk, session.now())
        rows, digest = repo.history_digest(conn, assessment_id)
        session.audit(conn, "assessment.template_migrate", "assessment", assessment_id,
                      {"from": old_t.label, "to": new_t.label, "changes": [str(c) for c in changes],
                       "history": {"rows": rows, "sha256": digest}})
        return changes


# -- reading the record ------------------------------------------------------------------------


def history(session: Session, assessment_id: int, item_id: str | None = None) -> list[HistoryEntry]:
    session.require(Permission.VIEW_CONTENT)
    return repo.history(session.db.conn, assessment_id, item_id)


def transitions(session: Session, assessment_id: int) -> list[Transition]:
    session.require(Permission.VIEW_CONTENT)
    return repo.transitions(session.db.conn, assessment_id)


def comments(session: Session, assessment_id: int) -> list[Comment]:
    session.require(Permission.VIEW_CONTENT)
    return repo.comments(session.db.conn, assessment_id)


def item_comments(session: Session, assessment_id: int, item_id: str) -> list[Comment]:
    return [c for c in comments(session, assessment_id) if c.item_id == item_id]


def first_open_item(view: AssessmentView) -> str:
    for item in view.template.items():
        if not view.answer(item.id).complete:
            return item.id
    return view.template.item_ids[0]


def ids_in_order(view: AssessmentView) -> Sequence[str]:
    return view.template.item_ids
