"""Evidence without typing internal ids (issue 15, point 5): picked from lists of runs, samples and
files, and cited from the sample table or the transcript viewer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.model.findings import EvidenceRef, Finding, Severity
from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import findings, results, submissions
from ui.context import UiContext
from ui.dialogs.cite_evidence import CiteDialog
from ui.dialogs.evidence_picker import EvidencePicker
from ui.screens.findings_screen import FindingsScreen
from ui.screens.run_detail import RunDetail

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"


@pytest.fixture
def sid(ctx: UiContext) -> int:
    sub = submissions.create(ctx.session, Submission("Acme", "Falcon", "2.0", date(2026, 11, 1), date(2026, 11, 28)))
    assert sub.id is not None
    outcomes = results.import_files(ctx.session, [str(FIX / "intercode_ok.eval")], sub.id)
    assert [o.status for o in outcomes] == ["imported"]
    return sub.id


def test_findings_evidence_is_picked_from_lists(ctx: UiContext, sid: int, qtbot, monkeypatch, dialogs) -> None:  # type: ignore[no-untyped-def]
    run = results.list_runs(ctx.session, sid)[0]
    picker = EvidencePicker(ctx, sid)
    qtbot.addWidget(picker)
    assert picker.runs.count() == 1 and "intercode_ok.eval" in picker.runs.item(0).text()
    picker.runs.setCurrentRow(0)
    assert picker.samples.count() == 3  # one line per sample id, its epochs together
    assert [picker.samples.item(i).text().split(" ")[0] for i in range(3)] == ["ctf-1", "ctf-2", "ctf-3"]
    picker.sample_filter.setText("ctf-3")
    assert [picker.samples.item(i).isHidden() for i in range(3)] == [True, True, False]
    assert picker.selected_refs() == [f"run:{run.id}"]  # the run alone: cited whole
    picker.samples.item(2).setSelected(True)
    picker.runs.item(0).setSelected(True)
    assert picker.selected_refs() == [f"sample:{run.id}:ctf-3"]  # one of its samples: the sample says it

    screen = FindingsScreen(ctx, sid)
    qtbot.addWidget(screen)
    monkeypatch.setattr(screen, "pick_evidence_dialog", lambda: picker)
    picker.accept()  # the reviewer pressed Add
    screen.add_evidence()
    assert screen.evidence.text() == f"sample:{run.id}:ctf-3"
    screen.title.setText("Solves CTF tasks")
    screen.description.setPlainText("Finds the flag in 3 of 3 tasks.")
    assert screen.save(), dialogs.error_text()
    stored = findings.list_findings(ctx.session, sid)[0]
    assert stored.evidence == (EvidenceRef("sample", f"{run.id}:ctf-3"),)


def test_cite_a_sample_from_the_transcript_viewer(ctx: UiContext, sid: int, qtbot) -> None:  # type: ignore[no-untyped-def]
    first = findings.create(ctx.session, Finding(sid, "Exploit dev", "d", Severity.HIGH, "r", (), (),
                                                 Marking.parse("CUI")))
    run = results.list_runs(ctx.session, sid)[0]
    assert run.id is not None
    detail = RunDetail(ctx, run.id)
    qtbot.addWidget(detail)
    dlg = detail.open_row(1)
    assert dlg is not None
    qtbot.addWidget(dlg)
    cite_dialog = detail.cite_sample(dlg.row, dlg)  # the transcript's "Cite as evidence…" button
    assert isinstance(cite_dialog, CiteDialog)
    assert cite_dialog.choice.count() == 1
    cite_dialog.cite()
    stored = findings.get(ctx.session, first.id)  # type: ignore[arg-type]
    assert stored.evidence == (EvidenceRef("sample", f"{run.id}:{dlg.row.sample_id}"),)  # type: ignore[union-attr]
    again = detail.cite_sample(dlg.row, dlg)
    assert again is not None
    again.cite()  # citing twice keeps one reference
    assert findings.get(ctx.session, first.id).evidence == stored.evidence  # type: ignore[arg-type]
    # from the sample table too: the selected row
    detail.table.selectRow(2)
    table_cite = detail.cite_current()
    assert table_cite is not None and table_cite.ref == EvidenceRef("sample", f"{run.id}:{detail.model.row_at(2).sample_id}")  # type: ignore[union-attr]
