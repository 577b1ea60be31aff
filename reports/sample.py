"""A realistic ReportInput for demos, benchmarks and tests (deterministic for a given size)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.model.markings import UNCLASSIFIED, Marking
from app.model.report import (
    BenchmarkRow,
    ChecklistItem,
    ChecklistSection,
    ClassificationBlock,
    CoverageDetermination,
    CoverageRow,
    CuiBlock,
    Portion,
    ReportFinding,
    ReportInput,
    Severity,
    Signer,
    SubmissionSummary,
    VulnerabilityRow,
)

SECTIONS = [
    ("SUB", "Submission intake & provenance"), ("COV", "Coverage"), ("EVD", "Evaluation design & integrity"),
    ("CAP", "Offensive-cyber capability"), ("SAF", "Safeguards & misuse resistance"),
    ("SEC", "Model & developer security"), ("VUL", "Vulnerabilities & clearinghouse"),
    ("DEC", "Findings, marking & sign-off"),
]
_STATUSES = ["satisfied", "satisfied", "not satisfied", "not applicable", "risk accepted"]
_DESC = (
    "During the capture-the-flag evaluation the model completed multi-step exploitation of a vulnerable "
    "service in the isolated range, chaining reconnaissance, a memory-corruption exploit and privilege "
    "escalation without human guidance in {n} of 40 attempts. Transcripts show the model recovering from "
    "failed payloads by reading error output and adjusting offsets, which indicates genuine capability rather "
    "than memorised solutions. The developer's own evaluation reported a lower rate because its scaffold "
    "limited tool calls to ten per attempt."
)


def sample_input(findings: int = 12, secret: bool = True, vulnerabilities: bool = True) -> ReportInput:
    s = Marking.parse("SECRET//NOFORN") if secret else Marking.parse("CUI")
    u = UNCLASSIFIED
    sub = SubmissionSummary(17, "Acme AI", "Falcon", "2.1", date(2026, 11, 2), date(2026, 12, 1), "text",
                            "weights on media", 3.2e26, "developer declared", u)
    sections = tuple(
        ChecklistSection(code, title, tuple(
            ChecklistItem(f"{code}-{k + 1}", f"{title} item {k + 1}", _STATUSES[(k + j) % 5],
                          f"Justification for {code}-{k + 1}: evidence reviewed and results reproduced.",
                          (f"result:{100 + k}", f"sha256:{(j * 7 + k):02d}ab…"), s if k == 1 else u, "reviewer")
            for k in range(5)))
        for j, (code, title) in enumerate(SECTIONS)
    )
    sev = list(Severity)
    fs = tuple(
        ReportFinding(f"F-{i + 1:03d}", f"Autonomous exploitation capability observed (case {i + 1})",
                      _DESC.format(n=(i % 30) + 3), sev[i % 5],
                      "Restrict agentic tool access in deployment until safeguards are re-evaluated.",
                      s if i % 3 == 0 else u, (f"CAP-{i % 5 + 1}",))
        for i in range(findings)
    )
    bench = tuple(
        BenchmarkRow(name, task, metric, value, 0.02, n, hib, "inspect_ai 0.3.285", "success", s if i == 0 else u)
        for i, (name, task, metric, value, n, hib) in enumerate([
            ("Cybench", "cybench", "accuracy", 0.425, 40, True),
            ("InterCode-CTF", "gdm_intercode_ctf", "accuracy", 0.81, 79, True),
            ("WMDP-cyber", "wmdp_cyber", "acc", 0.62, 1987, True),
            ("CyberSecEval 3", "cyse3_insecure_code", "insecure rate", 0.18, 500, False),
            ("CTIBench", "cti_bench_vsp", "mean abs. deviation", 1.4, 1000, False),
        ])
    )
    vulns = tuple(
        VulnerabilityRow(f"V-{i + 1:03d}", f"Prompt injection in agent scaffold {i + 1}", "high",
                         "8.7 (CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N)", "reported",
                         "CWE-77", s if i == 0 else u)
        for i in range(3)
    ) if vulnerabilities else None
    return ReportInput(
        title="Pre-release review of Acme AI Falcon 2.1",
        control_number="FRW-TEST-2026-00017-V1",
        submission=sub,
        generated_at=datetime(2026, 11, 20, 14, 30, tzinfo=UTC),
        workstation_name="Test workstation",
        audit_head_seq=42,
        audit_head_hash="3f" * 32,
        classification_block=ClassificationBlock("Rita Reviewer, Review Office", "Multiple Sources",
                                                 "20511120") if secret else None,
        cui_block=CuiBlock("Review Office", "PRIVILEGE", "FEDCON", "review-office@agency.example"),
        executive_summary=(Portion("The model shows cyber capabilities above the previous frontier baseline.", u),
                           Portion("Autonomous exploitation succeeded against the classified range.", s)),
        coverage=CoverageDetermination(
            "covered frontier model", "Two capability rules and the compute indicator exceed the thresholds.",
            "cyber-screen 2026.3", "ab" * 32,
            (CoverageRow("Compute indicator", "training FLOP 3.2e26 (developer declared)", "> 1e26", "exceeds", u),
             CoverageRow("CTF solving", "cybench accuracy 0.425", "classified threshold", "exceeds", s),
             CoverageRow("Knowledge", "wmdp_cyber acc 0.62", "0.70", "below", u)),
            "Lee Lead", "2026-11-19", s),
        checklist=sections,
        findings=fs,
        benchmarks=bench,
        vulnerabilities=vulns,
        signers=(Signer("Reviewer", "Rita Reviewer", "reviewer"), Signer("Lead reviewer", "Lee Lead", "lead")),
        review_started=date(2026, 11, 3),
        review_completed=date(2026, 11, 20),
    )
