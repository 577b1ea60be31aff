"""Assessment checklist: templates, answers, the rules an answer must meet, and the assessment
state machine (draft -> submitted -> approved | returned -> draft; approved is locked).

Pure: no Qt, no storage. The UI only draws the current state; app.services.assessment applies
these rules and records every transition (Electrum's wizard is the model: the flow lives here).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from app.model.errors import ValidationError
from app.model.markings import UNCLASSIFIED, Marking

MAX_JUSTIFICATION = 20_000


class Status(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"
    NOT_APPLICABLE = "not_applicable"
    RISK_ACCEPTED = "risk_accepted"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def hotkey(self) -> int:
        """1..6 in declaration order: the keyboard shortcut the guided review uses."""
        return list(Status).index(self) + 1

    @property
    def complete(self) -> bool:
        return self in COMPLETE

    @property
    def needs_justification(self) -> bool:
        return self in NEEDS_JUSTIFICATION

    @staticmethod
    def parse(text: str) -> Status:
        t = text.strip().lower().replace(" ", "_").replace("-", "_")
        try:
            return Status(t)
        except ValueError:
            raise ValidationError("status", f"unknown status {text!r}; one of "
                                  + ", ".join(s.value for s in Status)) from None


COMPLETE = frozenset({Status.SATISFIED, Status.NOT_SATISFIED, Status.NOT_APPLICABLE, Status.RISK_ACCEPTED})
NEEDS_JUSTIFICATION = frozenset({Status.NOT_SATISFIED, Status.NOT_APPLICABLE, Status.RISK_ACCEPTED})


# -- templates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateItem:
    id: str
    title: str
    guidance: str
    # Capability indicator this item can be pre-filled from (matches CapabilityRule.indicator in
    # the active rule set), e.g. "ctf_solving". None: always answered by hand.
    prefill: str | None = None


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    items: tuple[TemplateItem, ...]
    description: str = ""


@dataclass(frozen=True)
class Template:
    template_id: str
    version: int
    title: str
    sections: tuple[Section, ...]
    description: str = ""
    sha256: str = ""  # of the canonical JSON it was loaded from; set by the loader
    _index: dict[str, tuple[int, int]] = field(init=False, default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, tuple[int, int]] = {}
        for si, s in enumerate(self.sections):
            for ii, item in enumerate(s.items):
                if item.id in index:
                    raise ValidationError(f"items[{item.id}]", "duplicate item id")
                index[item.id] = (si, ii)
        object.__setattr__(self, "_index", index)

    def items(self) -> Iterator[TemplateItem]:
        for s in self.sections:
            yield from s.items

    @property
    def item_ids(self) -> list[str]:
        return list(self._index)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._index

    def item(self, item_id: str) -> TemplateItem:
        try:
            si, ii = self._index[item_id]
        except KeyError:
            raise ValidationError("item", f"{item_id!r} is not in template {self.label}") from None
        return self.sections[si].items[ii]

    def section_of(self, item_id: str) -> Section:
        self.item(item_id)
        return self.sections[self._index[item_id][0]]

    def neighbour(self, item_id: str, step: int) -> str:
        """Next (step=1) or previous (step=-1) item id in walking order; stays put at either end."""
        ids = self.item_ids
        pos = ids.index(item_id) if item_id in self._index else 0
        return ids[max(0, min(len(ids) - 1, pos + step))]

    @property
    def label(self) -> str:
        return f"{self.template_id} v{self.version}"


# -- answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    item_id: str
    status: Status = Status.NOT_STARTED
    justification: str = ""
    marking: Marking = UNCLASSIFIED
    risk_expiry: date | None = None
    risk_approved_by: str | None = None
    risk_approved_at: str | None = None
    updated_by: str = ""
    updated_at: str = ""

    @property
    def missing(self) -> str | None:
        """What keeps a chosen status from counting as answered (saved meanwhile, so nothing is lost)."""
        if self.status.needs_justification and not self.justification.strip():
            return f"a justification is required for '{self.status.label}'"
        if self.status is Status.RISK_ACCEPTED and self.risk_expiry is None:
            return "a risk acceptance needs an expiry date"
        return None

    @property
    def complete(self) -> bool:
        return self.status.complete and self.missing is None

    @property
    def risk_pending(self) -> bool:
        return self.status is Status.RISK_ACCEPTED and not self.risk_approved_by

    def content_differs(self, other: Answer) -> bool:
        return (self.status, self.justification, self.marking, self.risk_expiry) != (
            other.status, other.justification, other.marking, other.risk_expiry)


def validate_answer(answer: Answer, today: date) -> None:
    """Rules for a recorded answer (DOMAIN.md section 5). Raises ValidationError naming the field."""
    if len(answer.justification) > MAX_JUSTIFICATION:
        raise ValidationError("justification", f"must be at most {MAX_JUSTIFICATION:,} characters")
    if answer.status.needs_justification and not answer.justification.strip():
        raise ValidationError("justification", f"is required when the status is '{answer.status.label}' "
                              f"(item {answer.item_id})")
    if answer.status is Status.RISK_ACCEPTED:
        if answer.risk_expiry is None:
            raise ValidationError("risk expiry", f"a risk acceptance needs an expiry date (item {answer.item_id})")
        if answer.risk_expiry <= today:
            raise ValidationError("risk expiry", f"must be after today ({today.isoformat()}); "
                                  f"{answer.risk_expiry.isoformat()} is not (item {answer.item_id})")
    elif answer.risk_expiry is not None:
        raise ValidationError("risk expiry", "only a 'Risk accepted' answer carries an expiry")


def risk_expired(answer: Answer, today: date) -> bool:
    return answer.status is Status.RISK_ACCEPTED and answer.risk_expiry is not None and answer.risk_expiry <= today


# -- state machine -----------------------------------------------------------------------------


class State(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def editable(self) -> bool:
        return self in (State.DRAFT, State.RETURNED)


class Action(enum.StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    RESUME = "resume"  # returned -> draft, on the reviewer's first change after a return
    REOPEN = "reopen"  # approved -> draft: an explicit, recorded decision by a lead


TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.DRAFT, Action.SUBMIT): State.SUBMITTED,
    (State.SUBMITTED, Action.APPROVE): State.APPROVED,
    (State.SUBMITTED, Action.RETURN): State.RETURNED,
    (State.RETURNED, Action.RESUME): State.DRAFT,
    (State.APPROVED, Action.REOPEN): State.DRAFT,
}


def transition(state: State, action: Action) -> State:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        allowed = [a.value for (s, a) in TRANSITIONS if s is state]
        raise ValidationError(
            "state", f"cannot {action.value} an assessment that is {state.value}"
            + (f" (possible: {', '.join(allowed)})" if allowed else "")
        ) from None


def edit_refusal(state: State) -> str | None:
    """Why answers cannot change in `state`, or None when they can."""
    if state is State.APPROVED:
        return "the assessment is approved and locked; a lead must reopen it (a recorded action) before it can change"
    if state is State.SUBMITTED:
        return "the assessment is submitted for approval; it cannot change until a lead returns it"
    return None


# -- progress and readiness --------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def percent(self) -> int:
        return round(100 * self.fraction)

    def __str__(self) -> str:
        return f"{self.done}/{self.total}"


def section_progress(template: Template, answers: Mapping[str, Answer]) -> dict[str, Progress]:
    out = {}
    for s in template.sections:
        done = sum(1 for i in s.items if (a := answers.get(i.id)) is not None and a.complete)
        out[s.id] = Progress(done, len(s.items))
    return out


def overall_progress(template: Template, answers: Mapping[str, Answer]) -> Progress:
    per = section_progress(template, answers).values()
    return Progress(sum(p.done for p in per), sum(p.total for p in per))


def submission_problems(template: Template, answers: Mapping[str, Answer], today: date) -> list[str]:
    """Everything that stops a submit; empty when the assessment can go to a lead."""
    problems: list[str] = []
    open_items = [i.id for i in template.items() if not (a := answers.get(i.id)) or not a.status.complete]
    # Items with a final status but a missing justification/expiry are reported by validate_answer below.
    if open_items:
        shown = ", ".join(open_items[:8]) + (" …" if len(open_items) > 8 else "")
        problems.append(f"{len(open_items)} item(s) not answered: {shown}")
    for item in template.items():
        a = answers.get(item.id)
        if a is None:
            continue
        try:
            validate_answer(a, today)
        except ValidationError as exc:
            problems.append(str(exc))
    return problems


def approval_problems(template: Template, answers: Mapping[str, Answer], today: date) -> list[str]:
    problems = submission_problems(template, answers, today)
    pending = [a.item_id for a in answers.values() if a.item_id in template and a.risk_pending]
    if pending:
        problems.append("risk acceptance not yet approved by a lead: " + ", ".join(sorted(pending)))
    return problems


# -- moving to a newer template version --------------------------------------------------------


@dataclass(frozen=True)
class TemplateChange:
    kind: str  # added | removed | reworded | moved
    item_id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.item_id}: {self.kind} — {self.detail}"


def carry_forward(old: Template, new: Template, answers: Mapping[str, Answer]
                  ) -> tuple[dict[str, Answer], list[TemplateChange]]:
    """Answers for `new` (kept where item ids match) and the list of what changed between versions.

    A carried answer whose item was reworded goes back to 'In progress' when it was complete, so a
    person re-checks it against the new wording; its justification and marking stay.
    """
    if new.template_id != old.template_id:
        raise ValidationError("template", f"{new.label} is a different template from {old.label}")
    if new.version <= old.version:
        raise ValidationError("template", f"{new.label} is not newer than {old.label}")
    changes: list[TemplateChange] = []
    carried: dict[str, Answer] = {}
    for item in new.items():
        if item.id not in old:
            changes.append(TemplateChange("added", item.id, item.title))
            continue
        before = old.item(item.id)
        answer = answers.get(item.id)
        if (before.title, before.guidance) != (item.title, item.guidance):
            changes.append(TemplateChange("reworded", item.id, f"{before.title!r} -> {item.title!r}"
                                          if before.title != item.title else "guidance changed"))
            if answer is not None and answer.status.complete:
                answer = replace(answer, status=Status.IN_PROGRESS, risk_expiry=None, risk_approved_by=None,
                                 risk_approved_at=None)
        if old.section_of(item.id).id != new.section_of(item.id).id:
            changes.append(TemplateChange("moved", item.id,
                                          f"from section {old.section_of(item.id).id} to {new.section_of(item.id).id}"))
        if answer is not None:
            carried[item.id] = answer
    for item in old.items():
        if item.id not in new:
            kept = " (its answer stays in the history)" if item.id in answers else ""
            changes.append(TemplateChange("removed", item.id, item.title + kept))
    return carried, changes
