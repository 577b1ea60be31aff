"""Findings section: an overview table, then each finding with its evidence, linked
vulnerabilities (CVSS v4) and checklist items. Every portion is marked from what it quotes."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from app.model.findings import Severity
from app.model.markings import UNCLASSIFIED, rollup
from app.model.report import ChecklistLink, ReportFinding, ReportInput
from reports.pdf_markings import clean
from reports.pdf_story import Story

# Severity colours (background, text): weight a reader sees before reading the word.
SEVERITY_COLOURS: dict[Severity, tuple[str, str]] = {
    Severity.CRITICAL: ("#7a0010", "#ffffff"),
    Severity.HIGH: ("#c2410c", "#ffffff"),
    Severity.MEDIUM: ("#f2c94c", "#000000"),
    Severity.LOW: ("#2f6fb3", "#ffffff"),
    Severity.INFORMATIONAL: ("#d5d9e0", "#000000"),
}


def ordered(r: ReportInput) -> list[ReportFinding]:
    return sorted(r.findings, key=lambda f: (f.severity.rank, f.id))


def _overview(s: Story, findings: list[ReportFinding]) -> None:
    rows: list[list[object]] = []
    style: list[tuple[object, ...]] = []
    sev_style = {sev: ParagraphStyle(f"sev-{sev.value}", parent=s.st.cell_bold, textColor=colors.HexColor(fg))
                 for sev, (_bg, fg) in SEVERITY_COLOURS.items()}
    # Columns nobody filled are left out rather than printed empty.
    with_status = any(f.status for f in findings)
    with_vulns = any(f.vulnerabilities for f in findings)
    for n, f in enumerate(findings, start=1):
        row: list[object] = [rollup([f.marking, *(v.marking for v in f.vulnerabilities)]).portion(), f.id, f.title,
                             Paragraph(clean(f.severity.value.capitalize()), sev_style[f.severity])]
        row += [f.status] if with_status else []
        row += [", ".join(v.id for v in f.vulnerabilities)] if with_vulns else []
        rows.append(row)
        style.append(("BACKGROUND", (3, n), (3, n), colors.HexColor(SEVERITY_COLOURS[f.severity][0])))
    marking = rollup(m for f in findings for m in (f.marking, *(v.marking for v in f.vulnerabilities)))
    header = ["Mark", "ID", "Title", "Severity", *(["Status"] if with_status else []),
              *(["Vulnerability"] if with_vulns else [])]
    weights = [0, 0, 8, 0.2, *([0.6] if with_status else []), *([0.6] if with_vulns else [])]
    s.table(marking, "Findings overview, most severe first", header, rows, weights=weights, style=style)


def _detail(s: Story, f: ReportFinding) -> None:
    s.heading(3, f"{f.id} {f.title}", f.marking, toc=False)
    facts = [f"Severity: {f.severity.value}"] + ([f"status: {f.status}"] if f.status else [])
    s.para(f.marking, " · ".join(facts))
    s.para(f.marking, f.description)
    if f.impact.strip():
        s.para(f.marking, f"Impact: {f.impact}")
    if f.recommendation.strip():
        s.para(f.marking, f"Recommendation: {f.recommendation}")
    # One paragraph per list (lines joined by <br/>): a finding with many references stays a handful
    # of flowables, which keeps 500 findings x 5 references inside the build-time budget.
    if f.evidence:
        lines = [f"{rollup(e.marking for e in f.evidence).portion()} Evidence:"]
        lines += [f"• {e.marking.portion()} {e.describe()}" for e in f.evidence]
        s.listing(lines)
    if f.vulnerabilities:
        lines = [f"{rollup(v.marking for v in f.vulnerabilities).portion()} Linked vulnerabilities:"]
        for v in f.vulnerabilities:
            score = f"CVSS v4 {v.cvss_score} ({v.severity}), {v.cvss_vector}" if v.cvss_vector else "not scored"
            status = f"; {v.status}" if v.status else ""
            lines.append(f"• {v.marking.portion()} {v.id} {v.title}: {score}{status}")
        s.listing(lines)
    links = f.checklist_items or tuple(ChecklistLink(i) for i in f.checklist_refs)
    if links:
        text = "; ".join(" ".join(p for p in (c.id, c.title, f"({c.status})" if c.status else "") if p)
                         for c in links)
        s.para(f.marking, f"Checklist items: {text}")


def findings(s: Story, r: ReportInput, num: str) -> None:
    s.heading(1, f"{num} Findings")
    if not r.findings:
        s.para(UNCLASSIFIED, "The review recorded no findings.")
        return
    register(s, r.findings)


def register(s: Story, items: tuple[ReportFinding, ...]) -> None:
    """The overview table, then each finding in full, most severe first."""
    ordered_items = sorted(items, key=lambda f: (f.severity.rank, f.id))
    _overview(s, ordered_items)
    for f in ordered_items:
        _detail(s, f)
