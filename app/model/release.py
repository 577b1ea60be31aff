"""Releasable versions of a findings report (issue 16, point 2): what a partner may receive.

`compute` walks every portion of the full report (title, submission summary, narrative and
executive summary, coverage rows, checklist items, findings with each piece of quoted evidence
and each linked vulnerability, benchmark rows, the benchmark-evidence section, vulnerability
annex rows with their TLP and embargo) and asks the one releasability rule,
`app.model.partners.withholding`, about each. What is releasable is kept; the rest is withheld.
The release's overall marking is the roll-up of the kept portions only, and the release carries a
statement of what was withheld: counts per section and per reason category, never the content.

Derived portions stay at least as high as their sources (report_markings.derive runs on the full
report first): a coverage outcome computed from a withheld row is withheld with it; a finding that
is withheld takes its evidence and vulnerabilities with it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from app.model.markings import UNCLASSIFIED, Level, Marking, rollup
from app.model.narrative import Narrative
from app.model.partners import TLP_ORDER, Partner, PartnerKind, withholding
from app.model.report import (
    ChecklistLink,
    CoverageDetermination,
    Portion,
    ReportFinding,
    ReportInput,
    SubmissionSummary,
)
from app.model.report_markings import derive
from app.model.vulnerabilities import Tlp

# Sections as the withheld statement names them, in report order.
TITLE = "title"
SUBMISSION = "submission summary"
NARRATIVE = "executive summary"
COVERAGE = "coverage determination"
CHECKLIST = "checklist items"
FINDINGS = "findings"
EVIDENCE = "quoted evidence"
LINKED = "linked vulnerabilities"
BENCHMARKS = "benchmark results"
BENCHMARK_EVIDENCE = "benchmark evidence"
ANNEX = "vulnerability annex rows"
SECTIONS = (TITLE, SUBMISSION, NARRATIVE, COVERAGE, CHECKLIST, FINDINGS, EVIDENCE, LINKED, BENCHMARKS,
            BENCHMARK_EVIDENCE, ANNEX)
WITHHELD_HEADING = "Withheld from this release"


@dataclass(frozen=True)
class Line:
    """One portion as the side-by-side shows it: its section, marking and text, and (on the full
    side) every reason it was withheld; () means it is in the release."""

    section: str
    marking: Marking
    text: str
    reasons: tuple[str, ...] = ()

    @property
    def withheld(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True)
class Release:
    partner: Partner
    own: bool  # the partner is the developer that submitted the model
    control_number: str
    released: ReportInput
    full_lines: tuple[Line, ...]  # the full report, withheld portions carrying their reasons
    released_lines: tuple[Line, ...]

    @property
    def marking(self) -> Marking:
        return self.released.overall_marking()

    @property
    def withheld(self) -> tuple[Line, ...]:
        return tuple(line for line in self.full_lines if line.withheld)

    def _kept_vulnerabilities(self) -> Iterator[tuple[str, date | None]]:
        for v in self.released.vulnerabilities or ():
            yield v.tlp, v.embargo_until
        for f in self.released.findings:
            yield from ((v.tlp, v.embargo_until) for v in f.vulnerabilities)

    @property
    def tlp(self) -> Tlp | None:
        """The most restricted TLP of the vulnerability content kept (None: the release holds none)."""
        kept = [Tlp(t) for t, _ in self._kept_vulnerabilities() if t]
        return max(kept, key=TLP_ORDER.index) if kept else None

    @property
    def embargo_until(self) -> date | None:
        """The latest embargo still in force over the vulnerability content kept (only a developer's own
        release keeps embargoed content; a lapsed embargo holds nothing back)."""
        built = self.released.generated_at.date()
        dates = [d for _, d in self._kept_vulnerabilities() if d is not None and d > built]
        return max(dates) if dates else None

    def counts(self) -> dict[str, int]:
        """Withheld portions per section (report order; sections with none left out)."""
        c = Counter(line.section for line in self.withheld)
        return {s: c[s] for s in SECTIONS if c[s]}

    def reason_counts(self) -> dict[str, int]:
        """Withheld portions per reason category (a portion withheld for two reasons counts in both)."""
        c = Counter(cat for line in self.withheld for cat in dict.fromkeys(category(r) for r in line.reasons))
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def category(reason: str) -> str:
    """A withholding reason without anything about the withheld content (no level, no list, no date)."""
    if reason.startswith("marked "):
        return "above the classification the partner may receive"
    if reason.endswith("does not hold"):
        return "needs an access the partner does not hold"
    if reason.startswith("foreign government information"):
        return "foreign government information"
    if reason.startswith("REL TO"):
        return "REL TO list does not include the partner"
    if reason.startswith("classified and not marked REL TO"):
        return "classified and not released to foreign partners"
    if reason.startswith("TLP:"):
        return "TLP more restricted than the partner accepts"
    if reason.startswith("under embargo"):
        return "under embargo"
    return reason.split(":", 1)[0]  # NOFORN, ORCON, FED ONLY, PROPIN, ...


def is_own(partner: Partner, submission: SubmissionSummary) -> bool:
    """The partner is the developer that submitted the model (its name as submissions record it)."""
    return (partner.kind == PartnerKind.DEVELOPER
            and partner.developer.strip().casefold() == submission.developer.strip().casefold() != "")


def neutral_title(control_number: str, partner: Partner) -> str:
    return f"Release {control_number} to {partner.name}"


def statement(counts: dict[str, int], reasons: dict[str, int], recipient: str) -> str:
    """The Withheld statement printed in the release: the recipient and counts only."""
    head = f"{WITHHELD_HEADING} for {recipient}"
    if not counts:
        return f"{head}: nothing. Every portion of the full report is releasable to the recipient."
    total = sum(counts.values())
    per_section = "; ".join(f"{section} {n}" for section, n in counts.items())
    per_reason = "; ".join(f"{why} {n}" for why, n in reasons.items())
    noun = "portion was" if total == 1 else "portions were"
    return (f"{head}: {total} {noun} withheld because they are not releasable to the recipient. "
            f"By section: {per_section}. By reason: {per_reason}. Their content is not in this release.")


Decide = Callable[[Marking, str, "date | None"], tuple[str, ...]]


class _Walker:
    """Decides each portion once (`decide` names the reasons to withhold it), collecting the lines."""

    def __init__(self, decide: Decide) -> None:
        self.decide = decide
        self.lines: list[Line] = []

    def keep(self, section: str, marking: Marking, text: str, *, tlp: str = "",
             embargo_until: date | None = None) -> bool:
        reasons = self.decide(marking, tlp, embargo_until)
        self.lines.append(Line(section, marking, text, reasons))
        return not reasons


def _submission_text(sub: SubmissionSummary) -> str:
    flop = f"; training compute {sub.training_flop:.3g} FLOP ({sub.compute_estimate})" if sub.training_flop else ""
    return (f"Submission #{sub.id}: {sub.display_name}; {sub.modality} {sub.access_method}".rstrip() + flop).strip()


def _withheld_submission(sub: SubmissionSummary) -> SubmissionSummary:
    # Only the number and the dates (unclassified on every report's cover) remain.
    return SubmissionSummary(sub.id, "(withheld)", "", "", sub.received, sub.planned_release)


def _narrative(w: _Walker, n: Narrative) -> Narrative:
    bottom = n.bottom_line if n.bottom_line.strip() and w.keep(NARRATIVE, n.bottom_line_marking, n.bottom_line) \
        else ""
    judgments = tuple(j for j in n.judgments if w.keep(NARRATIVE, j.marking, j.text))
    recs = n.recommendations if n.recommendations.strip() and w.keep(NARRATIVE, n.recommendations_marking,
                                                                     n.recommendations) else ""
    return Narrative(bottom, n.bottom_line_marking if bottom else UNCLASSIFIED, judgments, recs,
                     n.recommendations_marking if recs else UNCLASSIFIED)


def _coverage(w: _Walker, cov: CoverageDetermination | None) -> CoverageDetermination | None:
    if cov is None:
        return None
    rows = tuple(r for r in cov.rows
                 if w.keep(COVERAGE, r.marking, f"{r.rule}: inputs {r.inputs}; threshold {r.threshold}; {r.outcome}"))
    if w.keep(COVERAGE, cov.marking, f"Outcome: {cov.outcome}. {cov.rationale}".strip()):
        return dataclasses.replace(cov, rows=rows)
    # The outcome is computed from every row: when it is withheld, so is the rationale.
    return dataclasses.replace(cov, outcome="withheld from this release", rationale="", rows=rows,
                               marking=rollup(r.marking for r in rows))


def _finding(w: _Walker, f: ReportFinding, withheld_items: set[str]) -> ReportFinding | None:
    body = " ".join(p for p in (f"{f.id} {f.title}.", f.description, f.impact, f.recommendation) if p.strip())
    if not w.keep(FINDINGS, f.marking, body):
        return None
    evidence = tuple(e for e in f.evidence if w.keep(EVIDENCE, e.marking, f"{f.id}: {e.describe()}"))
    vulns = tuple(v for v in f.vulnerabilities
                  if w.keep(LINKED, v.marking, f"{f.id}: {v.id} {v.title}", tlp=v.tlp, embargo_until=v.embargo_until))
    # A linked checklist item that is withheld keeps only its template reference, not its status.
    links = tuple(ChecklistLink(link.id, link.title) if link.id in withheld_items else link
                  for link in f.checklist_items)
    return dataclasses.replace(f, evidence=evidence, vulnerabilities=vulns, checklist_items=links)


def _kept_markings(r: ReportInput) -> Iterator[Marking]:
    """The release's portions except its title (which then takes the release's level)."""
    rest = dataclasses.replace(r, title_marking=UNCLASSIFIED)
    yield from rest.portion_markings()


def _walk(full: ReportInput, w: _Walker) -> tuple[ReportInput, bool]:
    """The report with every portion `w` withholds left out, and whether its title may stay."""
    title_ok = w.keep(TITLE, full.title_marking, full.title)
    sub_ok = w.keep(SUBMISSION, full.submission.marking, _submission_text(full.submission))
    narrative = _narrative(w, full.narrative)
    summary = tuple(p for p in full.executive_summary if w.keep(NARRATIVE, p.marking, p.text))
    coverage = _coverage(w, full.coverage)
    withheld_items: set[str] = set()
    sections = []
    for section in full.checklist:
        items = []
        for item in section.items:
            text = f"{item.id} {item.title}: {item.status}. {item.justification}".strip()
            if w.keep(CHECKLIST, item.marking, text):
                items.append(item)
            else:
                withheld_items.add(item.id)
        if items:
            sections.append(dataclasses.replace(section, items=tuple(items)))
    findings = tuple(x for x in (_finding(w, f, withheld_items) for f in full.findings) if x is not None)
    benchmarks = tuple(b for b in full.benchmarks
                       if w.keep(BENCHMARKS, b.marking, f"{b.benchmark} {b.task} {b.metric} "
                                                        f"{'' if b.value is None else f'{b.value:.4g}'}".strip()))
    evidence = full.benchmark_evidence
    if evidence is not None and not w.keep(BENCHMARK_EVIDENCE, evidence.marking,
                                           f"Benchmark evidence: {len(evidence.runs)} runs, plan, trends"):
        evidence = None
    annex = None
    if full.vulnerabilities is not None:
        kept = tuple(v for v in full.vulnerabilities
                     if w.keep(ANNEX, v.marking, f"{v.id} {v.title} ({v.severity}; {v.status})", tlp=v.tlp,
                               embargo_until=v.embargo_until))
        # An annex whose every row is withheld is left out rather than saying none were recorded.
        annex = kept if kept or not full.vulnerabilities else None
    body = dataclasses.replace(
        full, submission=full.submission if sub_ok else _withheld_submission(full.submission),
        narrative=narrative, executive_summary=summary, coverage=coverage, checklist=tuple(sections),
        findings=findings, benchmarks=benchmarks, benchmark_evidence=evidence, vulnerabilities=annex,
    )
    return body, title_ok


def compute(full: ReportInput, partner: Partner, *, control_number: str, today: date) -> Release:
    """The release of `full` to `partner`: every portion `withholding` names a reason for is left out."""
    full = derive(full)
    own = is_own(partner, full.submission)

    def decide(marking: Marking, tlp: str, embargo_until: date | None) -> tuple[str, ...]:
        return withholding(partner, marking, tlp=Tlp(tlp) if tlp else None, embargo_until=embargo_until,
                           today=today, own=own)

    w = _Walker(decide)
    released, title_ok = _walk(full, w)
    released = dataclasses.replace(
        released, control_number=control_number,
        # markings of omitted evidence count only where that evidence could have gone to the partner
        extra_markings=tuple(m for m in full.extra_markings if not decide(m, "", None)))
    if not title_ok:
        released = dataclasses.replace(released, title=neutral_title(control_number, partner),
                                       title_marking=rollup(_kept_markings(released)))
    level = rollup(_kept_markings(released))
    full_lines = tuple(w.lines)
    draft = Release(partner, own, control_number, released, full_lines, ())
    text = statement(draft.counts(), draft.reason_counts(), partner.name)
    # The statement says only what the release's own level already allows: it is marked at that level.
    released = dataclasses.replace(released, executive_summary=(*released.executive_summary, Portion(text, level)))
    released = _blocks(released, full)
    return Release(partner, own, control_number, released, full_lines, lines(released))


def _blocks(released: ReportInput, full: ReportInput) -> ReportInput:
    """Authority blocks only where the release's own content needs them (taken from the full report)."""
    overall = released.overall_marking()
    has_cui = any(m.level == Level.CUI for m in released.portion_markings())
    return dataclasses.replace(
        released, classification_block=full.classification_block if overall.level.classified else None,
        cui_block=full.cui_block if has_cui else None)


def lines(r: ReportInput) -> tuple[Line, ...]:
    """Every portion of a report as text, in report order (the released side of the side-by-side)."""
    w = _Walker(lambda marking, tlp, embargo: ())
    _walk(r, w)
    return tuple(w.lines)
