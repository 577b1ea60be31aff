"""Clearinghouse sharing rules (issue 16 point 6): CSAF export to a partner refuses content under
embargo or above the partner's TLP unless a lead overrides with a reason (signed, audited), never
overrides markings, and records who received which advisory revision."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.model.dissemination import DisseminationKind, Filters
from app.model.errors import PermissionDenied, ValidationError
from app.model.markings import Level, Marking
from app.model.partners import Partner, PartnerKind
from app.model.submissions import Submission
from app.model.vulnerabilities import DiscoveryContext, Tlp
from app.services import audit, csaf_exchange, csaf_sharing, decisions, dissemination, submissions
from app.services import vulnerabilities as vs
from tests.conftest import tamper
from tests.unit.csaf_kit import CERT, partner_for
from tests.unit.test_csaf import rich

SECRET = Marking.parse("SECRET//NOFORN")
GREEN_LAB = Partner(name="Green Lab", kind=PartnerKind.LAB, codes=("USA",), max_level=Level.SECRET, tlp=Tlp.GREEN)
UK = Partner(name="UK AI Security Institute", kind=PartnerKind.ALLIED, codes=("GBR", "FVEY"),
             max_level=Level.SECRET, tlp=Tlp.RED)
REASON = "Coordinated with the vendor; patch ships before the embargo ends"


@pytest.fixture
def reviewer(workstation):  # type: ignore[no-untyped-def]
    return workstation.session("reviewer")


@pytest.fixture
def lead(workstation):  # type: ignore[no-untyped-def]
    return workstation.session("lead")


def media(tmp_path: Path, name: str = "usb") -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    return folder


def export(session: Any, vid: str, folder: Path, recipient: str, reason: str = "") -> csaf_exchange.ExportResult:
    return csaf_exchange.export_csaf(session, [vid], folder, media_marking=SECRET, recipient=recipient,
                                     override_reason=reason)


def refused_events(session: Any) -> list[Any]:
    return [e for e in audit.events(session, 200) if e.action == "csaf.share_refused"]


# -- refusals ----------------------------------------------------------------------------------

def test_embargo_in_force_is_refused_and_nothing_is_written(workstation, reviewer, tmp_path) -> None:
    v = vs.create(reviewer, rich(embargo_until=date(2026, 12, 10)))
    folder = media(tmp_path)
    with pytest.raises(ValidationError, match="under embargo until 2026-12-10") as err:
        export(reviewer, v.id, folder, partner_for(reviewer))
    assert "A lead may override" in str(err.value) and v.id in str(err.value)
    assert list(folder.iterdir()) == [] and csaf_sharing.recipients(reviewer, v.id) == []
    (event,) = refused_events(workstation.session("auditor"))
    assert event.details["recipient"] == CERT.name
    # A lifted embargo (yesterday) no longer holds it back.
    vs.update(reviewer, dataclasses.replace(vs.get(reviewer, v.id), embargo_until=date(2026, 11, 19)))
    assert export(reviewer, v.id, folder, CERT.name).files


def test_tlp_above_what_the_partner_accepts_is_refused(reviewer, tmp_path) -> None:
    v = vs.create(reviewer, rich(tlp=Tlp.AMBER))
    with pytest.raises(ValidationError, match="TLP:AMBER is more restricted than the TLP:GREEN Green Lab accepts"):
        export(reviewer, v.id, media(tmp_path), partner_for(reviewer, GREEN_LAB))
    ok = vs.create(reviewer, rich(tlp=Tlp.GREEN, cve="CVE-2026-40009"))
    assert export(reviewer, ok.id, media(tmp_path), GREEN_LAB.name).files


def test_marking_not_releasable_is_refused_even_with_a_lead_override(workstation, reviewer, lead, tmp_path) -> None:
    v = vs.create(reviewer, rich(marking=SECRET))
    for session in (reviewer, lead):
        with pytest.raises(ValidationError, match="NOFORN: not releasable to foreign nationals") as err:
            export(session, v.id, media(tmp_path), partner_for(reviewer, UK), REASON)
        assert "markings are never overridden" in str(err.value)
    above = vs.create(reviewer, rich(marking=Marking.parse("SECRET"), tlp=Tlp.GREEN, cve="CVE-2026-40010"))
    with pytest.raises(ValidationError, match="marked SECRET, above the CUI"):
        export(lead, above.id, media(tmp_path), partner_for(reviewer, dataclasses.replace(
            GREEN_LAB, name="CUI Lab", max_level=Level.CUI)), REASON)
    assert len(refused_events(workstation.session("auditor"))) == 3


def test_media_labelled_below_the_content_is_refused_by_the_egress_check(reviewer, tmp_path) -> None:
    v = vs.create(reviewer, rich(marking=SECRET))
    folder = media(tmp_path)
    with pytest.raises(ValidationError, match="media is labelled CUI"):
        csaf_exchange.export_csaf(reviewer, [v.id], folder, media_marking=Marking.parse("CUI"),
                                  recipient=partner_for(reviewer))
    assert list(folder.iterdir()) == []


def test_developer_receives_its_own_model_s_vulnerability_under_embargo(workstation, reviewer, tmp_path) -> None:
    sub = submissions.create(reviewer, Submission("Acme AI", "Falcon", "2", date(2026, 11, 10), date(2026, 12, 20),
                                                  marking=Marking.parse("CUI")))
    v = vs.create(reviewer, rich(embargo_until=date(2026, 12, 20), tlp=Tlp.AMBER,
                                 context=DiscoveryContext(submission_id=sub.id)))
    acme = Partner(name="Acme AI", kind=PartnerKind.DEVELOPER, codes=("USA",), max_level=Level.CUI, tlp=Tlp.AMBER)
    assert export(reviewer, v.id, media(tmp_path), partner_for(reviewer, acme)).files
    other = Partner(name="Other AI", kind=PartnerKind.DEVELOPER, codes=("USA",), max_level=Level.CUI, tlp=Tlp.AMBER)
    with pytest.raises(ValidationError, match="under embargo"):
        export(reviewer, v.id, media(tmp_path, "other"), partner_for(reviewer, other))


# -- the lead's override ----------------------------------------------------------------------

def test_override_needs_a_lead_and_a_reason(workstation, reviewer, lead, tmp_path) -> None:
    v = vs.create(reviewer, rich(embargo_until=date(2026, 12, 10)))
    folder = media(tmp_path)
    with pytest.raises(PermissionDenied, match="only a lead may override"):
        export(reviewer, v.id, folder, partner_for(reviewer), REASON)
    with pytest.raises(ValidationError, match="A lead may override"):
        export(lead, v.id, folder, CERT.name)
    with pytest.raises(ValidationError, match="10 to 200 printable characters"):
        export(lead, v.id, folder, CERT.name, "because")
    assert list(folder.iterdir()) == [] and len(refused_events(workstation.session("auditor"))) == 3

    export(lead, v.id, folder, CERT.name, REASON)
    (shared,) = csaf_sharing.recipients(lead, v.id)
    assert shared.problem is None
    row = shared.row
    assert (row.recipient, row.version, row.override_reason, row.override_by, row.exported_by) == (
        CERT.name, 1, REASON, "lead", "lead")
    # The override is a decision the lead signed, naming what it overrode.
    d = next(x for x in decisions.decisions_repo.for_object(lead.db.conn, "partner", str(row.partner_id))
             if x.id == row.decision_id)
    assert d.kind == "csaf.share_override" and d.actor == "lead"
    assert decisions.problem(decisions.Registry.load(lead.db.conn, lead.db_id), d) is None
    content = decisions.content_of(d)
    assert content["override"]["reason"] == REASON and "under embargo until 2026-12-10" in content["override"][
        "withheld"][0]
    auditor = workstation.session("auditor")
    (event,) = [e for e in audit.events(auditor, 200) if e.action == "csaf.share_override"]
    assert event.actor == "lead" and event.details["override_reason"] == REASON
    (entry,) = dissemination.entries(auditor, Filters(kind=DisseminationKind.CSAF))
    assert (entry.object_id, entry.revision, entry.approved_by, entry.reason) == (v.id, "1", "lead", REASON)
    assert entry.embargo_until == date(2026, 12, 10) and entry.tlp is Tlp.AMBER_STRICT


# -- recipients per revision ----------------------------------------------------------------------

def test_each_revision_records_its_recipients(workstation, reviewer, tmp_path) -> None:
    v = vs.create(reviewer, rich())
    export(reviewer, v.id, media(tmp_path, "a"), partner_for(reviewer))
    vs.update(reviewer, dataclasses.replace(vs.get(reviewer, v.id), description="Updated analysis."))
    export(reviewer, v.id, media(tmp_path, "b"), partner_for(reviewer, dataclasses.replace(
        UK, name="Allied CERT", kind=PartnerKind.CERT, codes=("USA",))))
    export(reviewer, v.id, media(tmp_path, "c"), CERT.name)  # the same revision again, to the first partner
    shared = csaf_sharing.recipients(reviewer, v.id)
    assert [(s.row.version, s.row.recipient) for s in shared] == [
        (1, CERT.name), (2, "Allied CERT"), (2, CERT.name)]
    assert all(s.problem is None for s in shared)
    first = shared[0].row
    written = tmp_path / "a" / first.file
    assert first.sha256 == hashlib.sha256(written.read_bytes()).hexdigest()
    assert (first.tlp, first.marking, first.media_marking) == ("AMBER+STRICT", "CUI", "SECRET//NOFORN")
    log = dissemination.entries(workstation.session("auditor"), Filters(kind=DisseminationKind.CSAF))
    assert [(e.object_id, e.revision) for e in log] == [(v.id, "1"), (v.id, "2"), (v.id, "2")]


def test_a_package_records_its_manifest_hash(workstation, reviewer, tmp_path) -> None:
    from app.services import pki as pki_service

    pki_service.ensure_ready(workstation.session("admin"))
    v = vs.create(reviewer, rich())
    result = csaf_exchange.export_csaf_package(reviewer, [v.id], media(tmp_path), "SECRET",
                                               workstation.passphrase("reviewer"), recipient=partner_for(reviewer))
    (shared,) = csaf_sharing.recipients(reviewer, v.id)
    assert shared.row.manifest_sha256 == hashlib.sha256((result.folder / "SHA256SUMS").read_bytes()).hexdigest()
    (entry,) = dissemination.entries(reviewer, Filters(kind=DisseminationKind.CSAF))
    assert entry.manifest_sha256 == shared.row.manifest_sha256


def test_an_insider_edit_of_the_recipients_log_shows(reviewer, lead, tmp_path) -> None:
    v = vs.create(reviewer, rich(embargo_until=date(2026, 12, 10)))
    export(lead, v.id, media(tmp_path), partner_for(reviewer), REASON)
    with tamper(reviewer) as conn:  # an insider with the data key
        conn.execute("DROP TRIGGER csaf_recipients_no_update")
        conn.execute("UPDATE csaf_recipients SET recipient = 'Someone else'")
    (shared,) = csaf_sharing.recipients(reviewer, v.id)
    assert shared.problem is not None and "changed after lead signed" in shared.problem
    with tamper(reviewer) as conn:
        conn.execute("UPDATE csaf_recipients SET recipient = ?, override_reason = 'Made up later on'", (CERT.name,))
    (shared,) = csaf_sharing.recipients(reviewer, v.id)
    assert shared.problem == "the override on record is not the one signed"


# -- CLI ---------------------------------------------------------------------------------------

def run(workstation: Any, monkeypatch: Any, capsys: Any, user: str, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase(user) + "\n"))
    code = cli.main(["--data-dir", str(workstation.data_dir), "--user", user, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_refuses_then_a_lead_overrides_and_show_lists_the_recipients(workstation, reviewer, monkeypatch,
                                                                          capsys, tmp_path) -> None:
    v = vs.create(reviewer, rich(embargo_until=date(2026, 12, 10)))
    name = partner_for(reviewer)
    folder = media(tmp_path)
    args = ("vuln", "export-csaf", v.id, "--out", str(folder), "--media-marking", "SECRET", "--recipient", name)
    code, _, err = run(workstation, monkeypatch, capsys, "reviewer", *args)
    assert code == 2 and "under embargo until 2026-12-10" in err and "--override-reason" in err
    code, _, err = run(workstation, monkeypatch, capsys, "reviewer", *args, "--override-reason", REASON)
    assert code != 0 and "only a lead may override" in err
    code, out, err = run(workstation, monkeypatch, capsys, "lead", *args, "--override-reason", REASON)
    assert code == 0, err
    assert f"for {name} (lead override for {v.id}: {REASON})" in out
    doc = json.loads((folder / f"{v.id.lower()}.json").read_text())
    assert "Embargoed until 2026-12-10" in doc["document"]["distribution"]["text"]
    code, out, _ = run(workstation, monkeypatch, capsys, "reviewer", "vuln", "show", v.id)
    assert code == 0
    assert f"v1 {v.id} to {name}" in out and f"override by lead: {REASON}" in out and "DOES NOT HOLD" not in out
    code, _, err = run(workstation, monkeypatch, capsys, "reviewer", "vuln", "export-csaf", v.id, "--out",
                       str(folder), "--media-marking", "SECRET", "--recipient", "Nobody Known")
    assert code != 0 and "No partner named 'Nobody Known'" in err


def test_cli_names_a_missing_a_file_and_an_unwritable_destination_apart(workstation, reviewer, monkeypatch, capsys,  # type: ignore[no-untyped-def]
                                                                        tmp_path) -> None:
    """Walk 2 (s31) #7: a folder that did not exist and one that could not be written both got
    "folder: DIR is not a folder". They are told apart in the words `backup create` uses."""
    import errno
    import os

    from app.model.errors import StorageError

    v = vs.create(reviewer, rich())
    name = partner_for(reviewer)

    def export_to(folder: Path) -> tuple[int, str]:
        code, _, err = run(workstation, monkeypatch, capsys, "reviewer", "vuln", "export-csaf", v.id, "--out",
                           str(folder), "--media-marking", "SECRET", "--recipient", name)
        return code, err

    code, err = export_to(tmp_path / "absent")
    assert code == 2 and f"{tmp_path / 'absent'} does not exist (or the media is not mounted)" in err, err
    (tmp_path / "a-file").write_text("x")
    code, err = export_to(tmp_path / "a-file")
    assert code == 2 and f"{tmp_path / 'a-file'} is not a folder" in err and "does not exist" not in err, err
    folder = media(tmp_path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m, **kw: False if Path(p) == folder else real_access(p, m, **kw))
    code, err = export_to(folder)
    assert code == 2 and f"{folder} is not writable (read-only media or no permission)" in err, err
    monkeypatch.setattr(os, "access", real_access)

    # Writable by its mode but refused at the write (root on a read-only pseudo file system): the
    # same words, nothing left behind, nothing recorded; before, the first advisory stayed behind.
    real_write = csaf_exchange.atomic_write

    def refused_marking(path: Path, data: bytes, mode: int = 0o600) -> None:
        if path.name == "MARKING.txt":
            raise StorageError(f"Cannot write {path}") from PermissionError(errno.EACCES, "Permission denied")
        real_write(path, data, mode)

    monkeypatch.setattr("app.services.egress.atomic_write", refused_marking)
    code, err = export_to(folder)
    assert code == 2 and f"{folder} is not writable (read-only media or no permission)" in err, err
    assert list(folder.iterdir()) == [] and csaf_sharing.recipients(reviewer, v.id) == []
