"""Printers screen (administrator): register with a label and location, see unregistered queues and
entries that no longer hold, remove with a reason."""

from __future__ import annotations

from app.model.markings import Marking
from app.services import audit, printers
from tests.conftest import tamper
from ui.screens.printers_screen import PrintersScreen


def _rows(screen: PrintersScreen) -> dict[str, list[str]]:
    t = screen.table
    return {t.item(r, 0).text(): [t.item(r, c).text() for c in range(1, t.columnCount())] for r in range(t.rowCount())}


def test_admin_registers_sees_refused_entries_and_removes(workstation, make_ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx("admin")
    screen = PrintersScreen(ctx)
    qtbot.addWidget(screen)
    screen.system = lambda: ["hallway", "vault-mfp"]
    screen.refresh()
    assert _rows(screen)["hallway"][-1] == "not registered: cannot be used"
    screen.name.setEditText("vault-mfp")
    screen.label.set_marking(Marking.parse("SECRET//NOFORN"))
    screen.location.setText("Vault, room 12")
    screen.register_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert _rows(screen)["vault-mfp"][:2] == ["SECRET//NOFORN", "Vault, room 12"]
    assert _rows(screen)["vault-mfp"][-1] == "usable"
    # Registering the same name again is refused; "Replace entry" changes it (signed again).
    screen.register_button.click()
    assert "already registered" in dialogs.error_text()
    screen.label.set_marking(Marking.parse("CONFIDENTIAL"))
    screen.replace_button.click()
    assert _rows(screen)["vault-mfp"][0] == "CONFIDENTIAL"

    # An insider raises the label in the table: the screen shows the entry as refused, with why.
    with tamper(ctx.session) as conn:
        conn.execute("UPDATE printers SET label = 'TOP SECRET' WHERE name = 'vault-mfp'")
    screen.refresh()
    assert _rows(screen)["vault-mfp"][-1].startswith("REFUSED: its entry was changed after admin signed it")

    screen.table.selectRow(next(r for r in range(screen.table.rowCount())
                                if screen.table.item(r, 0).text() == "vault-mfp"))
    dialogs.texts = ["moved out of the vault"]
    screen.remove_button.click()
    assert not dialogs.errors[1:], dialogs.error_text()
    assert printers.find(ctx.session, "vault-mfp") is None
    assert _rows(screen)["vault-mfp"][-1] == "not registered: cannot be used"
    removed = audit.events(workstation.session("auditor"), 50, action_prefix="printer.remove")
    assert removed[0].details["reason"] == "moved out of the vault"


def test_only_administrators_see_the_printers_screen(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    from ui.main_window import MainWindow

    for name, expected in (("admin", True), ("reviewer", False), ("lead", False)):
        window = MainWindow(make_ctx(name))
        qtbot.addWidget(window)
        assert ("printers" in window.specs) is expected, name
