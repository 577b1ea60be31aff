"""Backup, verify, restore: behaviour, trust, audit, and no partial backup on a full or vanished medium."""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from app.model.errors import AuthError, Cancelled, IntegrityError, PermissionDenied, StorageError
from app.services import audit, backup, submissions
from app.services import workstation as ws_service
from storage import backup as store
from tests.conftest import FIXED_NOW, PASSPHRASES, fixture_conditions
from tests.reliability.conftest import ca_fingerprint
from tests.reliability.helpers import add_submission, attach, tree

ADMIN = PASSPHRASES["admin"]


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    d = tmp_path / "media"
    d.mkdir()
    return d


@pytest.fixture(scope="module")
def fresh_backup_template(tmp_path_factory, workstation_template):  # type: ignore[no-untyped-def]
    """A backup of the initial (template) workstation, made once per module (~0.4 s of CPU) for the
    tests that only restore or verify one."""
    root = tmp_path_factory.mktemp("fresh-backup")
    with fixture_conditions(root) as backend:
        ws = workstation_template.copy_to(root / "ws", backend)
        (root / "media").mkdir()
        admin = ws.session("admin")
        made = backup.create(admin, root / "media", ADMIN, media_label="SECRET//NOFORN")
        admin.close()
    return made


@pytest.fixture
def fresh_backup(fresh_backup_template, workstation_template, memory_keyring, tmp_path):  # type: ignore[no-untyped-def]
    """That backup, copied onto this test's own media (what the test's workstation's backup would be:
    same CA, same recovery key, same records), with the workstation's OS keyring secret on this machine."""
    memory_keyring.store.update(workstation_template.keyring_store)
    media = tmp_path / "backup-media"
    shutil.copytree(fresh_backup_template.folder.parent, media)
    return dataclasses.replace(fresh_backup_template, folder=media / fresh_backup_template.folder.name)


def test_backup_is_a_complete_signed_folder_and_is_audited(workstation, dest):
    admin = workstation.session("admin")
    result = backup.create(admin, dest, ADMIN, media_label="SECRET//NOFORN")
    assert result.verified, result.problems
    assert result.folder.parent == dest and result.folder.name.startswith("frontier-backup-Test-workstation-")
    assert sorted(p.name for p in result.folder.iterdir()) == sorted(store.ALL_FILES)
    assert tree(dest) == sorted([result.folder.name, *(f"{result.folder.name}/{n}" for n in store.ALL_FILES),
                                 "MARKING.txt"])
    assert (dest / "MARKING.txt").read_text().splitlines()[0] == "SECRET//NOFORN"
    # The snapshot is SQLCipher ciphertext, not a readable SQLite file.
    assert not (result.folder / store.DB_FILE).read_bytes().startswith(b"SQLite format 3")
    # The manifest is `sha256sum -c` compatible (checkable with stock tools on another machine).
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=result.folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    # ...and so is the signature: stock OpenSSL verifies it against the workstation CA.
    openssl = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "SHA256SUMS.p7s",
                              "-content", "SHA256SUMS", "-CAfile", "ca.pem", "-out", "/dev/null"],
                             cwd=result.folder, capture_output=True, text=True)
    assert openssl.returncode == 0 and "Verification successful" in openssl.stderr, openssl.stderr
    events = audit.events(admin, 5, action_prefix="backup.")
    assert events[0].action == "backup.create" and events[0].details["verified"] is True
    assert events[0].details["ca_fingerprint"] == result.meta.ca_fingerprint
    # Key header copy carries the snapshot's audit head and no lockout state.
    header = store.parse_header((result.folder / store.HEADER_FILE).read_bytes(), "h")
    assert header.audit_head == {"seq": result.meta.audit_seq, "hash": result.meta.audit_hash}
    assert header.failures == {} and header.seen_heads == {}


def test_only_an_administrator_may_back_up_and_the_passphrase_is_re_asked(workstation, dest):
    reviewer = workstation.session("reviewer")
    with pytest.raises(PermissionDenied):
        backup.create(reviewer, dest, PASSPHRASES["reviewer"], media_label="SECRET//NOFORN")
    admin = workstation.session("admin")
    with pytest.raises(AuthError):
        backup.create(admin, dest, "not-the-admin-passphrase", media_label="SECRET//NOFORN")
    assert tree(dest) == []


def test_snapshot_is_consistent_while_another_session_writes(workstation, dest):
    admin = workstation.session("admin")
    reviewer = workstation.session("reviewer")
    for n in range(3):
        add_submission(reviewer, n)
    attach(reviewer, 1, dest.parent, 6 << 20)  # enough pages for several backup steps
    writes = []

    def progress(done: int, total: int, what: str) -> None:
        if what.startswith("Copying") and done < total:
            writes.append(add_submission(reviewer, 100 + len(writes)).id)

    result = backup.create(admin, dest, ADMIN, progress=progress, media_label="SECRET//NOFORN")
    assert result.verified and writes, "the writer never ran during the copy"
    target = dest.parent / "restored"
    backup.restore(result.folder, target, admin_username="admin", passphrase=ADMIN,
                   trust_ca=[result.meta.ca_fingerprint])
    restored = workstation_session(target, "reviewer")
    assert submissions.count(restored) == 3  # exactly the state when the copy began
    assert submissions.count(reviewer) == 3 + len(writes)
    restored.close()


def workstation_session(data_dir: Path, name: str):  # type: ignore[no-untyped-def]
    return ws_service.sign_in(data_dir, name, PASSPHRASES[name], clock=lambda: FIXED_NOW)


def test_restore_with_admin_passphrase_brings_back_evidence_and_audits(workstation, dest, tmp_path):
    reviewer = workstation.session("reviewer")
    sub = add_submission(reviewer)
    evidence = attach(reviewer, sub.id, tmp_path, 300_000)
    admin = workstation.session("admin")
    result = backup.create(admin, dest, ADMIN, media_label="SECRET//NOFORN")
    target = tmp_path / "new-workstation"
    restored = backup.restore(result.folder, target, admin_username="admin", passphrase=ADMIN,
                              known_cas=[ca_fingerprint(admin)])
    assert restored.data_dir == target and not restored.trusted_explicitly
    names = {p.name for p in target.iterdir()}
    assert names - {ws_service.PRELOGIN_NAME} == {ws_service.DB_NAME, ws_service.HEADER_NAME}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folder left
    session = workstation_session(target, "reviewer")
    art = submissions.artifacts(session, sub.id)[0]
    assert submissions.read_artifact(session, art.id)[1] == evidence
    session.close()
    admin2 = workstation_session(target, "admin")
    chain = audit.verify(admin2)
    assert chain.ok, chain.problems
    restore_events = audit.events(admin2, 50, action_prefix="backup.restore")
    assert len(restore_events) == 1 and restore_events[0].details["method"] == "admin passphrase"
    admin2.close()


def test_restore_on_new_hardware_needs_the_recovery_key(workstation, fresh_backup, tmp_path, memory_keyring):
    result = fresh_backup
    fp = result.meta.ca_fingerprint
    memory_keyring.store.clear()  # another machine: the OS keyring secret is not there
    target = tmp_path / "elsewhere"
    with pytest.raises(StorageError, match="recovery key"):
        backup.restore(result.folder, target, admin_username="admin", passphrase=ADMIN, trust_ca=[fp])
    assert not target.exists()
    with pytest.raises(AuthError):
        backup.restore(result.folder, target, admin_username="admin", recovery_key="A" * 52,
                       new_passphrase="a-brand-new-passphrase-9", trust_ca=[fp])
    assert not target.exists()
    new = "a-brand-new-passphrase-9"
    done = backup.restore(result.folder, target, admin_username="admin", recovery_key=workstation.recovery_key,
                          new_passphrase=new, trust_ca=[fp])
    assert done.trusted_explicitly
    session = ws_service.sign_in(target, "admin", new, clock=lambda: FIXED_NOW)
    assert audit.verify(session).ok
    assert audit.events(session, 5, action_prefix="backup.restore")[0].details["method"] == "recovery key"
    session.close()


def test_restore_refuses_an_unknown_ca_unless_its_fingerprint_is_given(fresh_backup, second_workstation, tmp_path):
    result = fresh_backup
    other_fp = ca_fingerprint(second_workstation.session("admin"))
    target = tmp_path / "t"
    with pytest.raises(IntegrityError, match=result.meta.ca_fingerprint) as info:
        backup.restore(result.folder, target, admin_username="admin", passphrase=ADMIN, known_cas=[other_fp])
    assert "--trust-ca" in str(info.value) and str(result.folder) in str(info.value)
    assert not target.exists()
    # The receiving workstation's own verify says the same.
    report = backup.verify(second_workstation.session("admin"), result.folder)
    assert not report.ok and "not trusted here" in report.problems[0]


def test_restore_refuses_a_non_empty_target_and_a_non_admin(fresh_backup, tmp_path):
    result = fresh_backup
    fp = result.meta.ca_fingerprint
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(StorageError, match="not empty"):
        backup.restore(result.folder, busy, admin_username="admin", passphrase=ADMIN, trust_ca=[fp])
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    target = tmp_path / "t"
    with pytest.raises(AuthError, match="administrator"):
        backup.restore(result.folder, target, admin_username="reviewer", passphrase=PASSPHRASES["reviewer"],
                       trust_ca=[fp])
    assert not target.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_backup_status_reminds_when_the_last_verified_backup_is_old(workstation, dest):
    admin = workstation.session("admin")
    assert backup.backup_status(admin) == (None, True)
    result = backup.create(admin, dest, ADMIN, media_label="SECRET//NOFORN")
    last, overdue = backup.backup_status(admin)
    assert last == result.meta.created_at or last is not None
    assert overdue is False
    days = admin.settings.backup_reminder_days
    later = ws_service.sign_in(workstation.data_dir, "admin", ADMIN,
                                clock=lambda: FIXED_NOW + timedelta(days=days, hours=1))
    assert backup.backup_status(later) == (last, True)
    # Verifying the backup again (contents decrypted) counts as a fresh verified backup.
    report = backup.verify(later, result.folder, ADMIN)
    assert report.ok and report.contents_checked
    assert backup.backup_status(later)[1] is False
    later.close()


def test_verify_offline_checks_signature_without_a_workstation(fresh_backup):
    result = fresh_backup
    report = backup.inspect(result.folder, [result.meta.ca_fingerprint])
    assert report.ok and not report.contents_checked
    assert "intact" in report.summary()
    untrusted = backup.inspect(result.folder)
    assert not untrusted.ok and result.meta.ca_fingerprint in untrusted.problems[0]


def test_backup_json_nested_too_deeply_is_damage_not_a_crash(fresh_backup, tmp_path):
    """backup.json is read before the signature is checked (its digest is in the unsigned manifest
    at that point): 1 MiB of "[" ended verify and restore in a RecursionError traceback."""
    import hashlib

    folder = fresh_backup.folder
    raw = b"[" * 200_000 + b"]" * 200_000
    (folder / store.META_FILE).write_bytes(raw)
    manifest = folder / store.MANIFEST_FILE
    manifest.write_text("".join(f"{hashlib.sha256(raw).hexdigest() if name == store.META_FILE else digest}  {name}\n"
                                for digest, name in (line.split("  ", 1) for line in manifest.read_text().splitlines())))
    report = backup.inspect(folder, [fresh_backup.meta.ca_fingerprint])
    assert not report.ok and report.problems == [f"{folder}/{store.META_FILE}: not readable JSON"]
    with pytest.raises(IntegrityError, match="backup.json: not readable JSON"):
        backup.restore(folder, tmp_path / "restored", admin_username="admin", passphrase=ADMIN)


def test_backup_json_with_a_lone_surrogate_is_refused_by_field(fresh_backup):
    """A backup signed under another CA names its workstation in the 'not trusted here' problem,
    which verify audits: a name with a lone surrogate escape ("\\ud800", valid JSON) ended the
    verification in UnicodeEncodeError. backup.json's text fields are refused when they hold one."""
    import json

    from app.model.backup import BackupMeta

    meta = json.loads((fresh_backup.folder / store.META_FILE).read_text())
    raw = json.dumps({**meta, "workstation_name": "W\ud800"}).encode()
    with pytest.raises(IntegrityError, match="backup.json: field 'workstation_name' holds a lone surrogate"):
        BackupMeta.from_json(raw, "media/backup.json")


# -- full medium, vanished medium, cancel: nothing partial ----------------------------------------


def _assert_nothing_left(dest: Path) -> None:
    assert tree(dest) == [], f"partial backup left behind: {tree(dest)}"


def test_injected_enospc_leaves_no_backup(workstation, dest, monkeypatch):
    admin = workstation.session("admin")
    real_write = os.write
    calls = {"n": 0}

    def full_disk(fd: int, data: bytes) -> int:  # the metadata files are written through os.write
        calls["n"] += 1
        if calls["n"] >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(store.os, "write", full_disk)
    with pytest.raises(StorageError, match="full") as info:
        backup.create(admin, dest, ADMIN, media_label="SECRET//NOFORN")
    assert str(dest) in str(info.value) and "no backup was kept" in str(info.value)
    monkeypatch.undo()
    _assert_nothing_left(dest)
    failed = audit.events(admin, 5, action_prefix="backup.failed")
    assert failed and "full" in failed[0].details["error"]
    assert backup.backup_status(admin) == (None, True)


def test_real_full_filesystem_leaves_no_backup(workstation, tmpfs, tmp_path):
    tiny_medium = tmpfs("usb", "2m")
    reviewer = workstation.session("reviewer")
    sub = add_submission(reviewer)
    attach(reviewer, sub.id, tmp_path, 3 << 20)  # the snapshot cannot fit on 2 MiB
    with pytest.raises(StorageError, match="full"):
        backup.create(workstation.session("admin"), tiny_medium, ADMIN, media_label="SECRET//NOFORN")
    _assert_nothing_left(tiny_medium)


def test_medium_removed_mid_write_leaves_nothing_and_says_so(workstation, tmp_path):
    reviewer = workstation.session("reviewer")
    attach(reviewer, add_submission(reviewer).id, tmp_path, 6 << 20)
    media = tmp_path / "usb"
    media.mkdir()

    def pull_the_stick(done: int, total: int, what: str) -> None:
        if done > 0 and media.exists():
            shutil.rmtree(media)

    with pytest.raises(StorageError) as info:
        backup.create(workstation.session("admin"), media, ADMIN, progress=pull_the_stick, media_label="SECRET//NOFORN")
    assert str(media) in str(info.value) and "no backup was kept" in str(info.value)
    assert not media.exists()


def test_cancelled_backup_leaves_nothing(workstation, dest, tmp_path):
    reviewer = workstation.session("reviewer")
    attach(reviewer, add_submission(reviewer).id, tmp_path, 6 << 20)
    with pytest.raises(Cancelled):
        backup.create(workstation.session("admin"), dest, ADMIN, cancel=lambda: True, media_label="SECRET//NOFORN")
    _assert_nothing_left(dest)


def test_stale_partial_folders_are_swept_by_the_next_backup(workstation, dest):
    stale = dest / f"{store.PARTIAL_PREFIX}999-1{store.PARTIAL_SUFFIX}"
    stale.mkdir()
    (stale / store.DB_FILE).write_bytes(b"x" * 100)
    os.utime(stale, (0, 0))
    result = backup.create(workstation.session("admin"), dest, ADMIN, media_label="SECRET//NOFORN")
    assert result.folder.name in tree(dest) and not stale.exists()


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_create_verify_restore(workstation, dest, tmp_path, monkeypatch, capsys):
    import io

    from app import cli

    def run(argv: list[str], stdin: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return cli.main(argv)

    base = ["--data-dir", str(workstation.data_dir), "--user", "admin"]
    assert run([*base, "backup", "create", str(dest), "--media-label", "CUI"], ADMIN + "\n") == 2
    assert "a backup of the whole workstation: the content is marked SECRET//NOFORN but the media is labelled CUI" in capsys.readouterr().err
    assert list(dest.iterdir()) == []
    assert run([*base, "backup", "create", str(dest), "--media-label", "SECRET//NOFORN"], ADMIN + "\n") == 0
    out = capsys.readouterr().out
    folder = next(p for p in dest.iterdir() if p.is_dir())
    assert (dest / "MARKING.txt").read_text().startswith("SECRET//NOFORN\n")
    assert str(folder) in out and "verified" in out
    assert run([*base, "backup", "verify", str(folder)], ADMIN + "\n") == 0
    assert "database decrypted" in capsys.readouterr().out
    assert run(["backup", "verify", "--offline", str(folder)], "") == 1
    fp = next(line.split()[-1] for line in capsys.readouterr().out.splitlines() if line.startswith("CA fingerprint"))
    target = tmp_path / "restored"
    assert run(["--user", "admin", "backup", "restore", str(folder), "--data-dir", str(target)], ADMIN + "\n") == 2
    assert "--trust-ca" in capsys.readouterr().err and not target.exists()
    assert run(["--user", "admin", "backup", "restore", str(folder), "--data-dir", str(target),
                "--trust-ca", fp], ADMIN + "\n") == 0
    assert "chain verified" in capsys.readouterr().out
    assert workstation_session(target, "admin").account.username == "admin"


def test_verifying_another_workstations_backup_checks_signature_but_cannot_decrypt(fresh_backup, second_workstation):
    made = fresh_backup
    other = second_workstation.session("admin")
    report = backup.verify(other, made.folder, ADMIN, trust_ca=[made.meta.ca_fingerprint])
    assert report.ok and report.ca_trusted and not report.contents_checked
    assert "database not decrypted" in report.summary()
    # Verification by the receiving side does not count as a verified backup of ITS workstation.
    assert backup.backup_status(other) == (None, True)


def test_cli_restore_with_the_recovery_key(workstation, fresh_backup, tmp_path, monkeypatch, capsys, memory_keyring):
    import io

    from app import cli

    made = fresh_backup
    memory_keyring.store.clear()  # new hardware
    target = tmp_path / "new"
    new = "a-brand-new-passphrase-9"
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{workstation.recovery_key}\n{new}\n"))
    code = cli.main(["--user", "admin", "backup", "restore", str(made.folder), "--data-dir", str(target),
                     "--recovery-key", "--trust-ca", made.meta.ca_fingerprint])
    assert code == 0, capsys.readouterr().err
    session = ws_service.sign_in(target, "admin", new, clock=lambda: FIXED_NOW)
    assert audit.verify(session).ok
    session.close()


_ALARMS = ("rolled back", "rewritten", "altered", "ends before event", "no longer holds", "fewer signed")


def _alarms(session) -> list[str]:  # type: ignore[no-untyped-def]
    return [w for w in session.integrity_warnings if any(a in w for a in _ALARMS)]


def test_a_restored_copy_and_its_original_raise_no_false_alarms(workstation, dest, tmp_path):
    """Restoring into a new folder (as the restore asks) makes a copy with its own history from the
    backup on. People who use both the copy and the original are told it is a copy, never that either
    was rolled back or rewritten (both were said, to each in turn, before the records were kept per copy)."""
    admin = workstation.session("admin")
    made = backup.create(admin, dest, ADMIN, media_label="SECRET//NOFORN")
    fp = ca_fingerprint(admin)
    ws_service.sign_out(admin)
    reviewer = workstation.session("reviewer")
    add_submission(reviewer)  # work on the original after the backup
    ws_service.sign_out(reviewer)
    target = tmp_path / "restored"
    backup.restore(made.folder, target, admin_username="admin", passphrase=ADMIN, known_cas=[fp])
    on_copy = workstation_session(target, "reviewer")
    assert not on_copy.integrity_warnings, on_copy.integrity_warnings  # a notice, not an alarm
    assert any("copy of the workstation restored from a backup" in w for w in on_copy.notices)
    add_submission(on_copy)  # the copy's own history goes on
    ws_service.sign_out(on_copy)
    for name in ("reviewer", "admin"):  # back on the original: what they saw there still holds
        back = workstation_session(workstation.data_dir, name)
        assert not _alarms(back) and not back.integrity_warnings, (name, back.integrity_warnings)
        ws_service.sign_out(back)
    again = workstation_session(target, "reviewer")  # and on the copy, its own record holds
    assert not again.integrity_warnings, again.integrity_warnings
    admin_on_copy = workstation_session(target, "admin")
    assert not _alarms(admin_on_copy), admin_on_copy.integrity_warnings
    assert not audit.events(admin_on_copy, 50, action_prefix="integrity.alarm")
    ws_service.sign_out(again)
    ws_service.sign_out(admin_on_copy)


def test_a_restored_copy_rolled_back_or_a_forged_restore_is_still_reported(workstation, dest, tmp_path):
    """The records kept per copy still catch a copy's own rollback, and a restore event written around
    the application names no copy: the chain is checked against the original's records."""
    admin = workstation.session("admin")
    made = backup.create(admin, dest, ADMIN, media_label="SECRET//NOFORN")
    fp = ca_fingerprint(admin)
    ws_service.sign_out(admin)
    target = tmp_path / "restored"
    backup.restore(made.folder, target, admin_username="admin", passphrase=ADMIN, known_cas=[fp])
    saved = tmp_path / "copy-then"
    shutil.copytree(target, saved)
    lead = workstation_session(target, "lead")
    add_submission(lead)
    ws_service.sign_out(lead)
    shutil.rmtree(target)
    shutil.copytree(saved, target)  # the copy goes back to before the lead's work
    lead = workstation_session(target, "lead")
    assert any("ends before event" in w or "rolled back" in w for w in lead.integrity_warnings), \
        lead.integrity_warnings
    ws_service.sign_out(lead)
    # On the original: an insider appends a restore event that no administrator signed.
    reviewer = workstation_session(workstation.data_dir, "reviewer")
    add_submission(reviewer)
    ws_service.sign_out(reviewer)
    from storage import audit as audit_log

    db = ws_service.open_database(workstation.data_dir, workstation.session("admin").unlocked.data_key)
    seq, prev = audit_log.head(db.conn)
    details = '{"backup_created_at": "2026-01-01"}'
    ts = "2026-12-01T00:00:00+00:00"
    h = audit_log.event_hash(seq + 1, ts, "admin", "backup.restore", "backup", "forged", details, prev)
    db.conn.execute("INSERT INTO audit_events (seq, ts, actor, action, object_type, object_id, details, prev_hash, "
                    "hash, signer, signature) VALUES (?, ?, 'admin', 'backup.restore', 'backup', 'forged', ?, ?, ?, "
                    "'', '')", (seq + 1, ts, details, prev, h))
    db.conn.commit()
    db.close()
    forged = workstation_session(workstation.data_dir, "reviewer")
    assert any("restore from a backup (event" in w and "not genuine" in w for w in forged.integrity_warnings), \
        forged.integrity_warnings
    assert not forged.notices
