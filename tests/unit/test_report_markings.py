"""Derivative marking of report portions (issue 12): a S//NF submission's report has no lower portion
that names or quotes S//NF data, in the PDF, findings.json and OSCAL alike."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.model.errors import ValidationError
from app.model.findings import Finding, Severity
from app.model.markings import UNCLASSIFIED, Marking
from app.model.report_markings import lint, portions
from app.model.submissions import Submission
from app.services import assessment, coverage, findings, report_assembly, results, submissions
from app.services import reports as report_service
from app.services import workstation as workstation_service
from reports.marking_lint import pdf_text
from storage import reports_repo
from tests.conftest import WorkstationTemplate, derive_template, restore_template
from tests.unit.csaf_kit import partner_for

SNF = Marking.parse("SECRET//NOFORN")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "inspect"


def _make_secret_submission(workstation) -> int:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    workstation_service.update_settings(admin, {"classified_by": "Rita Reviewer", "derived_from": "Multiple Sources",
                                                "declassify_on": "20511231"})
    rev = workstation.session("reviewer")
    sid = submissions.create(rev, Submission(developer="Northwind AI", model_name="Aurora", version="4.1-preview",
                                             received=date(2026, 11, 2), planned_release=date(2026, 12, 1),
                                             marking=SNF)).id
    outcomes = results.import_files(rev, [FIXTURES / "intercode_ok.eval", FIXTURES / "wmdp_cyber_ok.eval"], sid)
    assert all(o.status == "imported" for o in outcomes), [o.message for o in outcomes]
    coverage.record_determination(rev, sid, "Capability screen against the reference indicators.")
    findings.create(rev, Finding(sid, "Autonomous exploitation", "Exploited the range service.", Severity.HIGH,
                                 marking=SNF))
    return sid


@pytest.fixture(scope="module")
def secret_template(tmp_path_factory: pytest.TempPathFactory,
                    workstation_template: WorkstationTemplate) -> tuple[WorkstationTemplate, int]:
    """The SECRET//NOFORN submission with two imported logs, a determination and a finding, set up once
    per module (~0.2 s of CPU each time): each test gets its own copy."""
    return derive_template(tmp_path_factory.mktemp("secret-submission"), workstation_template,
                           _make_secret_submission)


@pytest.fixture
def secret_submission(workstation, secret_template, memory_keyring):  # type: ignore[no-untyped-def]
    template, sid = secret_template
    restore_template(workstation, template, memory_keyring)
    return workstation.session("reviewer"), sid


def test_new_records_start_at_the_submission_marking(secret_submission) -> None:  # type: ignore[no-untyped-def]
    rev, sid = secret_submission
    assert coverage.current_determination(rev, sid).marking == SNF  # computed, nothing typed
    with pytest.raises(ValidationError, match="would lower it"):
        findings.create(rev, Finding(sid, "Unmarked", "typed without a marking", Severity.LOW))
    with pytest.raises(ValidationError, match="would lower it"):
        coverage.record_determination(rev, sid, "again", marking=UNCLASSIFIED)


def test_secret_noforn_report_has_no_lower_portion_quoting_its_data(secret_submission) -> None:  # type: ignore[no-untyped-def]
    rev, sid = secret_submission
    report_in = report_assembly.assemble(rev, sid)
    assert report_in.title_marking == SNF  # the title names the submission
    assert report_in.coverage is not None and report_in.coverage.rows
    assert all(row.marking == SNF for row in report_in.coverage.rows if row.inputs.strip("-— "))
    stored = report_service.build(rev, sid, report_input=report_in)
    data = report_service.pdf_bytes(rev, stored.id)
    text = pdf_text(data)
    assert lint(report_in, text) == []
    quoted = [f"{b.value:.3f}" for b in report_in.benchmarks if b.value is not None]
    for marking, body in portions(text):
        if not marking.dominates(SNF):
            assert "Aurora" not in body, (marking.portion(), body)
            assert not any(q in body.split() for q in quoted), (marking.portion(), body)
    # The same title portion everywhere it leaves: PDF metadata, findings.json, OSCAL.
    title = f"(S//NF) {report_in.title}"
    assert PdfReader(io.BytesIO(data)).metadata.title == title
    oscal_bytes, findings_bytes = reports_repo.companions(rev.db.conn, stored.id)
    findings_doc, oscal_doc = json.loads(findings_bytes), json.loads(oscal_bytes)
    assert findings_doc["title_marking"] == "SECRET//NOFORN"
    assert oscal_doc["assessment-results"]["metadata"]["title"] == title
    assert oscal_doc["assessment-results"]["results"][0]["title"].startswith("(S//NF) ")


def test_a_lowered_finding_that_quotes_the_submission_is_refused_when_saved(secret_submission) -> None:  # type: ignore[no-untyped-def]
    """Saved below its submission, a finding may not quote the model's name or a result's value: it is
    refused at the save, naming what it quotes, not later by the whole report's lint."""
    rev, sid = secret_submission
    run = results.list_runs(rev, sid)[0]
    value = next(m.value for m in run.metrics if m.value is not None)
    with pytest.raises(ValidationError, match=r"marked \(U\) but quotes information marked \(S//NF\).*"
                                              r"quotes 'Aurora' from the submission"):
        findings.create(rev, Finding(sid, "Aurora refusals", "The Aurora model refused.", Severity.LOW,
                                     marking=UNCLASSIFIED), lower_reason="boilerplate only")
    kept = findings.create(rev, Finding(sid, "Refusals", "The model refused.", Severity.LOW, marking=UNCLASSIFIED),
                           lower_reason="boilerplate only")  # quoting nothing, it may be lowered (audited)
    assert kept.marking == UNCLASSIFIED
    with pytest.raises(ValidationError, match=rf"quotes '{value:.3f}' from run {run.id} "):
        findings.update(rev, dataclasses.replace(kept, description=f"It scored {value:.3f} on the task."),
                        lower_reason="boilerplate only")
    assert findings.get(rev, kept.id).description == "The model refused."  # nothing half-saved
    raised = findings.update(rev, dataclasses.replace(kept, description=f"It scored {value:.3f} on the task.",
                                                      marking=Marking.parse("SECRET//NOFORN")))
    assert raised.marking == Marking.parse("SECRET//NOFORN")


def test_a_lowered_portion_that_quotes_the_model_is_refused_at_build(secret_submission) -> None:  # type: ignore[no-untyped-def]
    """A finding stored before the save-time check (or around the application) is still caught by the
    built report's lint."""
    from storage import assessment_repo

    rev, sid = secret_submission
    with rev.transaction() as conn:
        assessment_repo.insert_finding(conn, Finding(sid, "Aurora refusals", "The Aurora model refused.",
                                                     Severity.LOW, marking=UNCLASSIFIED), "reviewer", rev.now())
    with pytest.raises(ValidationError, match=r"portion \(U\) quotes 'Aurora' from the submission"):
        report_service.build(rev, sid)


def test_lint_names_a_low_portion_quoting_a_high_value(secret_submission) -> None:  # type: ignore[no-untyped-def]
    rev, sid = secret_submission
    r = report_assembly.assemble(rev, sid)
    value = next(b for b in r.benchmarks if b.value is not None)
    text = f"(S//NF) {value.task} {value.value:.3f}\n(U) coverage input {value.benchmark} = {value.value:.3f}\n"
    problems = lint(r, text)
    assert len(problems) == 1 and problems[0].startswith(f"portion (U) quotes '{value.value:.3f}'")


def test_cli_records_inherit_and_lowering_needs_a_reason(workstation, secret_submission, monkeypatch,
                                                         capsys) -> None:  # type: ignore[no-untyped-def]
    from app import cli

    rev, sid = secret_submission
    view = assessment.start(rev, sid)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase("reviewer") + "\n"))
        code = cli.main(["--data-dir", str(workstation.data_dir), "--user", "reviewer", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = run("assess", "answer", str(view.id), "SUB-01", "--status", "satisfied")
    assert code == 0, err
    code, out, err = run("assess", "answer", str(view.id), "SUB-02", "--status", "satisfied", "--marking", "CUI")
    assert code != 0 and "would lower it" in err
    code, out, err = run("assess", "coverage", str(sid), "--record", "Screened again.", "--marking", "SECRET")
    assert code != 0 and "SECRET//NOFORN" in err and "would lower it" in err
    code, out, err = run("assess", "coverage", str(sid), "--record", "Screened again.", "--marking", "SECRET",
                         "--lower-reason", "NOFORN removed by the originator's release decision")
    assert code == 0, err
    assert "(S) " in out
    code, out, err = run("assess", "coverage", str(sid), "--record", "Default marking.")
    assert code == 0 and "(S//NF) " in out
    code, out, err = run("vuln", "add", "--title", "Sandbox escape", "--submission", str(sid))
    assert code == 0 and "(S//NF) Sandbox escape" in out
    code, out, err = run("assess", "coverage", str(sid), "--marking", "SECRET//BOGUS", "--record", "x")
    assert code != 0 and "'BOGUS'" in err and "known:" in err


def test_a_vulnerability_is_marked_alike_in_the_pdf_findings_json_oscal_and_csaf(secret_submission,
                                                                                  tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One vulnerability, marked differently from the finding it came from, carries the same marking in
    every format that leaves: the PDF (finding detail and annex), findings.json, OSCAL and CSAF."""
    from app.services import csaf_exchange
    from app.services import vulnerabilities as vs

    rev, sid = secret_submission
    finding = findings.list_findings(rev, sid)[0]
    rel = Marking.parse("SECRET//REL TO USA, GBR")
    draft = dataclasses.replace(vs.draft_from_finding(rev, finding), marking=rel, title="Range proxy sandbox escape",
                                description="Escapes the evaluation sandbox through the range proxy.")
    vuln = vs.create(rev, draft, lower_reason="released to GBR by the originator")
    banner, portion = rel.banner(), rel.portion()
    assert (banner, portion) == ("SECRET//REL TO USA, GBR", "(S//REL TO USA, GBR)")

    stored = report_service.build(rev, sid)
    text = " ".join(pdf_text(report_service.pdf_bytes(rev, stored.id)).split())
    assert f"• {portion} {vuln.id} {vuln.title}" in text  # the finding's linked vulnerability
    assert f"{portion} {vuln.id}" in text.split("Vulnerabilities logged during the review", 1)[1]  # the annex
    oscal_bytes, findings_bytes = reports_repo.companions(rev.db.conn, stored.id)
    findings_doc = json.loads(findings_bytes)
    assert [v["marking"] for v in findings_doc["vulnerabilities"]] == [banner]
    assert [v["marking"] for f in findings_doc["findings"] for v in f["vulnerabilities"]] == [banner]
    oscal_props = [p for risk in json.loads(oscal_bytes)["assessment-results"]["results"][0]["risks"]
                   for p in risk.get("props", [])]  # a finding's vulnerabilities travel on its risk
    pairs = [(a["value"], b["value"]) for a, b in itertools.pairwise(oscal_props)
             if a["name"] == "vulnerability" and b["name"] == "vulnerability-marking"]
    assert pairs == [(vuln.id, banner)]

    media = tmp_path / "media"
    media.mkdir()
    vuln = vs.update(rev, dataclasses.replace(vs.get(rev, vuln.id), embargo_until=None),  # shared: embargo lifted
                     lower_reason="released to GBR by the originator")
    written = csaf_exchange.export_csaf(rev, [vuln.id], media, media_marking=Marking.parse("SECRET//NOFORN"),
                                        recipient=partner_for(rev))
    advisory = json.loads(written.files[0].read_bytes())
    dist = advisory["document"]["distribution"]["text"]
    assert dist.startswith(f"Classification: {banner}.")
    handling = [n["text"] for n in advisory["document"]["notes"] if n["category"] == "legal_disclaimer"]
    assert handling and handling[0].startswith(f"Classification: {banner}.")


def test_cli_attach_inherits_the_submission_marking_and_lowering_is_audited(workstation, secret_submission,
                                                                            monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app import cli
    from app.services import audit

    rev, sid = secret_submission
    card = tmp_path / "card.md"
    card.write_text("# Aurora 4.1 model card\n")

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase("reviewer") + "\n"))
        code = cli.main(["--data-dir", str(workstation.data_dir), "--user", "reviewer", "submission", "attach",
                         str(sid), str(card), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = run()
    assert code == 0 and "(SECRET//NOFORN)" in out, err
    code, out, err = run("--marking", "UNCLASSIFIED")
    assert code == 2 and "would lower it" in err
    code, out, err = run("--marking", "UNCLASSIFIED", "--lower-reason", "the developer published this card")
    assert code == 0 and "(UNCLASSIFIED)" in out, err
    assert [a.marking.banner() for a in submissions.artifacts(rev, sid)] == ["SECRET//NOFORN", "UNCLASSIFIED"]
    lowered = [e for e in audit.object_history(rev, "submission", sid) if e.action == "marking.lower"]
    assert len(lowered) == 1 and lowered[0].details["reason"] == "the developer published this card"
