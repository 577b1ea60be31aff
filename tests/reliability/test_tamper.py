"""Tampering, in one place: each modification is detected and the message says what and where.

The insider here holds the data key (an admin who unwrapped it): with it they can drop the
append-only triggers and edit rows. The hash chain, the head kept in the key header, SQLCipher's
page HMACs and the backup's signed manifest are what still catch them.
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
from pathlib import Path

import pytest
import sqlcipher3

from app import cli
from app.model.errors import StorageError
from app.services import audit, backup
from app.services import workstation as ws_service
from reports import detached, pki
from storage import audit as audit_log
from storage import backup as store
from storage import keyring_secret
from storage.db import apply_key
from storage.keys import KEYRING_MODE, KeyHeader
from tests.conftest import FIXED_NOW, PASSPHRASES, derive_template, fixture_conditions, restore_template
from tests.reliability.helpers import add_submission

ADMIN = PASSPHRASES["admin"]


def insider_connection(data_dir: Path):  # type: ignore[no-untyped-def]
    """A raw connection with the data key, as an admin who unwrapped it could open one."""
    header = KeyHeader.load(ws_service.header_path(data_dir))
    secret = keyring_secret.load(header.db_id) if header.keyring_mode == KEYRING_MODE else None
    key = header.unwrap_passphrase("admin", ADMIN, secret)
    conn = sqlcipher3.connect(str(ws_service.db_path(data_dir)), isolation_level=None)
    apply_key(conn, key, header.page_size)
    return conn


def populated(ws) -> None:  # type: ignore[no-untyped-def]
    s = ws.session("reviewer")
    for n in range(3):
        add_submission(s, n)
    s.close()


def cli_audit_verify(ws, monkeypatch, capsys) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASES["auditor"] + "\n"))
    code = cli.main(["--data-dir", str(ws.data_dir), "--user", "auditor", "audit", "verify"])
    return code, capsys.readouterr().out


# -- audit trail ----------------------------------------------------------------------------------


def test_the_database_itself_refuses_audit_edits(workstation):
    conn = insider_connection(workstation.data_dir)
    with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1")
    with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_events WHERE seq = 1")
    conn.close()


def test_modified_audit_event_is_named(workstation, monkeypatch, capsys):
    populated(workstation)
    conn = insider_connection(workstation.data_dir)
    seq, action = conn.execute(
        "SELECT seq, action FROM audit_events WHERE action = 'submission.create' ORDER BY seq LIMIT 1").fetchone()
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit_events SET details = ? WHERE seq = ?", (json.dumps({"developer": "nobody"}), seq))
    conn.close()
    result = audit.verify(workstation.session("auditor"))
    assert not result.ok and result.first_bad_seq == seq
    assert f"event {seq} ({action}" in result.problems[0] and "modified" in result.problems[0]
    code, out = cli_audit_verify(workstation, monkeypatch, capsys)
    assert code == 1 and f"event {seq}" in out and "BROKEN" in out


def test_event_rewritten_with_a_recomputed_hash_breaks_the_next_link(workstation):
    populated(workstation)
    conn = insider_connection(workstation.data_dir)
    conn.execute("DROP TRIGGER audit_no_update")
    row = conn.execute("SELECT seq, ts, actor, action, object_type, object_id, details, prev_hash FROM audit_events"
                       " WHERE seq = 3").fetchone()
    forged = audit_log.event_hash(row[0], row[1], "mallory", *row[3:8])
    conn.execute("UPDATE audit_events SET actor = 'mallory', hash = ? WHERE seq = 3", (forged,))
    conn.close()
    result = audit.verify(workstation.session("auditor"))
    # The rewritten event's own signature no longer matches (its signer is not "mallory"), and
    # the chain alone (without signatures) still names the broken link after it.
    assert not result.ok and result.first_bad_seq == 3 and "not mallory's" in result.problems[0]
    chain_only = audit_log.verify(insider_connection(workstation.data_dir))
    assert chain_only.first_bad_seq == 4 and "does not link to event 3" in chain_only.problems[0]


def test_deleted_tail_events_are_detected_through_the_head_in_the_key_header(workstation):
    populated(workstation)
    known = KeyHeader.load(ws_service.header_path(workstation.data_dir)).audit_head
    conn = insider_connection(workstation.data_dir)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit_events WHERE seq > ?", (known["seq"] - 2,))
    # Straight after the deletion (no one signed in since): the chain alone looks fine...
    assert audit_log.verify(conn).ok
    # ...the head recorded outside the database does not.
    offline = audit_log.verify(conn, (known["seq"], known["hash"]))
    assert not offline.ok and f"events {known['seq'] - 1}-{known['seq']} were deleted from the end" in \
        offline.problems[0]
    conn.close()
    # And after someone signs in again (new events re-use the deleted numbers) it is still caught.
    result = audit.verify(workstation.session("auditor"))
    problem = result.problems[0]
    assert not result.ok and ("deleted from the end" in problem or "recorded outside the database" in problem)


def test_deleted_tail_stays_detected_after_the_chain_grows_past_the_old_head(workstation):
    populated(workstation)
    known = KeyHeader.load(ws_service.header_path(workstation.data_dir)).audit_head
    conn = insider_connection(workstation.data_dir)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit_events WHERE seq > ?", (known["seq"] - 2,))
    conn.close()
    for _ in range(4):  # ordinary sign-ins push the chain past the recorded head
        workstation.session("reviewer")
    head = KeyHeader.load(ws_service.header_path(workstation.data_dir)).audit_head
    result = audit_log.verify(insider_connection(workstation.data_dir), (head["seq"], head["hash"]))
    assert not result.ok


def test_deleted_middle_event_is_named(workstation):
    populated(workstation)
    conn = insider_connection(workstation.data_dir)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit_events WHERE seq = 5")
    conn.close()
    result = audit.verify(workstation.session("auditor"))
    assert not result.ok and "event 5 is missing" in result.problems[0] and "deleted" in result.problems[0]


# -- database pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("offset_pages", [1, 5, -2])
def test_modified_database_page_is_refused_and_the_file_left_as_evidence(workstation, offset_pages):
    """Refused at sign-in, unless the page is the imported results' bulk (storage/db.py DEFERRED_CHECK,
    which sign-in does not read): then the whole-database check right after sign-in finds it."""
    from app.services import db_check
    from storage import db as storage_db

    populated(workstation)
    s = workstation.session("admin")
    # the pages of the results' bulk that sign-in does not read (an empty table's root is its only page)
    bulk = {root for table, root in s.db.query("SELECT tbl_name, rootpage FROM sqlite_schema WHERE rootpage > 0")
            if storage_db._deferred(table)}
    s.close()
    dbp = ws_service.db_path(workstation.data_dir)
    data = bytearray(dbp.read_bytes())
    size = KeyHeader.load(ws_service.header_path(workstation.data_dir)).page_size
    page = offset_pages if offset_pages >= 0 else len(data) // size + offset_pages
    pos = page * size + 200
    data[pos: pos + 4] = bytes(b ^ 0x5A for b in data[pos: pos + 4])
    dbp.write_bytes(bytes(data))
    if page + 1 in bulk:  # SQLite numbers pages from 1
        again = workstation.session("admin")
        assert db_check.check(again), "the damaged results page was not found"
        again.close()
        assert dbp.read_bytes()[page * size: (page + 1) * size] == data[page * size: (page + 1) * size]
        return
    with pytest.raises(StorageError) as info:
        workstation.session("admin")
    assert str(dbp) in str(info.value)
    assert "damaged" in str(info.value) or "integrity check" in str(info.value)
    assert dbp.read_bytes() == bytes(data)


def test_a_damaged_results_page_is_found_by_the_check_after_sign_in(workstation):
    """Sign-in skips the imported results' bulk (storage/db.py DEFERRED_CHECK); the whole-database
    check that follows it (the app runs it at once, `storage check` on demand) finds the damage by
    the page's HMAC, and the damaged page is left as found (the session's own writes go elsewhere)."""
    from app.services import db_check, results
    from tests.conftest import reviewer_with_submission

    s, sid = reviewer_with_submission(workstation)
    fixture = Path(__file__).parents[1] / "fixtures" / "inspect" / "intercode_ok.eval"
    assert results.import_files(s, [fixture], sid)[0].status == "imported"
    root = s.db.query_one("SELECT rootpage FROM sqlite_schema WHERE name = 'eval_transcripts'")[0]
    for session in workstation.sessions:
        session.close()  # the last connection moves the WAL into the file
    dbp = ws_service.db_path(workstation.data_dir)
    size = KeyHeader.load(ws_service.header_path(workstation.data_dir)).page_size
    data = bytearray(dbp.read_bytes())
    pos = (root - 1) * size + 200  # SQLite numbers pages from 1
    data[pos: pos + 4] = bytes(b ^ 0x5A for b in data[pos: pos + 4])
    dbp.write_bytes(bytes(data))
    again = workstation.session("reviewer")  # sign-in does not read that page
    problems = db_check.check(again)
    assert problems, "the damaged page was not found"
    assert "fails its integrity check" in db_check.describe(problems, again)
    again.close()
    assert dbp.read_bytes()[(root - 1) * size: root * size] == data[(root - 1) * size: root * size]  # evidence kept


def test_page_hmac_check_names_the_page(workstation):
    populated(workstation)
    dbp = ws_service.db_path(workstation.data_dir)
    header = KeyHeader.load(ws_service.header_path(workstation.data_dir))
    key = header.unwrap_passphrase("admin", ADMIN, keyring_secret.load(header.db_id))
    data = bytearray(dbp.read_bytes())
    last_page = len(data) // header.page_size
    data[(last_page - 1) * header.page_size + 100] ^= 0xFF
    dbp.write_bytes(bytes(data))
    conn = sqlcipher3.connect(str(dbp), isolation_level=None)
    apply_key(conn, key, header.page_size)
    problems = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
    conn.close()
    assert problems and f"page {last_page}" in problems[0] and "HMAC" in problems[0]


# -- backups --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def backup_template(tmp_path_factory, workstation_template):  # type: ignore[no-untyped-def]
    """A backup of a workstation with three submissions, made once per module (~0.5 s of CPU)."""
    root = tmp_path_factory.mktemp("tamper-backup")
    with fixture_conditions(root) as backend:
        ws = workstation_template.copy_to(root / "ws", backend)
        populated(ws)
        (root / "media").mkdir()
        admin = ws.session("admin")
        made = backup.create(admin, root / "media", ADMIN, media_label="SECRET//NOFORN")
        admin.close()
    return made


@pytest.fixture
def made_backup(backup_template, tmp_path):  # type: ignore[no-untyped-def]
    """Each test tampers with its own copy of the backup folder, on media of its own."""
    copy = tmp_path / "media" / backup_template.folder.name
    shutil.copytree(backup_template.folder, copy)
    return dataclasses.replace(backup_template, folder=copy)


def _verify(folder: Path, fp: str) -> backup.VerifyReport:
    return backup.inspect(folder, [fp])


def test_backup_with_a_flipped_byte_names_the_file(made_backup):
    fp = made_backup.meta.ca_fingerprint
    for name in store.CONTENT_FILES:
        copy = made_backup.folder.parent / f"copy-{name}"
        shutil.copytree(made_backup.folder, copy)
        data = bytearray((copy / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (copy / name).write_bytes(bytes(data))
        report = _verify(copy, fp)
        assert not report.ok and f"{copy}/{name} was modified" in report.problems[0], name


def test_backup_with_a_recomputed_manifest_fails_its_signature(made_backup):
    folder = made_backup.folder
    meta = json.loads((folder / store.META_FILE).read_text())
    meta["created_by"] = "someone-else"
    (folder / store.META_FILE).write_text(json.dumps(meta))
    (folder / store.MANIFEST_FILE).write_bytes(store.manifest_bytes(folder))
    report = _verify(folder, made_backup.meta.ca_fingerprint)
    assert not report.ok and f"{folder}/{store.SIGNATURE_FILE}" in report.problems[0]
    assert "changed after signing" in report.problems[0]


def test_backup_re_signed_under_another_ca_is_not_trusted(made_backup):
    """An attacker with their own CA re-signs everything (ca.pem included): the fingerprint betrays it."""
    folder = made_backup.folder
    rogue = pki.create_ca("Test workstation", FIXED_NOW)
    signer = pki.issue_signing_certificate(rogue, "Ada Admin (backup)", "admin", "backup", FIXED_NOW)
    (folder / store.CA_FILE).write_bytes(pki.cert_to_pem(rogue.cert))
    meta = json.loads((folder / store.META_FILE).read_text())
    meta["ca_fingerprint"] = pki.fingerprint(rogue.cert)
    (folder / store.META_FILE).write_text(json.dumps(meta))
    manifest = store.manifest_bytes(folder)
    (folder / store.MANIFEST_FILE).write_bytes(manifest)
    (folder / store.SIGNATURE_FILE).write_bytes(detached.sign_detached(manifest, signer.key, signer.cert,
                                                                       signer.chain))
    report = _verify(folder, made_backup.meta.ca_fingerprint)
    assert not report.ok and pki.fingerprint(rogue.cert) in report.problems[0]
    assert "not trusted here" in report.problems[0]
    with pytest.raises(Exception, match="not trusted here"):
        backup.restore(folder, folder.parent / "restored", admin_username="admin", passphrase=ADMIN,
                       known_cas=[made_backup.meta.ca_fingerprint])
    assert not (folder.parent / "restored").exists()


def test_backup_with_missing_or_extra_files_is_named(made_backup):
    folder = made_backup.folder
    fp = made_backup.meta.ca_fingerprint
    (folder / "evil.sh").write_text("echo hi")
    report = _verify(folder, fp)
    assert not report.ok and "evil.sh" in report.problems[0]
    (folder / "evil.sh").unlink()
    (folder / store.HEADER_FILE).unlink()
    report = _verify(folder, fp)
    assert not report.ok and f"{folder}/{store.HEADER_FILE} is missing" in report.problems[0]


# -- signed reports and export packages -----------------------------------------------------------


def _export(workstation, usb: Path):  # type: ignore[no-untyped-def]
    from app.services import pki as pki_service
    from app.services import reports as report_service
    from tests.reliability.helpers import approved_submission, configure_for_reports

    configure_for_reports(workstation.session("admin"))
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    rid = report_service.build(rev, approved_submission(rev, lead)).id
    report_service.sign(rev, rid, PASSPHRASES["reviewer"])
    report_service.countersign(lead, rid, PASSPHRASES["lead"])
    usb.mkdir()
    out = report_service.export(rev, rid, usb, "SECRET//NOFORN", PASSPHRASES["reviewer"])
    return out.package.path.relative_to(usb), pki_service.trusted_roots(rev)


@pytest.fixture(scope="module")
def exported_template(tmp_path_factory, workstation_template):  # type: ignore[no-untyped-def]
    """A signed, countersigned, exported report (~1.5 s of CPU), made once per module: each test gets
    its own copy of the workstation and of the exported media."""
    root = tmp_path_factory.mktemp("tamper-exported")
    template, (package, roots) = derive_template(root, workstation_template, lambda ws: _export(ws, root / "usb"))
    return template, root / "usb", package, roots


@pytest.fixture
def exported(workstation, tmp_path, exported_template, memory_keyring):  # type: ignore[no-untyped-def]
    template, usb, package, roots = exported_template
    restore_template(workstation, template, memory_keyring)
    shutil.copytree(usb, tmp_path / "usb")
    return tmp_path / "usb" / package, roots, workstation.session("reviewer")


def test_modified_pdf_is_detected_and_the_signatures_named(exported):
    from app.services import reports as report_service

    folder, roots, session = exported
    pdf = bytearray((folder / "report.pdf").read_bytes())
    pos = pdf.find(b"stream", len(pdf) // 4) + 40  # inside page content, covered by both signatures
    pdf[pos] ^= 0x20
    path = folder.parent / "tampered.pdf"
    path.write_bytes(bytes(pdf))
    result = report_service.verify_path(path, roots, session)
    assert not result.ok
    text = "\n".join(result.lines())
    assert "tampered.pdf" in text and "INVALID" in text


def test_modified_package_file_is_named(exported):
    from reports.verify_package import verify_package

    folder, roots, _session = exported
    assert verify_package(folder, roots).ok
    doc = json.loads((folder / "findings.json").read_text())
    doc["tampered"] = True
    (folder / "findings.json").write_text(json.dumps(doc))
    check = verify_package(folder, roots)
    assert not check.ok and any("findings.json" in p for p in check.problems), check.problems


def test_package_from_an_untrusted_workstation_is_refused(exported, second_workstation):
    from app.services import pki as pki_service
    from reports.verify_package import verify_package

    folder, _roots, _session = exported
    other = second_workstation.session("admin")
    pki_service.ensure_ready(other)
    check = verify_package(folder, pki_service.trusted_roots(other))
    assert not check.ok and check.problems
