"""The CVSS v4 calculator driven through its combo boxes, the editor's validation, the register
screen's filters, sorting and windowed paging, and the CSAF import preview."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from app.model.markings import UNCLASSIFIED, Marking
from app.model.submissions import Submission
from app.model.vulnerabilities import (
    NO_REMEDIATION,
    CvssSeverity,
    DiscoveryContext,
    Remediation,
    RemediationCategory,
    Tlp,
    Vulnerability,
    VulnStatus,
)
from app.services import csaf_exchange, submissions
from app.services import vulnerabilities as vs
from tests.unit.csaf_kit import partner_for
from ui.models.vulns_model import PAGE, VulnTableModel
from ui.screens.vulnerabilities_screen import VulnerabilitiesScreen
from ui.vuln_editor import CvssCalculator, VulnEditor, editor_for_finding, editor_for_sample


def pick(qtbot, combo: QComboBox, code: str) -> None:  # type: ignore[no-untyped-def]
    """Choose a metric value the way a reviewer does: focus the combo, move with the keyboard."""
    combo.setFocus()
    target = combo.findData(code)
    assert target >= 0, code
    assert combo.isEnabled()
    key = Qt.Key.Key_Down if target > combo.currentIndex() else Qt.Key.Key_Up
    for _ in range(combo.count()):
        if combo.currentIndex() == target:
            break
        qtbot.keyClick(combo, key)
    assert combo.currentIndex() == target


def test_calculator_combos_produce_vector_and_score_live(qtbot) -> None:  # type: ignore[no-untyped-def]
    calc = CvssCalculator()
    qtbot.addWidget(calc)
    # A fresh calculator: no impact, score 0.
    assert calc.vector.text() == "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"
    assert "0.0 None" in calc.score.text()
    # CVE-2022-41741 from the FIRST CVSS v4.0 examples: 7.3.
    for metric, code in {"AV": "L", "AT": "P", "PR": "L", "VC": "H", "VI": "H", "VA": "H"}.items():
        with qtbot.waitSignal(calc.changed, timeout=1000):
            pick(qtbot, calc.combos[metric], code)
    assert calc.vector.text() == "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    assert "7.3 High" in calc.score.text() and "CVSS-B" in calc.score.text()
    # Threat metric: Unreported exploit maturity lowers it (CVSS-BT).
    pick(qtbot, calc.combos["E"], "U")
    assert calc.vector.text().endswith("/SA:N/E:U")
    assert calc.current is not None and calc.current.nomenclature == "CVSS-BT"
    assert calc.current.score < 7.3
    pick(qtbot, calc.combos["E"], "X")
    assert calc.vector_text() == "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


def test_typed_vector_sets_the_combos_and_invalid_metric_is_named(qtbot) -> None:  # type: ignore[no-untyped-def]
    calc = CvssCalculator()
    qtbot.addWidget(calc)
    calc.vector.clear()
    qtbot.keyClicks(calc.vector, "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U")
    assert calc.combos["UI"].currentData() == "P" and calc.combos["E"].currentData() == "U"
    assert "5.2 Medium" in calc.score.text()  # CVE-2020-3549 Base + Threat, FIRST examples
    # Environmental metrics typed in switch their group on.
    calc.vector.clear()
    qtbot.keyClicks(calc.vector, "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N/CR:H/IR:L/AR:L/"
                                 "MAV:N/MAC:H/MVC:H/MVI:L/MVA:L")
    assert "8.1 High" in calc.score.text() and "CVSS-BE" in calc.score.text()
    assert calc.combos["MAC"].currentData() == "H"
    calc.vector.setText("")
    qtbot.keyClicks(calc.vector, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:Q/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    assert "User Interaction (UI) has invalid value 'Q'" in calc.message.text()
    assert calc.current is None and calc.score.text() == "invalid vector"


def test_editor_saves_a_new_vulnerability_with_the_calculated_vector(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = VulnEditor(ctx)
    qtbot.addWidget(editor)
    qtbot.keyClicks(editor.title, "Jailbreak bypasses the cyber-uplift refusal")
    for metric in ("VC", "VI", "VA"):
        pick(qtbot, editor.calculator.combos[metric], "H")
    editor.tlp.setCurrentIndex(editor.tlp.findData(Tlp.RED))
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    stored = editor.result_vuln
    assert stored is not None and stored.id == "FRW-VULN-2026-0001"
    assert stored.cvss_vector == "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    assert (stored.score, stored.severity, stored.tlp) == (9.3, CvssSeverity.CRITICAL, Tlp.RED)
    assert vs.get(ctx.session, stored.id).title == "Jailbreak bypasses the cyber-uplift refusal"


def test_editor_links_a_submission_and_defaults_the_embargo(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    sub = submissions.create(ctx.session, Submission("Acme AI", "Falcon", "2", date(2026, 11, 10),
                                                     date(2026, 12, 5)))
    editor = VulnEditor(ctx)
    qtbot.addWidget(editor)
    qtbot.keyClicks(editor.title, "Linked")
    editor.submission.setCurrentIndex(editor.submission.findData(sub.id))
    editor.save()
    assert editor.result_vuln is not None
    assert editor.result_vuln.context.submission_id == sub.id
    assert editor.result_vuln.embargo_until == date(2026, 12, 5)


def test_editor_shows_validation_messages_and_keeps_the_dialog_open(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = VulnEditor(ctx)
    qtbot.addWidget(editor)
    qtbot.keyClicks(editor.title, "Bad identifiers")
    qtbot.keyClicks(editor.product_id, "cpe:2.3:a:acme")
    editor.save()
    assert "product_id" in editor.error.text() and "not a valid CPE" in editor.error.text()
    assert editor.result_vuln is None and vs.count(ctx.session) == 0
    editor.product_id.setText("pkg:pypi/acme@1.0")
    editor.calculator.vector.clear()
    qtbot.keyClicks(editor.calculator.vector, "CVSS:4.0/AV:N")
    editor.save()
    assert "missing mandatory base metric" in editor.error.text()
    editor.calculator.enabled.setChecked(False)  # not scored yet: allowed
    editor.save()
    assert editor.result_vuln is not None and editor.result_vuln.cvss_vector == ""


def test_editor_lists_remediations_and_notes_and_edits_them(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: remediations are a list; a vendor fix is a row of its own next to "none available"."""
    v = vs.create(ctx.session, Vulnerability(title="Listed"))
    editor = VulnEditor(ctx, v)
    qtbot.addWidget(editor)
    rems = editor.remediations
    assert rems.state_value() == (("none_available", NO_REMEDIATION, "", "", ""),)
    assert not editor.is_modified()
    qtbot.mouseClick(rems.add_button, Qt.MouseButton.LeftButton)
    assert editor.is_modified()
    combo = rems.table.cellWidget(1, 0)
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData("vendor_fix"))
    rems.table.item(1, 1).setText("Acme shipped safety patch 2.0.1")
    rems.table.item(1, 2).setText("pkg:pypi/acme@2.0.1")
    rems.table.item(1, 3).setText("20-11-2026")
    editor.save()
    assert "remediation 2" in editor.error.text() and "YYYY-MM-DD" in editor.error.text()
    rems.table.item(1, 3).setText("2026-11-20")
    qtbot.mouseClick(editor.notes.add_button, Qt.MouseButton.LeftButton)
    editor.notes.table.item(0, 1).setText("Partner analysis")
    editor.notes.table.item(0, 2).setText("Also reachable through the API.")
    assert editor.save()
    stored = vs.get(ctx.session, v.id)
    assert [(r.category.value, r.details, r.product_ids) for r in stored.remediations] == [
        ("none_available", NO_REMEDIATION, ()), ("vendor_fix", "Acme shipped safety patch 2.0.1",
                                                 ("pkg:pypi/acme@2.0.1",))]
    assert stored.remediations[1].issued == date(2026, 11, 20)
    assert [(n.title, n.text) for n in stored.notes] == [("Partner analysis", "Also reachable through the API.")]
    # Reopened: the rows are there; removing the first leaves the vendor fix alone.
    again = VulnEditor(ctx, stored)
    qtbot.addWidget(again)
    assert again.remediations.table.rowCount() == 2
    again.remediations.table.selectRow(0)
    qtbot.mouseClick(again.remediations.remove_button, Qt.MouseButton.LeftButton)
    assert again.save()
    assert [r.category.value for r in vs.get(ctx.session, v.id).remediations] == ["vendor_fix"]


def test_editor_prefilled_from_a_sample_keeps_the_link(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    sub = submissions.create(ctx.session, Submission("Acme AI", "Falcon", "2", date(2026, 11, 10),
                                                     date(2026, 12, 5), marking=Marking.parse("SECRET")))
    editor = editor_for_sample(ctx, sub.id, "run-4", "17", excerpt="$ ./exploit")
    qtbot.addWidget(editor)
    assert "run run-4" in editor.context_label.text() and "sample 17" in editor.context_label.text()
    assert editor.embargo.value() == date(2026, 12, 5)
    assert editor.marking.marking().banner() == "SECRET"
    editor.save()
    assert editor.result_vuln is not None
    assert editor.result_vuln.context == DiscoveryContext(sub.id, "run-4", "17", "")


def test_editor_prefilled_from_a_finding(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.model.findings import Finding
    from app.model.findings import Severity as FSeverity

    sub = submissions.create(ctx.session, Submission("Acme AI", "Falcon", "2", date(2026, 11, 10),
                                                     date(2026, 12, 5)))
    editor = editor_for_finding(ctx, Finding(sub.id, "Exploit chain", "details", FSeverity.HIGH, id=3))
    qtbot.addWidget(editor)
    assert editor.title.text() == "Exploit chain" and "finding 3" in editor.context_label.text()


def seed(session, n: int) -> None:  # type: ignore[no-untyped-def]
    vectors = ["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",  # 9.3
               "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",  # 7.3
               "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"]  # 4.6
    for i in range(n):
        vs.create(session, Vulnerability(
            title=f"V{i:03d}", cvss_vector=vectors[i % 3],
            embargo_until=date(2026, 11, 22) if i % 5 == 0 else date(2027, 3, 1),
            status=VulnStatus.CONFIRMED if i % 2 else VulnStatus.NEW))


def test_screen_filters_by_severity_status_and_embargo(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    seed(ctx.session, 15)
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    assert screen.model.rowCount() == 15
    screen.severity.setCurrentIndex(screen.severity.findText("Critical"))
    assert screen.model.rowCount() == 5
    screen.status.setCurrentIndex(screen.status.findText("confirmed"))
    assert screen.model.rowCount() == 2  # i in {3, 9}
    screen.severity.setCurrentIndex(0)
    screen.status.setCurrentIndex(0)
    screen.embargo_soon.setChecked(True)  # within 7 days of 2026-11-20
    assert screen.model.rowCount() == 3  # i in {0, 5, 10}
    assert "3 open embargo(es) end within 7 days" in screen.summary.text()
    screen.embargo_soon.setChecked(False)
    screen.search.setText("V01")
    assert screen.model.rowCount() == 5


def test_model_sorts_in_the_service_and_fetches_pages_on_demand(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    seed(ctx.session, 25)
    model = VulnTableModel(ctx.session, page_size=10)
    assert model.rowCount() == 25 and model.pages_fetched == 0
    assert model.data(model.index(0, 2)) == "V000"
    assert model.data(model.index(9, 2)) == "V009"
    assert model.pages_fetched == 1
    assert model.data(model.index(24, 2)) == "V024"
    assert model.pages_fetched == 2  # rows 10-19 were never fetched
    assert PAGE >= 100  # the screen's real window
    model.sort(3, Qt.SortOrder.DescendingOrder)  # severity, most severe first
    top = [model.data(model.index(r, 3)) for r in range(3)]
    assert top == ["Critical"] * 3
    model.sort(3, Qt.SortOrder.AscendingOrder)
    assert model.data(model.index(0, 3)) == "Medium"
    assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole + 1).startswith("FRW-VULN-2026-")


def test_import_preview_dialog_resolves_a_conflict(ctx, make_ctx, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v = vs.create(ctx.session, Vulnerability(title="Original", remediations=(Remediation(RemediationCategory.NONE_AVAILABLE, "r1"),)))
    folder = tmp_path / "m"
    folder.mkdir()
    (path,) = csaf_exchange.export_csaf(ctx.session, [v.id], folder, media_marking=Marking.parse("CUI"),
                                        recipient=partner_for(ctx.session)).files
    doc = json.loads(path.read_text())
    doc["vulnerabilities"][0]["remediations"][0]["details"] = "partner fix"
    path.write_text(json.dumps(doc))
    vs.update(ctx.session, dataclasses.replace(vs.get(ctx.session, v.id), remediations=(
        Remediation(RemediationCategory.NONE_AVAILABLE, "local fix"),)))
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    dialog = screen.preview_import([path], UNCLASSIFIED, show=False)
    assert dialog is not None
    qtbot.addWidget(dialog)
    texts = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount()) if dialog.table.item(r, 0)]
    assert "CONFLICT" in texts
    combo = dialog.choices[(0, "remediations")]
    combo.setCurrentIndex(combo.findData("incoming"))
    dialog.apply()
    assert dialog.import_result is not None and dialog.import_result.updated == [v.id]
    assert vs.get(ctx.session, v.id).remediations == (Remediation(RemediationCategory.NONE_AVAILABLE, "partner fix"),)


def test_screen_exports_a_signed_package_of_the_selection(ctx, dialogs, workstation, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.services import pki as pki_service

    pki_service.ensure_ready(ctx.session)
    seed(ctx.session, 3)
    lifted = dataclasses.replace(vs.get(ctx.session, "FRW-VULN-2026-0002"), embargo_until=None)
    vs.update(ctx.session, lifted)  # under embargo it would be refused (tests/ui/test_csaf_export_dialog.py)
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    screen.table.selectRow(1)
    dialogs.passphrases = [workstation.passphrase("reviewer")]
    screen.export_package(tmp_path, "UNCLASSIFIED", partner_for(ctx.session))
    assert dialogs.errors == []
    assert screen.last_export is not None
    assert [p.name for p in screen.last_export.files] == ["frw-vuln-2026-0002.json"]
    assert (screen.last_export.folder / "SHA256SUMS.p7s").is_file()
    # Cancelled passphrase prompt: nothing exported.
    screen.last_export = None
    screen.export_package(tmp_path, "UNCLASSIFIED", "National CERT")
    assert screen.last_export is None and dialogs.prompts == ["Sign the CSAF package manifest"] * 2


def test_register_screen_in_the_main_window_and_read_only_for_auditors(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    from ui.main_window import MainWindow

    reviewer_ctx = make_ctx("reviewer")
    vs.create(reviewer_ctx.session, Vulnerability(title="Seen by the auditor"))
    window = MainWindow(make_ctx("auditor"))
    qtbot.addWidget(window)
    window.page("vulnerabilities")
    screen = window.show_screen("vulnerabilities")
    assert isinstance(screen, VulnerabilitiesScreen)
    assert screen.model.rowCount() == 1
    assert not screen.new_button.isEnabled() and not screen.import_button.isEnabled()
    assert not screen.export_button.isEnabled()


def test_import_preview_shows_a_partner_remediation_merged_next_to_ours(ctx, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: the partner's vendor fix is a new entry; the preview says "merged" and shows the result."""
    v = vs.create(ctx.session, Vulnerability(title="Original"))
    folder = tmp_path / "m"
    folder.mkdir()
    (path,) = csaf_exchange.export_csaf(ctx.session, [v.id], folder, media_marking=Marking.parse("CUI"),
                                        recipient=partner_for(ctx.session)).files
    doc = json.loads(path.read_text())
    doc["vulnerabilities"][0]["remediations"].append(
        {"category": "vendor_fix", "details": "Acme shipped safety patch 2.0.1", "product_ids": ["FRWP-1"]})
    path.write_text(json.dumps(doc))
    vs.update(ctx.session, dataclasses.replace(vs.get(ctx.session, v.id), remediations=(
        Remediation(RemediationCategory.NONE_AVAILABLE, NO_REMEDIATION),
        Remediation(RemediationCategory.MITIGATION, "Block port 9000."))))
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    dialog = screen.preview_import([path], UNCLASSIFIED, show=False)
    assert dialog is not None
    qtbot.addWidget(dialog)
    rows = [[dialog.table.item(r, c).text() if dialog.table.item(r, c) else "" for c in range(6)]
            for r in range(dialog.table.rowCount())]
    (row,) = [r for r in rows if r[2] == "remediations"]
    assert row[5] == "merged" and "vendor_fix: Acme shipped safety patch 2.0.1" in row[4]
    assert "mitigation: Block port 9000." in row[3]
    dialog.apply()
    assert [r.category.value for r in vs.get(ctx.session, v.id).remediations] == [
        "none_available", "mitigation", "vendor_fix"]


def test_refresh_keeps_the_selected_vulnerability_selected_where_it_moved(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    seed(ctx.session, 15)
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    screen.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # by title: V000 .. V014
    screen.table.selectRow(4)
    (vid,) = screen.selected_ids()
    v = vs.get(ctx.session, vid)
    assert v.title == "V004"
    vs.update(ctx.session, dataclasses.replace(v, title="V010a"))  # now sorts after V010
    screen.refresh()
    assert screen.selected_ids() == [vid]
    assert screen.table.currentIndex().row() == 10 and screen.model.data(screen.model.index(10, 2)) == "V010a"


def test_import_asks_how_the_media_is_labelled_and_never_assumes_it(ctx, qtbot, dialogs, monkeypatch,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    """Walk 2 (s31) #10: the media label marks every advisory that states no marking; it was
    UNCLASSIFIED unless the caller said otherwise. Import CSAF… asks; cancelling imports nothing."""
    from PySide6.QtWidgets import QFileDialog

    path = tmp_path / "adv.json"
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *_a, **_k: ([str(path)], ""))
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    asked: list[tuple[list[Path], Marking]] = []
    monkeypatch.setattr(screen, "preview_import", lambda paths, marking, show=True: asked.append((paths, marking)))
    dialogs.texts = [None]
    screen._choose_import_files()
    assert asked == [] and "labelled" in dialogs.prompts[-1]
    dialogs.texts = ["CUI"]
    screen._choose_import_files()
    assert asked == [([path], Marking.parse("CUI"))]
