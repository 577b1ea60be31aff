"""Records edited around the application, as a reviewer meets them: a register entry flagged red in the
register (with why), named in its editor and the CSAF export dialog, and signed again after review; a
submission flagged in the submissions table and at the top of its page."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.model.vulnerabilities import Vulnerability
from app.services import vuln_signatures
from app.services import vulnerabilities as vs
from tests.conftest import tamper
from ui.models.vulns_model import BROKEN_BG
from ui.screens.vulnerabilities_screen import VulnerabilitiesScreen
from ui.vuln_editor import VulnEditor


def test_the_register_flags_an_edited_entry_and_the_editor_signs_it_after_review(ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    good = vs.create(ctx.session, Vulnerability(title="Untouched"))
    edited = vs.create(ctx.session, Vulnerability(title="Sandbox escape"))
    with tamper(ctx.session) as conn:
        conn.execute("UPDATE vulnerabilities SET title = 'Harmless' WHERE id = ?", (edited.id,))
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    model = screen.model
    rows = {model.vuln_at(r).id: r for r in range(model.rowCount())}  # type: ignore[union-attr]
    ok, bad = model.index(rows[good.id], 0), model.index(rows[edited.id], 0)
    assert model.data(ok) == good.id and model.data(ok, Qt.ItemDataRole.BackgroundRole) is None
    assert model.data(bad) == f"⚠ {edited.id}"
    assert model.data(bad, Qt.ItemDataRole.BackgroundRole) == BROKEN_BG
    assert model.data(bad, Qt.ItemDataRole.ToolTipRole) == (
        "DOES NOT HOLD its signature: it was changed (title) in the database after reviewer signed revision 1 "
        "on 2026-11-20")
    assert screen.selected_ids() == [] and model.key_at(rows[edited.id]) == edited.id  # the id itself stays the key

    screen.table.selectRow(rows[edited.id])
    screen.edit_selected()
    editor = screen.findChildren(VulnEditor)[-1]
    qtbot.addWidget(editor)
    assert editor.original.id == edited.id
    sig = editor.signature
    assert sig.label.text().startswith("DOES NOT HOLD its signature: it was changed (title) in the database")
    assert sig.label.text().endswith("\nAs signed: title: Sandbox escape")  # what to compare it with
    assert sig.button.isVisible() and sig.button.isEnabled()
    qtbot.mouseClick(sig.button, Qt.MouseButton.LeftButton)
    assert dialogs.confirmations[-1] == "Sign as reviewed"
    assert sig.label.text().startswith("Holds: signed by reviewer on 2026-11-20")
    assert not sig.button.isVisible()
    assert vuln_signatures.standing(ctx.session, vs.get(ctx.session, edited.id)).holds
    assert model.data(model.index(rows[edited.id], 0)) == edited.id  # the register re-read it


def test_an_entry_that_holds_says_who_signed_it_and_offers_nothing_to_sign(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    v = vs.create(ctx.session, Vulnerability(title="Fine"))
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    editor = screen.editor_for(v.id)
    qtbot.addWidget(editor)
    assert editor.signature.label.text() == "Holds: signed by reviewer on 2026-11-20 (revision 1)"
    assert not editor.signature.button.isVisible()
    new = screen.editor_for(None)
    qtbot.addWidget(new)
    assert not hasattr(new, "signature")  # nothing is signed before the first save


def test_the_export_dialog_refuses_an_entry_that_does_not_hold_for_every_partner(ctx, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.csaf_kit import partner_for
    from ui.dialogs.csaf_export_dialog import CsafExportDialog

    fine = vs.create(ctx.session, Vulnerability(title="Fine"))
    edited = vs.create(ctx.session, Vulnerability(title="Edited"))
    with tamper(ctx.session) as conn:
        conn.execute("UPDATE vulnerabilities SET tlp = 'CLEAR' WHERE id = ?", (edited.id,))
    name = partner_for(ctx.session)
    dialog = CsafExportDialog(ctx, [fine.id, edited.id])
    qtbot.addWidget(dialog)
    dialog.recipient.setCurrentIndex(dialog.recipient.findData(name))
    dialog.set_folder(tmp_path)
    fine_status, edited_status = (dialog.table.item(r, 5).text() for r in range(2))
    assert fine_status == "may be shared"
    assert edited_status.startswith("not until reviewed and signed: it does not hold its signature (it was changed "
                                    "(tlp) in the database")
    assert "1 entry does not hold its signature" in dialog.verdict.text()
    assert not dialog.export_button.isEnabled() and dialog.request() is None


def test_a_submission_rewritten_in_the_database_is_flagged_in_the_table_and_on_its_page(ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from app.model.markings import Marking
    from app.model.submissions import Submission
    from app.services import submission_signatures, submissions
    from ui.models.submissions_model import BROKEN_BG as SUB_BROKEN_BG
    from ui.models.submissions_model import SubmissionsModel
    from ui.screens.submission_detail import SubmissionDetail

    fine = submissions.create(ctx.session, Submission("Acme AI", "Falcon", "2", date(2026, 11, 10),
                                                      date(2026, 12, 5), marking=Marking.parse("SECRET")))
    edited = submissions.create(ctx.session, Submission("Acme AI", "Hawk", "1", date(2026, 11, 10),
                                                        date(2026, 12, 6), marking=Marking.parse("SECRET")))
    quiet = SubmissionDetail(ctx, int(fine.id or 0))
    qtbot.addWidget(quiet)
    quiet.show()
    assert quiet.signature.isHidden()  # nothing to say while it holds
    with tamper(ctx.session) as conn:
        conn.execute("UPDATE submissions SET marking = 'CUI' WHERE id = ?", (edited.id,))
    model = SubmissionsModel(ctx)
    rows = {model.submission_at(r).id: r for r in range(model.rowCount())}  # type: ignore[union-attr]
    bad = model.index(rows[edited.id], 0)
    assert model.data(bad) == f"⚠ {edited.id}" and model.data(bad, Qt.ItemDataRole.BackgroundRole) == SUB_BROKEN_BG
    assert "it was changed (marking) in the database" in model.data(bad, Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(rows[fine.id], 0)) == str(fine.id)
    marking_col = [c.header for c in model.columns].index("Marking")
    assert model.data(model.index(rows[edited.id], marking_col)) == "SECRET"  # what its editors signed, not CUI

    page = SubmissionDetail(ctx, int(edited.id or 0))
    qtbot.addWidget(page)
    page.show()
    assert page.title().startswith("(S) ")  # the marking its editors signed, not the lowered (CUI) row
    overview = page.tab("Overview")
    assert overview.marking.marking() == Marking.parse("SECRET")  # a save starts from the signed marking
    sig = page.signature
    assert sig.isVisible() and sig.label.text().startswith(
        "DOES NOT HOLD its signature: it was changed (marking) in the database after reviewer signed it")
    qtbot.mouseClick(sig.button, Qt.MouseButton.LeftButton)
    assert dialogs.confirmations[-1] == "Sign as reviewed" and sig.isHidden()
    assert submission_signatures.standing(ctx.session, int(edited.id or 0)).holds


def test_a_lowered_entry_keeps_its_signed_portion_mark_in_the_register_and_the_editor(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.model.markings import Marking
    from ui.models.vulns_model import COLUMNS

    secret = Marking.parse("SECRET//NOFORN")
    v = vs.create(ctx.session, Vulnerability(title="Weights exfiltration path", marking=secret))
    with tamper(ctx.session) as conn:
        conn.execute("UPDATE vulnerabilities SET marking = 'UNCLASSIFIED', marking_level = 0 WHERE id = ?", (v.id,))
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    mark = [c.header for c in COLUMNS].index("Mark")
    assert screen.model.data(screen.model.index(0, mark)) == secret.portion() == "(S//NF)"
    editor = screen.editor_for(v.id)
    qtbot.addWidget(editor)
    assert editor.marking.marking() == secret and editor.signature.label.text().startswith(
        "DOES NOT HOLD its signature: it was changed (marking)")
