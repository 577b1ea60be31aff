"""The review lifecycle and "which actions are available to this person now, and why not".

Pure: a `WorkState` is a snapshot of one submission's work (assessment, coverage determination,
report, release), gathered by app.services.workflow. From it this module computes
- the lifecycle stage (never typed by anyone: it follows the work),
- the outstanding steps, the first of which is "the next step and who must take it",
- for a given person, every action with allowed / the reason it is not.
Services refuse with that reason; the UI disables the action and shows the reason as its tooltip.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from app.model.accounts import ROLE_PERMISSIONS, Permission, Role
from app.model.checklist import State


class Stage(enum.StrEnum):
    RECEIVED = "received"
    IN_REVIEW = "in review"
    DETERMINATION = "determination"
    FINDINGS_DRAFTED = "findings drafted"
    APPROVED = "approved"
    SIGNED = "signed"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self not in (Stage.RELEASED, Stage.WITHDRAWN)

    @property
    def rank(self) -> int:
        """Position along the journey (sorting: earliest stage first)."""
        return list(Stage).index(self)

    @property
    def label(self) -> str:
        return {Stage.RELEASED: "released · closed"}.get(self, self.value)


class Act(enum.StrEnum):
    START_ASSESSMENT = "start assessment"
    ANSWER = "answer checklist"
    SUBMIT = "submit for approval"
    APPROVE = "approve assessment"
    RETURN = "return assessment"
    REOPEN = "reopen assessment"
    APPROVE_RISK = "approve risk acceptance"
    RECORD_DETERMINATION = "record coverage determination"
    APPROVE_DETERMINATION = "approve coverage determination"
    BUILD_REPORT = "build report"
    SIGN = "sign report"
    COUNTERSIGN = "countersign report"
    EXPORT = "export release package"
    WITHDRAW = "withdraw submission"
    ASSIGN = "assign reviewers"
    COMMENT = "comment"


class Refusal(enum.StrEnum):
    """Why an action is refused: services raise PermissionDenied for ROLE and PERSON, ValidationError
    (the work is not ready) for STATE."""

    ROLE = "role"
    PERSON = "person"
    STATE = "state"


@dataclass(frozen=True)
class Availability:
    act: Act
    reason: str = ""  # empty: allowed
    refusal: Refusal | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class Actor:
    username: str
    role: Role
    disabled: bool = False

    def can(self, permission: Permission) -> bool:
        return not self.disabled and permission in ROLE_PERMISSIONS[self.role]


@dataclass(frozen=True)
class StageFacts:
    """The columns a submission's lifecycle stage is computed from (one query for many submissions)."""

    submission_id: int
    status: str  # the submission's own status: only 'withdrawn' counts for the lifecycle
    has_results: bool
    assessment_state: str | None
    submitted_by: str | None
    determination_recorded_by: str | None
    determination_approved_by: str | None
    report_state: str | None
    report_label: str
    report_signed_by: str | None
    released: bool


@dataclass(frozen=True)
class WorkState:
    """What the lifecycle and the action rules need to know about one submission."""

    withdrawn: bool = False
    has_results: bool = False
    assessment: State | None = None
    submitted_by: str | None = None
    answered: int = 0
    total: int = 0
    submit_problems: tuple[str, ...] = ()  # what stops a submit (checklist rules)
    approval_problems: tuple[str, ...] = ()  # what stops an approval besides the determination
    pending_risks: tuple[tuple[str, str], ...] = ()  # (item id, written by) awaiting a lead
    determination_recorded_by: str | None = None  # None: no current determination
    determination_approved_by: str | None = None
    findings: int = 0
    report_state: str | None = None  # built | signed | countersigned (the report concerned)
    report_label: str = ""  # its control number, for messages
    report_signed_by: str | None = None
    released: bool = False  # the countersigned report was exported
    report_blockers: tuple[str, ...] = ()  # settings the report needs that are not set
    assigned: tuple[str, ...] = field(default_factory=tuple)  # reviewers assigned by a lead
    narrative_written: bool = True  # a bottom line, judgment or recommendation exists (locks with approval)


@dataclass(frozen=True)
class Step:
    """One outstanding step: what must happen and who must do it."""

    text: str
    who: str  # "reviewer", "lead", "administrator", "" when nothing is left

    def __str__(self) -> str:
        return self.text


def stage(w: WorkState) -> Stage:
    if w.withdrawn:
        return Stage.WITHDRAWN
    # Report states count only on an approved assessment: reopening sends the work back.
    if w.assessment is State.APPROVED:
        if w.released:
            return Stage.RELEASED
        if w.report_state in ("signed", "countersigned"):
            return Stage.SIGNED
        return Stage.APPROVED
    if w.assessment is State.SUBMITTED:
        return Stage.FINDINGS_DRAFTED
    if w.determination_recorded_by:
        return Stage.DETERMINATION
    if w.assessment is not None or w.has_results:
        return Stage.IN_REVIEW
    return Stage.RECEIVED


def _not(name: str | None) -> str:
    return f" other than {name}" if name else ""


def outstanding(w: WorkState) -> list[Step]:
    """Every step still to take, in the order the journey takes them (empty: nothing left)."""
    s = stage(w)
    if s is Stage.WITHDRAWN:
        return []
    if s is Stage.RELEASED:
        return []
    steps: list[Step] = []
    if w.assessment is None:
        steps.append(Step("a reviewer imports the evaluation results and starts the checklist"
                          if not w.has_results else "a reviewer starts the checklist", "reviewer"))
    elif w.assessment is State.RETURNED:
        steps.append(Step("a reviewer addresses the lead's return comments and submits again", "reviewer"))
    elif w.assessment is State.DRAFT and w.answered < w.total:
        steps.append(Step(f"reviewers answer the checklist ({w.answered}/{w.total} answered)", "reviewer"))
    if w.determination_recorded_by is None:
        steps.append(Step("a reviewer records the coverage determination", "reviewer"))
    elif not w.determination_approved_by:
        steps.append(Step(f"waiting for a lead{_not(w.determination_recorded_by)} to approve the coverage "
                          "determination", "lead"))
    if w.assessment in (State.DRAFT, State.RETURNED, State.SUBMITTED) and not w.narrative_written:
        steps.append(Step("a reviewer writes the narrative (bottom line, key judgments, recommendations) in the "
                          "Narrative tab: the report opens with it, and it locks when the assessment is approved",
                          "reviewer"))
    if w.assessment is State.DRAFT and w.answered >= w.total:
        if w.submit_problems:
            steps.append(Step("a reviewer completes the checklist: " + w.submit_problems[0], "reviewer"))
        else:
            steps.append(Step("a reviewer submits the assessment for approval", "reviewer"))
    if w.pending_risks and w.assessment is not State.APPROVED:
        steps.append(Step(f"waiting for a lead to approve {len(w.pending_risks)} risk acceptance(s): "
                          + ", ".join(i for i, _ in w.pending_risks), "lead"))
    if w.assessment is State.SUBMITTED:
        steps.append(Step(f"waiting for a lead{_not(w.submitted_by)} to approve the assessment or return it",
                          "lead"))
    if w.assessment is State.APPROVED:
        if w.report_state is None:
            if w.report_blockers:
                steps.append(Step("an administrator sets " + ", ".join(w.report_blockers)
                                  + " in Settings (the report needs them)", "administrator"))
            steps.append(Step("a reviewer builds the findings report", "reviewer"))
        elif w.report_state == "built":
            steps.append(Step("a reviewer signs the findings report", "reviewer"))
        elif w.report_state == "signed":
            steps.append(Step(f"waiting for a lead{_not(w.report_signed_by)} to countersign the report", "lead"))
        else:
            steps.append(Step("a reviewer or lead exports the release package to labelled media", "reviewer"))
    return steps


def next_step(w: WorkState) -> Step:
    steps = outstanding(w)
    if steps:
        return steps[0]
    if stage(w) is Stage.WITHDRAWN:
        return Step("nothing: the developer withdrew the submission", "")
    return Step("nothing: the countersigned findings were released; the review is closed", "")


# -- who may do what now -----------------------------------------------------------------------

_NEEDS: dict[Act, Permission] = {
    Act.START_ASSESSMENT: Permission.ASSESS,
    Act.ANSWER: Permission.ASSESS,
    Act.SUBMIT: Permission.ASSESS,
    Act.APPROVE: Permission.APPROVE,
    Act.RETURN: Permission.APPROVE,
    Act.REOPEN: Permission.APPROVE,
    Act.APPROVE_RISK: Permission.APPROVE,
    Act.RECORD_DETERMINATION: Permission.ASSESS,
    Act.APPROVE_DETERMINATION: Permission.APPROVE,
    Act.BUILD_REPORT: Permission.ASSESS,
    Act.SIGN: Permission.SIGN,
    Act.COUNTERSIGN: Permission.APPROVE,
    Act.EXPORT: Permission.EXPORT,
    Act.WITHDRAW: Permission.EDIT_SUBMISSIONS,
    Act.ASSIGN: Permission.APPROVE,
    Act.COMMENT: Permission.ASSESS,
}


def _state_rule(act: Act, w: WorkState, who: str) -> tuple[str, Refusal] | None:
    """(reason, kind) when `act` cannot be taken in `w` by `who`; None when it can."""
    state = w.assessment
    no_assessment = "the checklist has not been started"
    if act is Act.START_ASSESSMENT:
        return ("the checklist is already started (one per submission)", Refusal.STATE) if state else None
    if act in (Act.ANSWER, Act.SUBMIT):
        if state is None:
            return no_assessment, Refusal.STATE
        if state is State.SUBMITTED:
            return ("the assessment is submitted for approval; it cannot change until a lead returns it",
                    Refusal.STATE)
        if state is State.APPROVED:
            return ("the assessment is approved and locked; a lead must reopen it (a recorded action) before it "
                    "can change", Refusal.STATE)
        if act is Act.SUBMIT and w.submit_problems:
            return "cannot be submitted yet: " + "; ".join(w.submit_problems), Refusal.STATE
        return None
    if act in (Act.APPROVE, Act.RETURN):
        verb = "approved" if act is Act.APPROVE else "returned"
        if state is not State.SUBMITTED:
            where = "not started" if state is None else state.value
            return (f"the assessment is {where}; only a submitted assessment can be {verb}", Refusal.STATE)
        if w.submitted_by == who:
            return (f"You submitted this assessment; a different lead must {act.value.split()[0]} it "
                    "(two-person rule).", Refusal.PERSON)
        if act is Act.APPROVE:
            problems = list(w.approval_problems)
            if not w.determination_recorded_by or not w.determination_approved_by:
                problems.append("the coverage determination is not "
                                + ("recorded" if not w.determination_recorded_by else "approved yet")
                                + " (Coverage tab: a reviewer records it, another lead approves it)")
            if problems:
                return "cannot be approved yet: " + "; ".join(problems), Refusal.STATE
        return None
    if act is Act.REOPEN:
        return None if state is State.APPROVED else ("only an approved assessment is reopened", Refusal.STATE)
    if act is Act.APPROVE_RISK:
        if state is State.APPROVED:
            return "the assessment is approved and locked", Refusal.STATE
        if not w.pending_risks:
            return "no risk acceptance is waiting for approval", Refusal.STATE
        if all(by == who for _i, by in w.pending_risks):
            return ("You wrote the pending risk acceptance(s); another lead must approve them (two-person rule).",
                    Refusal.PERSON)
        return None
    if act is Act.RECORD_DETERMINATION:
        return None
    if act is Act.APPROVE_DETERMINATION:
        if not w.determination_recorded_by:
            return "no coverage determination is recorded yet", Refusal.STATE
        if w.determination_approved_by:
            return f"the coverage determination is already approved by {w.determination_approved_by}", Refusal.STATE
        if w.determination_recorded_by == who:
            return ("You recorded the coverage determination; a different lead must approve it (two-person rule).",
                    Refusal.PERSON)
        return None
    if act is Act.BUILD_REPORT:
        if w.report_blockers:
            return ("an administrator must first set " + ", ".join(w.report_blockers)
                    + " in Settings (the report's marking needs them)", Refusal.STATE)
        return None
    report = f"report {w.report_label}".strip() if w.report_label else "the report"
    if act is Act.SIGN:
        if w.report_state is None:
            return "no report has been built yet", Refusal.STATE
        if w.report_state != "built":
            return f"{report} is already {w.report_state}", Refusal.STATE
        if state is None:
            return ("this submission has no assessment; findings are signed only after a lead has approved the "
                    "assessment", Refusal.STATE)
        if state is not State.APPROVED:
            return (f"the assessment is {state.label.lower()}; a lead must approve it before the report is signed",
                    Refusal.STATE)
        return None
    if act is Act.COUNTERSIGN:
        if w.report_state != "signed":
            where = "not built" if w.report_state is None else w.report_state
            return f"{report} is {where}; the reviewer signs first", Refusal.STATE
        if w.report_signed_by == who:
            return "You signed this report; a different lead must countersign it (two-person rule).", Refusal.PERSON
        return None
    if act is Act.EXPORT:
        if w.report_state != "countersigned":
            where = "not built" if w.report_state is None else w.report_state
            return f"{report} is {where}; only countersigned reports leave the workstation", Refusal.STATE
        return None
    return None


def availability(w: WorkState, actor: Actor, act: Act) -> Availability:
    if act is Act.COUNTERSIGN and actor.role is not Role.LEAD:
        return Availability(act, "Only a lead reviewer countersigns reports.", Refusal.ROLE)
    if not actor.can(_NEEDS[act]):
        return Availability(act, f"Your role ({actor.role.label}) does not allow this action ({act.value}).",
                            Refusal.ROLE)
    s = stage(w)
    if s is Stage.WITHDRAWN and act is not Act.COMMENT:
        return Availability(act, "the submission is withdrawn", Refusal.STATE)
    if s is Stage.RELEASED and act not in (Act.COMMENT, Act.EXPORT, Act.REOPEN):
        return Availability(act, "the findings were released and the review is closed", Refusal.STATE)
    rule = _state_rule(act, w, actor.username)
    if rule is None:
        return Availability(act)
    return Availability(act, rule[0], rule[1])


def available_actions(w: WorkState, actor: Actor) -> dict[Act, Availability]:
    """Every action, each allowed or with the reason it is not (for `actor`, in state `w`)."""
    return {act: availability(w, actor, act) for act in Act}


@dataclass(frozen=True)
class Overview:
    """What every screen shows: where the review stands, what comes next, who acts, and what this
    person can do now."""

    submission_id: int
    stage: Stage
    next: Step
    steps: tuple[Step, ...]
    actions: dict[Act, Availability]

    def can(self, act: Act) -> bool:
        return self.actions[act].allowed

    def why_not(self, act: Act) -> str:
        return self.actions[act].reason

    @property
    def next_line(self) -> str:
        who = f" ({self.next.who})" if self.next.who else ""
        return f"Stage: {self.stage.label}. Next step: {self.next.text}{who}."
