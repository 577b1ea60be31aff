"""The Release tab (issue 16, point 7): partner chooser, build, side-by-side with withheld portions
struck through and banners at each side's marking, two-person approval, sealed export, and the
"Release to developer" button."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QTextCursor

from app.services import partners
from tests.unit.test_release_service import ACME, NOFORN_TEXTS, ready, ready_template  # noqa: F401  (fixtures)
from ui.screens.release_tab import ReleaseTab


def _struck(tab_pane, needle: str) -> bool:  # type: ignore[no-untyped-def]
    doc = tab_pane.text.document()
    found = doc.find(needle)
    assert not found.isNull(), needle
    cursor = QTextCursor(found)
    return bool(cursor.charFormat().fontStrikeOut())


def test_build_is_disabled_with_the_reason_until_the_review_is_finished(workstation, make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from app.model.submissions import Submission
    from app.services import submissions

    partners.add(workstation.session("admin"), ACME)
    ctx = make_ctx("reviewer")
    sid = submissions.create(ctx.session, Submission(developer="Acme AI", model_name="Falcon", version="3",
                                                     received=date(2026, 11, 2), planned_release=date(2026, 12, 1))).id
    tab = ReleaseTab(ctx, sid)
    qtbot.addWidget(tab)
    for button in (tab.build_button, tab.developer_button):
        assert not button.isEnabled() and "the review is not finished" in button.toolTip()
    assert not tab.approve_button.isVisibleTo(tab)


def test_release_tab_build_compare_approve_export(workstation, ready, make_ctx, dialogs, qtbot,  # noqa: F811
                                                  tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sid, uk, key = ready
    rev_ctx = make_ctx("reviewer")
    tab = ReleaseTab(rev_ctx, sid)
    qtbot.addWidget(tab)
    assert tab.partner_box.count() == 1 and "UK AI Security Institute" in tab.partner_box.currentText()
    assert not tab.approve_button.isVisibleTo(tab)  # reviewers never approve releases
    assert not tab.export_button.isEnabled()

    # the developer is not in the partner register: said before any passphrase is asked
    tab.developer_button.click()
    assert dialogs.errors and "no developer partner named" in str(dialogs.errors[-1]) and not dialogs.prompts
    dialogs.errors.clear()

    dialogs.passphrases = [workstation.passphrase("reviewer")]
    tab.build_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert tab.current is not None and tab.current.state == "built" and tab.table.rowCount() == 1
    assert tab.full_pane.top.text() == tab.full_pane.bottom.text() == "SECRET//NOFORN"
    assert tab.released_pane.top.text() == tab.released_pane.bottom.text() == "SECRET//REL TO USA, GBR"
    full, released = tab.full_pane.text.toPlainText(), tab.released_pane.text.toPlainText()
    for withheld in NOFORN_TEXTS:
        assert withheld in full and withheld not in released
        assert _struck(tab.full_pane, withheld)  # struck through (and greyed) on the full side
    assert "withheld: NOFORN: not releasable to foreign nationals" in full
    assert not _struck(tab.full_pane, "Allies may see the range outcome.")
    assert "Allies may see the range outcome." in released
    assert "Withheld: " in tab.info.text() and "NOFORN" in tab.info.text()

    # the lead who did not build it approves after comparing; then the reviewer exports
    lead_ctx = make_ctx("lead")
    lead_tab = ReleaseTab(lead_ctx, sid)
    qtbot.addWidget(lead_tab)
    lead_tab.select(tab.current.id)
    assert lead_tab.approve_button.isEnabled(), lead_tab.approve_button.toolTip()
    dialogs.passphrases = [workstation.passphrase("lead")]
    lead_tab.approve_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert lead_tab.current is not None and lead_tab.current.state == "approved"
    assert not lead_tab.approve_button.isEnabled() and "already approved" in lead_tab.approve_button.toolTip()

    partners.add_certificate(workstation.session("admin"), uk.id, key.cert_path, "encryption")
    usb = tmp_path / "usb"
    usb.mkdir()
    tab.refresh()
    tab.select(lead_tab.current.id)
    assert tab.export_button.isEnabled()
    tab.choose_export = lambda _parent, marking: (usb, marking)
    dialogs.passphrases = [workstation.passphrase("reviewer")]
    tab.export_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert tab.last_export is not None and tab.current is not None and tab.current.state == "exported"
    assert (usb / f"{tab.current.control_number}.sealed" / f"{tab.current.control_number}.p7m").is_file()

    # the developer's own release has its own button; a lead who builds one cannot approve it
    partners.add(workstation.session("admin"), ACME)
    lead_tab.refresh()
    assert lead_tab.partner_box.count() == 2
    dialogs.passphrases = [workstation.passphrase("lead")]
    lead_tab.developer_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert lead_tab.current is not None and lead_tab.current.own and lead_tab.current.partner_name == "Acme AI"
    assert "Withheld from this release for Acme AI:" in lead_tab.released_pane.text.toPlainText()
    assert "(developer)" in lead_tab.table.item(1, 1).text()
    assert not lead_tab.approve_button.isEnabled()
    assert "two-person rule" in lead_tab.approve_button.toolTip()
