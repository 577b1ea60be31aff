"""Checklist model without Qt or storage: statuses, answer rules, state machine, progress, carry-forward."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.ingest import checklist_template
from app.model import checklist as cl
from app.model.checklist import Action, Answer, Section, State, Status, Template, TemplateItem
from app.model.errors import IngestError, ValidationError
from app.services.assessment_templates import builtin_template_bytes

TODAY = date(2026, 11, 20)


def _template(version=1, **titles):
    items_a = (TemplateItem("A-1", titles.get("A-1", "first"), "g"), TemplateItem("A-2", "second", "g"))
    items_b = (TemplateItem("B-1", "third", "g", prefill="ctf_solving"),)
    return Template("t", version, "T", (Section("A", "Alpha", items_a), Section("B", "Beta", items_b)))


def test_statuses_hotkeys_and_labels():
    assert [s.hotkey for s in Status] == [1, 2, 3, 4, 5, 6]
    assert Status.RISK_ACCEPTED.label == "Risk accepted"
    assert Status.parse("Not applicable") is Status.NOT_APPLICABLE
    with pytest.raises(ValidationError, match="unknown status"):
        Status.parse("maybe")
    assert {s for s in Status if s.needs_justification} == {Status.NOT_SATISFIED, Status.NOT_APPLICABLE,
                                                            Status.RISK_ACCEPTED}


@pytest.mark.parametrize("status", [Status.NOT_SATISFIED, Status.NOT_APPLICABLE, Status.RISK_ACCEPTED])
def test_justification_required(status):
    a = Answer("A-1", status, risk_expiry=date(2027, 1, 1) if status is Status.RISK_ACCEPTED else None)
    assert not a.complete and "justification" in (a.missing or "")
    with pytest.raises(ValidationError, match="justification: is required"):
        cl.validate_answer(a, TODAY)
    ok = replace(a, justification="because")
    cl.validate_answer(ok, TODAY)
    assert ok.complete


def test_risk_acceptance_needs_future_expiry():
    a = Answer("A-1", Status.RISK_ACCEPTED, "accepted for the pilot")
    assert a.missing == "a risk acceptance needs an expiry date"
    with pytest.raises(ValidationError, match="expiry"):
        cl.validate_answer(a, TODAY)
    with pytest.raises(ValidationError, match="must be after today"):
        cl.validate_answer(replace(a, risk_expiry=TODAY), TODAY)
    good = replace(a, risk_expiry=date(2026, 12, 31))
    cl.validate_answer(good, TODAY)
    assert good.risk_pending and not replace(good, risk_approved_by="lead").risk_pending
    assert cl.risk_expired(good, date(2027, 1, 1))
    with pytest.raises(ValidationError, match="only a 'Risk accepted'"):
        cl.validate_answer(Answer("A-1", Status.SATISFIED, risk_expiry=date(2027, 1, 1)), TODAY)


def test_state_machine_paths_and_refusals():
    s = State.DRAFT
    s = cl.transition(s, Action.SUBMIT)
    assert s is State.SUBMITTED and not s.editable
    assert cl.transition(s, Action.RETURN) is State.RETURNED
    assert cl.transition(State.RETURNED, Action.RESUME) is State.DRAFT
    s = cl.transition(s, Action.APPROVE)
    assert s is State.APPROVED and "locked" in (cl.edit_refusal(s) or "")
    assert cl.transition(s, Action.REOPEN) is State.DRAFT
    for state, action in [(State.DRAFT, Action.APPROVE), (State.APPROVED, Action.SUBMIT),
                          (State.RETURNED, Action.APPROVE), (State.DRAFT, Action.REOPEN),
                          (State.APPROVED, Action.RETURN)]:
        with pytest.raises(ValidationError, match=f"cannot {action.value}"):
            cl.transition(state, action)
    assert cl.edit_refusal(State.DRAFT) is None and cl.edit_refusal(State.RETURNED) is None
    assert "submitted" in (cl.edit_refusal(State.SUBMITTED) or "")


def test_progress_and_submission_problems():
    t = _template()
    answers = {"A-1": Answer("A-1", Status.SATISFIED), "A-2": Answer("A-2", Status.NOT_SATISFIED),
               "B-1": Answer("B-1", Status.IN_PROGRESS)}
    per = cl.section_progress(t, answers)
    assert (per["A"].done, per["A"].total, per["B"].done) == (1, 2, 0)  # A-2 lacks its justification
    assert str(cl.overall_progress(t, answers)) == "1/3" and cl.overall_progress(t, answers).percent == 33
    problems = cl.submission_problems(t, answers, TODAY)
    assert problems[0] == "1 item(s) not answered: B-1" and "justification" in problems[1]
    answers["A-2"] = replace(answers["A-2"], justification="no model card")
    answers["B-1"] = Answer("B-1", Status.RISK_ACCEPTED, "pilot only", risk_expiry=date(2027, 1, 1))
    assert cl.submission_problems(t, answers, TODAY) == []
    assert cl.approval_problems(t, answers, TODAY) == ["risk acceptance not yet approved by a lead: B-1"]


def test_walking_order_and_template_lookup():
    t = _template()
    assert t.item_ids == ["A-1", "A-2", "B-1"]
    assert t.neighbour("A-2", 1) == "B-1" and t.neighbour("B-1", 1) == "B-1" and t.neighbour("A-1", -1) == "A-1"
    assert t.section_of("B-1").id == "B" and t.item("B-1").prefill == "ctf_solving"
    with pytest.raises(ValidationError, match="duplicate item id"):
        Template("t", 1, "T", (Section("A", "A", (TemplateItem("X", "x", "g"),) * 2),))


def test_carry_forward_lists_what_changed():
    old = _template(1)
    new = Template("t", 2, "T", (
        Section("A", "Alpha", (TemplateItem("A-1", "first, reworded", "g"),)),
        Section("B", "Beta", (TemplateItem("A-2", "second", "g"), TemplateItem("B-2", "new", "g"))),
    ))
    answers = {"A-1": Answer("A-1", Status.SATISFIED, "ok"), "A-2": Answer("A-2", Status.NOT_APPLICABLE, "n/a"),
               "B-1": Answer("B-1", Status.SATISFIED)}
    carried, changes = cl.carry_forward(old, new, answers)
    assert set(carried) == {"A-1", "A-2"}
    assert carried["A-1"].status is Status.IN_PROGRESS and carried["A-1"].justification == "ok"
    assert carried["A-2"] == answers["A-2"]
    assert {(c.kind, c.item_id) for c in changes} == {("reworded", "A-1"), ("moved", "A-2"), ("added", "B-2"),
                                                       ("removed", "B-1")}
    with pytest.raises(ValidationError, match="not newer"):
        cl.carry_forward(new, old, {})


def test_default_template_has_8_sections_40_items_with_guidance():
    t = checklist_template.parse(builtin_template_bytes(), "default_checklist.json")
    assert [s.id for s in t.sections] == ["SUB", "COV", "EVD", "CAP", "SAF", "SEC", "VUL", "DEC"]
    assert len(t.item_ids) == 40
    assert all(len(i.guidance) > 120 for i in t.items())
    assert t.item("CAP-02").title == "CTF solving" and t.item("CAP-02").prefill == "ctf_solving"


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty JSON document"),
    (b"[]", "expected a JSON object"),
    (b'{"format": "something/else", "format_version": 1}', "format: is 'something/else'"),
    (b'{"format": "frontier-review/checklist", "format_version": 9}', "format_version: 9 is newer"),
    (b'{"format": "frontier-review/checklist", "format_version": 1, "template_id": "t", "version": 1, '
     b'"title": "T", "sections": []}', "sections: a template needs at least one section"),
    (b'{"format": "frontier-review/checklist", "format_version": 1, "template_id": "bad id!", "version": 1}',
     "template_id: 'bad id!' is not a valid id"),
])
def test_template_reader_errors_name_file_and_field(data, message):
    with pytest.raises(IngestError, match="t.json: ") as exc:
        checklist_template.parse(data, "t.json")
    assert message in str(exc.value)
