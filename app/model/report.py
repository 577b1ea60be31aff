"""Everything a findings report shows, as plain data handed from services to reports/.

Services fill a ReportInput from storage (submission, assessment, results, vulnerabilities,
audit head). The PDF, OSCAL and findings-JSON writers read only this, so the same input gives
the same bytes. Every portion carries its own marking; the overall marking is the roll-up of
all of them (DOMAIN.md section 7) and is never typed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from app.model.benchmark_evidence import BenchmarkEvidence
from app.model.errors import ValidationError
from app.model.findings import Severity
from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.narrative import Narrative
from app.model.report_profile import DEFAULT_PROFILE, ReportProfile


@dataclass(frozen=True)
class Portion:
    """One paragraph of text with its own classification."""

    text: str
    marking: Marking = UNCLASSIFIED


@dataclass(frozen=True)
class ClassificationBlock:
    """Classification authority block for classified reports (first page)."""

    classified_by: str
    derived_from: str
    declassify_on: str  # a date, an event or an exemption code

    def lines(self) -> list[tuple[str, str]]:
        return [("Classified By", self.classified_by), ("Derived From", self.derived_from),
                ("Declassify On", self.declassify_on)]


@dataclass(frozen=True)
class CuiBlock:
    """CUI designation indicator block."""

    controlled_by: str
    category: str
    dissemination: str = ""
    poc: str = ""

    def lines(self) -> list[tuple[str, str]]:
        rows = [("Controlled by", self.controlled_by), ("CUI Category", self.category)]
        if self.dissemination:
            rows.append(("Limited Dissemination Control", self.dissemination))
        if self.poc:
            rows.append(("POC", self.poc))
        return rows


@dataclass(frozen=True)
class SubmissionSummary:
    id: int
    developer: str
    model_name: str
    version: str
    received: date
    planned_release: date
    modality: str = ""
    access_method: str = ""
    training_flop: float | None = None
    compute_estimate: str = ""
    marking: Marking = UNCLASSIFIED

    @property
    def display_name(self) -> str:
        return f"{self.developer} {self.model_name} {self.version}".strip()


@dataclass(frozen=True)
class CoverageRow:
    """One rule of the coverage rule set: what it looked at, its threshold, what it concluded."""

    rule: str
    inputs: str
    threshold: str
    outcome: str
    marking: Marking = UNCLASSIFIED


@dataclass(frozen=True)
class CoverageDetermination:
    outcome: str  # e.g. "covered frontier model" / "not covered"
    rationale: str
    rule_set: str  # id and version
    rule_set_sha256: str
    rows: tuple[CoverageRow, ...] = ()
    approved_by: str = ""
    approved_at: str = ""
    marking: Marking = UNCLASSIFIED  # of the outcome and rationale text


@dataclass(frozen=True)
class ChecklistItem:
    id: str  # e.g. "CAP-2"
    title: str
    status: str  # satisfied, not satisfied, not applicable, risk accepted, ...
    justification: str = ""
    evidence: tuple[str, ...] = ()  # references (file names, result ids, hashes)
    marking: Marking = UNCLASSIFIED
    answered_by: str = ""


@dataclass(frozen=True)
class ChecklistSection:
    id: str  # e.g. "CAP"
    title: str
    items: tuple[ChecklistItem, ...] = ()


@dataclass(frozen=True)
class EvidenceCitation:
    """One piece of evidence a finding rests on, resolved so a reader can find it again:
    a run or one sample of it (benchmark, score, sample id, SHA-256 of the log file it came from)
    or a stored artifact (name and SHA-256). Marked like the evidence it quotes."""

    kind: str  # run | sample | artifact
    ref: str  # as stored on the finding: "12", "12:chal-0", a SHA-256
    benchmark: str = ""
    task: str = ""
    score: str = ""  # e.g. "includes/accuracy 0.425" for a run, "C (1)" for a sample
    sample_id: str = ""
    epoch: int | None = None
    log_sha256: str = ""  # the imported log file the run/sample came from
    name: str = ""  # artifact file name
    sha256: str = ""  # artifact content hash
    marking: Marking = UNCLASSIFIED

    def describe(self) -> str:
        if self.kind == "artifact":
            return f"Artifact {self.name or self.ref}, SHA-256 {self.sha256 or self.ref}"
        head = f"Run {self.ref.split(':', 1)[0]}"
        parts = [", ".join(p for p in (self.benchmark, self.task) if p)]
        if self.kind == "sample":
            head += f", sample {self.sample_id}" + (f" (epoch {self.epoch})" if self.epoch else "")
        parts.append(self.score)
        body = "; ".join(p for p in parts if p)
        log = f"; log SHA-256 {self.log_sha256}" if self.log_sha256 else ""
        return f"{head}{': ' + body if body else ''}{log}"


@dataclass(frozen=True)
class LinkedVulnerability:
    """A register entry discovered through a finding, with its CVSS v4 score and vector."""

    id: str
    title: str
    severity: str = ""
    cvss_score: str = ""  # "8.7"
    cvss_vector: str = ""  # "CVSS:4.0/AV:N/..."
    status: str = ""
    marking: Marking = UNCLASSIFIED
    tlp: str = ""  # TLP 2.0 label ("AMBER"); releases withhold by it
    embargo_until: date | None = None


@dataclass(frozen=True)
class ChecklistLink:
    id: str
    title: str = ""
    status: str = ""


@dataclass(frozen=True)
class ReportFinding:
    id: str  # stable reference, e.g. "F-012"
    title: str
    description: str
    severity: Severity
    recommendation: str = ""
    marking: Marking = UNCLASSIFIED
    checklist_refs: tuple[str, ...] = ()
    impact: str = ""
    status: str = ""  # e.g. "draft", "approved with the assessment"
    evidence: tuple[EvidenceCitation, ...] = ()
    vulnerabilities: tuple[LinkedVulnerability, ...] = ()
    checklist_items: tuple[ChecklistLink, ...] = ()  # titles and statuses of checklist_refs, when known

    def quoted_markings(self) -> Iterator[Marking]:
        """The finding's own marking and those of everything it quotes (evidence, vulnerabilities)."""
        yield self.marking
        yield from (e.marking for e in self.evidence)
        yield from (v.marking for v in self.vulnerabilities)


@dataclass(frozen=True)
class BenchmarkRow:
    benchmark: str
    task: str
    metric: str
    value: float | None
    stderr: float | None = None
    samples: int | None = None
    higher_is_better: bool = True
    harness: str = ""
    run_status: str = "success"
    marking: Marking = UNCLASSIFIED
    run_ref: str = ""  # "run 12": tells two runs of the same task apart
    task_version: str = ""
    epochs: int = 1
    total_samples: int | None = None
    errored_samples: int = 0
    incomplete: bool = False
    error_message: str = ""
    source_sha256: str = ""  # the imported log file (one run, possibly imported twice: one row)
    reducer: str = ""
    submission_label: str = ""  # shown only when runs of several submissions would look alike

    @property
    def flagged(self) -> bool:
        """An errored, cancelled or incomplete run: shown, with its counts, never silently dropped."""
        return self.incomplete or self.run_status not in ("success", "")


@dataclass(frozen=True)
class VulnerabilityRow:
    """Row of the optional vulnerabilities annex (filled by the vulnerability register, issue 6)."""

    id: str
    title: str
    severity: str
    score: str = ""  # e.g. "9.3 (CVSS:4.0/...)"
    status: str = ""
    cwe: str = ""
    marking: Marking = UNCLASSIFIED
    tlp: str = ""  # TLP 2.0 label ("AMBER"); releases withhold by it
    embargo_until: date | None = None


@dataclass(frozen=True)
class Signer:
    role: str  # "Reviewer" / "Lead reviewer"
    name: str
    username: str


@dataclass(frozen=True)
class ReportInput:
    title: str
    control_number: str
    submission: SubmissionSummary
    generated_at: datetime  # fixed in the input: the PDF date is not read from the clock
    workstation_name: str
    audit_head_seq: int
    audit_head_hash: str
    version: int = 1
    title_marking: Marking = UNCLASSIFIED
    classification_block: ClassificationBlock | None = None
    cui_block: CuiBlock | None = None
    executive_summary: tuple[Portion, ...] = ()
    coverage: CoverageDetermination | None = None
    checklist: tuple[ChecklistSection, ...] = ()
    findings: tuple[ReportFinding, ...] = ()
    benchmarks: tuple[BenchmarkRow, ...] = ()
    vulnerabilities: tuple[VulnerabilityRow, ...] | None = None  # None: no annex
    signers: tuple[Signer, ...] = ()
    review_started: date | None = None
    review_completed: date | None = None
    extra_markings: tuple[Marking, ...] = field(default_factory=tuple)  # e.g. markings of omitted evidence
    narrative: Narrative = field(default_factory=Narrative)
    profile: ReportProfile = DEFAULT_PROFILE
    # intervals, conformance, plan and capability trend (issue 17); None: not gathered
    benchmark_evidence: BenchmarkEvidence | None = None

    def portion_markings(self) -> Iterator[Marking]:
        yield self.title_marking
        yield self.submission.marking
        yield from (p.marking for p in self.executive_summary)
        yield from self.narrative.markings()
        if self.coverage:
            yield self.coverage.marking
            yield from (r.marking for r in self.coverage.rows)
        for section in self.checklist:
            yield from (i.marking for i in section.items)
        for f in self.findings:
            yield from f.quoted_markings()
        yield from (b.marking for b in self.benchmarks)
        if self.benchmark_evidence is not None:
            yield self.benchmark_evidence.marking
        yield from (v.marking for v in self.vulnerabilities or ())
        yield from self.extra_markings

    def overall_marking(self) -> Marking:
        """Highest portion marking with controls rolled up: computed, never typed."""
        return rollup(self.portion_markings())

    def validate(self) -> ReportInput:
        if not self.title.strip():
            raise ValidationError("title", "is required")
        if not self.control_number.strip():
            raise ValidationError("control_number", "is required")
        if len(self.audit_head_hash) != 64:
            raise ValidationError("audit_head_hash", "must be a SHA-256 hex digest")
        overall = self.overall_marking()
        if overall.level.name not in ("UNCLASSIFIED", "CUI") and self.classification_block is None:
            raise ValidationError(
                "classification_block",
                f"a report marked {overall.banner()} needs a classification authority block "
                "(Classified By, Derived From, Declassify On)",
            )
        if overall.level.name == "CUI" and self.cui_block is None and self.classification_block is None:
            raise ValidationError("cui_block", "a report containing CUI needs a CUI designation indicator block")
        return self


def control_number(workstation_code: str, submission_id: int, version: int, year: int) -> str:
    """Human-readable, unique per workstation: FRW-<code>-<year>-<submission>-v<version>."""
    code = "".join(ch for ch in workstation_code.upper() if ch.isalnum())[:8] or "WS"
    return f"FRW-{code}-{year}-{submission_id:05d}-V{version}"
