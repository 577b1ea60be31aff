"""The CSAF export dialog asks the recipient, shows why an entry may not go to it, and offers a
lead's override of embargo and TLP (never of markings)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt

from app.model.markings import Marking
from app.services import csaf_sharing
from app.services import vulnerabilities as vs
from tests.unit.csaf_kit import partner_for
from tests.unit.test_csaf import rich
from tests.unit.test_csaf_sharing import REASON, UK
from ui.dialogs.csaf_export_dialog import CsafExportDialog
from ui.screens.vulnerabilities_screen import VulnerabilitiesScreen
from ui.vuln_editor import VulnEditor


def status_column(dialog: CsafExportDialog) -> list[str]:
    return [dialog.table.item(r, 5).text() for r in range(dialog.table.rowCount())]


def pick(dialog: CsafExportDialog, name: str) -> None:
    dialog.recipient.setCurrentIndex(dialog.recipient.findData(name))


def test_reviewer_sees_why_and_cannot_export_an_embargoed_entry(ctx, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    held = vs.create(ctx.session, rich(embargo_until=date(2026, 12, 10)))
    free = vs.create(ctx.session, rich(cve="CVE-2026-40011", title="Lifted"))
    name = partner_for(ctx.session)
    dialog = CsafExportDialog(ctx, [held.id, free.id])
    qtbot.addWidget(dialog)
    assert status_column(dialog) == ["choose the recipient"] * 2 and not dialog.export_button.isEnabled()
    pick(dialog, name)
    held_status, free_status = status_column(dialog)
    assert held_status == "only with a lead's override: under embargo until 2026-12-10"
    assert free_status == "may be shared"
    assert "Only a lead may override" in dialog.verdict.text()
    dialog.set_folder(tmp_path)
    assert dialog.reason.isHidden() and not dialog.export_button.isEnabled() and dialog.request() is None


def test_lead_overrides_with_a_reason_and_the_export_is_recorded(make_ctx, dialogs, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lead = make_ctx("lead")
    held = vs.create(lead.session, rich(embargo_until=date(2026, 12, 10)))
    name = partner_for(lead.session)
    screen = VulnerabilitiesScreen(lead)
    qtbot.addWidget(screen)
    dialog = CsafExportDialog(lead, [held.id], screen)
    qtbot.addWidget(dialog)
    pick(dialog, name)
    usb = tmp_path / "usb"
    usb.mkdir()
    dialog.set_folder(usb)
    dialog.package.setChecked(False)
    dialog.media.setText("SECRET")
    assert not dialog.reason.isHidden() and "As a lead you may override" in dialog.verdict.text()
    assert not dialog.export_button.isEnabled()
    qtbot.keyClicks(dialog.reason, REASON)
    assert dialog.export_button.isEnabled()
    request = dialog.request()
    assert request is not None and (request.recipient, request.override_reason, request.package) == (
        name, REASON, False)
    screen.run_export(request)
    assert dialogs.errors == []
    assert screen.last_export is not None and [p.name for p in screen.last_export.files] == [
        f"{held.id.lower()}.json"]
    (shared,) = csaf_sharing.recipients(lead.session, held.id)
    assert (shared.row.override_by, shared.row.override_reason, shared.problem) == ("lead", REASON, None)
    # The editor lists who received which revision.
    editor = VulnEditor(lead, vs.get(lead.session, held.id))
    qtbot.addWidget(editor)
    table = editor.recipients
    assert table.rowCount() == 1
    assert [table.item(0, c).text() for c in (0, 1, 4, 5)] == [
        f"{held.id} v1", name, f"lead: {REASON}", "signed"]


def test_markings_are_never_overridable_in_the_dialog(make_ctx, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lead = make_ctx("lead")
    v = vs.create(lead.session, rich(marking=Marking.parse("SECRET//NOFORN")))
    name = partner_for(lead.session, UK)
    dialog = CsafExportDialog(lead, [v.id])
    qtbot.addWidget(dialog)
    pick(dialog, name)
    usb = tmp_path / "usb"
    usb.mkdir()
    dialog.set_folder(usb)
    (status,) = status_column(dialog)
    assert status.startswith("never (marking): ") and "NOFORN" in status
    assert "markings are never overridden" in dialog.verdict.text()
    assert dialog.reason.isHidden() and not dialog.export_button.isEnabled()
    assert dialog.table.item(0, 0).background().color().name() == "#ffebe9"
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert list(usb.iterdir()) == [] and dialog.request() is None
