"""Drive the first-run wizard to completion: policy feedback, key protection, recovery key check."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWizard

from app.model.markings import Level, Marking
from app.services import workstation
from ui.screens.setup_wizard import SetupWizard

PASS = "granite-harbour-42-lantern"


AUTHORITY = {"classified_by": "J. Smith, Director", "derived_from": "AI Cyber SCG 2026-06",
             "declassify_on": "20510601", "cui_controlled_by": "Cyber Evaluation Cell", "cui_category": "CTI"}


def fill_authority(wizard: SetupWizard, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The authority page blocks Next until every block the system-high needs is filled."""
    assert wizard.currentPage() is wizard.authority_page
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert "Classified by" in wizard.authority_page.feedback.text()
    for key, value in AUTHORITY.items():
        if key == "declassify_on":  # a malformed line is named and blocks Next before anything is created
            qtbot.keyClicks(wizard.authority_page.edits[key], "25X1")
            assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
            assert "needs its date" in wizard.authority_page.feedback.text()
            wizard.authority_page.edits[key].clear()
        qtbot.keyClicks(wizard.authority_page.edits[key], value)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.next()


def _fill_until_recovery(wizard: SetupWizard, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # no name yet
    qtbot.keyClicks(wizard.name_page.name, "Cyber Evaluation Cell 3")
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.next()
    wizard.class_page.picker.set_marking(Marking.parse("TOP SECRET//NOFORN"))
    wizard.class_page.consent.setPlainText("Authorised use only. Activity is audited.")
    wizard.next()
    fill_authority(wizard, qtbot)
    a = wizard.admin_page
    a.display.setText("Dana Admin")
    a.passphrase.setText(PASS)
    a.repeat.setText(PASS)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.next()
    assert wizard.currentPage() is wizard.key_page
    wizard.next()  # creates the workstation
    assert wizard.currentPage() is wizard.recovery_page


def test_wizard_creates_workstation_and_requires_recovery_group(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "ws"
    wizard = SetupWizard(data_dir)
    qtbot.addWidget(wizard)
    wizard.show()
    _fill_until_recovery(wizard, qtbot)
    assert workstation.is_initialized(data_dir)
    result = wizard.result_
    assert result is not None
    # The memory keyring of the test suite is a trusted backend: keyring mode was offered and used.
    assert wizard.key_page.use_keyring.isChecked()
    assert result.keyring_mode == "os-keyring"

    page = wizard.recovery_page
    groups = result.recovery_key.split("-")
    assert page.groups == groups
    shown = page.key_label.text().replace("\n", "-")
    assert shown == result.recovery_key  # the whole key is on screen
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert not finish.isEnabled()
    wrong = next(g for g in groups if g != groups[page.group_index])
    page.confirm.setText(wrong)
    assert not finish.isEnabled()
    assert "does not match" in page.feedback.text()
    page.confirm.setText(groups[page.group_index].lower())  # case does not matter
    assert finish.isEnabled()

    with qtbot.waitSignal(wizard.completed) as done:
        wizard.button(QWizard.WizardButton.FinishButton).click()
    session = done.args[0].session
    try:
        assert session.account.username == "admin"
        assert session.settings.workstation_name == "Cyber Evaluation Cell 3"
        assert Marking.parse(session.settings.system_high).level is Level.TOP_SECRET
        assert session.settings.consent_banner == "Authorised use only. Activity is audited."
        # The authority blocks asked in the wizard are the settings every report is built with.
        assert {k: getattr(session.settings, k) for k in AUTHORITY} == AUTHORITY
        # The sign-in window reads the banner and consent text before anything is decrypted.
        pre = workstation.prelogin_settings(data_dir)
        assert pre.system_high == "TOP SECRET//NOFORN"
        assert pre.consent_banner.startswith("Authorised use only")
    finally:
        session.close()
    # The recovery key shown really opens the workstation.
    recovered = workstation.recover(data_dir, result.recovery_key, "admin", "a-brand-new-passphrase-9")
    recovered.close()


def test_admin_page_explains_policy_and_blocks_weak_passphrase(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wizard = SetupWizard(tmp_path / "ws")
    qtbot.addWidget(wizard)
    a = wizard.admin_page
    a.display.setText("Dana")
    a.passphrase.setText("short")
    a.repeat.setText("short")
    assert not a.isComplete()
    assert "at least 12 characters" in a.feedback.text()
    a.passphrase.setText("admin-is-my-passphrase")
    a.repeat.setText("admin-is-my-passphrase")
    assert "must not contain the username" in a.feedback.text()
    a.passphrase.setText(PASS)
    a.repeat.setText(PASS + "x")
    assert "differ" in a.feedback.text()
    a.username.setText("9bad")
    assert a.feedback.text().startswith("Account name")
    a.username.setText("admin")
    a.repeat.setText(PASS)
    assert a.isComplete()
    assert "meets the policy" in a.feedback.text()


def test_admin_page_lists_every_problem_at_once_as_the_user_types(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wizard = SetupWizard(tmp_path / "ws")
    qtbot.addWidget(wizard)
    a = wizard.admin_page
    qtbot.keyClicks(a.passphrase, "short")
    qtbot.keyClicks(a.repeat, "shorter")
    lines = a.feedback.text().split("\n")
    assert "Display name is required." in lines
    assert any("at least 12 characters" in line for line in lines)
    assert "The two passphrases differ." in lines
    assert not a.isComplete()
    qtbot.keyClicks(a.display, "Dana")  # fixing one problem leaves the others listed
    lines = a.feedback.text().split("\n")
    assert "Display name is required." not in lines
    assert any("at least 12 characters" in line for line in lines) and "The two passphrases differ." in lines
    a.username.setText("9bad")
    assert a.feedback.text().startswith("Account name") and "at least 12 characters" in a.feedback.text()
    a.username.setText("admin")
    a.passphrase.setText(PASS)
    assert a.feedback.text() == "The two passphrases differ."
    a.repeat.setText(PASS)
    assert a.isComplete() and "meets the policy" in a.feedback.text()


def test_going_back_does_not_create_twice(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wizard = SetupWizard(tmp_path / "ws")
    qtbot.addWidget(wizard)
    wizard.show()
    _fill_until_recovery(wizard, qtbot)
    first = wizard.result_
    assert first is not None
    wizard.back()  # NoBackButtonOnLastPage hides the button; back() must still be harmless
    wizard.next()
    assert wizard.result_ is first
    assert first.session.account.username == "admin"
    first.session.close()


def test_untrusted_keyring_is_explained_and_not_offered(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())  # the autouse fixture restores the previous backend
    wizard = SetupWizard(tmp_path / "ws")
    qtbot.addWidget(wizard)
    page = wizard.key_page
    assert not page.trusted
    assert not page.use_keyring.isEnabled()
    assert "passphrase-only" in page.status_label.text()


def test_creation_failure_is_shown_on_the_page_and_nothing_is_overwritten(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "ws"
    wizard = SetupWizard(data_dir)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.name_page.name.setText("Second")
    wizard.next()
    wizard.next()
    fill_authority(wizard, qtbot)
    wizard.admin_page.display.setText("Dana")
    wizard.admin_page.passphrase.setText(PASS)
    wizard.admin_page.repeat.setText(PASS)
    wizard.next()
    # Meanwhile a workstation appeared in that folder (e.g. set up from the CLI).
    other = workstation.initialize(data_dir, workstation_name="First", system_high="SECRET",
                                   admin_username="boss", admin_display_name="Boss",
                                   admin_passphrase="another-long-passphrase-1")
    other.session.close()
    before = (data_dir / workstation.DB_NAME).read_bytes()
    wizard.next()
    assert wizard.currentPage() is wizard.key_page  # stays, with the reason shown
    assert "refusing to overwrite" in wizard.key_page.error.text()
    assert (data_dir / workstation.DB_NAME).read_bytes() == before


def test_cannot_close_before_confirming_the_recovery_key(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wizard = SetupWizard(tmp_path / "ws")
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.reject()  # before anything is created, Cancel works
    assert not wizard.isVisible()
    wizard = SetupWizard(tmp_path / "ws2")
    qtbot.addWidget(wizard)
    wizard.show()
    _fill_until_recovery(wizard, qtbot)
    wizard.reject()
    assert wizard.isVisible()
    assert "confirm the recovery key" in wizard.recovery_page.feedback.text()
    assert wizard.result_ is not None
    wizard.result_.session.close()
