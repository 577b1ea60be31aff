"""Backup screen and the dashboard reminder (pytest-qt, offscreen, synchronous jobs)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from app.model.errors import AuthError
from app.services import backup
from tests.ui.conftest import dialogs, make_ctx  # noqa: F401  (fixtures shared with the UI suite)
from ui.screens.backup_screen import BackupScreen
from ui.screens.dashboard import DashboardScreen


def _screen(qtbot, ctx) -> BackupScreen:  # type: ignore[no-untyped-def]
    w = BackupScreen(ctx, choose_folder=lambda *_: "")
    qtbot.addWidget(w)
    return w


def test_admin_backs_up_and_verifies_from_the_screen(qtbot, make_ctx, dialogs, workstation, tmp_path):  # noqa: F811
    ctx = make_ctx("admin")
    screen = _screen(qtbot, ctx)
    assert "No verified backup" in screen.status.text()
    assert screen.create_button.isEnabled() and screen.table.rowCount() == 0
    media = tmp_path / "usb"
    media.mkdir()
    dialogs.texts = ["SECRET"]  # below the workstation's system-high (SECRET//NOFORN): refused, nothing written
    dialogs.passphrases.append(workstation.passphrase("admin"))
    screen.create_backup(media)
    assert "media is labelled SECRET" in dialogs.error_text() and list(media.iterdir()) == []
    dialogs.errors.clear()
    dialogs.texts = ["SECRET//NOFORN"]
    dialogs.passphrases.append(workstation.passphrase("admin"))
    screen.create_backup(media)
    assert dialogs.errors == []
    assert (media / "MARKING.txt").read_text().splitlines()[0] == "SECRET//NOFORN"
    assert isinstance(screen.last_result, backup.BackupResult) and screen.last_result.verified
    folder = screen.last_result.folder
    assert folder.parent == media and "written and verified" in screen.result.text()
    assert "Last verified backup" in screen.status.text()
    assert screen.table.rowCount() == 1 and screen.table.item(0, 2).text() == "Backup written"
    dialogs.passphrases.append(workstation.passphrase("admin"))
    screen.verify_backup(folder)
    assert "is intact" in screen.result.text() and "database decrypted" in screen.result.text()
    assert screen.table.rowCount() == 2 and screen.table.item(0, 2).text() == "Backup verified"


def test_wrong_passphrase_or_cancel_writes_nothing(qtbot, make_ctx, dialogs, tmp_path):  # noqa: F811
    screen = _screen(qtbot, make_ctx("admin"))
    media = tmp_path / "usb"
    media.mkdir()
    screen.create_backup(media)  # media label dialog cancelled (no answer queued)
    dialogs.texts = ["SECRET//NOFORN"]
    screen.create_backup(media)  # passphrase dialog cancelled (no answer queued)
    dialogs.texts = ["SECRET//NOFORN"]
    dialogs.passphrases.append("not-the-passphrase-at-all")
    screen.create_backup(media)
    assert len(dialogs.errors) == 1 and isinstance(dialogs.errors[0], AuthError)
    assert list(media.iterdir()) == []


def test_non_admin_cannot_use_the_buttons(qtbot, make_ctx):  # noqa: F811
    screen = _screen(qtbot, make_ctx("reviewer"))
    assert not screen.create_button.isEnabled() and not screen.verify_button.isEnabled()


def _reminder(dash: DashboardScreen) -> QLabel | None:
    return dash.findChild(QLabel, "backupReminder")


def test_dashboard_reminds_until_a_verified_backup_exists(qtbot, make_ctx, workstation, tmp_path):  # noqa: F811
    reviewer = make_ctx("reviewer")
    dash = DashboardScreen(reviewer)
    qtbot.addWidget(dash)
    reminder = _reminder(dash)
    assert reminder is not None and "No verified backup" in reminder.text() and "administrator" in reminder.text()
    admin = workstation.session("admin")
    media = tmp_path / "usb"
    media.mkdir()
    backup.create(admin, media, workstation.passphrase("admin"), media_label="SECRET//NOFORN")
    dash.refresh()
    qtbot.waitUntil(lambda: _reminder(dash) is None)
