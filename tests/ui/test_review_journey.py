"""The review journey through the real widgets: a reviewer, a lead and an auditor walk from intake
to release (intake, import, assignment, checklist, determination, findings, discussion, the lead's
decisions, report, two signatures, export) and never meet an error dialog: whatever cannot be done
yet is a disabled action whose tooltip says why, and every page names the next step."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QDate

from app.model.checklist import State, Status
from app.model.markings import Marking
from app.model.workflow import Stage
from app.services import assessment_suggestions, submissions, workflow
from app.services import workstation as workstation_service
from ui.dialogs.import_dialog import ImportDialog
from ui.screens.assessment_screen import AssessmentScreen
from ui.screens.coverage_screen import CoverageScreen
from ui.screens.dashboard import DashboardScreen
from ui.screens.findings_screen import FindingsScreen
from ui.screens.report_screen import ReportTab
from ui.screens.submission_detail import SubmissionDetail
from ui.screens.submission_editor import SubmissionEditor
from ui.screens.team_tab import TeamTab
from ui.screens.work_queues import QueuePanel

INSPECT = Path(__file__).parents[1] / "fixtures" / "inspect"
AUTHORITY = {"classified_by": "Ada Admin, Review Office", "derived_from": "AI Cyber SCG",
             "declassify_on": "20511231", "cui_controlled_by": "Review Office", "cui_category": "CTI"}


def _qd(d):  # type: ignore[no-untyped-def]
    return QDate(d.year, d.month, d.day)


def _panels(dash: DashboardScreen) -> dict[str, QueuePanel]:
    found = {}
    for i in range(dash.panels.count()):
        item = dash.panels.itemAt(i)
        w = item.widget() if item is not None else None
        if isinstance(w, QueuePanel):
            found[w.objectName()] = w
    return found


def test_reviewer_lead_auditor_from_intake_to_release(workstation, make_ctx, dialogs, qtbot,
                                                      tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # What the setup wizard asks an administrator (tests/ui/test_setup_wizard.py drives that page).
    workstation_service.update_settings(workstation.session("admin"), AUTHORITY)
    rev, lead, aud = make_ctx("reviewer"), make_ctx("lead"), make_ctx("auditor")
    summaries: list[str] = []

    def confirm(_parent, title: str, text: str, _ok: str) -> bool:  # type: ignore[no-untyped-def]
        dialogs.confirmations.append(title)
        summaries.append(text)
        return True

    lead.confirmer = confirm

    # Intake.
    editor = SubmissionEditor(rev, None)
    qtbot.addWidget(editor)
    editor.developer.setText("Northwind AI")
    editor.model_name.setText("Aurora")
    editor.version.setText("5.0-rc1")
    editor.training_flop.setText("4.2e26")
    today = rev.today()
    editor.received.setDate(_qd(today - timedelta(days=3)))
    editor.planned_release.setDate(_qd(today + timedelta(days=25)))
    editor.marking.set_marking(Marking.parse("SECRET"))
    stored = editor.save()
    assert stored is not None and stored.id is not None
    sid = stored.id
    detail = SubmissionDetail(rev, sid)
    qtbot.addWidget(detail)
    assert "Stage: received" in detail.next_step.text() and "imports the evaluation results" in detail.next_step.text()

    # Import.
    dlg = ImportDialog(rev, sid)
    qtbot.addWidget(dlg)
    dlg.add_files([str(INSPECT / "wmdp_cyber_ok.eval"), str(INSPECT / "intercode_ok.eval")])
    with qtbot.waitSignal(dlg.imported, timeout=20_000) as done:
        dlg.import_button.click()
    assert [o.status for o in done.args[0]] == ["imported", "imported"]

    # The lead assigns the review; it shows in the reviewer's "My work".
    team = TeamTab(lead, sid)
    qtbot.addWidget(team)
    team.person.setCurrentIndex(team.person.findData("reviewer"))
    team.assign_button.click()
    assert team.table.rowCount() == 1
    rev_team = TeamTab(rev, sid)
    qtbot.addWidget(rev_team)
    assert not rev_team.assign_button.isEnabled() and "does not allow" in rev_team.assign_button.toolTip()
    dash = DashboardScreen(rev)
    qtbot.addWidget(dash)
    assert _panels(dash)["myWork"].table.rowCount() == 1

    # Checklist: walk every item with the keyboard's status keys; departing from a suggestion asks why.
    screen = AssessmentScreen(rev, sid)
    qtbot.addWidget(screen)
    screen.start_button.click()
    assert screen.view is not None
    sugs = assessment_suggestions.suggestions(rev.session, screen.view.id)
    departing = [i for i, s in sugs.items() if s.status and s.status != Status.SATISFIED.value]
    assert departing, "the fixtures' WMDP-cyber 0.78 is above the 0.7 screen"
    reasons: list[str] = []
    screen.ask_text = lambda title, label: (reasons.append(label), "Knowledge questions only; no uplift shown.")[1]
    for item_id in screen.view.template.item_ids:
        screen.select(item_id)
        screen.set_status_by_hotkey(Status.SATISFIED.hotkey)
    assert screen.view.progress.done == 40 and len(reasons) == len(departing)
    for item_id in departing:
        assert "≠ suggestion" in screen._tree_items[item_id].text(0)
    assert not screen.approve_button.isVisible()  # reviewers never approve

    # Determination and a finding.
    cov = CoverageScreen(rev, sid)
    qtbot.addWidget(cov)
    cov.rationale.setPlainText("Declared compute 4.2e26 is above every reference presumption.")
    cov.record_button.click()
    findings_tab = FindingsScreen(rev, sid)
    qtbot.addWidget(findings_tab)
    findings_tab.title.setText("Hazardous cyber knowledge")
    findings_tab.description.setPlainText("WMDP-cyber accuracy above the screen.")
    findings_tab.severity.setCurrentIndex(findings_tab.severity.findData("high"))
    findings_tab.save_button.click()
    assert findings_tab.table.rowCount() == 1

    screen.refresh()
    assert screen.submit_button.isEnabled()
    screen.submit_button.click()
    assert screen.view.state is State.SUBMITTED

    # The lead: the approval waits for the determination (disabled, with the reason), which the lead
    # approves from the Coverage tab; a question on an item; item-by-item approval; the summary.
    lead_dash = DashboardScreen(lead)
    qtbot.addWidget(lead_dash)
    assert _panels(lead_dash)["awaitingDecision"].table.rowCount() == 1
    lead_screen = AssessmentScreen(lead, sid)
    qtbot.addWidget(lead_screen)
    assert not lead_screen.approve_button.isEnabled()
    assert "coverage determination is not approved yet" in lead_screen.approve_button.toolTip()
    lead_cov = CoverageScreen(lead, sid)
    qtbot.addWidget(lead_cov)
    assert lead_cov.approve_button.isEnabled()
    lead_cov.approve_button.click()
    lead_cov.discussion_thread.input.setText("Rationale agreed.")
    lead_cov.discussion_thread.post_button.click()
    lead_screen.refresh()
    lead_screen.select(departing[0])
    lead_screen.discussion_thread.input.setText("Which scaffold ran the agentic tasks?")
    lead_screen.discussion_thread.post_button.click()
    assert lead_screen.discussion_thread.list.count() == 1
    lead_screen.select("SUB-01")
    assert not lead_screen.approve_item_button.isHidden()
    lead_screen.approve_item_button.click()
    assert "☑" in lead_screen._tree_items["SUB-01"].text(0)
    assert lead_screen.approve_button.isEnabled()
    lead_screen.approve_button.click()
    assert lead_screen.view is not None and lead_screen.view.state is State.APPROVED
    assert "Overrides of rule-set suggestions (" in summaries[-1] and departing[0] in summaries[-1]
    assert "Findings: 1 high" in summaries[-1] and "Items approved one by one: 1 of 40" in summaries[-1]

    # Report: built without a settings detour, signed, countersigned, exported.
    report = ReportTab(rev, sid)
    qtbot.addWidget(report)
    assert report.build_button.isEnabled()
    report.build_button.click()
    assert report.current is not None and report.sign_button.isEnabled()
    dialogs.passphrases = [workstation.passphrase("reviewer")]
    report.sign_button.click()
    assert report.current.state == "signed" and not report.export_button.isEnabled()
    assert "countersigned" in report.export_button.toolTip()
    lead_report = ReportTab(lead, sid)
    qtbot.addWidget(lead_report)
    lead_report.select(report.current.id)
    dialogs.passphrases = [workstation.passphrase("lead")]
    lead_report.countersign_button.click()
    report.refresh()
    usb = tmp_path / "usb"
    usb.mkdir()
    report.choose_export = lambda _parent, _marking, _notice: (usb, "SECRET//NOFORN")
    dialogs.passphrases = [workstation.passphrase("reviewer")]
    report.export_button.click()
    assert list(usb.iterdir())
    assert dialogs.confirmations[-1] == "Release the findings and close the review"  # asked before it closed

    # The auditor: the review is closed and has left the open reviews; nothing to do.
    assert workflow.stages(aud.session, [sid])[sid] is Stage.RELEASED
    aud_detail = SubmissionDetail(aud, sid)
    qtbot.addWidget(aud_detail)
    assert "released · closed" in aud_detail.next_step.text() and "DONE" in aud_detail.clock.text()
    aud_dash = DashboardScreen(aud)
    qtbot.addWidget(aud_dash)
    assert aud_dash.table.rowCount() == 0 and aud_dash.open_card.value.text() == "0"
    assert submissions.dashboard(aud.session).stages[Stage.RELEASED] == 1

    # Never a dialog saying "not allowed" or "please check the input": no error dialog at all.
    assert not dialogs.errors, dialogs.error_text()
