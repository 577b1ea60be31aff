"""What a lead approves: the summary shown before an assessment is approved and locked, and the
rule for when an answer departs from the rule set's suggestion."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from app.model.checklist import Status


def departs_from(suggested: str, status: Status) -> bool:
    """A final answer that departs from a complete suggestion (an override, which needs a
    justification). 'Risk accepted' on a 'Not satisfied' suggestion agrees with it: the failure is
    what is accepted."""
    if not suggested or not status.complete or status.value == suggested:
        return False
    return not (suggested == Status.NOT_SATISFIED.value and status is Status.RISK_ACCEPTED)


@dataclass(frozen=True)
class Override:
    item_id: str
    suggested: Status
    answered: Status
    reason: str  # the justification given for departing


@dataclass(frozen=True)
class RiskAcceptance:
    item_id: str
    expiry: str
    approved_by: str  # '' while pending


@dataclass(frozen=True)
class ApprovalSummary:
    total: int
    by_status: dict[Status, int]
    overrides: tuple[Override, ...]
    risks: tuple[RiskAcceptance, ...]
    findings_by_severity: dict[str, int]  # severity value -> count
    determination: str  # outcome and who approved it, or what is missing
    items_approved: int  # approved one by one by a lead
    marking: str
    narrative: str = ""  # what the narrative holds, or that it is empty (it locks with the approval)

    def lines(self) -> list[str]:
        counts = ", ".join(f"{n} {s.label.lower()}" for s, n in self.by_status.items() if n)
        out = [f"Overall marking: {self.marking}",
               f"Checklist: {self.total} items — {counts or 'none answered'}",
               f"Items approved one by one: {self.items_approved} of {self.total}",
               f"Coverage determination: {self.determination}"]
        if self.overrides:
            out.append(f"Overrides of rule-set suggestions ({len(self.overrides)}):")
            out += [f"  {o.item_id}: suggested {o.suggested.label.lower()}, answered {o.answered.label.lower()} — "
                    f"{o.reason[:160]}" for o in self.overrides]
        else:
            out.append("Overrides of rule-set suggestions: none")
        if self.risks:
            out.append(f"Risk acceptances ({len(self.risks)}):")
            out += [f"  {r.item_id}: expires {r.expiry}, " + (f"approved by {r.approved_by}" if r.approved_by
                                                               else "NOT YET APPROVED") for r in self.risks]
        else:
            out.append("Risk acceptances: none")
        sev = ", ".join(f"{n} {s}" for s, n in self.findings_by_severity.items() if n)
        out.append(f"Findings: {sev or 'none'}")
        if self.narrative:
            out.append(f"Narrative: {self.narrative}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def count_statuses(statuses: list[Status]) -> dict[Status, int]:
    c = Counter(statuses)
    return {s: c.get(s, 0) for s in Status}


@dataclass(frozen=True)
class ItemApproval:
    """A lead's approval of one answer, pinned to the digest of the answer as approved."""

    item_id: str
    answer_digest: str
    approved_by: str
    approved_at: str
