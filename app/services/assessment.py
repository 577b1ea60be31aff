"""Assessment use cases: start, answer (autosave), evidence, suggestions, submit, approve/return,
reopen, risk approval, template import and migration, export.

Who may do what is decided here (the UI only reflects it):
- reviewers and leads answer (Permission.ASSESS) while the assessment is draft or returned;
- a lead (Permission.APPROVE) who is NOT the account that submitted approves or returns it;
- approved assessments are locked; reopening is a recorded transition with a reason;
- a risk acceptance is approved by a lead other than the person who last wrote it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from app.ingest import checklist_template
from app.model import checklist as cl
from app.model.accounts import Permission
from app.model.approval import ApprovalSummary
from app.model.checklist import Action, Answer, State, Status, Template
from app.model.coverage import Suggestion
from app.model.errors import IngestError, NotFound, PermissionDenied, ValidationError
from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.workflow import Act
from app.services import approvals, derivation
from app.services.session import Session
from app.services.signed_import import read_signed
from storage import assessment_repo as repo
from storage import blobs, results_repo, submissions_repo
from storage.atomic import atomic_write
from storage.db import Connection

BUILTIN_TEMPLATE = "default_checklist.json"
MAX_COMMENT = 20_000
_UNSET: Any = object()

# Parsed templates by SHA-256 of their bytes: content-addressed, so sharing across sessions is safe.
_TEMPLATE_CACHE: dict[str, Template] = {}


def builtin_template_bytes() -> bytes:
    return resources.files("app.templates").joinpath(BUILTIN_TEMPLATE).read_bytes()


def _parse_stored(doc: repo.StoredDocument) -> Template:
    cached = _TEMPLATE_CACHE.get(doc.sha256)
    if cached is None:
        cached = checklist_template.parse(doc.content, f"template {doc.doc_id} v{doc.version}")
        _TEMPLATE_CACHE[doc.sha256] = cached
    return cached


def stored_template(conn: Connection, template_pk: int) -> Template:
    """The parsed template stored under `template_pk` (cached by content hash)."""
    return _parse_stored(repo.get_template(conn, template_pk))


def ensure_builtin_template(conn: Connection, now: str, actor: str) -> repo.StoredDocument:
    data = builtin_template_bytes()
    t = checklist_template.parse(data, BUILTIN_TEMPLATE)
    stored = repo.find_template(conn, t.template_id, t.version)
    if stored is None:
        pk = repo.insert_template(conn, t.template_id, t.version, t.title, t.sha256, data, "builtin", "", actor, now)
        stored = repo.get_template(conn, pk)
    return stored


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


def _view(conn: Connection, row: repo.AssessmentRow) -> AssessmentView:
    doc = repo.get_template(conn, row.template_pk)
    template = _parse_stored(doc)
    latest = repo.latest_template(conn, doc.doc_id)
    newer = (latest.pk, latest.version) if latest is not None and latest.version > doc.version else None
    return AssessmentView(row.id, row.submission_id, row.state, template, row.template_pk, repo.answers(conn, row.id),
                          repo.evidence_counts(conn, row.id), row.created_by, row.submitted_by, row.submitted_at,
                          row.approved_by, row.approved_at, newer,
                          submissions_repo.get(conn, row.submission_id).marking)


def get(session: Session, assessment_id: int) -> AssessmentView:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    return _view(conn, repo.get_assessment(conn, assessment_id))


def for_submission(session: Session, submission_id: int) -> AssessmentView | None:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    row = repo.assessment_for_submission(conn, submission_id)
    return _view(conn, row) if row else None


def list_all(session: Session) -> list[repo.AssessmentRow]:
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
        return _view(conn, repo.get_assessment(conn, aid))


# -- editing -----------------------------------------------------------------------------------


def _editable(session: Session, conn: Connection, assessment_id: int) -> repo.AssessmentRow:
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


def _template_of(conn: Connection, row: repo.AssessmentRow) -> Template:
    return _parse_stored(repo.get_template(conn, row.template_pk))


def _diff(old: Answer, new: Answer) -> dict[str, list[str]]:
    out = {}
    for name in ("status", "justification", "marking", "risk_expiry", "risk_approved_by"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out[name] = ["" if a is None else str(a), "" if b is None else str(b)]
    return out


def _store(session: Session, conn: Connection, assessment_id: int, old: Answer, new: Answer, reason: str,
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
        row = _editable(session, conn, assessment_id)
        return answer_in(session, conn, row, item_id, status=status, justification=justification, marking=marking,
                         risk_expiry=risk_expiry, reason=reason, lower_reason=lower_reason)


def answer_in(session: Session, conn: Connection, row: repo.AssessmentRow, item_id: str, *,
              status: Status | None = None, justification: str | None = None, marking: Marking | None = None,
              risk_expiry: Any = _UNSET, reason: str = "", lower_reason: str = "") -> Answer:
    """`answer` inside a transaction the caller holds on an editable assessment (batch imports)."""
    assessment_id = row.id
    template = _template_of(conn, row)
    template.item(item_id)
    stored = repo.get_answer(conn, assessment_id, item_id)
    floor = stored.marking if stored else submissions_repo.get(conn, row.submission_id).marking
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
            return _store(session, conn, assessment_id, old, new, reason or "suggestion overridden",
                          "assessment.suggestion_overridden")
    return _store(session, conn, assessment_id, old, new, reason)


def _override_check(session: Session, conn: Connection, row: repo.AssessmentRow, item_id: str,
                    new: Answer) -> tuple[Suggestion, str] | None:
    """(suggestion, rule-set hash) when `new` departs from the rule set's suggestion; refuses such
    a departure without a justification (issue 14: no override with one key and no reason)."""
    from app.model.approval import departs_from
    from app.model.coverage import suggest
    from app.services import coverage

    item = _template_of(conn, row).item(item_id)
    if not item.prefill:
        return None
    ruleset = coverage.active_ruleset(session)
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
        return _store(session, conn, assessment_id, a, new, "risk acceptance approved", "assessment.approve_risk")


def history(session: Session, assessment_id: int, item_id: str | None = None) -> list[repo.HistoryEntry]:
    session.require(Permission.VIEW_CONTENT)
    return repo.history(session.db.conn, assessment_id, item_id)


def transitions(session: Session, assessment_id: int) -> list[repo.Transition]:
    session.require(Permission.VIEW_CONTENT)
    return repo.transitions(session.db.conn, assessment_id)


def comments(session: Session, assessment_id: int) -> list[repo.Comment]:
    session.require(Permission.VIEW_CONTENT)
    return repo.comments(session.db.conn, assessment_id)


# -- evidence ----------------------------------------------------------------------------------


def _evidence_history(session: Session, conn: Connection, assessment_id: int, item_id: str, what: str) -> None:
    current = repo.get_answer(conn, assessment_id, item_id) or Answer(item_id)
    repo.add_history(conn, assessment_id, current, {"evidence": ["", what]}, "", session.account.username,
                     session.now())
    repo.touch(conn, assessment_id, session.now())


def _check_item(session: Session, conn: Connection, assessment_id: int, item_id: str) -> repo.AssessmentRow:
    row = _editable(session, conn, assessment_id)
    _template_of(conn, row).item(item_id)
    return row


def _check_run(conn: Connection, row: repo.AssessmentRow, run_id: int) -> None:
    run = results_repo.get_run(conn, run_id, lambda task: "")
    if run.submission_id != row.submission_id:
        raise ValidationError("run", f"run {run_id} belongs to submission {run.submission_id}, "
                              f"not {row.submission_id}")


def _evidence_marking(session: Session, conn: Connection, row: repo.AssessmentRow, requested: Marking | None,
                      lower_reason: str, what: str) -> Marking:
    """Evidence is about the submission (its runs carry the submission's marking): it starts there."""
    floor = submissions_repo.get(conn, row.submission_id).marking
    return derivation.settle(session, conn, requested, floor, lower_reason, what, "assessment", row.id)


def add_run_evidence(session: Session, assessment_id: int, item_id: str, run_id: int, note: str = "",
                     marking: Marking | None = None, sample_id: str | None = None, lower_reason: str = "") -> int:
    """Link an imported run (or one sample of it) to an item."""
    session.require(Permission.ASSESS)
    from app.model.results import SampleFilter

    with session.transaction() as conn:
        row = _check_item(session, conn, assessment_id, item_id)
        _check_run(conn, row, run_id)
        if sample_id is not None and results_repo.count_samples(conn, run_id, SampleFilter(sample_id=sample_id)) == 0:
            raise NotFound(f"Run {run_id} has no sample {sample_id!r}.")
        kind = "run" if sample_id is None else "sample"
        marking = _evidence_marking(session, conn, row, marking, lower_reason, f"evidence on {item_id}")
        eid = repo.add_evidence(conn, assessment_id, item_id, kind, marking, session.account.username, session.now(),
                                run_id=run_id, sample_id=sample_id, text=note.strip())
        what = f"linked run {run_id}" + (f" sample {sample_id}" if sample_id else "")
        _evidence_history(session, conn, assessment_id, item_id, what)
        session.audit(conn, "assessment.evidence_add", "assessment", assessment_id,
                      {"item": item_id, "kind": kind, "run": run_id, "sample": sample_id})
        return eid


def add_observation(session: Session, assessment_id: int, item_id: str, text: str,
                    marking: Marking | None = None, lower_reason: str = "") -> int:
    session.require(Permission.ASSESS)
    if not text.strip():
        raise ValidationError("observation", "must not be empty")
    if len(text) > cl.MAX_JUSTIFICATION:
        raise ValidationError("observation", f"must be at most {cl.MAX_JUSTIFICATION:,} characters")
    with session.transaction() as conn:
        row = _check_item(session, conn, assessment_id, item_id)
        marking = _evidence_marking(session, conn, row, marking, lower_reason, f"the observation on {item_id}")
        eid = repo.add_evidence(conn, assessment_id, item_id, "observation", marking, session.account.username,
                                session.now(), text=text.strip())
        _evidence_history(session, conn, assessment_id, item_id, "added a written observation")
        session.audit(conn, "assessment.evidence_add", "assessment", assessment_id,
                      {"item": item_id, "kind": "observation"})
        return eid


def add_file_evidence(session: Session, assessment_id: int, item_id: str, path: Path,
                      marking: Marking | None = None, lower_reason: str = "") -> int:
    """Store a file as an encrypted blob (SHA-256 addressed, size-capped) and link it to the item."""
    session.require(Permission.ASSESS)
    path = Path(path)
    if path.is_dir():
        raise IngestError(str(path), "is a directory, not a file")
    limit = session.settings.max_artifact_mb << 20
    try:
        size = path.stat().st_size
        if size > limit:
            raise ValidationError("evidence", f"{path.name} is {size / (1 << 20):.0f} MB; the limit is "
                                  f"{session.settings.max_artifact_mb} MB")
        with open(path, "rb") as fh:
            return add_stream_evidence(session, assessment_id, item_id, fh, path.name, marking, lower_reason)
    except OSError as exc:
        raise IngestError(str(path), f"cannot be read ({exc.strerror or exc}); nothing was stored") from None


def add_stream_evidence(session: Session, assessment_id: int, item_id: str, stream: BinaryIO, filename: str,
                        marking: Marking | None = None, lower_reason: str = "") -> int:
    session.require(Permission.ASSESS)
    limit = session.settings.max_artifact_mb << 20
    with session.transaction() as conn:
        row = _check_item(session, conn, assessment_id, item_id)
        marking = _evidence_marking(session, conn, row, marking, lower_reason, f"the file evidence on {item_id}")
        sha, size = blobs.put_stream(conn, stream, limit, session.now(), filename)
        eid = repo.add_evidence(conn, assessment_id, item_id, "file", marking, session.account.username,
                                session.now(), sha256=sha, filename=filename, size=size)
        _evidence_history(session, conn, assessment_id, item_id, f"attached {filename} (sha256 {sha})")
        session.audit(conn, "assessment.evidence_add", "assessment", assessment_id,
                      {"item": item_id, "kind": "file", "file": filename, "sha256": sha, "size": size})
        return eid


def evidence(session: Session, assessment_id: int, item_id: str | None = None) -> list[repo.EvidenceLink]:
    session.require(Permission.VIEW_CONTENT)
    return repo.evidence(session.db.conn, assessment_id, item_id)


def read_file_evidence(session: Session, evidence_id: int) -> tuple[str, bytes]:
    """(filename, bytes) of an attached file; IntegrityError if the stored bytes no longer match."""
    session.require(Permission.VIEW_CONTENT)
    _aid, link = repo.get_evidence(session.db.conn, evidence_id)
    if link.kind != "file" or not link.sha256:
        raise ValidationError("evidence", f"evidence {evidence_id} is not a file")
    return link.filename, blobs.read(session.db.conn, link.sha256)


def remove_evidence(session: Session, evidence_id: int, reason: str) -> None:
    session.require(Permission.ASSESS)
    if not reason.strip():
        raise ValidationError("reason", "a reason is required to remove evidence")
    with session.transaction() as conn:
        aid, link = repo.get_evidence(conn, evidence_id)
        _editable(session, conn, aid)
        repo.remove_evidence(conn, evidence_id, session.account.username, session.now())
        current = repo.get_answer(conn, aid, link.item_id) or Answer(link.item_id)
        repo.add_history(conn, aid, current, {"evidence": [link.describe, ""]}, reason, session.account.username,
                         session.now())
        session.audit(conn, "assessment.evidence_remove", "assessment", aid,
                      {"item": link.item_id, "evidence": evidence_id, "reason": reason})


# -- suggestions from results ------------------------------------------------------------------


def suggestion(session: Session, assessment_id: int, item_id: str) -> Suggestion | None:
    """What the active rule set suggests for a prefill-bound item, from this submission's results."""
    from app.model.coverage import suggest
    from app.services import coverage

    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    row = repo.get_assessment(conn, assessment_id)
    item = _template_of(conn, row).item(item_id)
    if not item.prefill:
        return None
    ruleset = coverage.active_ruleset(session)
    return suggest(item_id, item.prefill, ruleset, coverage.inputs(session, row.submission_id))


def decide_suggestion(session: Session, assessment_id: int, item_id: str, accept: bool,
                      status: Status | None = None, reason: str = "") -> Answer:
    """Accept the suggestion (status and its explanation become the answer) or override it with a reason."""
    from app.services import coverage

    session.require(Permission.ASSESS)
    sug = suggestion(session, assessment_id, item_id)
    if sug is None or not sug.status:
        raise ValidationError("suggestion", f"item {item_id} has no suggested status from the active rule set "
                              "(results for a bound rule are missing); answer it by hand")
    ruleset = coverage.active_ruleset(session)
    if accept:
        new_status, reason = Status(sug.status), reason.strip()
    else:
        if not reason.strip():
            raise ValidationError("reason", "overriding a suggestion needs a reason")
        if status is None:
            raise ValidationError("status", "choose the status that replaces the suggestion")
        new_status, reason = status, reason.strip()
    with session.transaction() as conn:
        row = _check_item(session, conn, assessment_id, item_id)
        old = repo.get_answer(conn, assessment_id, item_id) or Answer(item_id)
        sub_marking = submissions_repo.get(conn, row.submission_id).marking
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
        return _store(session, conn, assessment_id, old, new, f"suggestion {decision}" + (f": {reason}" if reason
                                                                                            else ""),
                      f"assessment.suggestion_{decision}")


def suggestions(session: Session, assessment_id: int) -> dict[str, Suggestion]:
    """Every prefill-bound item's suggestion, the inputs read once (the checklist tree marks departures)."""
    from app.model.coverage import suggest
    from app.services import coverage

    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    row = repo.get_assessment(conn, assessment_id)
    bound = [i for i in _template_of(conn, row).items() if i.prefill]
    if not bound:
        return {}
    ruleset = coverage.active_ruleset(session)
    ins = coverage.inputs(session, row.submission_id)
    out = {}
    for item in bound:
        sug = suggest(item.id, item.prefill or "", ruleset, ins)
        if sug is not None:
            out[item.id] = sug
    return out


def departures(view: AssessmentView, sugs: Mapping[str, Suggestion]) -> set[str]:
    """Items whose answer departs from their suggestion."""
    from app.model.approval import departs_from

    return {i for i, s in sugs.items() if departs_from(s.status, view.answer(i).status)}


def approval_summary(session: Session, assessment_id: int) -> ApprovalSummary:
    """What the lead approves: counts by status, overrides of suggestions with their reasons, risk
    acceptances, findings by severity, the determination, items approved one by one."""
    from app.model.approval import ApprovalSummary, Override, RiskAcceptance, count_statuses
    from app.services import coverage, findings
    from storage import workflow_repo

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
    from app.model.findings import Severity

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
                           tuple(overrides), risks, sev, det_text, len(approvals), marking.banner())


def _current_item_approvals(view: AssessmentView, stored: Mapping[str, tuple[str, str, str]]
                            ) -> dict[str, tuple[str, str]]:
    """item -> (approved by, at), only where the answer is still the version that was approved."""
    return {i: (by, at) for i, (digest, by, at) in stored.items()
            if i in view.template and answer_digest(view.answer(i)) == digest}


def answer_digest(a: Answer) -> str:
    """What an item approval is pinned to: any change of the answer's content voids the approval."""
    import hashlib

    content = [a.item_id, a.status.value, a.justification, a.marking.banner(),
               a.risk_expiry.isoformat() if a.risk_expiry else "", a.updated_by]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


def item_approvals(session: Session, assessment_id: int) -> dict[str, tuple[str, str]]:
    from storage import workflow_repo

    view = get(session, assessment_id)
    return _current_item_approvals(view, workflow_repo.item_approvals(session.db.conn, assessment_id))


def approve_item(session: Session, assessment_id: int, item_id: str) -> None:
    """A lead approves one answer of a submitted assessment (item by item); never its author. A
    later change of the answer voids the approval. Recorded and audited."""
    from app.services import workflow
    from storage import workflow_repo

    session.require(Permission.APPROVE)
    conn = session.db.conn
    row = repo.get_assessment(conn, assessment_id)
    workflow.require(session, row.submission_id, Act.RETURN)  # the same gate as a decision on the whole
    _template_of(conn, row).item(item_id)
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


def suggestion_decisions(session: Session, assessment_id: int, item_id: str) -> list[dict[str, Any]]:
    session.require(Permission.VIEW_CONTENT)
    return repo.suggestion_decisions(session.db.conn, assessment_id, item_id)


# -- workflow ----------------------------------------------------------------------------------


def _move(session: Session, conn: Connection, row: repo.AssessmentRow, action: Action, comment: str = "",
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
    from storage import audit as audit_log

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
    from app.services import workflow

    session.require(Permission.ASSESS)
    workflow.require(session, repo.get_assessment(session.db.conn, assessment_id).submission_id, Act.SUBMIT)
    with session.transaction() as conn:
        row = _editable(session, conn, assessment_id)
        problems = cl.submission_problems(_template_of(conn, row), repo.answers(conn, assessment_id),
                                          session.today())
        if problems:
            raise ValidationError("assessment", "cannot be submitted yet: " + "; ".join(problems))
        _move(session, conn, row, Action.SUBMIT, comment.strip(), submitted_by=session.account.username,
              submitted_at=session.now(), approved_by=None, approved_at=None)
        return _view(conn, repo.get_assessment(conn, assessment_id))


def approve(session: Session, assessment_id: int, comment: str = "") -> AssessmentView:
    """A lead other than the submitter approves and locks the assessment. Which conditions hold
    (submitted, two persons, checklist complete, risk acceptances and coverage determination
    approved) is decided by app.model.workflow, the same rule the UI shows."""
    from app.services import workflow

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
        return _view(conn, repo.get_assessment(conn, assessment_id))


def return_for_changes(session: Session, assessment_id: int, comment: str,
                       item_comments: Mapping[str, str] | None = None) -> AssessmentView:
    """A lead sends a submitted assessment back with an overall comment and comments on items."""
    session.require(Permission.APPROVE)
    item_comments = {k: v.strip() for k, v in (item_comments or {}).items() if v.strip()}
    if not comment.strip() and not item_comments:
        raise ValidationError("comment", "say what must change: an overall comment or comments on items")
    if any(len(c) > MAX_COMMENT for c in [comment, *item_comments.values()]):
        raise ValidationError("comment", f"must be at most {MAX_COMMENT:,} characters")
    from app.services import workflow

    workflow.require(session, repo.get_assessment(session.db.conn, assessment_id).submission_id, Act.RETURN)
    with session.transaction() as conn:
        row = repo.get_assessment(conn, assessment_id)
        template = _template_of(conn, row)
        for item_id in item_comments:
            template.item(item_id)
        tid = _move(session, conn, row, Action.RETURN, comment.strip())
        if comment.strip():
            repo.add_comment(conn, assessment_id, tid, None, comment.strip(), session.account.username, session.now())
        for item_id, text in item_comments.items():
            repo.add_comment(conn, assessment_id, tid, item_id, text, session.account.username, session.now())
        return _view(conn, repo.get_assessment(conn, assessment_id))


def reopen(session: Session, assessment_id: int, reason: str) -> AssessmentView:
    """Unlock an approved assessment: an explicit, audited decision by a lead, with a reason."""
    session.require(Permission.APPROVE)
    if not reason.strip():
        raise ValidationError("reason", "reopening an approved assessment needs a reason")
    with session.transaction() as conn:
        row = repo.get_assessment(conn, assessment_id)
        _move(session, conn, row, Action.REOPEN, reason.strip(), approved_by=None, approved_at=None,
              submitted_by=None, submitted_at=None)
        return _view(conn, repo.get_assessment(conn, assessment_id))


# -- templates: import and migration -----------------------------------------------------------


def list_templates(session: Session) -> list[repo.StoredDocument]:
    session.require(Permission.VIEW_CONTENT)
    return repo.templates(session.db.conn)


def import_template(session: Session, path: Path) -> repo.StoredDocument:
    """Admin: import a signed template version from media (FILE + FILE.p7s)."""
    session.require(Permission.IMPORT_TRUSTED)
    data, signer = read_signed(session, Path(path), checklist_template.MAX_BYTES, "checklist template")
    template = checklist_template.parse(data, str(path))
    with session.transaction() as conn:
        ensure_builtin_template(conn, session.now(), session.account.username)
        existing = repo.find_template(conn, template.template_id, template.version)
        if existing is not None:
            if existing.sha256 == template.sha256:
                raise ValidationError(str(path), f"{template.label} is already on this workstation")
            raise ValidationError(str(path), f"{template.label} already exists with different content; "
                                  "a changed template needs a new version number")
        latest = repo.latest_template(conn, template.template_id)
        if latest is not None and latest.version > template.version:
            raise ValidationError(str(path), f"version {template.version} is older than the installed "
                                  f"v{latest.version}")
        pk = repo.insert_template(conn, template.template_id, template.version, template.title, template.sha256, data,
                                  "imported", signer.describe(), session.account.username, session.now())
        session.audit(conn, "assessment.template_import", "template", f"{template.template_id} v{template.version}",
                      {"sha256": template.sha256, "signer": signer.subject, "signer_fingerprint": signer.fingerprint,
                       "file": Path(path).name, "items": len(template.item_ids)})
        return repo.get_template(conn, pk)


def migrate_template(session: Session, assessment_id: int, template_pk: int | None = None
                     ) -> list[cl.TemplateChange]:
    """Move an assessment to a newer version of its template; answers carry over where item ids match."""
    session.require(Permission.ASSESS)
    with session.transaction() as conn:
        row = _editable(session, conn, assessment_id)
        old_doc = repo.get_template(conn, row.template_pk)
        new_doc = repo.get_template(conn, template_pk) if template_pk else repo.latest_template(conn, old_doc.doc_id)
        if new_doc is None or new_doc.pk == old_doc.pk:
            raise ValidationError("template", f"no newer version of {old_doc.doc_id} v{old_doc.version} is installed")
        old_t, new_t = _parse_stored(old_doc), _parse_stored(new_doc)
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


# -- export ------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Marking):
        return value.banner()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def export(session: Session, assessment_id: int) -> dict[str, Any]:
    """The whole assessment as plain JSON-ready data (answers, history, evidence, findings, coverage)."""
    from app.services import coverage, findings

    view = get(session, assessment_id)
    conn = session.db.conn
    t = view.template
    sections = []
    for s in t.sections:
        items = []
        for item in s.items:
            a = view.answer(item.id)
            items.append({
                "id": item.id, "title": item.title, "status": a.status.value, "complete": a.complete,
                "justification": a.justification, "marking": a.marking.banner(),
                "portion": a.marking.portion(),
                "risk_expiry": a.risk_expiry.isoformat() if a.risk_expiry else None,
                "risk_approved_by": a.risk_approved_by, "updated_by": a.updated_by, "updated_at": a.updated_at,
                "evidence": [_jsonable(e) | {"description": e.describe} for e in repo.evidence(conn, view.id, item.id)],
                "suggestion_decisions": repo.suggestion_decisions(conn, view.id, item.id),
            })
        p = view.sections[s.id]
        sections.append({"id": s.id, "title": s.title, "progress": {"done": p.done, "total": p.total},
                         "items": items})
    finds = findings.list_findings(session, view.submission_id)
    dets = coverage.determinations(session, view.submission_id)
    history = repo.history(conn, view.id)
    # Everything the export quotes: answers, the history of earlier answers, evidence, findings,
    # determinations, and the comments (unmarked text about the submission: its marking).
    overall = rollup([view.marking, view.submission_marking, *(f.marking for f in finds), *(d.marking for d in dets),
                      *(e.marking for e in repo.evidence(conn, view.id)), *(Marking.parse(h.marking) for h in history)])
    return {
        "format": "frontier-review/assessment-export", "format_version": 1,
        "marking": overall.banner(),
        "assessment": {"id": view.id, "submission_id": view.submission_id, "state": view.state.value,
                       "created_by": view.created_by, "submitted_by": view.submitted_by,
                       "submitted_at": view.submitted_at, "approved_by": view.approved_by,
                       "approved_at": view.approved_at},
        "template": {"template_id": t.template_id, "version": t.version, "sha256": t.sha256, "title": t.title},
        "progress": {"done": view.progress.done, "total": view.progress.total},
        "sections": sections,
        "history": [_jsonable(h) for h in history],
        "transitions": [_jsonable(x) for x in repo.transitions(conn, view.id)],
        "comments": [_jsonable(c) for c in repo.comments(conn, view.id)],
        "findings": [_jsonable(f) | {"label": f.label} for f in finds],
        "coverage": [_jsonable(d) for d in dets],
    }


def export_json(session: Session, assessment_id: int) -> str:
    return json.dumps(export(session, assessment_id), indent=2, ensure_ascii=False, default=str)


def export_to_file(session: Session, assessment_id: int, path: Path, media_label: str | Marking) -> Marking:
    """Write the JSON export to a file on media labelled at least as high as its content (egress
    check, MARKING.txt beside it, audited). Returns the content's marking."""
    from app.services import egress

    session.require(Permission.EXPORT)
    doc = export(session, assessment_id)
    content = Marking.parse(doc["marking"])
    path = Path(path)
    cleared = egress.clear(session, f"the export of assessment {assessment_id}", content, media_label, path)
    atomic_write(path, (json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n").encode(), mode=0o640)
    egress.write_marking_file(path.parent, cleared)
    with session.transaction() as conn:
        session.audit(conn, "assessment.export", "assessment", assessment_id,
                      {"destination": str(path), "marking": content.banner(), "media": cleared.media.banner()})
        egress.record(session, conn, cleared)
    return content


def item_comments(session: Session, assessment_id: int, item_id: str) -> list[repo.Comment]:
    return [c for c in comments(session, assessment_id) if c.item_id == item_id]


def first_open_item(view: AssessmentView) -> str:
    for item in view.template.items():
        if not view.answer(item.id).complete:
            return item.id
    return view.template.item_ids[0]


def ids_in_order(view: AssessmentView) -> Sequence[str]:
    return view.template.item_ids
