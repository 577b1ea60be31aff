"""Checklist section: a compact matrix of statuses by section, full rows only for the items a
reader must look at, and the complete list in an annex."""

from __future__ import annotations

from app.model.markings import UNCLASSIFIED, rollup
from app.model.report import ChecklistItem, ChecklistSection, ReportInput
from reports.pdf_format import count
from reports.pdf_story import Story

# Matrix columns: the statuses of DOMAIN.md section 5, in reading order.
STATUSES = ("satisfied", "not satisfied", "risk accepted", "not applicable", "in progress", "not started")
_SHORT = {"satisfied": "Satisfied", "not satisfied": "Not satisfied", "risk accepted": "Risk accepted",
          "not applicable": "N/A", "in progress": "In progress", "not started": "Not started"}


def base_status(item: ChecklistItem) -> str:
    """'risk accepted (approved by …, expires …)' -> 'risk accepted'."""
    for status in STATUSES:
        if item.status == status or item.status.startswith(status + " "):
            return status
    return item.status


def needs_attention(item: ChecklistItem) -> bool:
    return (base_status(item) in ("not satisfied", "not applicable", "risk accepted")
            or bool(item.justification.strip()) or bool(item.evidence))


def _rows(items: list[ChecklistItem]) -> list[list[object]]:
    return [[i.marking.portion(), f"{i.id} {i.title}", i.status, i.justification, "\n".join(i.evidence)]
            for i in items]


def status_matrix(s: Story, sections: tuple[ChecklistSection, ...]) -> None:
    used = [st for st in STATUSES if any(base_status(i) == st for sec in sections for i in sec.items)]
    other = any(base_status(i) not in STATUSES for sec in sections for i in sec.items)
    header = ["Section", *(_SHORT[st] for st in used), *(["Other"] if other else []), "Items"]
    rows: list[list[object]] = []
    for sec in sections:
        by = {st: sum(1 for i in sec.items if base_status(i) == st) for st in used}
        rest = sum(1 for i in sec.items if base_status(i) not in STATUSES)
        rows.append([f"{sec.id} {sec.title}", *(count(by[st]) if by[st] else "" for st in used),
                     *([count(rest) if rest else ""] if other else []), count(len(sec.items))])
    totals = [sum(1 for sec in sections for i in sec.items if base_status(i) == st) for st in used]
    rest_total = sum(1 for sec in sections for i in sec.items if base_status(i) not in STATUSES)
    rows.append(["All sections", *(count(t) for t in totals), *([count(rest_total)] if other else []),
                 count(sum(len(sec.items) for sec in sections))])
    marking = rollup(i.marking for sec in sections for i in sec.items)
    s.table(marking, "Checklist statuses by section (number of items)", header, rows,
            weights=[4] + [1] * (len(header) - 1))


def checklist(s: Story, r: ReportInput, num: str) -> None:
    s.heading(1, f"{num} Checklist results")
    if not r.checklist:
        s.para(UNCLASSIFIED, "No checklist answers are recorded.")
        return
    status_matrix(s, r.checklist)
    attention = [i for sec in r.checklist for i in sec.items if needs_attention(i)]
    if not attention:
        s.para(UNCLASSIFIED, "Every item is satisfied without remarks; the full list is in the annex.")
        return
    s.para(UNCLASSIFIED, "Items that are not satisfied, not applicable or risk accepted, or that carry a "
                         "justification or evidence, follow in full; the annex lists every item.")
    s.table(rollup(i.marking for i in attention), "Checklist items with a status or remark to read",
            ["Mark", "Item", "Status", "Justification", "Evidence"], _rows(attention), weights=[0, 3, 1.2, 5, 2.4])


def appendix(s: Story, r: ReportInput, title: str) -> None:
    s.heading(1, title)
    if not r.checklist:
        s.para(UNCLASSIFIED, "No checklist answers are recorded.")
        return
    every_item(s, r.checklist)


def every_item(s: Story, sections: tuple[ChecklistSection, ...]) -> None:
    """One table per section with every item, its status, justification and evidence."""
    for sec in sections:
        if not sec.items:
            continue
        s.table(rollup(i.marking for i in sec.items), f"{sec.id} {sec.title}: every item",
                ["Mark", "Item", "Status", "Justification", "Evidence"], _rows(list(sec.items)),
                weights=[0, 3, 1.2, 5, 2.4])
