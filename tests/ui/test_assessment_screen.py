"""Walk an assessment with the keyboard (pytest-qt, offscreen): hotkeys, navigation, autosave,
justification rules, submit, and the lead's view (approve disabled for the submitter)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from app.model.checklist import State, Status
from app.model.submissions import Submission
from app.services import assessment, assessment_evidence, coverage, submissions
from ui.screens.assessment_screen import AssessmentScreen


def _submission(ctx) -> int:
    return submissions.create(ctx.session, Submission(
        developer="Offline", model_name="cyber-mini", version="7b", received=date(2026, 11, 1),
        planned_release=date(2026, 11, 28))).id


def _screen(qtbot, ctx, sid) -> AssessmentScreen:
    screen = AssessmentScreen(ctx, sid)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitActive(screen)
    return screen


def test_walk_checklist_with_keyboard(qtbot, ctx, dialogs):
    sid = _submission(ctx)
    screen = _screen(qtbot, ctx, sid)
    assert screen.start_button.isVisible()
    qtbot.mouseClick(screen.start_button, Qt.MouseButton.LeftButton)
    assert screen.view is not None and screen.current == "SUB-01"
    tree = screen.tree
    tree.setFocus()

    qtbot.keyClick(tree, Qt.Key.Key_3)  # Satisfied
    assert screen.view.answer("SUB-01").status is Status.SATISFIED
    assert "✓" in screen._tree_items["SUB-01"].text(0)
    qtbot.keyClick(tree, Qt.Key.Key_PageDown)
    assert screen.current == "SUB-02" and "model identity" in screen.item_title.text().lower()
    qtbot.keyClick(tree, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert screen.current == "SUB-03"
    qtbot.keyClick(tree, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(tree, Qt.Key.Key_PageUp)
    assert screen.current == "SUB-01"

    # Not satisfied needs a justification: the hint shows and the item does not count as answered.
    qtbot.keyClick(tree, Qt.Key.Key_PageDown)
    qtbot.keyClick(tree, Qt.Key.Key_4)
    assert screen.missing.isVisible() and "justification" in screen.missing.text()
    assert not dialogs.errors, dialogs.error_text()
    assert screen.focusWidget() is screen.justification, screen.focusWidget()
    assert screen.view.sections["SUB"].done == 1
    qtbot.keyClicks(screen.justification, "Hashes not yet supplied.")
    screen.flush()  # what the autosave timer does after a pause
    a = assessment.get(ctx.session, screen.view.id).answer("SUB-02")
    assert a.status is Status.NOT_SATISFIED and a.justification == "Hashes not yet supplied." and a.complete
    assert not screen.missing.isVisible() and screen.view.sections["SUB"].done == 2

    # Autosave also happens on navigation: type, move on, and the text is stored.
    qtbot.keyClick(tree, Qt.Key.Key_PageDown)
    qtbot.keyClicks(screen.justification, "Window is 27 days.")
    tree.setFocus()
    qtbot.keyClick(tree, Qt.Key.Key_PageDown)
    assert assessment.get(ctx.session, screen.view.id).answer("SUB-03").justification == "Window is 27 days."

    # The history pane shows every change of the item.
    screen.select("SUB-02")
    assert screen.history_list.count() == 2

    # Alt+digit works from the justification editor too (sent through the window, as a real key press).
    screen.justification.setFocus()
    qtbot.keyClick(screen.windowHandle(), Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    assert screen.view.answer("SUB-02").status is Status.NOT_APPLICABLE
    qtbot.keyClick(screen.windowHandle(), Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert screen.current == "SUB-03"

    # Submit is disabled while items are open; its tooltip names them (no error dialog to meet).
    assert not screen.submit_button.isEnabled()
    assert "not answered" in screen.submit_button.toolTip() and "SUB-03" in screen.submit_button.toolTip()
    qtbot.mouseClick(screen.submit_button, Qt.MouseButton.LeftButton)
    assert not dialogs.errors
    assert screen.view.state is State.DRAFT


def test_submit_then_lead_sees_two_person_rule(qtbot, make_ctx, dialogs):
    rev = make_ctx("reviewer")
    sid = _submission(rev)
    view = assessment.start(rev.session, sid)
    for item_id in view.template.item_ids:
        assessment.answer(rev.session, view.id, item_id, status=Status.SATISFIED)
    screen = _screen(qtbot, rev, sid)
    assert screen.submit_button.isEnabled() and not screen.approve_button.isVisible()  # reviewers never approve
    qtbot.mouseClick(screen.submit_button, Qt.MouseButton.LeftButton)
    assert screen.view.state is State.SUBMITTED and not screen.justification.isEnabled()
    assert not dialogs.errors

    lead = make_ctx("lead")
    lead_screen = _screen(qtbot, lead, sid)
    # Approval waits for the coverage determination; the disabled button says so. Return is open.
    assert not lead_screen.approve_button.isEnabled() and lead_screen.return_button.isEnabled()
    assert "coverage determination is not recorded" in lead_screen.approve_button.toolTip()
    lead_screen.select("CAP-02")
    qtbot.keyClicks(lead_screen.lead_comment, "Quote n and stderr.")
    lead_screen.ask_text = lambda _t, _l: "Please tighten CAP."
    qtbot.mouseClick(lead_screen.return_button, Qt.MouseButton.LeftButton)
    assert lead_screen.view.state is State.RETURNED
    comments = assessment.comments(lead.session, view.id)
    assert [(c.item_id, c.comment) for c in comments] == [(None, "Please tighten CAP."),
                                                          ("CAP-02", "Quote n and stderr.")]

    screen.refresh()
    assert screen._tree_items["CAP-02"].text(0).endswith("✎") and not screen._tree_items["CAP-01"].text(0).endswith("✎")
    screen.select("CAP-02")
    assert screen.comments_list.count() == 1 and "Quote n" in screen.comments_list.item(0).text()
    qtbot.keyClicks(screen.justification, "n=6, stderr 0.29")
    screen.flush()
    assert screen.view.state is State.DRAFT  # first change after a return
    qtbot.mouseClick(screen.submit_button, Qt.MouseButton.LeftButton)

    det = coverage.record_determination(rev.session, sid, "Below every reference threshold.")
    coverage.approve_determination(lead.session, det.id)
    lead_screen.refresh()
    qtbot.mouseClick(lead_screen.approve_button, Qt.MouseButton.LeftButton)
    assert lead_screen.view.state is State.APPROVED and dialogs.confirmations == ["Approve assessment"]
    assert lead_screen.reopen_button.isVisible() and not lead_screen.justification.isEnabled()
    screen.refresh()
    assert not screen.submit_button.isEnabled() and "locked" in screen.state_label.text()


def test_coverage_tab_records_and_lead_approves(qtbot, make_ctx, dialogs):
    from ui.screens.coverage_screen import CoverageScreen

    rev = make_ctx("reviewer")
    sid = submissions.create(rev.session, Submission(
        developer="D", model_name="M", version="1", received=date(2026, 11, 1), planned_release=date(2026, 11, 28),
        training_flop=3e25)).id
    screen = CoverageScreen(rev, sid)
    qtbot.addWidget(screen)
    assert "NOT THE CLASSIFIED THRESHOLD" in screen.ruleset_label.text()
    rules = {screen.table.item(r, 0).text().split(":")[0]: screen.table.item(r, 4).text()
             for r in range(screen.table.rowCount())}
    assert rules["EU-AIA-GPAI-SR"] == "met" and rules["US-EO14110"] == "not met" and rules["SCREEN-CYBENCH"] == "no data"
    assert screen.outcome.currentData() == "covered"
    qtbot.mouseClick(screen.record_button, Qt.MouseButton.LeftButton)
    assert "rationale" in dialogs.error_text()  # refused without a rationale
    qtbot.keyClicks(screen.rationale, "3e25 FLOP exceeds the EU presumption.")
    qtbot.mouseClick(screen.record_button, Qt.MouseButton.LeftButton)
    assert "awaiting a lead's approval" in screen.current.text()
    assert screen.approve_button.isHidden()  # reviewers cannot approve

    lead = make_ctx("lead")
    lead_screen = CoverageScreen(lead, sid)
    qtbot.addWidget(lead_screen)
    assert lead_screen.approve_button.isEnabled()
    qtbot.mouseClick(lead_screen.approve_button, Qt.MouseButton.LeftButton)
    assert "approved by lead" in lead_screen.current.text()


def test_findings_tab_create_edit_delete(qtbot, ctx, dialogs):
    from ui.screens.findings_screen import FindingsScreen

    sid = _submission(ctx)
    assessment.start(ctx.session, sid)
    screen = FindingsScreen(ctx, sid)
    qtbot.addWidget(screen)
    qtbot.keyClicks(screen.title, "CTF solving above screen")
    qtbot.keyClicks(screen.description, "Solves half of InterCode-CTF.")
    qtbot.keyClicks(screen.linked, "CAP-02, NOPE-9")
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    assert "NOPE-9" in dialogs.error_text() and screen.table.rowCount() == 0
    screen.linked.setText("CAP-02")
    screen.severity.setCurrentIndex(screen.severity.findData("high"))
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    assert screen.table.rowCount() == 1 and screen.table.item(0, 0).text() == "F-1"
    assert screen.table.item(0, 1).text() == "High"
    screen.table.selectRow(0)
    screen.ask_reason = lambda: "duplicate"
    qtbot.mouseClick(screen.delete_button, Qt.MouseButton.LeftButton)
    assert screen.table.rowCount() == 0


def _looks_read_only(screen) -> bool:  # type: ignore[no-untyped-def]
    edits = (screen.title, screen.description, screen.impact, screen.recommendation, screen.linked, screen.evidence)
    return (all(e.isReadOnly() and e.property("readOnlyField") for e in edits)
            and not any(w.isEnabled() for w in (screen.severity, screen.marking, screen.evidence_button,
                                                screen.new_button, screen.save_button, screen.delete_button)))


def test_findings_form_is_read_only_for_a_role_that_cannot_assess(qtbot, make_ctx):
    from ui.screens.findings_screen import FindingsScreen

    reviewer = make_ctx("reviewer")
    sid = _submission(reviewer)
    assessment.start(reviewer.session, sid)
    editable = FindingsScreen(reviewer, sid)
    qtbot.addWidget(editable)
    assert not editable.title.isReadOnly() and editable.save_button.isEnabled()
    assert editable.read_only_note.isHidden()
    screen = FindingsScreen(make_ctx("auditor"), sid)
    qtbot.addWidget(screen)
    assert _looks_read_only(screen)
    assert not screen.read_only_note.isHidden() and "your role" in screen.read_only_note.text()
    qtbot.keyClicks(screen.title, "typed by an auditor")
    assert screen.title.text() == "" and not screen.is_modified()
    assert screen.print_button.isEnabled()  # reading and printing stay open


def test_rulesets_screen_admin_import_refuses_unsigned_and_accepts_signed(qtbot, make_ctx, dialogs, tmp_path):
    import json

    from app.services import pki as pki_service
    from app.services.rulesets import builtin_ruleset_bytes
    from reports.detached import sign_detached
    from ui.screens.rulesets_screen import RulesetsScreen

    admin = make_ctx("admin")
    pki_service.ensure_ready(admin.session)
    screen = RulesetsScreen(admin)
    qtbot.addWidget(screen)
    assert screen.rulesets.rowCount() == 1 and "not the classified" in screen.rulesets.item(0, 2).text()
    doc = json.loads(builtin_ruleset_bytes())
    doc.update(version=2, label="classified", title="Agency")
    path = tmp_path / "agency.json"
    path.write_bytes(json.dumps(doc).encode())
    screen.choose_file = lambda _title: str(path)
    qtbot.mouseClick(screen.import_ruleset_button, Qt.MouseButton.LeftButton)
    assert "unsigned coverage rule set refused" in screen.result.text() and screen.rulesets.rowCount() == 1
    ca = pki_service.load_ca(admin.session)
    (tmp_path / "agency.json.p7s").write_bytes(sign_detached(path.read_bytes(), ca.key, ca.cert))
    qtbot.mouseClick(screen.import_ruleset_button, Qt.MouseButton.LeftButton)
    assert screen.result.text().startswith("Imported rule set public-reference v2")
    active = [screen.rulesets.item(r, 1).text() for r in range(screen.rulesets.rowCount())
              if screen.rulesets.item(r, 3).text() == "yes"]
    assert active == ["2"]

    reviewer = make_ctx("reviewer")
    view = RulesetsScreen(reviewer)
    qtbot.addWidget(view)
    assert view.import_ruleset_button.isHidden() and view.rulesets.rowCount() == 2


def test_evidence_panel_links_runs_files_and_observations(qtbot, ctx, dialogs, tmp_path):
    from pathlib import Path

    from app.model.markings import Marking
    from app.services import results

    sid = _submission(ctx)
    inspect = Path(__file__).parents[1] / "fixtures" / "inspect"
    run_id = results.import_files(ctx.session, [inspect / "intercode_ok.eval"], sid)[0].run_id
    card = tmp_path / "model-card.txt"
    card.write_text("Falcon model card: tool use enabled.")
    submissions.attach_artifact(ctx.session, sid, card, "model card", Marking.parse("CUI"))
    view = assessment.start(ctx.session, sid)
    screen = _screen(qtbot, ctx, sid)
    screen.select("CAP-02")
    panel = screen.evidence
    qtbot.keyClicks(panel.note_edit, "solved in both epochs")
    qtbot.mouseClick(panel.link_button, Qt.MouseButton.LeftButton)  # lists to pick from, no ids typed
    picker = panel.picker
    assert picker is not None and picker.isVisible() and picker.windowTitle() == "Evidence for CAP-02"
    assert picker.runs.count() == 1 and "intercode_ok.eval" in picker.runs.item(0).text()
    picker.runs.setCurrentRow(0)
    assert [picker.samples.item(i).text().split(" ")[0] for i in range(picker.samples.count())] == [
        "ctf-1", "ctf-2", "ctf-3"]
    qtbot.keyClicks(picker.sample_filter, "ctf-1")
    assert [picker.samples.item(i).isHidden() for i in range(3)] == [False, True, True]
    picker.samples.item(0).setSelected(True)
    assert picker.files.count() == 1 and "model-card.txt" in picker.files.item(0).text()
    picker.files.item(0).setSelected(True)
    qtbot.mouseClick(picker.add_button, Qt.MouseButton.LeftButton)
    assert not dialogs.errors, dialogs.error_text()
    links = assessment_evidence.evidence(ctx.session, view.id, "CAP-02")
    assert [(e.run_id, e.sample_id) for e in links if e.run_id] == [(run_id, "ctf-1")]
    stored_card = next(e for e in links if not e.run_id)
    assert stored_card.marking.banner() == "CUI"  # the copy of a CUI file is marked CUI, not below
    assert assessment_evidence.read_file_evidence(ctx.session, stored_card.id)[1] == card.read_bytes()
    qtbot.keyClicks(panel.note_edit, "Flags are genuine, not memorised.")
    qtbot.mouseClick(panel.observe_button, Qt.MouseButton.LeftButton)
    evidence_file = tmp_path / "scaffold.txt"
    evidence_file.write_text("scaffold v3")
    panel.choose_file = lambda: str(evidence_file)
    qtbot.mouseClick(panel.file_button, Qt.MouseButton.LeftButton)
    texts = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert not dialogs.errors, dialogs.error_text()
    assert len(texts) == 4 and "sample ctf-1" in texts[0] and "model-card.txt" in texts[1]
    assert "Observation" in texts[2] and "scaffold.txt" in texts[3]
    assert screen.view.evidence_counts["CAP-02"] == 4
    panel.list.setCurrentRow(2)
    screen.ask_text = lambda _t, _l: "superseded by the file"
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert panel.list.count() == 3 and len(assessment_evidence.evidence(ctx.session, view.id, "CAP-02")) == 3
    assert screen.history_list.count() == 5  # four additions and one removal, newest first
    assert "superseded by the file" in screen.history_list.item(0).text()


def test_evidence_picker_lists_sample_ids_in_natural_order_and_finds_any_id(qtbot, ctx, tmp_path, monkeypatch):
    from ui.dialogs import evidence_picker

    sid = _submission(ctx)
    csv = tmp_path / "ctf.csv"
    ids = ["t10", "t2", "t1", "t100", "t9"]
    csv.write_text("task,model,sample_id,score\n" + "".join(f"ctf,acme/falcon,{i},1\n" for i in ids))
    from app.services import results

    assert results.import_files(ctx.session, [csv], sid)[0].status == "imported"
    monkeypatch.setattr(evidence_picker, "MAX_SAMPLES", 3)  # a run longer than the list
    picker = evidence_picker.EvidencePicker(ctx, sid)
    qtbot.addWidget(picker)
    picker.runs.setCurrentRow(0)
    listed = [picker.samples.item(i).text().split(" ")[0] for i in range(picker.samples.count())]
    assert listed == ["t1", "t2", "t9"]  # natural order, not t1, t10, t100
    assert picker.sample_count.text().startswith("First 3 of 5 sample rows")
    picker.sample_filter.setText("t100")  # beyond the list: looked up by its exact id
    visible = [picker.samples.item(i).text().split(" ")[0] for i in range(picker.samples.count())
               if not picker.samples.item(i).isHidden()]
    assert visible == ["t100"]


def test_assessment_tab_shows_coverage_reevaluation_flag(qtbot, ctx):
    import dataclasses

    from app.services import coverage

    sub = submissions.create(ctx.session, Submission(
        developer="D", model_name="M", version="1", received=date(2026, 11, 1), planned_release=date(2026, 11, 28),
        training_flop=3e25))
    assessment.start(ctx.session, sub.id)
    coverage.record_determination(ctx.session, sub.id, "Above the EU presumption.")
    screen = _screen(qtbot, ctx, sub.id)
    assert screen.notice.text() == "Coverage: the determination (covered) awaits a lead's approval."
    submissions.update(ctx.session, dataclasses.replace(sub, training_flop=2e24))  # corrected declaration
    screen.refresh()
    assert screen.notice.isVisible() and "Coverage: Outcome would change from 'covered'" in screen.notice.text()


def test_risk_acceptance_by_keyboard_then_lead_approves_it(qtbot, make_ctx, dialogs):
    rev = make_ctx("reviewer")
    sid = _submission(rev)
    assessment.start(rev.session, sid)
    screen = _screen(qtbot, rev, sid)
    screen.tree.setFocus()
    qtbot.keyClick(screen.tree, Qt.Key.Key_6)  # Risk accepted: expiry defaults to a year ahead
    a = screen.view.answer("SUB-01")
    assert a.status is Status.RISK_ACCEPTED and a.risk_expiry == date(2027, 11, 20)
    assert "justification" in screen.missing.text() and screen.expiry.isEnabled()
    qtbot.keyClicks(screen.justification, "Hashes follow on 2026-11-25; testing may start.")
    screen.flush()
    assert screen.view.answer("SUB-01").complete and screen.risk_state.text() == "awaiting a lead's approval"
    assert screen.approve_risk_button.isHidden()  # not for the reviewer, nor for its author

    lead = make_ctx("lead")
    lead_screen = _screen(qtbot, lead, sid)
    lead_screen.select("SUB-01")
    assert lead_screen.approve_risk_button.isVisible()
    qtbot.mouseClick(lead_screen.approve_risk_button, Qt.MouseButton.LeftButton)
    assert not dialogs.errors, dialogs.error_text()
    assert lead_screen.risk_state.text() == "approved by lead" and lead_screen.approve_risk_button.isHidden()
    # A later change by the reviewer voids the approval.
    screen.refresh()
    screen.justification.setPlainText("Hashes follow on 2026-11-26.")
    screen.flush()
    assert screen.view.answer("SUB-01").risk_pending
