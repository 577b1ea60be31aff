"""The workflow through the real services: the stage follows the work from intake to release,
refusals carry the reasons the UI shows, overrides need a justification, the lead's summary."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.model.checklist import Status
from app.model.errors import PermissionDenied, StorageError, ValidationError
from app.model.findings import Finding, Severity
from app.model.narrative import Narrative
from app.model.submissions import Submission, SubmissionStatus, WindowState
from app.model.workflow import Act, Stage, outstanding
from app.services import (
    assessment,
    assessment_review,
    assessment_suggestions,
    coverage,
    findings,
    narrative,
    results,
    review_overview,
    submissions,
    workflow,
)
from app.services import reports as report_service
from tests.conftest import tamper
from tests.unit.test_signing_service import _configure

INSPECT = Path(__file__).parents[1] / "fixtures" / "inspect"


def _sub(rev, name: str = "Falcon") -> int:  # type: ignore[no-untyped-def]
    return int(submissions.create(rev, Submission(developer="Acme AI", model_name=name, version="2.1",
                                                  received=date(2026, 11, 2),
                                                  planned_release=date(2026, 12, 1))).id or 0)


def _stage(session, sid: int) -> Stage:  # type: ignore[no-untyped-def]
    """The computed stage, checking on the way that the Submissions table's SQL filter, open-only
    filter and stage sort agree with it for every submission (the table pages by SQL)."""
    computed = workflow.stages(session)
    for st in Stage:
        ids = [int(x.id or 0) for x in submissions.page(session, 0, 1000, stage=st.value)]
        assert sorted(ids) == sorted(i for i, c in computed.items() if c is st), st
        assert submissions.count(session, stage=st.value) == len(ids)
    open_ids = {int(x.id or 0) for x in submissions.page(session, 0, 1000, open_only=True)}
    assert open_ids == {i for i, c in computed.items() if c.is_open}
    ranks = [computed[int(x.id or 0)].rank for x in submissions.page(session, 0, 1000, sort="status")]
    assert ranks == sorted(ranks)
    return computed[sid]


def test_table_filters_and_window_follow_the_computed_stage_not_the_stored_status(workstation) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    rev = workstation.session("reviewer")
    typed = {}
    for status in (SubmissionStatus.CLOSED, SubmissionStatus.FINDINGS_ISSUED, SubmissionStatus.WITHDRAWN):
        sid = _sub(rev, status.value)
        submissions.update(rev, replace(submissions.get(rev, sid), status=status))
        typed[status] = sid
    closed, issued, withdrawn = typed.values()
    assert _stage(rev, closed) is Stage.RECEIVED and _stage(rev, issued) is Stage.RECEIVED
    assert _stage(rev, withdrawn) is Stage.WITHDRAWN
    assert submissions.count(rev, stage=SubmissionStatus.CLOSED.value) == 0  # the typed status is no stage
    assert submissions.count(rev, stage=Stage.RECEIVED.value) == 2
    assert submissions.count(rev, open_only=True) == 2
    stages = workflow.stages(rev, [closed, issued, withdrawn])
    today = date(2026, 12, 2)  # a day after the planned release
    for sid in (closed, issued):
        s = submissions.get(rev, sid)
        assert s.window_state(today, stage=stages[sid]) is WindowState.OVERDUE
        assert s.window_state(today) is WindowState.OVERDUE  # a typed "closed" no longer stops the clock
    assert submissions.get(rev, withdrawn).window_state(today, stage=stages[withdrawn]) is WindowState.DONE
    assert submissions.get(rev, closed).window_state(today, stage=Stage.RELEASED) is WindowState.DONE


def test_stage_follows_the_work_from_intake_to_release(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _configure(workstation.session("admin"))
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    sid = _sub(rev)
    other = _sub(rev, "Other")
    assert _stage(rev, sid) is Stage.RECEIVED
    assert "imports the evaluation results" in review_overview.overview(rev, sid).next.text
    results.import_files(rev, [INSPECT / "wmdp_cyber_ok.eval", INSPECT / "intercode_ok.eval"], sid)
    assert _stage(rev, sid) is Stage.IN_REVIEW
    view = assessment.start(rev, sid)
    ov = review_overview.overview(rev, sid)
    assert ov.next.text.startswith("reviewers answer the checklist (0/40") and ov.next.who == "reviewer"
    assert not ov.can(Act.SUBMIT) and "not answered" in ov.why_not(Act.SUBMIT)
    det = coverage.record_determination(rev, sid, "Declared compute above the reference presumption.")
    assert _stage(rev, sid) is Stage.DETERMINATION
    sugs = assessment_suggestions.suggestions(rev, view.id)
    for item_id in view.template.item_ids:
        sug = sugs.get(item_id)
        status = Status(sug.status) if sug is not None and sug.status else Status.SATISFIED
        assessment.answer(rev, view.id, item_id, status=status, justification=f"Checked {item_id}.")
    findings.create(rev, Finding(sid, "Refusals adequate", "Refused malicious requests.", Severity.LOW))
    assessment_review.submit(rev, view.id)
    assert _stage(rev, sid) is Stage.FINDINGS_DRAFTED
    ov = review_overview.overview(lead, sid)
    assert ov.next.text == "waiting for a lead other than reviewer to approve the coverage determination"
    with pytest.raises(ValidationError, match="coverage determination is not approved yet"):
        assessment_review.approve(lead, view.id)
    coverage.approve_determination(lead, det.id)
    assessment_review.approve(lead, view.id, "Agreed.")
    assert _stage(rev, sid) is Stage.APPROVED
    assert review_overview.overview(rev, sid).next.text == "a reviewer builds the findings report"
    report = report_service.build(rev, sid)
    assert review_overview.overview(rev, sid).next.text == "a reviewer signs the findings report"
    report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    assert _stage(rev, sid) is Stage.SIGNED
    assert "to countersign the report" in review_overview.overview(rev, sid).next.text
    report_service.countersign(lead, report.id, workstation.passphrase("lead"))
    board = submissions.dashboard(rev)
    assert board.open_total == 2 and {r.submission.id for r in board.rows} == {sid, other}
    usb = tmp_path / "usb"
    usb.mkdir()
    report_service.export(rev, report.id, usb, "SECRET//NOFORN", workstation.passphrase("reviewer"))
    assert _stage(rev, sid) is Stage.RELEASED
    ov = review_overview.overview(rev, sid)
    assert "review is closed" in ov.next.text and not ov.can(Act.BUILD_REPORT)
    # Released work has left the open reviews; the cards add up to what is listed.
    board = submissions.dashboard(rev)
    assert board.open_total == 1 and [r.submission.id for r in board.rows] == [other]
    assert board.stages[Stage.RELEASED] == 1 and sum(board.counts.values()) == board.open_total
    # A withdrawal (the one status a person records) closes the other.
    s = submissions.get(rev, other)
    from dataclasses import replace

    submissions.update(rev, replace(s, status=SubmissionStatus.WITHDRAWN))
    assert _stage(rev, other) is Stage.WITHDRAWN and submissions.dashboard(rev).open_total == 0


def test_refusals_carry_the_reason_the_ui_shows(workstation) -> None:  # type: ignore[no-untyped-def]
    rev, lead, auditor = workstation.session("reviewer"), workstation.session("lead"), workstation.session("auditor")
    sid = _sub(rev)
    view = assessment.start(rev, sid)
    reason = review_overview.overview(rev, sid).why_not(Act.SUBMIT)
    with pytest.raises(ValidationError) as exc:
        assessment_review.submit(rev, view.id)
    assert reason in str(exc.value)
    with pytest.raises(PermissionDenied, match="Auditor"):
        workflow.require(auditor, sid, Act.COMMENT)
    assert "only a submitted assessment can be approved" in review_overview.overview(lead, sid).why_not(Act.APPROVE)
    text = review_overview.describe(lead, sid)
    assert "Next step: reviewers answer the checklist" in text and "[ ] approve assessment" in text


def test_override_needs_a_justification_and_the_summary_shows_it(workstation) -> None:  # type: ignore[no-untyped-def]
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    sid = _sub(rev)
    results.import_files(rev, [INSPECT / "wmdp_cyber_ok.eval", INSPECT / "intercode_ok.eval"], sid)
    view = assessment.start(rev, sid)
    sugs = assessment_suggestions.suggestions(rev, view.id)
    item_id, sug = next((i, s) for i, s in sugs.items() if s.status)
    departing = Status.SATISFIED if sug.status == Status.NOT_SATISFIED.value else Status.NOT_SATISFIED
    with pytest.raises(ValidationError, match="overrides it and needs a justification"):
        assessment.answer(rev, view.id, item_id, status=departing)
    assert assessment.get(rev, view.id).answer(item_id).status is Status.NOT_STARTED  # nothing saved
    assessment.answer(rev, view.id, item_id, status=departing, justification="Scaffold was crippled; re-run due.")
    decisions = assessment_suggestions.suggestion_decisions(rev, view.id, item_id)
    assert decisions[-1]["decision"] == "overridden" and decisions[-1]["reason"].startswith("Scaffold")
    assert assessment_suggestions.departures(assessment.get(rev, view.id), sugs) == {item_id}
    # Agreeing with the suggestion needs nothing more.
    for other, s in sugs.items():
        if other != item_id and s.status:
            assessment.answer(rev, view.id, other, status=Status(s.status), justification="As suggested.")
    summary = assessment_review.approval_summary(lead, view.id)
    assert [o.item_id for o in summary.overrides] == [item_id]
    assert f"{item_id}: suggested {Status(sug.status).label.lower()}" in str(summary)
    assert "Coverage determination: not recorded" in str(summary) and "Findings: none" in str(summary)
    # the narrative locks with the approval: the lead sees that it is empty, the reviewer that it is a step
    assert "Narrative: EMPTY: the report will open with no bottom line" in str(summary)
    assert any("writes the narrative" in s.text for s in outstanding(workflow.work_state(rev, sid)))
    narrative.save(rev, sid, Narrative("The model gives real uplift.", recommendations="Delay release."))
    summary = assessment_review.approval_summary(lead, view.id)
    assert "Narrative: bottom line, recommendations (no key judgments)" in str(summary)
    assert not any("writes the narrative" in s.text for s in outstanding(workflow.work_state(rev, sid)))


def test_lead_approves_item_by_item_and_a_change_voids_it(workstation) -> None:  # type: ignore[no-untyped-def]
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    sid = _sub(rev)
    view = assessment.start(rev, sid)
    for item_id in view.template.item_ids:
        assessment.answer(rev, view.id, item_id, status=Status.SATISFIED, justification="ok")
    with pytest.raises(ValidationError, match="only a submitted assessment"):
        assessment_review.approve_item(lead, view.id, "SUB-01")
    assessment_review.submit(rev, view.id)
    with pytest.raises(PermissionDenied):
        assessment_review.approve_item(rev, view.id, "SUB-01")
    assessment_review.approve_item(lead, view.id, "SUB-01")
    assessment_review.approve_item(lead, view.id, "SUB-02")
    assert set(assessment_review.item_approvals(lead, view.id)) == {"SUB-01", "SUB-02"}
    assert "Items approved one by one: 2 of 40" in str(assessment_review.approval_summary(lead, view.id))
    assessment_review.return_for_changes(lead, view.id, "Tighten SUB-02.")
    assessment.answer(rev, view.id, "SUB-02", justification="ok, hashes pinned")
    assert set(assessment_review.item_approvals(lead, view.id)) == {"SUB-01"}  # the changed answer needs a new look


def test_assignment_queues_and_comment_threads(workstation) -> None:  # type: ignore[no-untyped-def]
    from app.model.markings import Marking
    from app.services import assignments, discussion, vulnerabilities
    from app.services import audit as audit_service

    rev, rev2, lead = workstation.session("reviewer"), workstation.session("reviewer2"), workstation.session("lead")
    sid = _sub(rev)
    with pytest.raises(PermissionDenied):
        assignments.assign(rev, sid, "reviewer2")  # only a lead assigns
    with pytest.raises(ValidationError, match="not a section"):
        assignments.assign(lead, sid, "reviewer2", "XYZ")
    with pytest.raises(ValidationError, match="Auditor"):
        assignments.assign(lead, sid, "auditor")
    assignments.assign(lead, sid, "reviewer", "cap")
    assignments.assign(lead, sid, "reviewer2", "SAF")
    with pytest.raises(ValidationError, match="already assigned"):
        assignments.assign(lead, sid, "reviewer2", "SAF")
    assert [(r.submission.id, r.detail) for r in assignments.my_work(rev2)] == [(sid, "section SAF")]
    assert assignments.my_work(lead) == []

    view = assessment.start(rev, sid)
    for item_id in view.template.item_ids:
        assessment.answer(rev, view.id, item_id, status=Status.SATISFIED, justification="ok")
    det = coverage.record_determination(rev, sid, "Below every threshold.")
    awaiting = assignments.awaiting_decision(lead)
    assert [(r.submission.id, r.detail) for r in awaiting] == [(sid, "approve coverage determination")]
    assert assignments.awaiting_decision(rev) == []  # reviewers take no lead decisions
    assessment_review.submit(rev, view.id)
    assert "approve assessment" not in assignments.awaiting_decision(lead)[0].detail  # waits for the determination
    coverage.approve_determination(lead, det.id)
    assert assignments.awaiting_decision(lead)[0].detail == "approve assessment, return assessment"

    # Threads on an item, a finding, a vulnerability and the determination; marked at least as high as
    # what they discuss; kept (no edit, no delete); audited.
    assessment_review.return_for_changes(lead, view.id, "See the thread on CAP-02.")
    assessment.answer(rev, view.id, "CAP-02", marking=Marking.parse("SECRET"))
    c1 = discussion.add(lead, "item", discussion.item_ref(sid, "CAP-02"), "Which scaffold was used?")
    discussion.add(rev, "item", discussion.item_ref(sid, "CAP-02"), "The developer's own, v3.")
    assert c1.marking.banner() == "SECRET"
    f = findings.create(rev, Finding(sid, "CTF solving", "Half solved.", Severity.HIGH))
    discussion.add(lead, "finding", str(f.id), "Severity high agreed.")
    vuln = vulnerabilities.create_from_finding(rev, f)
    discussion.add(rev, "vulnerability", vuln.id, "Vendor notified by phone.")
    discussion.add(lead, "determination", str(sid), "Rationale is thin.")
    with pytest.raises(ValidationError, match="SUBMISSION/ITEM"):
        discussion.add(rev, "item", "CAP-02", "x")
    with pytest.raises(ValidationError, match="must not be empty"):
        discussion.add(rev, "finding", str(f.id), "  ")
    thread = discussion.thread(rev, "item", discussion.item_ref(sid, "CAP-02"))
    assert [(c.author, c.body) for c in thread] == [("lead", "Which scaffold was used?"),
                                                    ("reviewer", "The developer's own, v3.")]
    assert len(discussion.for_submission(rev, sid)) == 5
    auditor = workstation.session("auditor")
    with pytest.raises(PermissionDenied):
        discussion.add(auditor, "finding", str(f.id), "x")
    events = audit_service.events(auditor, 50, action_prefix="comment.")
    assert len(events) == 5 and all("chars" in e.details and "Which" not in str(e.details) for e in events)
    with pytest.raises(StorageError, match="append-only"), tamper(rev) as conn:  # the triggers refuse anyone
        conn.execute("UPDATE discussion SET body = 'edited' WHERE id = ?", (c1.id,))
    with pytest.raises(StorageError, match="append-only"), tamper(rev) as conn:
        conn.execute("DELETE FROM discussion WHERE id = ?", (c1.id,))
