from datetime import UTC, date, datetime, timedelta

import pytest

from app.model.accounts import Role
from app.model.errors import AuthError, LockedOutError, PassphraseChangeRequired, PermissionDenied, ValidationError
from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import audit, submissions, users
from app.services import workstation as workstation_service
from storage.keys import KeyHeader


def sub(**kw):
    base = dict(developer="Acme AI", model_name="Falcon", version="2.0", received=date(2026, 11, 1),
                planned_release=date(2026, 11, 25))
    base.update(kw)
    return Submission(**base)


def test_sign_in_and_roles(workstation):
    reviewer = workstation.session("reviewer")
    assert reviewer.account.role is Role.REVIEWER
    created = submissions.create(reviewer, sub())
    auditor = workstation.session("auditor")
    assert submissions.get(auditor, created.id).model_name == "Falcon"
    with pytest.raises(PermissionDenied, match="Auditor"):
        submissions.create(auditor, sub())
    with pytest.raises(PermissionDenied):
        users.add_user(reviewer, workstation.passphrase("reviewer"), "mallory", "M", Role.ADMIN,
                       "another-long-passphrase")
    with pytest.raises(PermissionDenied):
        audit.verify(reviewer)


def test_keyring_mode_is_used_when_a_secure_backend_exists(workstation, memory_keyring):
    header = KeyHeader.load(workstation.data_dir / "workstation.keys.json")
    assert header.keyring_mode == "os-keyring"
    assert all(s.uses_keyring for s in header.slots.values() if s.kind == "passphrase")
    assert memory_keyring.store, "the per-workstation secret lives in the keyring"


def test_wrong_passphrase_then_lockout_with_growing_delay(workstation):
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    now = [t0]

    def clock():
        return now[0]

    for _ in range(2):
        with pytest.raises(AuthError, match="wrong passphrase"):
            workstation_mod_sign_in(workstation, "reviewer", "not-the-passphrase", clock)
    with pytest.raises(LockedOutError) as first:
        workstation_mod_sign_in(workstation, "reviewer", "not-the-passphrase", clock)
    assert 29 <= first.value.seconds <= 30
    # Even the right passphrase is refused while locked out.
    with pytest.raises(LockedOutError):
        workstation_mod_sign_in(workstation, "reviewer", workstation.passphrase("reviewer"), clock)
    now[0] = t0 + timedelta(seconds=31)
    with pytest.raises(LockedOutError) as second:
        workstation_mod_sign_in(workstation, "reviewer", "still-wrong-passphrase", clock)
    assert second.value.seconds > 59  # the delay doubles
    now[0] = t0 + timedelta(seconds=200)
    s = workstation_mod_sign_in(workstation, "reviewer", workstation.passphrase("reviewer"), clock)
    events = audit.events(workstation.session("auditor"), limit=50)
    s.close()
    # Failures happen before anyone is signed in: the person who signs in next reports the count
    # the key header holds, in an event signed with their own key (never one "by" someone else).
    reported = [e for e in events if e.action == "auth.failures_reported" and e.actor == "reviewer"]
    assert len(reported) == 1 and reported[0].details["failed_attempts"] == 4
    assert reported[0].signer and reported[0].signature


def workstation_mod_sign_in(ws, name, passphrase, clock):
    return workstation_service.sign_in(ws.data_dir, name, passphrase, clock=clock)


def test_disabled_account_is_refused(workstation):
    admin = workstation.session("admin")
    users.set_disabled(admin, "reviewer2", True)
    # Disabling removes the key slot: the passphrase no longer opens anything at all.
    assert "reviewer2" not in KeyHeader.load(workstation.data_dir / "workstation.keys.json").slots
    with pytest.raises(AuthError, match="wrong passphrase"):
        workstation.session("reviewer2")
    with pytest.raises(ValidationError, match="your own account"):
        users.set_disabled(admin, "admin", True)
    # Re-enabling gives a new first passphrase, replaced at sign-in with a new key.
    with pytest.raises(ValidationError, match="new first passphrase"):
        users.set_disabled(admin, "reviewer2", False)
    users.set_disabled(admin, "reviewer2", False, workstation.passphrase("admin"), "welcome-back-first-99")
    with pytest.raises(PassphraseChangeRequired):
        workstation_service.sign_in(workstation.data_dir, "reviewer2", "welcome-back-first-99")
    s = workstation_service.change_initial_passphrase(workstation.data_dir, "reviewer2", "welcome-back-first-99",
                                                      "my-own-passphrase-again-5")
    assert s.personal is not None
    s.close()


def test_passphrase_change_rewraps_without_reencrypting(workstation, memory_keyring):
    hpath = workstation.data_dir / "workstation.keys.json"
    secret = next(iter(memory_keyring.store.values()))
    import base64

    secret_bytes = base64.b64decode(secret)
    key_before = KeyHeader.load(hpath).unwrap_passphrase("reviewer", workstation.passphrase("reviewer"), secret_bytes)
    s = workstation.session("reviewer")
    users.change_own_passphrase(s, workstation.passphrase("reviewer"), "a-brand-new-passphrase-77")
    s.close()
    header = KeyHeader.load(hpath)
    # Same data key, new wrapping: the database itself is not re-encrypted.
    assert header.unwrap_passphrase("reviewer", "a-brand-new-passphrase-77", secret_bytes) == key_before
    with pytest.raises(AuthError):
        workstation.session("reviewer")
    s2 = workstation_mod_sign_in(workstation, "reviewer", "a-brand-new-passphrase-77", workstation_clock())
    s2.close()


def workstation_clock():
    return lambda: datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def test_lock_and_unlock_are_audited_and_block_services(workstation):
    s = workstation.session("reviewer")
    ws_service = workstation_service

    ws_service.lock(s)
    with pytest.raises(PermissionDenied, match="locked"):
        submissions.count(s)
    with pytest.raises(AuthError):
        ws_service.unlock(s, "wrong-passphrase-here")
    assert s.locked
    ws_service.unlock(s, workstation.passphrase("reviewer"))
    assert submissions.count(s) == 0
    actions = [e.action for e in audit.events(workstation.session("auditor"), limit=20)]
    assert "session.lock" in actions and "session.unlock" in actions and "auth.reauth_failed" in actions


def test_recovery_key_opens_when_keyring_secret_is_gone(workstation, memory_keyring):
    memory_keyring.store.clear()  # "another machine": the keyring secret is absent
    with pytest.raises(Exception, match="keyring secret that is not present"):
        workstation.session("reviewer")
    s = workstation_recover(workstation)
    assert s.account.username == "admin"
    s.close()
    header = KeyHeader.load(workstation.data_dir / "workstation.keys.json")
    assert set(header.slots) == {"admin", "__recovery__"}  # other slots needed the lost secret


def workstation_recover(ws):
    return workstation_service.recover(ws.data_dir, ws.recovery_key, "admin", "recovered-from-the-safe-1")


def test_submission_update_records_changes_and_artifact_round_trip(workstation, tmp_path):
    s = workstation.session("reviewer")
    created = submissions.create(s, sub())
    import dataclasses

    updated = submissions.update(s, dataclasses.replace(created, version="2.1", marking=Marking.parse("SECRET")))
    assert updated.version == "2.1"
    history = audit.object_history(s, "submission", created.id)
    change = next(e for e in history if e.action == "submission.update")
    assert change.details["changes"]["version"] == ["2.0", "2.1"]
    card = tmp_path / "model_card.md"
    card.write_bytes(b"# Falcon 2.1 model card\n" * 1000)
    with pytest.raises(ValidationError, match="would lower it"):
        submissions.attach_artifact(s, created.id, card, "model card", Marking.parse("CUI"))
    assert submissions.attach_artifact(s, created.id, card, "model card").marking == Marking.parse("SECRET")
    art = submissions.attach_artifact(s, created.id, card, "model card", Marking.parse("CUI"),
                                      lower_reason="the developer's public model card")
    lowered = [e for e in audit.object_history(s, "submission", created.id) if e.action == "marking.lower"]
    assert lowered and lowered[0].details["to"] == "CUI" and lowered[0].details["from"] == "SECRET"
    import hashlib

    assert art.sha256 == hashlib.sha256(card.read_bytes()).hexdigest()
    _, data = submissions.read_artifact(s, art.id)
    assert data == card.read_bytes()
    raw = (workstation.data_dir / "workstation.db").read_bytes()
    assert b"Falcon 2.1 model card" not in raw


def test_dashboard_sorts_by_urgency(workstation):
    s = workstation.session("reviewer")  # today = 2026-11-20
    submissions.create(s, sub(model_name="Later", planned_release=date(2026, 12, 15)))
    submissions.create(s, sub(model_name="Overdue", planned_release=date(2026, 11, 18)))
    submissions.create(s, sub(model_name="Soon", planned_release=date(2026, 11, 23)))
    names = [r.submission.model_name for r in submissions.dashboard(s).rows]
    assert names == ["Overdue", "Soon", "Later"]


def test_database_and_header_are_private_to_the_account(workstation):
    for name in ("workstation.db", "workstation.keys.json"):
        assert (workstation.data_dir / name).stat().st_mode & 0o077 == 0, name
    assert workstation.data_dir.stat().st_mode & 0o077 == 0
