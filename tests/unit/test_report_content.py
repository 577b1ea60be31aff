"""What the findings report says (issue 13): evidence behind every finding, every run shown,
numbers for people, words never broken in tables, signature-page text matching the signatures."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import pytest

from app.model.findings import EvidenceRef
from app.model.report import BenchmarkRow
from app.services import report_assembly
from reports import findings_json, oscal
from reports.pdf import build_pdf
from reports.pdf_charts import distinct_bars
from reports.pdf_format import count, period, scientific
from reports.sample import sample_input


def _text(data: bytes, tmp_path: Path, name: str = "r.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _flat(text: str) -> str:
    """The words in reading order, without the page furniture (banners, footer) between pages."""
    body = [ln for ln in text.splitlines()
            if not re.fullmatch(r"\s*(SECRET//NOFORN|UNCLASSIFIED|CUI)\s*", ln) and "Control No. " not in ln]
    return " ".join(" ".join(body).split())


def test_numbers_and_dates_for_people() -> None:
    assert scientific(3.0e25, "FLOP") == "3.0 × 10²⁵ FLOP"
    assert scientific(9.96e25, "FLOP") == "1.0 × 10²⁶ FLOP"
    assert scientific(1200) == "1,200"
    assert count(1987) == "1,987"
    from datetime import date

    assert period(date(2026, 11, 3), date(2026, 11, 20)) == "3 Nov 2026 – 20 Nov 2026"
    assert period(date(2026, 11, 3), None, date(2026, 11, 9)) == "3 Nov 2026 – in progress on 9 Nov 2026"


def test_pdf_shows_evidence_vulnerabilities_errored_runs_and_formatted_figures(tmp_path: Path) -> None:
    report = sample_input(6)
    text = _flat(_text(build_pdf(report).data, tmp_path))
    for f in report.findings:
        for e in f.evidence:
            assert f"{e.marking.portion()} {e.describe()}" in text, e.describe()
        for v in f.vulnerabilities:
            assert v.cvss_vector in text and f"{v.id} {v.title}: CVSS v4 {v.cvss_score}" in text
    assert "log SHA-256 " + "01" * 32 in text
    assert "run 7 · ERROR" in text and "sandbox container exited unexpectedly" in text
    assert "ended error, 12 of 40 completed, 3 errored" in text and "run 8 · STARTED" in text and "(INCOMPLETE)" in text
    assert "3.2 × 10²⁶ FLOP (developer declared)" in text and "1,987" in text
    assert "Review period 3 Nov 2026 – 20 Nov 2026" in text
    assert "—" not in text and "((" not in text and "to be signed" not in text
    # the narrative opens the report, each part with its own portion mark
    assert text.index("1.1 Bottom line") < text.rindex("(U) 3. Findings")  # after the contents page
    assert "(S//NF) KJ-2 (Moderate confidence). Autonomous exploitation" in text
    assert "(U) • Delay agentic tool access" in text or "• (U) Delay agentic tool access" in text


def test_findings_json_and_oscal_carry_the_same_evidence() -> None:
    report = sample_input(3)
    doc = json.loads(findings_json.to_json(report))
    first = doc["findings"][0]
    assert first["evidence"][0]["log_sha256"] == report.findings[0].evidence[0].log_sha256
    assert first["evidence"][2]["sample_id"] == "chal-0"
    assert first["evidence"][0]["citation"] == report.findings[0].evidence[0].describe()
    assert first["vulnerabilities"][0]["cvss_vector"].startswith("CVSS:4.0/")
    assert doc["benchmarks"][6]["run_status"] == "error" and doc["benchmarks"][6]["errored_samples"] == 3
    ar = json.loads(oscal.to_json(report))["assessment-results"]["results"][0]
    evidence_obs = [o for o in ar["observations"] if o["title"].startswith("Evidence for F-001")]
    assert len(evidence_obs) == 1
    props = {p["name"]: p["value"] for e in evidence_obs[0]["relevant-evidence"] for p in e["props"]}
    assert props["log-sha256"] == report.findings[0].evidence[-2].log_sha256
    assert props["artifact-sha256"] == "ee" * 32
    finding = next(f for f in ar["findings"] if f["title"].startswith("F-001"))
    assert finding["related-observations"] == [{"observation-uuid": evidence_obs[0]["uuid"]}]
    risk = next(r for r in ar["risks"] if r["title"].startswith("F-001"))
    assert any(p["name"] == "cvss-v4-vector" for p in risk["props"])


def test_no_word_is_broken_in_tables(tmp_path: Path) -> None:
    long_names = [("InterCode-CTF", "gdm_intercode_ctf_extended_variant"),
                  ("CyberSecEval 3", "cyse3_visual_prompt_injection"), ("NYU CTF Bench", "nyuctf_reverse_engineering")]
    base = sample_input(5)  # every severity once
    rows = tuple(BenchmarkRow(b, t, "includes/accuracy", 0.5, 0.1, 1234, run_ref=f"run {i}", task_version="2")
                 for i, (b, t) in enumerate(long_names))
    report = dataclasses.replace(base, benchmarks=base.benchmarks + rows)
    words = set(_text(build_pdf(report).data, tmp_path).split())
    sources = [w for b in report.benchmarks for w in (*b.benchmark.split(), *b.task.split(), *b.metric.split())]
    sources += [w for f in report.findings for w in f.id.split()] + ["Informational", "Critical"]
    broken = [w for w in sources if w not in words]
    assert not broken, f"words broken across lines: {broken}"


def test_one_bar_per_distinct_run() -> None:
    row = BenchmarkRow("mini_ctf", "mini_ctf", "includes/accuracy", 0.5, 0.1, 10, run_ref="run 1")
    same_run_twice = distinct_bars([row, dataclasses.replace(row, run_ref="run 2")])
    assert len(same_run_twice) == 1 and same_run_twice[0].label.endswith("(2 runs)")
    two_runs = distinct_bars([row, dataclasses.replace(row, value=0.7, epochs=3, run_ref="run 2")])
    assert len({b.label for b in two_runs}) == 2
    assert two_runs[1].label == "mini_ctf · includes/accuracy · 3 epochs"
    by_reducer = distinct_bars([dataclasses.replace(row, reducer="mean"),
                                dataclasses.replace(row, value=0.9, reducer="pass_at_2")])
    assert [b.label.rsplit(" · ", 1)[1] for b in by_reducer] == ["mean", "pass_at_2"]


def test_checklist_matrix_then_only_rows_that_need_reading(tmp_path: Path) -> None:
    report = sample_input(2)
    pages = _text(build_pdf(report).data, tmp_path).split("\f")
    checklist_pages = [p for p in pages if "Checklist results" in p and "Table" in p]
    assert checklist_pages and "Checklist statuses by section" in checklist_pages[-1]
    text = _flat(" ".join(pages))
    attention = text[text.index("Checklist items with a status or remark to read"):text.index("Integrity")]
    satisfied_plain = [i for s in report.checklist for i in s.items
                       if i.status == "satisfied" and not i.justification and not i.evidence]
    assert satisfied_plain
    for item in satisfied_plain:
        assert f"{item.id} " not in attention
    annex = text[text.index("Annex B. Full checklist", text.index("Integrity")):]
    for s in report.checklist:
        for item in s.items:
            assert f"{item.marking.portion()} {item.id} " in annex


@pytest.fixture
def evidenced(workstation):  # type: ignore[no-untyped-def]
    """An approved review whose finding cites a run, a sample and an artifact, plus an errored run."""
    from app.model.vulnerabilities import DiscoveryContext, Vulnerability
    from app.services import findings, results, vulnerabilities
    from tests.unit.test_signing_service import _approved_submission, _configure

    _configure(workstation.session("admin"))
    rev = workstation.session("reviewer")
    sid = _approved_submission(workstation, with_results=True)
    fixtures = Path(__file__).parents[1] / "fixtures" / "inspect"
    results.import_files(rev, [fixtures / "intercode_error.eval"], sid)
    runs = results.list_runs(rev, sid)
    ok = next(r for r in runs if r.task.endswith("intercode_ctf") and r.status.value == "success")
    sample = results.page_samples(rev, int(ok.id or 0), None, 0, 1)[0]
    from app.services import assessment, assessment_review

    view = assessment.for_submission(rev, sid)
    lead = workstation.session("lead")
    assessment_review.reopen(lead, view.id, "Add evidence to the finding.")
    first = findings.list_findings(rev, sid)[0]
    findings.update(rev, dataclasses.replace(first, evidence=(EvidenceRef("run", str(ok.id)),
                                                              EvidenceRef("sample", f"{ok.id}:{sample.sample_id}"))))
    vulnerabilities.create(rev, Vulnerability(
        title="Sandbox escape via tool call", cvss_vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N",
        context=DiscoveryContext(submission_id=sid, finding_id=str(first.id))))
    return sid, ok, sample


def test_assembled_report_cites_log_hashes_scores_and_errored_runs(workstation, evidenced,
                                                                   tmp_path: Path) -> None:  # type: ignore[no-untyped-def]

    sid, ok, sample = evidenced
    rev = workstation.session("reviewer")
    report = report_assembly.assemble(rev, sid)
    f = next(x for x in report.findings if x.title == "Autonomous exploitation")
    run_cite, sample_cite = f.evidence
    assert run_cite.log_sha256 == ok.file_sha256 and run_cite.task == ok.task and run_cite.score
    assert sample_cite.sample_id == sample.sample_id and sample_cite.log_sha256 == ok.file_sha256
    assert sample_cite.score.startswith(("score", "scores"))
    assert f.vulnerabilities and f.vulnerabilities[0].cvss_vector.startswith("CVSS:4.0/")
    assert f.checklist_items[0].id == "CAP-02" and f.checklist_items[0].title
    errored = [b for b in report.benchmarks if b.run_status == "error"]
    assert errored and errored[0].flagged
    text = _flat(_text(build_pdf(report).data, tmp_path))
    assert ok.file_sha256 in text and f"sample {sample.sample_id}" in text
    assert "ERROR" in text and "Sandbox escape via tool call: CVSS v4" in text
    doc = json.loads(findings_json.to_json(report))
    cited = next(x for x in doc["findings"] if x["title"] == "Autonomous exploitation")["evidence"]
    assert [c["log_sha256"] for c in cited] == [ok.file_sha256, ok.file_sha256]


def test_signature_page_text_matches_the_signatures_present(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.services import reports as report_service
    from tests.unit.test_signing_service import _approved_submission, _configure

    _configure(workstation.session("admin"))
    sid = _approved_submission(workstation)
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    report = report_service.build(rev, sid)

    def signature_page() -> str:
        pages = _text(report_service.pdf_bytes(rev, report.id), tmp_path).split("\f")
        return _flat(next(p for p in pages if "Signatures" in p and "PAdES" in p))

    unsigned = signature_page()
    assert "Signed by" not in unsigned and "to be signed" not in unsigned
    report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    signed = signature_page()
    assert re.search(r"Signed by Rita Reviewer.*Role: Reviewer", signed)
    assert "Lee Lead Role" not in signed and "Role: Lead reviewer" not in signed
    assert "Not yet countersigned Awaiting the lead reviewer's countersignature" in signed
    assert "Awaiting" not in unsigned
    report_service.countersign(lead, report.id, workstation.passphrase("lead"))
    both = signature_page()
    assert re.search(r"Signed by Rita Reviewer.*Role: Reviewer", both)
    assert re.search(r"Signed by Lee Lead.*Role: Lead reviewer", both)
    assert "to be signed" not in both and "Awaiting" not in both and "Not yet countersigned" not in both


def test_finding_without_evidence_prints_no_empty_evidence_heading(tmp_path: Path) -> None:
    base = sample_input(1)
    bare = dataclasses.replace(base.findings[0], evidence=(), vulnerabilities=(), impact="")
    text = _flat(_text(build_pdf(dataclasses.replace(base, findings=(bare,))).data, tmp_path))
    assert "Evidence:" not in text and "Impact:" not in text and "Linked vulnerabilities:" not in text



def test_plain_text_blocks_wrap_at_spaces_and_continue_across_pages(tmp_path: Path) -> None:
    from reports.pdf_markings import FONT, register_fonts
    from reports.pdf_textblock import wrap_lines

    register_fonts()
    lines = wrap_lines("• first item is long enough to wrap onto a second line\n• second", FONT, 9.5, 120, 10)
    assert len(lines) >= 3 and lines[0][1] is False and lines[-1] == ("• second", False)
    assert all(continued for _t, continued in lines[1:-1])  # wrapped parts hang under the item
    assert " ".join(t for t, _c in lines[:-1]) == "• first item is long enough to wrap onto a second line"
    words = [f"w{n:04d}" for n in range(4000)]  # about four pages of one paragraph
    base = sample_input(1)
    long = dataclasses.replace(base.findings[0], description=" ".join(words))
    text = _text(build_pdf(dataclasses.replace(base, findings=(long,))).data, tmp_path).split()
    found = set(text)
    assert all(w in found for w in words)  # nothing lost or broken at the page breaks
    assert text.index(words[0]) < text.index(words[-1])
