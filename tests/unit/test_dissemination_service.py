"""Dissemination log and receipts (issue 16, points 4-5): record inside the writer's transaction,
filters, supersession, signed entries; receipts verified against the partner's registered key."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.model.dissemination import DisseminationKind, Filters
from app.model.errors import IntegrityError, ValidationError
from app.model.markings import Level
from app.model.partners import Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from app.services import dissemination, partners, receipts
from app.services import workstation as workstation_service
from tests.conftest import FIXED_NOW, WorkstationTemplate, derive_template, restore_template, tamper
from tests.unit.partner_kit import PartnerKey, make_cert, receipt_json, write_receipt

UKAISI = Partner(name="UK AI Security Institute", kind=PartnerKind.ALLIED, codes=("GBR", "FVEY"),
                 max_level=Level.SECRET, tlp=Tlp.AMBER)
CISA = Partner(name="CISA", kind=PartnerKind.AGENCY, codes=("USA",), max_level=Level.SECRET, tlp=Tlp.RED)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def setup_partners(workstation, tmp_path: Path) -> tuple[int, int, PartnerKey, PartnerKey]:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    uk, us = partners.add(admin, UKAISI), partners.add(admin, CISA)
    assert uk.id is not None and us.id is not None
    uk_key, us_key = make_cert(tmp_path / "uk", "UK AISI"), make_cert(tmp_path / "us", "CISA", rsa_bits=3072)
    partners.add_certificate(admin, uk.id, uk_key.cert_path, "receipt")
    partners.add_certificate(admin, us.id, us_key.cert_path, "receipt")
    return uk.id, us.id, uk_key, us_key


@pytest.fixture(scope="module")
def partners_template(tmp_path_factory: pytest.TempPathFactory, workstation_template: WorkstationTemplate):  # type: ignore[no-untyped-def]
    """The two partners with their receipt certificates (an RSA-3072 key among them), set up once per
    module (~0.4 s of CPU each time); the keys are only read. Each test gets its own copy."""
    root = tmp_path_factory.mktemp("dissemination-partners")
    return derive_template(root, workstation_template, lambda ws: setup_partners(ws, root / "keys"))


@pytest.fixture
def with_partners(workstation, partners_template, memory_keyring) -> tuple[int, int, PartnerKey, PartnerKey]:  # type: ignore[no-untyped-def]
    template, value = partners_template
    restore_template(workstation, template, memory_keyring)
    return value


def send(session, partner_id: int, manifest: str, *, kind: str = "package", object_id: str = "R-1",  # type: ignore[no-untyped-def]
         marking: str = "SECRET//REL TO USA, FVEY", supersedes: int | None = None, revision: str = "1") -> int:
    with session.transaction() as conn:
        return dissemination.record(session, conn, kind=kind, object_type="report", object_id=object_id,
                                    revision=revision, partner_id=partner_id, marking=marking, tlp="AMBER",
                                    embargo_until=date(2026, 12, 1), manifest_sha256=manifest,
                                    media_label="SECRET//NOFORN", approved_by="lead", supersedes=supersedes)


def test_record_filters_supersede_and_signed_entries(workstation, with_partners, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uk, us, _, _ = with_partners
    lead = workstation.session("lead")
    a = send(lead, uk, sha("a"))
    b = send(lead, us, sha("b"), marking="SECRET//NOFORN")
    c = send(lead, uk, sha("c"), supersedes=a, revision="2")
    d = send(lead, us, sha("d"), kind="csaf", object_id="CSAF-1")
    all_ = dissemination.entries(lead)
    assert [e.id for e in all_] == [a, b, c, d]
    first = all_[0]
    assert first.partner_name == UKAISI.name and first.marking.banner() == "SECRET//REL TO USA, FVEY"
    assert first.tlp is Tlp.AMBER and first.embargo_until == date(2026, 12, 1) and first.superseded_by == c
    assert first.created_by == "lead" and first.approved_by == "lead" and first.media_label == "SECRET//NOFORN"
    assert all_[2].supersedes == a and all_[2].revision == "2"
    assert [e.id for e in dissemination.entries(lead, Filters(partner_id=uk))] == [a, c]
    assert [e.id for e in dissemination.entries(lead, Filters(kind=DisseminationKind.CSAF))] == [d]
    assert [e.id for e in dissemination.entries(lead, Filters(object_type="report", object_id="R-1"))] == [a, b, c]
    assert dissemination.entries(lead, Filters(since=FIXED_NOW.date() + timedelta(days=1))) == []
    assert len(dissemination.entries(lead, Filters(since=FIXED_NOW.date(), until=FIXED_NOW.date()))) == 4
    assert all(dissemination.verify_entry(lead, e) is None for e in all_)
    actions = [r[0] for r in lead.db.conn.execute("SELECT action FROM audit_events WHERE action LIKE 'dissem%'")]
    assert actions == ["dissemination.record"] * 4
    # The log is append-only, and an entry rewritten under the triggers no longer holds its signature.
    with pytest.raises(Exception, match="append-only"), tamper(lead) as conn:
        conn.execute("UPDATE dissemination_log SET partner_id = ? WHERE id = ?", (us, a))
    with tamper(lead) as conn:
        conn.execute("DROP TRIGGER dissemination_log_no_update")
        conn.execute("UPDATE dissemination_log SET marking = 'UNCLASSIFIED' WHERE id = ?", (b,))
    assert "changed after lead signed it" in (dissemination.verify_entry(lead, dissemination.get(lead, b)) or "")
    with pytest.raises(IntegrityError, match=f"entry {b} does not hold"):
        dissemination.checked(lead, b)


def test_record_refuses_what_must_not_be_logged_and_stores_nothing(workstation, with_partners, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uk, us, _, _ = with_partners
    lead = workstation.session("lead")
    cases = [
        (dict(partner_id=uk, marking="SECRET//NOFORN"), "NOFORN: not releasable"),
        (dict(partner_id=uk, marking="TOP SECRET//REL TO USA, GBR"), "above the SECRET"),
        (dict(partner_id=us, media_label="CUI"), "the media is labelled CUI"),
        (dict(partner_id=us, manifest_sha256="abc"), "64 hexadecimal digits"),
        (dict(partner_id=us, supersedes=None, kind="recall"), "names the entry it recalls"),
        (dict(partner_id=us, object_id=""), "object id: is required"),
    ]
    base = dict(kind="package", object_type="report", object_id="R-1", revision="1", marking="SECRET//NOFORN",
                tlp=None, embargo_until=None, manifest_sha256=sha("x"), media_label="SECRET//NOFORN",
                approved_by="lead")
    for override, message in cases:
        with pytest.raises(ValidationError, match=message), lead.transaction() as conn:
            dissemination.record(lead, conn, **{**base, **override})  # type: ignore[arg-type]
    other = send(lead, us, sha("other"), object_id="R-2", marking="SECRET//NOFORN")
    with pytest.raises(ValidationError, match="is about report R-2"), lead.transaction() as conn:
        dissemination.record(lead, conn, **{**base, "partner_id": us, "supersedes": other})  # type: ignore[arg-type]
    admin = workstation.session("admin")
    partners.deactivate(admin, us)
    with pytest.raises(ValidationError, match="deactivated"), lead.transaction() as conn:
        dissemination.record(lead, conn, **{**base, "partner_id": us})  # type: ignore[arg-type]
    assert [e.id for e in dissemination.entries(lead)] == [other]
    auditor = workstation.session("auditor")
    with pytest.raises(Exception, match="does not allow"), auditor.transaction() as conn:
        dissemination.record(auditor, conn, **{**base, "partner_id": uk})  # type: ignore[arg-type]


def test_record_refuses_an_unsigned_partner(workstation, with_partners, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uk, _, _, _ = with_partners
    lead = workstation.session("lead")
    with tamper(lead) as conn:
        conn.execute("UPDATE partners SET codes = '[\"RUS\"]' WHERE id = ?", (uk,))
    with pytest.raises(IntegrityError, match="not signed"):
        send(lead, uk, sha("a"))
    assert dissemination.entries(lead) == []


def test_receipt_closes_the_loop_and_overdue_counts_days(workstation, with_partners, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uk, us, uk_key, us_key = with_partners
    lead = workstation.session("lead")
    a, b = send(lead, uk, sha("a")), send(lead, us, sha("b"), marking="SECRET//NOFORN")
    lead.clock = lambda: FIXED_NOW + timedelta(days=9)
    assert [e.id for e in dissemination.overdue(lead)] == [a, b]
    assert dissemination.get(lead, a).unacknowledged_days(lead.today()) == 9
    r = receipts.import_receipt(lead, write_receipt(tmp_path / "r1", receipt_json(sha("a"), UKAISI.name), uk_key))
    assert r.entry_id == a and r.note == "Received intact" and r.signer_fingerprint == receipts.pki.fingerprint(uk_key.cert)
    rsa_receipt = write_receipt(tmp_path / "r2", receipt_json(sha("b"), "cisa"), us_key)
    assert receipts.import_receipt(lead, rsa_receipt.with_name("receipt.json.p7s")).entry_id == b
    assert dissemination.overdue(lead) == []
    assert dissemination.get(lead, a).acknowledged and dissemination.get(lead, a).unacknowledged_days(lead.today()) is None
    assert [e.id for e in dissemination.entries(lead, Filters(unacknowledged=True))] == []
    assert receipts.verify_stored(lead, a) is None
    # The same package sent to the same partner again is a second delivery: the first receipt, imported
    # again, does not acknowledge it (it did: a receipt names the package, not the delivery).
    again = send(lead, uk, sha("a"))
    with pytest.raises(ValidationError, match=f"this very receipt already acknowledged log entry {a}"):
        receipts.import_receipt(lead, tmp_path / "r1" / "receipt.json")
    assert not dissemination.get(lead, again).acknowledged
    lead.db.conn.execute("SELECT 1")
    assert "receipt.import" in [r[0] for r in lead.db.conn.execute("SELECT action FROM audit_events")]
    c = send(lead, uk, sha("c"))
    lead.clock = lambda: FIXED_NOW + timedelta(days=20)
    assert [e.id for e in dissemination.overdue(lead)] == [again, c]
    admin = workstation.session("admin")
    with pytest.raises(ValidationError, match="between 1 and 365"):
        workstation_service.update_settings(admin, {"receipt_overdue_days": 0})
    workstation_service.update_settings(admin, {"receipt_overdue_days": 30})  # an administrator's setting
    lead.reload_settings()
    assert dissemination.overdue(lead) == []


def test_bad_receipts_are_refused_naming_the_file_and_nothing_is_recorded(workstation, with_partners, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uk, us, uk_key, us_key = with_partners
    lead = workstation.session("lead")
    a = send(lead, uk, sha("a"))
    send(lead, us, sha("b"), marking="SECRET//NOFORN")
    stranger = make_cert(tmp_path / "stranger", "UK AISI")  # same name, another key
    expired = make_cert(tmp_path / "exp", "UK AISI", days=40)
    admin = workstation.session("admin")
    partners.add_certificate(admin, uk, expired.cert_path, "receipt")
    good = receipt_json(sha("a"), UKAISI.name)

    def case(name: str, data: bytes, signer: PartnerKey, message: str, *, damage: bytes | None = None) -> None:
        path = write_receipt(tmp_path / name, data, signer)
        if damage is not None:
            path.write_bytes(damage)
        with pytest.raises(ValidationError, match=message) as err:
            receipts.import_receipt(lead, path)
        assert str(path) in str(err.value)

    case("malformed", b"{not json", uk_key, "not readable JSON")
    case("notobject", b"[1, 2]", uk_key, "a JSON object")
    case("nohash", b'{"received_at": "2026-11-21", "partner": "x"}', uk_key, "lacks 'manifest_sha256'")
    case("badhash", receipt_json("12" * 10, UKAISI.name), uk_key, "64 hexadecimal digits")
    case("baddate", receipt_json(sha("a"), UKAISI.name, received_at="yesterday"), uk_key, "not an ISO 8601")
    case("unknown", receipt_json(sha("zzz"), UKAISI.name), uk_key, "unknown manifest")
    case("other_partner", receipt_json(sha("b"), UKAISI.name), uk_key, "was sent to CISA, not to them")
    case("stranger", good, stranger, "not with UK AI Security Institute's registered receipt certificate")
    case("wrong_registered", good, us_key, "not with UK AI Security Institute's registered receipt certificate")
    case("tampered", good, uk_key, "does not match the receipt",
         damage=good.replace(b"Received intact", b"Received broken"))
    lead.clock = lambda: FIXED_NOW + timedelta(days=11)
    case("expired", good, expired, "receipt certificate of UK AISI expired on")
    lead.clock = lambda: FIXED_NOW
    nosig = tmp_path / "nosig" / "receipt.json"
    nosig.parent.mkdir()
    nosig.write_bytes(good)
    with pytest.raises(ValidationError, match="receipt.json.p7s is missing"):
        receipts.import_receipt(lead, nosig)
    (tmp_path / "nosig" / "receipt.json.p7s").write_bytes(b"\x30\x03\x02\x01\x01")
    with pytest.raises(ValidationError, match="not a readable CMS"):
        receipts.import_receipt(lead, nosig)
    assert lead.db.conn.execute("SELECT count(*) FROM receipts").fetchone()[0] == 0
    receipts.import_receipt(lead, write_receipt(tmp_path / "ok", good, uk_key))
    case("duplicate", good, uk_key, f"a duplicate: UK AI Security Institute already acknowledged log entry {a}")
    assert lead.db.conn.execute("SELECT count(*) FROM receipts").fetchone()[0] == 1


def test_the_documented_openssl_command_makes_a_receipt_that_imports(workstation, with_partners, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uk, _, uk_key, _ = with_partners
    lead = workstation.session("lead")
    a = send(lead, uk, sha("a"))
    folder = tmp_path / "partner_side"
    folder.mkdir()
    (folder / "receipt.json").write_bytes(receipt_json(sha("a"), UKAISI.name))
    # Exactly as docs/PARTNERS.md tells a partner to sign it.
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-in", "receipt.json",
                    "-signer", str(uk_key.cert_path), "-inkey", str(uk_key.key_path), "-md", "sha256",
                    "-out", "receipt.json.p7s"], cwd=folder, check=True, capture_output=True)
    assert receipts.import_receipt(lead, folder / "receipt.json").entry_id == a


def test_demo_partners_populate_a_register_and_a_log_with_a_real_receipt(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.services import demo_partners

    admin, lead = workstation.session("admin"), workstation.session("lead")
    demo_partners.populate(admin, lead, tmp_path / "partners")
    assert [p.name for p in partners.list_all(lead)] == ["CISA", "Cobalt Systems", "UK AI Security Institute"]
    assert all(partners.problem(lead, int(p.id or 0)) is None for p in partners.list_all(lead))
    log = dissemination.entries(lead)
    assert len(log) == 4 and log[0].acknowledged and log[1].supersedes == log[0].id
    assert receipts.verify_stored(lead, log[0].id) is None


def test_a_receipt_row_an_insider_inserts_does_not_acknowledge_anything(workstation, with_partners, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uk, _, uk_key, _ = with_partners
    lead = workstation.session("lead")
    a, b = send(lead, uk, sha("a")), send(lead, uk, sha("b"), object_id="R-2")
    receipts.import_receipt(lead, write_receipt(tmp_path / "r", receipt_json(sha("a"), UKAISI.name), uk_key))
    content, signature = lead.db.conn.execute("SELECT content, signature FROM receipts").fetchone()
    reviewer = workstation.session("reviewer")
    with tamper(reviewer) as conn:  # the genuine receipt of a, copied onto b
        conn.execute("INSERT INTO receipts (entry_id, partner_id, manifest_sha256, received_at, note, content, "
                     "signature, signer_fingerprint, file_name, imported_at, imported_by) "
                     "VALUES (?, ?, ?, 'x', '', ?, ?, 'x', 'receipt.json', 'x', 'reviewer')",
                     (b, uk, sha("b"), content, signature))
    lead.clock = lambda: FIXED_NOW + timedelta(days=10)
    log = {e.id: e for e in dissemination.entries(lead)}
    assert log[a].acknowledged and not log[b].acknowledged
    assert log[b].receipt_problem == "the stored receipt acknowledges another manifest"
    assert [e.id for e in dissemination.overdue(lead)] == [b]
    assert [e.id for e in dissemination.entries(lead, Filters(unacknowledged=True))] == [b]
    with tamper(reviewer) as conn:
        conn.execute("UPDATE receipts SET content = ? WHERE entry_id = ?",
                     (receipt_json(sha("a"), UKAISI.name, note="edited"), a))
    assert "does not match" in dissemination.entries(lead)[0].receipt_problem


def test_an_entry_an_insider_inserts_is_flagged_wherever_the_log_is_read(workstation, with_partners, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A row written straight into the log (no signed decision by its recorder) is listed with why,
    in the service, the CLI's note, the printed log and the screen's column, never as a plain entry."""
    from app.commands.dissemination import _note
    from reports.pdf_dissemination import _links
    from storage import partners_repo

    uk, _us, _, _ = with_partners
    lead = workstation.session("lead")
    genuine = send(lead, uk, sha("genuine"))
    insider = lead.db.another()  # the insider's own connection to the database file
    try:
        with insider.transaction() as conn:
            forged = partners_repo.insert_entry(
                conn, kind=DisseminationKind.PACKAGE, object_type="report", object_id="R-9", revision="1",
                partner_id=uk, marking="SECRET//REL TO USA, FVEY", tlp="AMBER", embargo_until=None,
                manifest_sha256=sha("forged"), media_label="SECRET//NOFORN", approved_by="lead", supersedes=None,
                reason="", actor="lead", now=FIXED_NOW.isoformat())
    finally:
        insider.close()
    rows = {e.id: e for e in dissemination.entries(lead)}
    assert rows[genuine].record_problem == ""
    assert rows[forged].record_problem == "no signed record"
    assert _note(rows[forged]).startswith("ENTRY DOES NOT HOLD: no signed record")
    assert "ENTRY DOES NOT HOLD" in _links(rows[forged]) and "DOES NOT HOLD" not in _links(rows[genuine])
    with pytest.raises(IntegrityError, match=f"entry {forged} does not hold"):
        dissemination.checked(lead, forged)
