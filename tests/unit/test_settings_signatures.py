"""Workstation settings hold by an administrator's signature (app/services/settings_signatures.py):
a value rewritten in the database is not used, the person signing in is told which, and the next
save by an administrator signs what it writes."""

from __future__ import annotations

import pytest

from app.services import audit, settings_signatures
from app.services import workstation as ws
from tests.conftest import FIXED_NOW, tamper


def _sign_in(workstation, name: str):  # type: ignore[no-untyped-def]
    return ws.sign_in(workstation.data_dir, name, workstation.passphrase(name), clock=lambda: FIXED_NOW)


def test_values_rewritten_in_the_database_are_not_used_and_reported_at_sign_in(workstation) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    ws.update_settings(admin, {"classified_by": "R. Office", "idle_lock_minutes": 5})
    with tamper(workstation.session("reviewer")) as conn:
        for key, value in (("idle_lock_minutes", "120"), ("classified_by", '"Nobody"'),
                           ("system_high", '"UNCLASSIFIED"')):
            conn.execute("UPDATE settings SET value = ? WHERE key = ?", (value, key))
    reviewer = _sign_in(workstation, "reviewer")
    try:
        s = reviewer.settings
        assert (s.idle_lock_minutes, s.classified_by, s.system_high) == (5, "R. Office", "SECRET//NOFORN")
        assert reviewer.settings_changed_outside == ["system_high", "idle_lock_minutes", "classified_by"]
        warning = [w for w in reviewer.integrity_warnings if "Workstation settings" in w]
        assert warning == ["Workstation settings were changed in the database around the application (system_high, "
                           "idle_lock_minutes, classified_by): the values an administrator signed are used. An "
                           "administrator should review them (Settings) and save them."]
    finally:
        reviewer.close()
    alarms = [e for e in audit.events(workstation.session("auditor")) if e.action == "integrity.alarm"]
    assert any("Workstation settings were changed" in str(e.details) for e in alarms)


def test_an_administrators_save_is_what_holds(workstation) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    ws.update_settings(admin, {"at_risk_days": 3, "cui_poc": "Review Office, x1234"})
    reviewer = _sign_in(workstation, "reviewer")
    try:
        assert (reviewer.settings.at_risk_days, reviewer.settings.cui_poc) == (3, "Review Office, x1234")
        assert reviewer.settings_changed_outside == []
    finally:
        reviewer.close()


def test_settings_signed_by_someone_who_does_not_manage_them_do_not_count(workstation) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    lead = workstation.session("lead")
    with tamper(lead) as conn:
        conn.execute("UPDATE settings SET value = '120' WHERE key = 'idle_lock_minutes'")
    with lead.transaction() as conn:  # a valid signature by the lead's own key over the rewritten value
        settings_signatures.sign(lead, conn, dataclasses.replace(lead.settings, idle_lock_minutes=120))
    reviewer = _sign_in(workstation, "reviewer")
    try:
        assert reviewer.settings.idle_lock_minutes == 10 and reviewer.settings_changed_outside == ["idle_lock_minutes"]
    finally:
        reviewer.close()


def test_a_workstation_from_before_signed_settings_is_attested_by_the_next_administrator(workstation,  # type: ignore[no-untyped-def]
                                                                                        monkeypatch) -> None:
    monkeypatch.setattr(ws, "_predates_signed_records", lambda conn: True)  # set up by an older release
    # on such a workstation there never were settings signatures for anyone's record to count; here the
    # deletion below would be counted (and then nothing is attested: test_insider.py shows that)
    monkeypatch.setattr(ws.integrity, "check", lambda session, seen: [])
    admin = workstation.session("admin")
    db_id = admin.db_id
    with tamper(admin) as conn:
        conn.execute("DELETE FROM decisions WHERE kind = ?", (settings_signatures.KIND,))
    with tamper(admin) as conn:
        assert not settings_signatures.has_signed_settings(conn, db_id)
    again = _sign_in(workstation, "admin")
    try:
        assert settings_signatures.has_signed_settings(again.db.conn, db_id)
    finally:
        again.close()
    events = [e.action for e in audit.events(workstation.session("auditor"))]
    assert "settings.attest" in events


@pytest.mark.parametrize("key", ["consent_banner", "declassify_on"])
def test_every_editable_setting_is_covered(workstation, key: str) -> None:  # type: ignore[no-untyped-def]
    with tamper(workstation.session("reviewer")) as conn:
        conn.execute("UPDATE settings SET value = '\"rewritten\"' WHERE key = ?", (key,))
    reviewer = _sign_in(workstation, "reviewer")
    try:
        assert getattr(reviewer.settings, key) != "rewritten" and reviewer.settings_changed_outside == [key]
    finally:
        reviewer.close()
