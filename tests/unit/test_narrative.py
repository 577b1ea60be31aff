"""The report narrative: structured text parsing, storage and the lead's comment/return cycle."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import date
from pathlib import Path

import pytest

from app.model.errors import PermissionDenied, ValidationError
from app.model.markings import Marking
from app.model.narrative import Confidence, KeyJudgment, Narrative, blocks
from app.model.submissions import Submission
from app.services import assessment, assessment_review, audit, report_assembly, submissions
from app.services import narrative as narrative_service
from reports.pdf import build_pdf
from reports.sample import sample_input

SNF = Marking.parse("SECRET//NOFORN")


def test_structured_text_is_paragraphs_bullets_and_emphasis_only() -> None:
    parsed = blocks("First line\ncontinues *here*.\n\n- one\n- two <b>not markup</b>\n  wrapped\n\nLast.")
    assert [b.kind for b in parsed] == ["para", "bullet", "bullet", "para"]
    assert parsed[0].plain == "First line continues here." and parsed[0].spans[1].emphasis
    assert parsed[2].plain == "two <b>not markup</b> wrapped"
    assert blocks("") == [] and blocks("\n\n") == []


def test_narrative_prints_first_escaped_and_portion_marked(tmp_path: Path) -> None:
    n = Narrative("The model is *capable*. <script>x</script>", Marking(),
                  (KeyJudgment("Uplift is real & large.", Confidence.HIGH, SNF),), "- Act <now>", Marking())
    report = dataclasses.replace(sample_input(1), narrative=n)
    path = tmp_path / "n.pdf"
    path.write_bytes(build_pdf(report).data)
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "(U) The model is capable. <script>x</script>" in text  # emphasis applied, markup shown literally
    assert "(S//NF) KJ-1 (High confidence). Uplift is real & large." in text
    assert "Act <now>" in text and "*capable*" not in text


@pytest.fixture
def sub(workstation) -> int:  # type: ignore[no-untyped-def]
    rev = workstation.session("reviewer")
    s = submissions.create(rev, Submission(developer="Acme AI", model_name="Falcon", version="2.1",
                                           received=date(2026, 11, 2), planned_release=date(2026, 12, 1)))
    assessment.start(rev, int(s.id or 0))
    return int(s.id or 0)


def test_reviewer_writes_lead_returns_reviewer_answers(workstation, sub: int) -> None:  # type: ignore[no-untyped-def]
    rev, lead, auditor = (workstation.session(n) for n in ("reviewer", "lead", "auditor"))
    empty = narrative_service.get(rev, sub)
    assert empty.narrative.empty and not empty.locked
    n = Narrative("Capable.", SNF, (KeyJudgment("Uplift.", Confidence.MODERATE),), "- Delay release.")
    view = narrative_service.save(rev, sub, n)
    assert view.narrative == n and view.updated_by == "reviewer"
    with pytest.raises(PermissionDenied):
        narrative_service.save(auditor, sub, n)
    with pytest.raises(PermissionDenied):
        narrative_service.comment(rev, sub, "bottom_line", "looks fine", return_part=True)
    with pytest.raises(ValidationError, match="say what must change"):
        narrative_service.comment(lead, sub, "judgments", "  ", return_part=True)
    narrative_service.comment(lead, sub, "judgments", "State the confidence basis.", return_part=True)
    narrative_service.comment(lead, sub, "bottom_line", "Good.")
    view = narrative_service.get(rev, sub)
    assert [c.comment for c in view.returned("judgments")] == ["State the confidence basis."]
    assert view.returned("bottom_line") == []  # a comment is not a return
    # Editing another part leaves the return open; editing the returned part answers it.
    narrative_service.save(rev, sub, dataclasses.replace(n, recommendations="- Delay release by 30 days."))
    assert narrative_service.get(rev, sub).returned("judgments")
    fixed = dataclasses.replace(n, judgments=(KeyJudgment("Uplift, per KJ basis.", Confidence.HIGH),))
    view = narrative_service.save(rev, sub, fixed)
    assert view.returned("judgments") == [] and view.comments[0].resolved_by == "reviewer"
    actions = [e.action for e in audit.events(auditor, 100, action_prefix="narrative.")]
    assert {"narrative.save", "narrative.return", "narrative.comment"} <= set(actions)


def test_lead_cannot_return_own_writing_and_approved_assessment_locks(workstation, sub: int) -> None:  # type: ignore[no-untyped-def]
    lead = workstation.session("lead")
    narrative_service.save(lead, sub, Narrative("Lead wrote this."))
    with pytest.raises(PermissionDenied, match="two-person"):
        narrative_service.comment(lead, sub, "bottom_line", "change it", return_part=True)
    with pytest.raises(ValidationError, match="at most"):
        narrative_service.save(lead, sub, Narrative("x" * 20_001))


def test_report_assembly_carries_the_narrative(workstation) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.test_signing_service import _approved_submission, _configure

    _configure(workstation.session("admin"))
    sid = _approved_submission(workstation)
    rev = workstation.session("reviewer")
    with pytest.raises(PermissionDenied, match="approved and locked"):
        narrative_service.save(rev, sid, Narrative("Too late."))
    lead = workstation.session("lead")
    view = assessment.for_submission(rev, sid)
    assert view is not None
    assessment_review.reopen(lead, view.id, "Write the narrative.")
    narrative_service.save(rev, sid, Narrative("Bottom line here.", SNF,
                                               (KeyJudgment("KJ text.", Confidence.LOW, SNF),)))
    report = report_assembly.assemble(rev, sid)
    assert report.narrative.bottom_line == "Bottom line here."
    assert report.overall_marking().banner() == "SECRET//NOFORN"


def test_cli_set_show_and_return(workstation, sub: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    import io
    import sys

    from app import cli as app_cli

    def run(user: str, *args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(workstation.passphrase(user) + "\n"))
        code = app_cli.main(["--data-dir", str(workstation.data_dir), "--user", user, "report", "narrative", *args])
        out = capsys.readouterr()
        return code, out.out + out.err

    bl = tmp_path / "bl.txt"
    bl.write_text("The model is *capable*.\n\n- point one\n", encoding="utf-8")
    code, out = run("reviewer", "set", str(sub), "--bottom-line", str(bl), "--bottom-line-marking", "SECRET//NOFORN",
                    "--judgment", "high", "UNCLASSIFIED", "Uplift is real.")
    assert code == 0 and "1 key judgments" in out, out
    stored = narrative_service.get(workstation.session("reviewer"), sub).narrative
    assert stored.bottom_line.startswith("The model is *capable*.") and stored.bottom_line_marking == SNF
    assert stored.judgments[0].confidence is Confidence.HIGH
    code, out = run("lead", "return", str(sub), "judgments", "Give the basis.")
    assert code == 0 and "Returned judgments" in out
    code, out = run("reviewer", "show", str(sub))
    assert code == 0 and "KJ-1 (U) (High confidence): Uplift is real." in out and "Give the basis. [open]" in out
    code, out = run("reviewer", "set", str(sub), "--judgment", "certain", "UNCLASSIFIED", "x")
    assert code != 0 and "low, moderate or high" in out
