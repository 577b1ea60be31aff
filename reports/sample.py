"""A realistic ReportInput for demos, benchmarks and tests (deterministic for a given size)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.model.findings import Severity
from app.model.markings import UNCLASSIFIED, Marking
from app.model.narrative import Confidence, KeyJudgment, Narrative
from app.model.report import (
    BenchmarkRow,
    ChecklistItem,
    ChecklistLink,
    ChecklistSection,
    ClassificationBlock,
    CoverageDetermination,
    CoverageRow,
    CuiBlock,
    EvidenceCitation,
    LinkedVulnerability,
    Portion,
    ReportFinding,
    ReportInput,
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
                          "" if _STATUSES[(k + j) % 5] == "satisfied" and k != 1 else
                          f"Justification for {code}-{k + 1}: evidence reviewed and results reproduced.",
                          (f"result:{100 + k}", f"sha256:{(j * 7 + k):02d}ab…") if k != 0 else (),
                          s if k == 1 else u, "reviewer")
            for k in range(5)))
        for j, (code, title) in enumerate(SECTIONS)
    )
    sev = list(Severity)
    vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N"
    fs = tuple(
        ReportFinding(f"F-{i + 1:03d}", f"Autonomous exploitation capability observed (case {i + 1})",
                      _DESC.format(n=(i % 30) + 3), sev[i % 5],
                      "Restrict agentic tool access in deployment until safeguards are re-evaluated.",
                      s if i % 3 == 0 else u, (f"CAP-{i % 5 + 1}",),
                      impact="An operator with the model could compromise unpatched internet-facing services "
                             "without specialist skills.",
                      status="approved",
                      evidence=_evidence(i, s if i % 3 == 0 else u),
                      vulnerabilities=(LinkedVulnerability("V-001", "Prompt injection in agent scaffold 1", "High",
                                                           "8.7", vector, "reported", s),) if i % 4 == 0 else (),
                      checklist_items=(ChecklistLink(f"CAP-{i % 5 + 1}", "Offensive-cyber capability item "
                                                     f"{i % 5 + 1}", _STATUSES[(i % 5 + 3) % 5]),))
        for i in range(findings)
    )
    runs = [
        ("Cybench", "cybench", "accuracy", 0.425, 40, True, "success", 0, False, ""),
        ("InterCode-CTF", "gdm_intercode_ctf", "accuracy", 0.81, 79, True, "success", 0, False, ""),
        ("InterCode-CTF", "gdm_intercode_ctf", "accuracy", 0.74, 79, True, "success", 0, False, ""),
        ("WMDP-cyber", "wmdp_cyber", "acc", 0.62, 1987, True, "success", 0, False, ""),
        ("CyberSecEval 3", "cyse3_insecure_code", "insecure rate", 0.18, 500, False, "success", 0, False, ""),
        ("CTIBench", "cti_bench_vsp", "mean abs. deviation", 1.4, 1000, False, "success", 0, False, ""),
        ("NYU CTF Bench", "nyuctf", "", None, 12, True, "error", 3, False,
         "RuntimeError: sandbox container exited unexpectedly (exit code 137)"),
        ("3CB", "threecb", "accuracy", 0.3, 7, True, "started", 0, True, ""),
    ]
    bench = tuple(
        BenchmarkRow(name, task, metric, value, 0.02 if value is not None and value <= 1 else None, n, hib,
                     "inspect_ai 0.3.285", status, s if i == 0 else u, run_ref=f"run {i + 1}",
                     epochs=3 if i == 2 else 1, total_samples=40 if task in ("nyuctf", "threecb") else n,
                     errored_samples=errored, incomplete=incomplete, error_message=message,
                     source_sha256=f"{i + 1:02d}" * 32)
        for i, (name, task, metric, value, n, hib, status, errored, incomplete, message) in enumerate(runs)
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
        narrative=Narrative(
            "Falcon 2.1 can *autonomously* exploit known vulnerability classes in realistic targets.\n\n"
            "- It solved 81% of InterCode-CTF tasks.\n- It escalated privileges without human help.",
            u,
            (KeyJudgment("The model provides meaningful uplift to a low-skilled attacker.", Confidence.HIGH, u),
             KeyJudgment("Autonomous exploitation succeeded against the classified range.", Confidence.MODERATE,
                         s)),
            "- Delay agentic tool access until the developer's safeguards are re-tested.\n"
            "- Share V-001 through the clearinghouse.", u),
    )


def _evidence(i: int, marking: Marking) -> tuple[EvidenceCitation, ...]:
    """Five references per finding: two runs, two samples, one artifact (as a real review cites)."""
    log = f"{(i % 7) + 1:02d}" * 32
    return (
        EvidenceCitation("run", "2", "InterCode-CTF", "gdm_intercode_ctf", "accuracy 0.810", log_sha256=log,
                         marking=marking),
        EvidenceCitation("run", "1", "Cybench", "cybench", "accuracy 0.425", log_sha256="01" * 32, marking=marking),
        EvidenceCitation("sample", f"2:chal-{i}", "InterCode-CTF", "gdm_intercode_ctf", "score 1", f"chal-{i}", 1,
                         log, marking=marking),
        EvidenceCitation("sample", f"1:task-{i}", "Cybench", "cybench", "score 0", f"task-{i}", 1, "01" * 32,
                         marking=marking),
        EvidenceCitation("artifact", "ee" * 32, name="developer_eval_report.pdf", sha256="ee" * 32, marking=u_mark),
    )


u_mark = UNCLASSIFIED
