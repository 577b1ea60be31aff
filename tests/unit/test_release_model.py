"""Releasable versions (issue 16, point 2): the pure computation of what a partner receives."""

from __future__ import annotations

import dataclasses
from datetime import date

from app.model import release
from app.model.findings import Severity
from app.model.markings import UNCLASSIFIED, Level, Marking
from app.model.narrative import Confidence, KeyJudgment, Narrative
from app.model.partners import Partner, PartnerKind
from app.model.report import (
    BenchmarkRow,
    ChecklistItem,
    ChecklistLink,
    ChecklistSection,
    CoverageDetermination,
    CoverageRow,
    EvidenceCitation,
    LinkedVulnerability,
    Portion,
    ReportFinding,
    VulnerabilityRow,
)
from app.model.vulnerabilities import Tlp
from reports.sample import sample_input

U = UNCLASSIFIED
REL = Marking.parse("SECRET//REL TO USA, GBR")
NF = Marking.parse("SECRET//NOFORN")
CUI = Marking.parse("CUI")
TODAY = date(2026, 11, 25)
GBR = Partner("UK AISI", PartnerKind.ALLIED, ("GBR",), max_level=Level.SECRET, tlp=Tlp.AMBER)
ACME = Partner("Acme AI", PartnerKind.DEVELOPER, ("USA",), max_level=Level.CUI, tlp=Tlp.AMBER,
               developer="Acme AI")
OTHER_DEV = Partner("Other Labs", PartnerKind.DEVELOPER, ("USA",), max_level=Level.CUI)

# Text that must never reach a partner that may not see it.
SECRETS_NF = ("NOFORN-BRAVO range result", "NOFORN-CHARLIE finding", "nf-sample-7", "NOFORN-DELTA threshold",
              "NOFORN-ECHO checklist justification", "NOFORN-FOXTROT vuln", "NOFORN-GOLF benchmark")


def _report():  # type: ignore[no-untyped-def]
    base = sample_input(findings=1, secret=True)
    ev_rel = EvidenceCitation("run", "1", "Cybench", "cybench", "accuracy 0.425", marking=REL)
    ev_nf = EvidenceCitation("sample", "1:nf-sample-7", "Cybench", "cybench", "score 1", "nf-sample-7", 1,
                             marking=NF)
    findings = (
        ReportFinding("F-001", "Exploitation shared with allies", "The model chained exploits.", Severity.HIGH,
                      "Restrict tools.", REL, ("CAP-1",), evidence=(ev_rel, ev_nf),
                      vulnerabilities=(LinkedVulnerability("V-009", "Red scaffold issue", "high", marking=U,
                                                           tlp="RED"),),
                      checklist_items=(ChecklistLink("CAP-1", "CTF solving", "satisfied"),
                                       ChecklistLink("CAP-2", "Vulnerability discovery", "not satisfied"))),
        ReportFinding("F-002", "NOFORN-CHARLIE finding", "Only for US eyes.", Severity.CRITICAL, marking=NF),
        ReportFinding("F-003", "Refusal behaviour", "Over-refusal was low.", Severity.LOW, marking=U),
    )
    checklist = (ChecklistSection("CAP", "Offensive-cyber capability", (
        ChecklistItem("CAP-1", "CTF solving", "satisfied", "Results reproduced.", marking=REL),
        ChecklistItem("CAP-2", "Vulnerability discovery", "not satisfied", "NOFORN-ECHO checklist justification",
                      marking=NF))),
        ChecklistSection("SEC", "Model & developer security", (
            ChecklistItem("SEC-1", "Weight protection", "satisfied", "Seen on site.", marking=NF),)))
    coverage = CoverageDetermination(
        "covered frontier model", "Capability rules exceed thresholds.", "cyber-screen 2026.3", "ab" * 32,
        (CoverageRow("Compute indicator", "-", "> 1e26", "exceeds", U),
         CoverageRow("CTF solving", "-", "NOFORN-DELTA threshold", "exceeds", NF)), marking=NF)
    bench = (BenchmarkRow("Cybench", "cybench", "accuracy", 0.425, marking=REL, run_ref="run 1"),
             BenchmarkRow("NOFORN-GOLF benchmark", "golf", "accuracy", 0.5, marking=NF, run_ref="run 2"))
    vulns = (VulnerabilityRow("V-001", "Clear scaffold issue", "high", marking=U, tlp="CLEAR"),
             VulnerabilityRow("V-002", "Embargoed scaffold issue", "high", marking=U, tlp="AMBER",
                              embargo_until=date(2026, 12, 1)),
             VulnerabilityRow("V-003", "NOFORN-FOXTROT vuln", "high", marking=NF, tlp="CLEAR"))
    narrative = Narrative("Bottom line for allies.", REL,
                          (KeyJudgment("Uplift is real.", Confidence.HIGH, U),
                           KeyJudgment("NOFORN-BRAVO range result", Confidence.MODERATE, NF)),
                          "Share V-001.", U)
    return dataclasses.replace(
        base, findings=findings, checklist=checklist, coverage=coverage, benchmarks=bench, vulnerabilities=vulns,
        narrative=narrative, benchmark_evidence=None,
        executive_summary=(Portion("Unclassified summary.", U), Portion("NOFORN-BRAVO range result", NF)))


def _all_text(r) -> str:  # type: ignore[no-untyped-def]
    from reports.findings_json import to_json

    return "\n".join(x.text for x in release.lines(r)) + to_json(r).decode()


def test_rel_to_partner_gets_no_noforn_and_a_recomputed_marking() -> None:
    full = _report()
    assert full.overall_marking().banner() == "SECRET//NOFORN"
    rel = release.compute(full, GBR, control_number="RC-1", today=TODAY)
    assert rel.marking.banner() == "SECRET//REL TO USA, GBR"
    assert not rel.own
    text = _all_text(rel.released)
    for secret in SECRETS_NF:
        assert secret not in text, secret
    r = rel.released
    assert [f.id for f in r.findings] == ["F-001", "F-003"]
    assert [e.sample_id for e in r.findings[0].evidence] == [""]  # the NOFORN sample is withheld
    assert r.findings[0].vulnerabilities == ()  # TLP:RED above the AMBER the partner accepts
    # the withheld checklist item keeps only its template reference in the finding
    assert r.findings[0].checklist_items[1] == ChecklistLink("CAP-2", "Vulnerability discovery", "")
    assert [i.id for s in r.checklist for i in s.items] == ["CAP-1"]  # the empty SEC section is gone
    assert r.coverage is not None and r.coverage.outcome == "withheld from this release"
    assert [row.rule for row in r.coverage.rows] == ["Compute indicator"]
    assert [b.task for b in r.benchmarks] == ["cybench"]
    assert [v.id for v in r.vulnerabilities or ()] == ["V-001"]  # V-002 under embargo, V-003 NOFORN
    assert rel.tlp is Tlp.CLEAR and rel.embargo_until is None
    assert r.title == full.title and r.control_number == "RC-1"
    assert r.classification_block is not None


def test_withheld_statement_counts_never_content() -> None:
    rel = release.compute(_report(), GBR, control_number="RC-1", today=TODAY)
    counts = rel.counts()
    assert counts == {release.NARRATIVE: 2, release.COVERAGE: 2, release.CHECKLIST: 2, release.FINDINGS: 1,
                      release.EVIDENCE: 1, release.LINKED: 1, release.BENCHMARKS: 1, release.ANNEX: 2}
    reasons = rel.reason_counts()
    assert reasons["NOFORN"] == 10 and reasons["under embargo"] == 1
    assert reasons["TLP more restricted than the partner accepts"] == 1
    stmt = rel.released.executive_summary[-1]
    assert stmt.text.startswith(f"{release.WITHHELD_HEADING} for UK AISI: 12 portions were withheld")
    assert stmt.marking == rel.marking  # marked at the release's own level
    for secret in SECRETS_NF:
        assert secret not in stmt.text
    assert "SECRET" not in stmt.text and "2026-12-01" not in stmt.text
    # the full side of the side-by-side carries every withheld portion with its reasons
    withheld = {line.text for line in rel.withheld}
    assert "NOFORN-BRAVO range result" in withheld and all(line.reasons for line in rel.withheld)
    assert not any(line.withheld for line in rel.released_lines)


def test_developer_release_is_own_and_at_most_cui() -> None:
    full = dataclasses.replace(_report(), title_marking=CUI)
    rel = release.compute(full, ACME, control_number="RC-2", today=TODAY)
    assert rel.own
    assert rel.marking.level <= Level.CUI
    r = rel.released
    # the embargo does not hold against the developer's own vulnerabilities; the markings still do
    assert [v.id for v in r.vulnerabilities or ()] == ["V-001", "V-002"]
    assert rel.tlp is Tlp.AMBER and rel.embargo_until == date(2026, 12, 1)  # what the log records
    assert [f.id for f in r.findings] == ["F-003"]
    assert r.classification_block is None
    text = _all_text(r)
    for secret in (*SECRETS_NF, "Exploitation shared with allies", "Bottom line for allies."):
        assert secret not in text, secret


def test_withheld_title_and_submission_become_neutral() -> None:
    full = _report()
    full = dataclasses.replace(full, title_marking=NF,
                               submission=dataclasses.replace(full.submission, marking=NF))
    rel = release.compute(full, GBR, control_number="RC-3", today=TODAY)
    r = rel.released
    assert r.title == "Release RC-3 to UK AISI"
    assert r.title_marking == rel.marking == Marking.parse("SECRET//REL TO USA, GBR")
    assert r.submission.developer == "(withheld)" and r.submission.model_name == ""
    assert "Falcon" not in _all_text(r)
    assert rel.counts()[release.TITLE] == 1 and rel.counts()[release.SUBMISSION] == 1


def test_another_developer_is_not_own() -> None:
    rel = release.compute(_report(), OTHER_DEV, control_number="RC-4", today=TODAY)
    assert not rel.own
    assert [v.id for v in rel.released.vulnerabilities or ()] == ["V-001"]  # the embargo holds for others


def test_everything_withheld_annex_left_out_and_unclassified_release() -> None:
    full = _report()
    nobody = Partner("Public CERT", PartnerKind.CERT, ("FRA",), tlp=Tlp.CLEAR)
    full = dataclasses.replace(full, vulnerabilities=full.vulnerabilities[1:] if full.vulnerabilities else None)
    rel = release.compute(full, nobody, control_number="RC-5", today=TODAY)
    assert rel.released.vulnerabilities is None
    assert rel.marking == U
    assert rel.released.classification_block is None and rel.released.cui_block is None
    rel.released.validate()


def test_nothing_withheld_says_so() -> None:
    full = sample_input(findings=2, secret=False, vulnerabilities=False)
    everyone = Partner("DHS", PartnerKind.AGENCY, ("USA",), max_level=Level.TOP_SECRET)
    rel = release.compute(full, everyone, control_number="RC-6", today=TODAY)
    assert rel.withheld == ()
    assert "nothing" in rel.released.executive_summary[-1].text
    assert rel.marking == full.overall_marking()


def test_reason_categories_name_no_level_list_or_date() -> None:
    for reason, cat in (
        ("marked SECRET, above the CUI Acme may receive", "above the classification the partner may receive"),
        ("REL TO USA, AUS does not include GBR", "REL TO list does not include the partner"),
        ("TLP:RED is more restricted than the TLP:AMBER X accepts", "TLP more restricted than the partner accepts"),
        ("under embargo until 2026-12-01", "under embargo"),
        ("NOFORN: not releasable to foreign nationals", "NOFORN"),
        ("SI-G: needs an access X does not hold", "needs an access the partner does not hold"),
    ):
        assert release.category(reason) == cat
