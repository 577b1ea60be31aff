"""Sign-in window: consent first, then clear messages for every way sign-in can fail."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.services import users
from app.services.workstation import DB_NAME
from storage.db import latest_version
from tests.conftest import as_schema_41
from ui.jobs import JobRunner
from ui.screens.sign_in import SignInWindow

NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


@pytest.fixture
def window(workstation, qtbot):  # type: ignore[no-untyped-def]
    w = SignInWindow(workstation.data_dir, JobRunner(synchronous=True), clock=lambda: NOW)
    qtbot.addWidget(w)
    w.show()
    return w


def _try(window: SignInWindow, username: str, passphrase: str) -> None:
    window.username.setText(username)
    window.passphrase.setText(passphrase)
    window.sign_in_button.click()


def test_consent_must_be_acknowledged_first(window, workstation, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert "consent" in window.consent_text.toPlainText().lower()
    assert not window.acknowledged
    assert not window.username.isVisible()  # credentials are on the page after the notice
    window.username.setText("reviewer")
    window.passphrase.setText(workstation.passphrase("reviewer"))
    with qtbot.assertNotEmitted(window.signed_in):
        window.submit()
    window.consent_button.click()
    assert window.acknowledged and window.username.isVisible()
    with qtbot.waitSignal(window.signed_in) as signed:
        window.sign_in_button.click()
    session = signed.args[0]
    assert session.account.username == "reviewer"
    assert window.passphrase.text() == ""  # the secret does not linger in the widget
    session.close()


def test_wrong_passphrase_message(window) -> None:  # type: ignore[no-untyped-def]
    window.acknowledge()
    _try(window, "reviewer", "not-the-right-one")
    assert window.message.text() == "Unknown account or wrong passphrase."
    assert window.passphrase.text() == ""
    assert window.sign_in_button.isEnabled()


def test_lockout_message_gives_time_left(window) -> None:  # type: ignore[no-untyped-def]
    window.acknowledge()
    for _ in range(2):
        _try(window, "reviewer", "not-the-right-one")
        assert "wrong passphrase" in window.message.text()
    _try(window, "reviewer", "not-the-right-one")  # third failure starts a 30 s lockout
    # That third try was wrong too, and is said to be, before the lockout.
    wrong, text = window.message.text().split("\n")
    assert wrong == "Unknown account or wrong passphrase."
    assert text.startswith("Too many failed attempts. Account 'reviewer' is locked after repeated failed sign-ins.")
    assert "Try again in 31 s" in text or "Try again in 30 s" in text
    assert window.passphrase.text() == ""  # the refused passphrase is cleared, as on the lock screen
    # Even the right passphrase is refused while locked out (the clock is frozen); it was not tried,
    # so nothing calls it wrong.
    _try(window, "reviewer", "battery-staple-7-willow")
    assert window.message.text().startswith("Too many failed attempts. Account 'reviewer' is locked")
    assert window.passphrase.text() == ""


def test_disabled_account_message(window, workstation) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    users.set_disabled(admin, "reviewer2", True, workstation.passphrase("admin"))
    window.acknowledge()
    _try(window, "reviewer2", workstation.passphrase("reviewer2"))
    # Disabling removed the key slot: the passphrase opens nothing (no hint which part failed).
    assert window.message.text() == "Unknown account or wrong passphrase."


def test_first_sign_in_asks_for_an_own_passphrase(workstation, qtbot) -> None:  # type: ignore[no-untyped-def]
    """After an administrator reset, the person must choose their own passphrase before anything
    else; the window asks for it and signs in with it (a new personal key is made)."""
    from ui.screens.sign_in import FirstPassphraseDialog

    admin = workstation.session("admin")
    users.reset_passphrase(admin, workstation.passphrase("admin"), "reviewer2", "given-again-first-3")
    asked: list[FirstPassphraseDialog] = []

    def dialog(parent):  # type: ignore[no-untyped-def]
        dlg = FirstPassphraseDialog(parent)
        dlg.passphrase.setText("my-very-own-phrase-4")
        dlg.repeat.setText("my-very-own-phrase-4")
        dlg.exec = lambda: FirstPassphraseDialog.DialogCode.Accepted  # type: ignore[method-assign]
        asked.append(dlg)
        return dlg

    w = SignInWindow(workstation.data_dir, JobRunner(synchronous=True), clock=lambda: NOW,
                     first_passphrase_dialog=dialog)
    qtbot.addWidget(w)
    w.acknowledge()
    with qtbot.waitSignal(w.signed_in) as signed:
        _try(w, "reviewer2", "given-again-first-3")
    session = signed.args[0]
    assert asked and session.account.username == "reviewer2" and session.personal is not None
    session.close()


def test_missing_keyring_secret_message(window, workstation, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    memory_keyring.store.clear()  # as if the database had been copied to another machine
    window.acknowledge()
    _try(window, "reviewer", workstation.passphrase("reviewer"))
    text = window.message.text()
    assert text.startswith("The workstation cannot be opened.")
    assert "keyring" in text.lower()


def test_damaged_database_message_and_file_untouched(window, workstation) -> None:  # type: ignore[no-untyped-def]
    db = Path(workstation.data_dir) / DB_NAME
    raw = bytearray(db.read_bytes())
    raw[5000:5600] = b"\x00" * 600  # damage a page in the middle
    db.write_bytes(bytes(raw))
    for extra in ("-wal", "-shm"):
        Path(str(db) + extra).unlink(missing_ok=True)
    before = db.read_bytes()
    window.acknowledge()
    _try(window, "reviewer", workstation.passphrase("reviewer"))
    text = window.message.text()
    assert text.startswith("The workstation cannot be opened.")
    assert "damaged" in text or "integrity" in text
    assert db.read_bytes() == before  # never overwritten


def test_banners_show_system_high_before_sign_in(window) -> None:  # type: ignore[no-untyped-def]
    from ui.banner import ClassificationBanner

    banners = window.findChildren(ClassificationBanner)
    assert [b.text() for b in banners] == ["SECRET//NOFORN", "SECRET//NOFORN"]
    assert "#c8102e" in banners[0].styleSheet()


def test_recovery_key_signs_the_admin_in_with_a_new_passphrase(workstation, qtbot) -> None:  # type: ignore[no-untyped-def]
    from ui.screens.sign_in import RecoveryDialog

    class Filled(RecoveryDialog):
        def exec(self) -> int:  # the reviewer typed and pressed OK
            self.key.setText(workstation.recovery_key.lower())
            self.admin.setText("admin")
            self.passphrase.setText("fresh-harbour-words-55")
            return int(RecoveryDialog.DialogCode.Accepted.value)

    w = SignInWindow(workstation.data_dir, JobRunner(synchronous=True), clock=lambda: NOW, recovery_dialog=Filled)
    qtbot.addWidget(w)
    w.acknowledge()
    got: list = []  # type: ignore[type-arg]
    w.signed_in.connect(got.append)
    w.recover_button.click()
    assert w.message.text() == "" and len(got) == 1
    session = got[0]
    assert session.account.username == "admin"
    session.close()

    class Wrong(Filled):
        def exec(self) -> int:
            result = super().exec()
            self.key.setText("AAAA-" * 12 + "AAAA")
            return result

    w2 = SignInWindow(workstation.data_dir, JobRunner(synchronous=True), clock=lambda: NOW, recovery_dialog=Wrong)
    qtbot.addWidget(w2)
    w2.acknowledge()
    w2.recover_button.click()
    assert w2.message.text() == "The recovery key does not open this workstation."


def test_missing_key_header_message(window, workstation) -> None:  # type: ignore[no-untyped-def]
    from app.services.workstation import HEADER_NAME

    (Path(workstation.data_dir) / HEADER_NAME).unlink()
    window.acknowledge()
    _try(window, "reviewer", workstation.passphrase("reviewer"))
    text = window.message.text()
    assert text.startswith("The workstation cannot be opened.") and "Key header" in text and "missing" in text


def test_damaged_prelogin_file_falls_back_to_default_notice(workstation, qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.services.workstation import PRELOGIN_NAME

    (Path(workstation.data_dir) / PRELOGIN_NAME).write_text("{not json", encoding="utf-8")
    w = SignInWindow(workstation.data_dir, JobRunner(synchronous=True), clock=lambda: NOW)
    qtbot.addWidget(w)
    assert "consent" in w.consent_text.toPlainText()  # the default AC-8 text, never an empty notice


def test_a_sign_in_that_updates_the_schema_says_so(workstation, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The first sign-in after an upgrade runs the new migrations (0042's indexes: 5.5 s once at
    1,000,000 samples): the "Signing in" progress window names the update instead of saying nothing."""
    from ui import jobs as jobs_module

    as_schema_41(workstation)
    shown: list[str] = []
    real_render = jobs_module.Job.render

    def render(job: jobs_module.Job) -> None:
        real_render(job)
        if job.dialog is not None:
            shown.append(job.dialog.labelText())

    monkeypatch.setattr(jobs_module.Job, "render", render)
    window = SignInWindow(workstation.data_dir, JobRunner(synchronous=False, slow_ms=0), clock=lambda: NOW)
    qtbot.addWidget(window)
    window.show()
    window.acknowledge()
    window.username.setText("reviewer")
    window.passphrase.setText(workstation.passphrase("reviewer"))
    with qtbot.waitSignal(window.signed_in, timeout=30_000) as signed:
        window.sign_in_button.click()
    session = signed.args[0]
    try:
        names = {r[0] for r in session.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"eval_samples_run_time", "eval_samples_run_natural_id"} <= names
    finally:
        session.close()
    update = f"Updating the database to schema 42 of {latest_version()}: sample sort indexes (once)"
    assert any(text == f"Signing in\n{update}" for text in shown), shown
