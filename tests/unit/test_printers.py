"""The register of printers (issue 12, point 4): printing is egress, checked against each printer's
accreditation label, and a label holds only as an administrator signed it."""

from __future__ import annotations

import pytest

from app.model.errors import IntegrityError, PermissionDenied, ValidationError
from app.model.markings import Marking
from app.services import audit, printers
from tests.conftest import tamper

SNF = Marking.parse("SECRET//NOFORN")
CONF = Marking.parse("CONFIDENTIAL")


@pytest.fixture
def registered(workstation):  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    printers.register(admin, "room3-laser", "CONFIDENTIAL", "Building 2, room 3")
    printers.register(admin, "vault-mfp", "SECRET//NOFORN", "Vault, room 12")
    return admin


def _events(workstation, action: str):  # type: ignore[no-untyped-def]
    return [e for e in audit.events(workstation.session("auditor"), 200) if e.action == action]


def test_register_list_show_and_roles(workstation, registered) -> None:  # type: ignore[no-untyped-def]
    rev = workstation.session("reviewer")
    listed = {p.name: p for p in printers.list_printers(rev)}
    assert set(listed) == {"room3-laser", "vault-mfp"}
    assert listed["room3-laser"].usable and listed["room3-laser"].label == CONF
    assert listed["vault-mfp"].location == "Vault, room 12" and listed["vault-mfp"].registered_by == "admin"
    with pytest.raises(PermissionDenied):
        printers.register(rev, "desk", "SECRET", "my desk")
    with pytest.raises(PermissionDenied):
        printers.remove(rev, "vault-mfp")
    with pytest.raises(ValidationError, match="already registered"):
        printers.register(registered, "vault-mfp", "TOP SECRET", "Vault")
    with pytest.raises(ValidationError, match="unknown.*'NOPE'"):
        printers.register(registered, "other", "SECRET//NOPE", "Vault")
    with pytest.raises(ValidationError, match="location: is required"):
        printers.register(registered, "other", "SECRET", "  ")
    changed = printers.register(registered, "vault-mfp", "TOP SECRET//NOFORN", "Vault, room 14", replace=True)
    assert changed.usable and changed.label == Marking.parse("TOP SECRET//NOFORN")
    assert [e.details["label"] for e in reversed(_events(workstation, "printer.register"))] == [
        "CONFIDENTIAL", "SECRET//NOFORN", "TOP SECRET//NOFORN"]  # events come newest first


def test_printing_above_the_label_is_refused_and_audited_below_allowed(workstation, registered) -> None:  # type: ignore[no-untyped-def]
    rev = workstation.session("reviewer")
    with pytest.raises(ValidationError, match="marked SECRET//NOFORN.*accredited for CONFIDENTIAL only"):
        printers.clear(rev, "the checklist of submission #1", SNF, "room3-laser", ("assessment", 1))
    refused = _events(workstation, "print.refused")
    assert len(refused) == 1 and refused[0].actor == "reviewer" and refused[0].object_type == "assessment"
    assert refused[0].details["marking"] == "SECRET//NOFORN" and refused[0].details["label"] == "CONFIDENTIAL"
    ok = printers.clear(rev, "the checklist of submission #1", SNF, "vault-mfp", ("assessment", 1))
    printers.record(rev, ok, copies=2, pages="1-4 (4 pages)")
    done = _events(workstation, "print.document")
    assert len(done) == 1
    assert {k: done[0].details[k] for k in ("printer", "printer_label", "marking", "copies", "pages")} == {
        "printer": "vault-mfp", "printer_label": "SECRET//NOFORN", "marking": "SECRET//NOFORN", "copies": 2,
        "pages": "1-4 (4 pages)"}
    # A lower marking on a higher printer is fine; REL TO content on a NOFORN-accredited printer too.
    printers.clear(rev, "a note", Marking.parse("SECRET//REL TO USA, GBR"), "vault-mfp")
    printers.clear(rev, "a note", CONF, "room3-laser")


def test_an_unregistered_printer_cannot_be_used(workstation, registered) -> None:  # type: ignore[no-untyped-def]
    rev = workstation.session("reviewer")
    with pytest.raises(PermissionDenied, match="not registered.*administrator must register it"):
        printers.clear(rev, "a note", CONF, "hallway-printer")
    assert _events(workstation, "print.refused")[0].details["reason"] == "not registered"


def test_a_forged_printer_label_does_not_allow_printing_above_its_real_label(workstation, registered) -> None:  # type: ignore[no-untyped-def]
    """An insider with the data key raises the room-3 printer to SECRET//NOFORN in the table itself."""
    rev = workstation.session("reviewer")
    with tamper(rev) as conn:
        conn.execute("UPDATE printers SET label = 'SECRET//NOFORN' WHERE name = 'room3-laser'")
    forged = printers.get(rev, "room3-laser")
    assert not forged.usable and "changed after admin signed it" in (forged.problem or "")
    # Refused outright (not even CONFIDENTIAL content): the entry is not what an administrator signed.
    for content in (SNF, CONF):
        with pytest.raises(IntegrityError, match="does not hold.*changed after admin signed it"):
            printers.clear(rev, "the report", content, "room3-laser")
    assert _events(workstation, "print.refused")[0].details["reason"].startswith("its entry was changed")


def test_an_inserted_or_revived_printer_row_does_not_count(workstation, registered) -> None:  # type: ignore[no-untyped-def]
    rev = workstation.session("reviewer")
    printers.remove(registered, "vault-mfp", "moved out of the vault")
    assert printers.find(rev, "vault-mfp") is None
    assert _events(workstation, "printer.remove")[0].details["reason"] == "moved out of the vault"
    with tamper(rev) as conn:
        for name in ("vault-mfp", "insider-desk"):
            conn.execute("INSERT INTO printers (name, label, location, registered_by, registered_at) "
                         "VALUES (?, 'TOP SECRET//NOFORN', 'desk', 'admin', '2026-11-20')", (name,))
    assert "removed it from the register" in (printers.get(rev, "vault-mfp").problem or "")
    assert "no administrator signed" in (printers.get(rev, "insider-desk").problem or "")
    for name in ("vault-mfp", "insider-desk"):
        with pytest.raises(IntegrityError):
            printers.clear(rev, "the report", SNF, name)


def test_a_registration_signed_by_a_non_administrator_does_not_count(workstation, registered) -> None:  # type: ignore[no-untyped-def]
    """A reviewer signs a printer.register decision with their own (certified) key around the service."""
    from app.services import decisions

    rev = workstation.session("reviewer")
    with rev.transaction() as conn:
        decisions.record(conn, rev.personal, "printer.register", "printer", "room3-laser", "reviewer", rev.now(),
                         rev.db_id, {"name": "room3-laser", "label": "SECRET//NOFORN", "location": "Building 2, room 3"})
        conn.execute("UPDATE printers SET label = 'SECRET//NOFORN' WHERE name = 'room3-laser'")
    with pytest.raises(IntegrityError, match="reviewer, who signed its registration, is not an administrator"):
        printers.clear(rev, "the report", SNF, "room3-laser")


def test_printer_cli_add_list_show_remove(workstation, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import io

    from app import cli

    def run(user: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase(user) + "\n"))
        code = cli.main(["--data-dir", str(workstation.data_dir), "--user", user, "printer", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = run("admin", "add", "vault-mfp", "--label", "secret//noforn", "--location", "Vault, room 12")
    assert code == 0 and "accredited for SECRET//NOFORN (Vault, room 12)" in out
    code, _, err = run("reviewer", "add", "desk", "--label", "SECRET", "--location", "desk")
    assert code == 2 and "does not allow" in err
    code, _, err = run("admin", "add", "x", "--label", "SECRET//NOPE", "--location", "desk")
    assert code == 2 and "printer label" in err and "'NOPE'" in err
    code, out, _ = run("reviewer", "list")
    assert code == 0 and "vault-mfp" in out and "SECRET//NOFORN" in out and "usable" in out
    code, out, _ = run("reviewer", "show", "vault-mfp")
    assert code == 0 and "Vault, room 12" in out and "Registered by:  admin" in out
    code, out, _ = run("admin", "remove", "vault-mfp", "--reason", "decommissioned")
    assert code == 0 and "removed" in out
    code, out, _ = run("reviewer", "list")
    assert "No printers are registered" in out
