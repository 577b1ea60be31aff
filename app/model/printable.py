"""Printable working documents (issue 12, point 4): the checklist, the findings register and the
vulnerability register, each a marked document like the report (banners on every page, a portion
mark on every portion). Its overall marking is the roll-up of what it prints: computed, never typed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.report import ChecklistSection, ClassificationBlock, CuiBlock, ReportFinding, VulnerabilityRow


class DocumentKind(enum.StrEnum):
    CHECKLIST = "checklist"
    FINDINGS = "findings"
    VULNERABILITIES = "vulnerabilities"
    DISSEMINATION = "dissemination"  # built by app.services.dissemination (reports/pdf_dissemination.py)

    @property
    def label(self) -> str:
        return {"checklist": "Assessment checklist", "findings": "Findings register",
                "vulnerabilities": "Vulnerability register", "dissemination": "Dissemination log"}[self.value]


@dataclass(frozen=True)
class PrintableInput:
    kind: DocumentKind
    title: str  # e.g. "Assessment checklist: Northwind AI Aurora 4.1"
    title_marking: Marking  # a title naming a submission is marked at least as the submission
    reference: str  # printed in every page's footer, e.g. "FRW-ABC123 submission 00001 checklist"
    generated_at: datetime
    workstation_name: str
    printed_by: str
    facts: tuple[tuple[Marking, str], ...] = ()  # marked lines under the title (state, counts, filter)
    checklist: tuple[ChecklistSection, ...] = ()
    findings: tuple[ReportFinding, ...] = ()
    vulnerabilities: tuple[VulnerabilityRow, ...] = ()
    classification_block: ClassificationBlock | None = None
    cui_block: CuiBlock | None = None

    def portion_markings(self) -> Iterator[Marking]:
        yield self.title_marking
        yield from (m for m, _ in self.facts)
        for section in self.checklist:
            yield from (i.marking for i in section.items)
        for f in self.findings:
            yield from f.quoted_markings()
        yield from (v.marking for v in self.vulnerabilities)

    def overall_marking(self) -> Marking:
        return rollup([UNCLASSIFIED, *self.portion_markings()])
