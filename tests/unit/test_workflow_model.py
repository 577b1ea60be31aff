"""The lifecycle and the available-actions function against every state and every role."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.model.accounts import ROLE_PERMISSIONS, Role
from app.model.checklist import State
from app.model.workflow import (
    _NEEDS,
    Act,
    Actor,
    Refusal,
    Stage,
    WorkState,
    available_actions,
    next_step,
    outstanding,
    stage,
)

RIVERA, OKAFOR, BOSS = "rivera", "okafor", "boss"
ACTORS = {
    Role.ADMIN: Actor("admin", Role.ADMIN),
    Role.REVIEWER: Actor(RIVERA, Role.REVIEWER),
    Role.LEAD: Actor(BOSS, Role.LEAD),
    Role.AUDITOR: Actor("lind", Role.AUDITOR),
}

# One snapshot per point of the journey, in order.
RECEIVED = WorkState()
RESULTS = replace(RECEIVED, has_results=True)
STARTED = replace(RESULTS, assessment=State.DRAFT, answered=3, total=40,
                  submit_problems=("37 item(s) not answered: SUB-04 …",))
DETERMINED = replace(STARTED, determination_recorded_by=RIVERA)
ANSWERED = replace(DETERMINED, answered=40, submit_problems=())
SUBMITTED = replace(ANSWERED, assessment=State.SUBMITTED, submitted_by=RIVERA)
RETURNED = replace(SUBMITTED, assessment=State.RETURNED)
DET_APPROVED = replace(SUBMITTED, determination_approved_by=OKAFOR)
APPROVED = replace(DET_APPROVED, assessment=State.APPROVED)
BUILT = replace(APPROVED, report_state="built", report_label="WS-1-1")
SIGNED = replace(BUILT, report_state="signed", report_signed_by=RIVERA)
COUNTERSIGNED = replace(SIGNED, report_state="countersigned")
RELEASED = replace(COUNTERSIGNED, released=True)
WITHDRAWN = replace(STARTED, withdrawn=True)

STAGES = [
    (RECEIVED, Stage.RECEIVED), (RESULTS, Stage.IN_REVIEW), (STARTED, Stage.IN_REVIEW),
    (DETERMINED, Stage.DETERMINATION), (ANSWERED, Stage.DETERMINATION), (SUBMITTED, Stage.FINDINGS_DRAFTED),
    (RETURNED, Stage.DETERMINATION), (DET_APPROVED, Stage.FINDINGS_DRAFTED), (APPROVED, Stage.APPROVED),
    (BUILT, Stage.APPROVED), (SIGNED, Stage.SIGNED), (COUNTERSIGNED, Stage.SIGNED), (RELEASED, Stage.RELEASED),
    (WITHDRAWN, Stage.WITHDRAWN),
]

# For the reviewer (who recorded, submitted and signed) and a second lead: what is allowed at each point.
ALLOWED_REVIEWER = {
    "RECEIVED": {Act.START_ASSESSMENT, Act.RECORD_DETERMINATION, Act.BUILD_REPORT, Act.WITHDRAW, Act.COMMENT},
    "STARTED": {Act.ANSWER, Act.RECORD_DETERMINATION, Act.BUILD_REPORT, Act.WITHDRAW, Act.COMMENT},
    "ANSWERED": {Act.ANSWER, Act.SUBMIT, Act.RECORD_DETERMINATION, Act.BUILD_REPORT, Act.WITHDRAW, Act.COMMENT},
    "SUBMITTED": {Act.RECORD_DETERMINATION, Act.BUILD_REPORT, Act.WITHDRAW, Act.COMMENT},
    "BUILT": {Act.SIGN, Act.RECORD_DETERMINATION, Act.BUILD_REPORT, Act.WITHDRAW, Act.COMMENT},
    "COUNTERSIGNED": {Act.EXPORT, Act.RECORD_DETERMINATION, Act.BUILD_REPORT, Act.WITHDRAW, Act.COMMENT},
    "RELEASED": {Act.EXPORT, Act.COMMENT},
    "WITHDRAWN": {Act.COMMENT},
}
LEAD_EXTRA = {
    "RECEIVED": {Act.ASSIGN},
    "STARTED": {Act.ASSIGN},
    "ANSWERED": {Act.ASSIGN, Act.APPROVE_DETERMINATION},
    "SUBMITTED": {Act.ASSIGN, Act.APPROVE_DETERMINATION, Act.RETURN},
    "BUILT": {Act.ASSIGN, Act.REOPEN},
    "COUNTERSIGNED": {Act.ASSIGN, Act.REOPEN},
    "RELEASED": {Act.REOPEN},
    "WITHDRAWN": set(),
}


@pytest.mark.parametrize(("work", "expected"), STAGES)
def test_stage_follows_the_work(work: WorkState, expected: Stage) -> None:
    assert stage(work) is expected
    assert expected.is_open == (expected not in (Stage.RELEASED, Stage.WITHDRAWN))


@pytest.mark.parametrize("name", sorted(ALLOWED_REVIEWER))
def test_reviewer_and_second_lead_actions_at_every_point(name: str) -> None:
    work = globals()[name]
    rev = {a for a, v in available_actions(work, ACTORS[Role.REVIEWER]).items() if v.allowed}
    assert rev == ALLOWED_REVIEWER[name]
    lead = {a for a, v in available_actions(work, ACTORS[Role.LEAD]).items() if v.allowed}
    countersign = {Act.COUNTERSIGN} if name == "SIGNED" else set()
    assert lead == ALLOWED_REVIEWER[name] | LEAD_EXTRA[name] | countersign


@pytest.mark.parametrize(("work", "_stage"), STAGES)
@pytest.mark.parametrize("role", list(Role))
def test_every_refusal_has_a_reason_and_roles_never_exceed_permissions(work: WorkState, _stage: Stage,
                                                                        role: Role) -> None:
    actor = ACTORS[role]
    for act, avail in available_actions(work, actor).items():
        if avail.allowed:
            assert _NEEDS[act] in ROLE_PERMISSIONS[role], (act, role)
            assert avail.reason == ""
        else:
            assert avail.reason.strip() and avail.refusal is not None
        if _NEEDS[act] not in ROLE_PERMISSIONS[role]:
            assert (avail.refusal is Refusal.ROLE and role.label in avail.reason) or act is Act.COUNTERSIGN


def test_auditor_and_admin_change_nothing_in_the_review() -> None:
    for work, _s in STAGES:
        for role in (Role.AUDITOR, Role.ADMIN):
            allowed = {a for a, v in available_actions(work, ACTORS[role]).items() if v.allowed}
            assert allowed <= ({Act.EXPORT} if role is Role.ADMIN else set()), (role, allowed)


def test_two_person_rules_name_the_rule() -> None:
    me = Actor(RIVERA, Role.LEAD)  # a lead who did the work cannot be its second person
    for work, act in ((SUBMITTED, Act.RETURN), (DET_APPROVED, Act.APPROVE), (ANSWERED, Act.APPROVE_DETERMINATION),
                      (SIGNED, Act.COUNTERSIGN)):
        avail = available_actions(work, me)[act]
        assert avail.refusal is Refusal.PERSON and "two-person rule" in avail.reason, (act, avail)


def test_approval_waits_for_the_determination_and_says_so() -> None:
    lead = ACTORS[Role.LEAD]
    assert "coverage determination is not recorded" in available_actions(
        replace(SUBMITTED, determination_recorded_by=None), lead)[Act.APPROVE].reason
    assert "not approved yet" in available_actions(SUBMITTED, lead)[Act.APPROVE].reason
    assert available_actions(DET_APPROVED, lead)[Act.APPROVE].allowed
    pending = replace(DET_APPROVED, approval_problems=("risk acceptance not yet approved by a lead: SEC-02",))
    assert "SEC-02" in available_actions(pending, lead)[Act.APPROVE].reason


def test_countersign_only_by_a_lead_and_sign_only_after_approval() -> None:
    assert available_actions(SIGNED, ACTORS[Role.REVIEWER])[Act.COUNTERSIGN].reason == (
        "Only a lead reviewer countersigns reports.")
    early = replace(SUBMITTED, report_state="built", report_label="WS-1-1")
    assert "a lead must approve it before the report is signed" in available_actions(
        early, ACTORS[Role.REVIEWER])[Act.SIGN].reason


def test_report_blockers_stop_the_build_with_the_settings_named() -> None:
    blocked = replace(APPROVED, report_blockers=("set 'Classified By' in the workstation settings first",))
    avail = available_actions(blocked, ACTORS[Role.REVIEWER])[Act.BUILD_REPORT]
    assert not avail.allowed and "Classified By" in avail.reason
    assert next_step(blocked).who == "administrator"


def test_next_step_says_what_and_who_at_every_point() -> None:
    expected = {
        "RECEIVED": ("imports the evaluation results", "reviewer"),
        "STARTED": ("answer the checklist (3/40 answered)", "reviewer"),
        "ANSWERED": ("waiting for a lead other than rivera to approve the coverage determination", "lead"),
        "SUBMITTED": ("approve the coverage determination", "lead"),
        "RETURNED": ("return comments", "reviewer"),
        "DET_APPROVED": ("waiting for a lead other than rivera to approve the assessment", "lead"),
        "APPROVED": ("builds the findings report", "reviewer"),
        "BUILT": ("signs the findings report", "reviewer"),
        "SIGNED": ("waiting for a lead other than rivera to countersign", "lead"),
        "COUNTERSIGNED": ("exports the release package", "reviewer"),
        "RELEASED": ("review is closed", ""),
        "WITHDRAWN": ("withdrew", ""),
    }
    for name, (text, who) in expected.items():
        step = next_step(globals()[name])
        assert text in step.text and step.who == who, (name, step)
    assert outstanding(RELEASED) == [] and outstanding(WITHDRAWN) == []


def test_an_unwritten_narrative_is_a_step_before_approval_but_blocks_nothing() -> None:
    """The narrative locks with the approval: an empty one is named as a reviewer's step while the
    assessment can still change, and the report cannot silently open without a bottom line."""
    done = replace(ANSWERED, answered=40, total=40)
    for work in (STARTED, done, SUBMITTED, RETURNED):
        steps = [s.text for s in outstanding(replace(work, narrative_written=False))]
        assert any("writes the narrative" in s for s in steps), work
        assert not any("writes the narrative" in s for s in (x.text for x in outstanding(work)))
    unwritten = replace(done, narrative_written=False)
    steps = [s.text for s in outstanding(unwritten)]
    assert steps.index(next(s for s in steps if "narrative" in s)) < steps.index(
        next(s for s in steps if "submits the assessment" in s))
    assert available_actions(unwritten, Actor(RIVERA, Role.REVIEWER)) == available_actions(
        done, Actor(RIVERA, Role.REVIEWER))  # a step to take, not a gate
    assert not any("narrative" in s.text for s in outstanding(replace(APPROVED, narrative_written=False)))
