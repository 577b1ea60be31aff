"""Partners and Dissemination log screens, and the dashboard's overdue-receipts card, driven with
the real widgets (issue 16, points 1, 4, 5)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from PySide6.QtWidgets import QLabel

from app.model.markings import Level
from app.model.partners import Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from app.services import dissemination, partners
from tests.conftest import FIXED_NOW, PASSPHRASES, tamper
from tests.unit.partner_kit import make_cert, receipt_json, write_receipt
from ui.main_window import MainWindow
from ui.screens.dashboard import DashboardScreen
from ui.screens.dissemination_screen import DisseminationScreen, overdue_receipts_panel
from ui.screens.partners_screen import PartnersScreen

UKAISI = Partner(name="UK AI Security Institute", kind=PartnerKind.ALLIED, codes=("GBR", "FVEY"),
                 max_level=Level.SECRET, tlp=Tlp.AMBER)


def _cells(table, row: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_admin_registers_a_partner_and_its_certificate_others_read(make_ctx, dialogs, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx("admin")
    screen = PartnersScreen(ctx)
    qtbot.addWidget(screen)
    assert screen.add_button.isVisibleTo(screen) and screen.cert_button.isVisibleTo(screen)
    screen.name.setText("UK AI Security Institute")
    screen.kind.setCurrentIndex(screen.kind.findData(PartnerKind.ALLIED))
    screen.codes.setText("GBR, FVEY")
    screen.level.setCurrentIndex(screen.level.findData(Level.SECRET))
    screen.tlp.setCurrentIndex(screen.tlp.findData(Tlp.AMBER))
    screen.contacts.setPlainText("Pat Jones; pat@example.gov.uk; +44 20 7946 0000; liaison")
    added = screen.add()
    assert added is not None and dialogs.errors == []
    assert _cells(screen.table, 0)[:5] == ["UK AI Security Institute", "allied agency", "GBR, FVEY", "SECRET",
                                           "TLP:AMBER"]
    assert _cells(screen.table, 0)[-1] == "signed"
    key = make_cert(tmp_path, "UK AISI", "encryption", rsa_bits=3072)
    screen.choose_certificate = lambda _parent: str(key.cert_path)
    screen.purpose.setCurrentIndex(0)  # encryption
    screen.add_certificate()
    assert dialogs.errors == []
    fp = partners.pki.fingerprint(key.cert).upper()
    assert screen.certs.rowCount() == 1 and screen.certs.item(0, 2).text().replace(" ", "").replace("\n", "") == fp
    assert screen.certs.item(0, 1).text() == "2027-10-21"  # 30 days before FIXED_NOW + 365
    assert fp in screen.status.text() and "Signed by an administrator" in screen.signed.text()
    # An expired certificate is refused with the file named; nothing is added.
    old = make_cert(tmp_path / "old", "UK AISI", "encryption", rsa_bits=3072, days=3)
    screen.choose_certificate = lambda _parent: str(old.cert_path)
    screen.add_certificate()
    assert str(old.cert_path) in dialogs.error_text() and "expired" in dialogs.error_text()
    assert screen.certs.rowCount() == 1
    # Edit: raise the ceiling through the form.
    screen.level.setCurrentIndex(screen.level.findData(Level.TOP_SECRET))
    assert screen.save() is not None and _cells(screen.table, 0)[3] == "TOP SECRET"

    reader = make_ctx("reviewer")
    view = PartnersScreen(reader)
    qtbot.addWidget(view)
    assert not view.add_button.isVisibleTo(view) and not view.cert_button.isVisibleTo(view)
    assert view.name.isReadOnly() and not view.level.isEnabled()
    view.select(int(added.id or 0))
    assert view.name.text() == "UK AI Security Institute" and "pat@example.gov.uk" in view.contacts.toPlainText()
    assert view.certs.item(0, 2).text().replace(" ", "").replace("\n", "") == fp


def test_an_insider_edit_shows_as_not_signed(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx("admin")
    p = partners.add(ctx.session, UKAISI)
    with tamper(ctx.session) as conn:
        conn.execute("UPDATE partners SET max_level = ? WHERE id = ?", (int(Level.TOP_SECRET), p.id))
    screen = PartnersScreen(make_ctx("lead"))
    qtbot.addWidget(screen)
    state = _cells(screen.table, 0)[-1]
    assert state.startswith("NOT SIGNED: it was changed in the database after admin signed it")
    screen.select(int(p.id or 0))
    assert "Nothing is shared with it" in screen.signed.text()


def _send(session, partner_id: int, manifest: str, object_id: str = "7") -> int:  # type: ignore[no-untyped-def]
    with session.transaction() as conn:
        return dissemination.record(session, conn, kind="package", object_type="report", object_id=object_id,
                                    revision="1", partner_id=partner_id, marking="SECRET//REL TO USA, GBR", tlp="AMBER",
                                    embargo_until=None, manifest_sha256=manifest, media_label="SECRET//NOFORN",
                                    approved_by="lead")


def test_dissemination_screen_filters_imports_receipts_recalls_and_prints(make_ctx, dialogs, qtbot,  # type: ignore[no-untyped-def]
                                                                          tmp_path: Path) -> None:
    admin = make_ctx("admin")
    uk = partners.add(admin.session, UKAISI)
    cisa = partners.add(admin.session, Partner(name="CISA", kind=PartnerKind.AGENCY, codes=("USA",),
                                               max_level=Level.SECRET, tlp=Tlp.RED))
    sig = make_cert(tmp_path / "sig", "UK AISI")
    partners.add_certificate(admin.session, int(uk.id or 0), sig.cert_path, "receipt")
    ctx = make_ctx("lead")
    m1, m2 = hashlib.sha256(b"one").hexdigest(), hashlib.sha256(b"two").hexdigest()
    a = _send(ctx.session, int(uk.id or 0), m1)
    b = _send(ctx.session, int(cisa.id or 0), m2, object_id="8")
    ctx.session.clock = lambda: FIXED_NOW + timedelta(days=9)
    screen = DisseminationScreen(ctx)
    qtbot.addWidget(screen)
    assert screen.table.rowCount() == 2
    row = _cells(screen.table, 0)
    assert row[3] == "(S//REL TO USA, GBR) report 7 rev 1" and row[4] == "UK AI Security Institute"
    assert row[5] == "waiting 9 days — OVERDUE"
    assert screen.status.text() == "2 entries, 2 unacknowledged, 2 overdue"
    screen.partner.setCurrentIndex(screen.partner.findData(cisa.id))
    screen.refresh()
    assert screen.table.rowCount() == 1 and _cells(screen.table, 0)[4] == "CISA"
    screen.partner.setCurrentIndex(0)

    # A receipt signed by someone else is refused naming the file; the right one acknowledges entry a.
    stranger = make_cert(tmp_path / "stranger", "UK AISI")
    bad = write_receipt(tmp_path / "bad", receipt_json(m1, UKAISI.name), stranger)
    screen.choose_receipt = lambda _parent: str(bad)
    screen.import_receipt()
    assert str(bad) in dialogs.error_text() and "not with UK AI Security Institute's registered" in dialogs.error_text()
    good = write_receipt(tmp_path / "good", receipt_json(m1, UKAISI.name), sig)
    screen.choose_receipt = lambda _parent: str(good)
    screen.import_receipt()
    assert f"log entry {a} acknowledged" in screen.status.text()
    screen.unacknowledged.setChecked(True)
    assert screen.table.rowCount() == 1 and _cells(screen.table, 0)[0] == str(b)
    screen.unacknowledged.setChecked(False)
    acked = next(r for r in range(screen.table.rowCount()) if _cells(screen.table, r)[0] == str(a))
    assert _cells(screen.table, acked)[5].startswith("acknowledged 2026-11-21")

    # Recall entry b: reason, folder, passphrase; the notice is written and logged.
    media = tmp_path / "media"
    media.mkdir()
    screen.select(b)
    assert screen.recall_button.isEnabled()
    dialogs.texts.append("wrong recipient list")
    dialogs.passphrases.append(PASSPHRASES["lead"])
    screen.choose_folder = lambda _parent: str(media)
    screen.media.setCurrentText("SECRET//NOFORN")
    screen.recall()
    assert len(dialogs.errors) == 1, dialogs.error_text()  # only the refused receipt above
    assert "Recall notices written" in screen.status.text() and "NOT sealed" in screen.status.text()
    assert any(p.name.startswith("RECALL-") for p in media.iterdir())
    recalled = next(r for r in range(screen.table.rowCount()) if _cells(screen.table, r)[0] == str(b))
    assert "RECALLED by No." in _cells(screen.table, recalled)[6]
    screen.select(b)
    assert not screen.recall_button.isEnabled()

    preview = screen.print_log()
    assert preview is not None
    qtbot.addWidget(preview)
    assert preview.doc.marking.banner() == "SECRET//REL TO USA, GBR" and preview.pdf.pageCount() >= 1
    banners = [w.text() for w in preview.findChildren(QLabel) if w.text() == "SECRET//REL TO USA, GBR"]
    assert len(banners) >= 2  # top and bottom of the preview


def test_an_entry_written_around_the_app_is_flagged_red_on_the_log(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    """An insider's row in the log (no signed decision by its recorder) is shown with why, in red."""
    from app.model.dissemination import DisseminationKind
    from storage import partners_repo
    from ui.screens.dissemination_screen import LINKS_COLUMN, OVERDUE_COLOUR

    admin = make_ctx("admin")
    uk = int(partners.add(admin.session, UKAISI).id or 0)
    ctx = make_ctx("lead")
    genuine = _send(ctx.session, uk, hashlib.sha256(b"one").hexdigest())
    insider = ctx.session.db.another()
    try:
        with insider.transaction() as conn:
            forged = partners_repo.insert_entry(
                conn, kind=DisseminationKind.PACKAGE, object_type="report", object_id="9", revision="1",
                partner_id=uk, marking="SECRET//REL TO USA, GBR", tlp="AMBER", embargo_until=None,
                manifest_sha256=hashlib.sha256(b"two").hexdigest(), media_label="SECRET//NOFORN",
                approved_by="lead", supersedes=None, reason="", actor="lead", now=FIXED_NOW.isoformat())
    finally:
        insider.close()
    screen = DisseminationScreen(ctx)
    qtbot.addWidget(screen)
    rows = {int(_cells(screen.table, r)[0]): r for r in range(screen.table.rowCount())}
    assert _cells(screen.table, rows[forged])[LINKS_COLUMN] == "ENTRY DOES NOT HOLD: no signed record"
    assert screen.table.item(rows[forged], LINKS_COLUMN).foreground().color().name() == OVERDUE_COLOUR.lower()
    assert "DOES NOT HOLD" not in _cells(screen.table, rows[genuine])[LINKS_COLUMN]
    assert screen.status.text().endswith("1 NOT backed by a signed record")


def test_dashboard_card_lists_overdue_acknowledgments(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    admin = make_ctx("admin")
    uk = partners.add(admin.session, UKAISI)
    ctx = make_ctx("reviewer")
    assert overdue_receipts_panel(ctx) is None
    _send(make_ctx("lead").session, int(uk.id or 0), hashlib.sha256(b"x").hexdigest())
    assert overdue_receipts_panel(ctx) is None  # sent today: not overdue yet
    ctx.session.clock = lambda: FIXED_NOW + timedelta(days=8)
    dash = DashboardScreen(ctx)
    qtbot.addWidget(dash)
    texts = [w.text() for w in dash.findChildren(QLabel)]
    assert "1 acknowledgment overdue (no receipt after 7 days)" in texts
    assert any("to UK AI Security Institute, sent 2026-11-20, waiting 8 days" in t for t in texts)


def test_both_screens_are_in_the_navigation_for_every_reader(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    for name in ("reviewer", "auditor", "admin"):
        w = MainWindow(make_ctx(name))
        qtbot.addWidget(w)
        assert {"partners", "dissemination"} <= set(w.specs), name
        w.show_screen("dissemination")
        assert isinstance(w.pages["dissemination"], DisseminationScreen)
        w.show_screen("partners")
        assert isinstance(w.pages["partners"], PartnersScreen)
