"""Issue 2 "Bad input": every item gets a clear message, and nothing is lost or half-written.

Each test also checks the invariant that matters on a review workstation: the database and key
header bytes are unchanged after a refused open, and nothing is stored after a refused write.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from app.model.errors import AuthError, LockedOutError, StorageError, ValidationError
from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import audit, submissions
from app.services import workstation as ws_service
from storage.keys import PASSPHRASE_MODE, KeyHeader
from tests.conftest import FIXED_NOW, PASSPHRASES


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(data_dir: Path) -> dict[str, str]:
    return {p.name: digest(p) for p in sorted(data_dir.iterdir()) if p.is_file()}


def sign_in(ws, name: str, passphrase: str | None = None, clock=lambda: FIXED_NOW):  # type: ignore[no-untyped-def]
    return ws_service.sign_in(ws.data_dir, name, passphrase or PASSPHRASES[name], clock=clock)


# -- wrong passphrase, lockout --------------------------------------------------------------------


def test_wrong_passphrase_is_refused_without_saying_which_part_was_wrong(workstation):
    db_before = digest(ws_service.db_path(workstation.data_dir))
    with pytest.raises(AuthError) as info:
        sign_in(workstation, "reviewer", "definitely-not-it-123")
    assert str(info.value) == "Unknown account or wrong passphrase."
    with pytest.raises(AuthError) as unknown:
        sign_in(workstation, "nobody", "definitely-not-it-123") if False else ws_service.sign_in(
            workstation.data_dir, "nobody", "definitely-not-it-123")
    assert str(unknown.value) == str(info.value)  # no account enumeration
    assert digest(ws_service.db_path(workstation.data_dir)) == db_before  # the database was never opened
    header = KeyHeader.load(ws_service.header_path(workstation.data_dir))
    assert header.failures["reviewer"]["count"] == 1
    session = sign_in(workstation, "reviewer")  # the right passphrase still works, and the failure is audited
    session.close()
    # Failures happen before anyone is signed in: the person reports their own at sign-in; an
    # administrator reports the names that are not accounts. Both events are signed by them.
    sign_in(workstation, "admin").close()
    events = audit.events(sign_in(workstation, "auditor"), 40, action_prefix="auth.")
    own = [e for e in events if e.action == "auth.failures_reported"]
    assert [(e.actor, e.details["failed_attempts"]) for e in own] == [("reviewer", 1)]
    unknown = [e for e in events if e.action == "auth.unknown_failures_reported"]
    assert unknown[0].actor == "admin" and unknown[0].details["names"] == {"nobody": 1}


def test_locked_out_account_waits_longer_after_each_failure(workstation):
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    now = [t0]
    delays = []
    for attempt in range(6):
        try:
            sign_in(workstation, "lead", f"wrong-passphrase-{attempt}", clock=lambda: now[0])
        except LockedOutError as exc:
            assert "lead" in str(exc) and "try again in" in str(exc)
            delays.append(exc.seconds)
            now[0] += timedelta(seconds=exc.seconds + 1)
        except AuthError:
            pass
    assert len(delays) == 4 and delays == sorted(delays) and delays[-1] >= 4 * delays[0]
    with pytest.raises(LockedOutError):  # the right passphrase is refused too while locked
        sign_in(workstation, "lead", clock=lambda: now[0] - timedelta(seconds=2))
    session = sign_in(workstation, "lead", clock=lambda: now[0] + timedelta(hours=2))
    assert KeyHeader.load(session.header_path).failures.get("lead") is None  # reset on success
    session.close()


# -- keyring secret missing, keyring unavailable --------------------------------------------------


def test_database_copied_to_a_machine_without_the_keyring_secret(workstation, memory_keyring):
    before = files(workstation.data_dir)
    memory_keyring.store.clear()
    with pytest.raises(StorageError) as info:
        sign_in(workstation, "admin")
    assert "not present on this machine" in str(info.value) and "recovery key" in str(info.value)
    assert files(workstation.data_dir) == before  # nothing was touched by the refusal
    session = ws_service.recover(workstation.data_dir, workstation.recovery_key, "admin", "recovered-safe-pass-77",
                                 clock=lambda: FIXED_NOW)
    assert audit.verify(session).ok
    assert submissions.count(session) == 0
    session.close()


@pytest.fixture
def fail_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_unavailable_keyring_means_passphrase_only_mode_stated_at_setup(tmp_path, fail_keyring):
    status = ws_service.keyring_status()
    assert not status.trusted and "fail" in status.backend
    with pytest.raises(StorageError, match="passphrase-only"):
        ws_service.initialize(tmp_path / "a", workstation_name="W", system_high="SECRET", admin_username="admin",
                              admin_display_name="A", admin_passphrase=PASSPHRASES["admin"], use_keyring=True)
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    result = ws_service.initialize(tmp_path / "b", workstation_name="W", system_high="SECRET",
                                   admin_username="admin", admin_display_name="A",
                                   admin_passphrase=PASSPHRASES["admin"])
    assert result.keyring_mode == PASSPHRASE_MODE
    result.session.close()
    header = KeyHeader.load(ws_service.header_path(tmp_path / "b"))
    assert header.keyring_mode == PASSPHRASE_MODE and not any(s.uses_keyring for s in header.slots.values())
    ws_service.sign_in(tmp_path / "b", "admin", PASSPHRASES["admin"]).close()


def test_keyring_failing_after_setup_is_a_clear_error(workstation, fail_keyring):
    before = files(workstation.data_dir)
    with pytest.raises(StorageError, match="keyring"):
        sign_in(workstation, "reviewer")
    assert files(workstation.data_dir) == before


# -- damaged files: never overwritten -------------------------------------------------------------


def _mutations(orig: bytes) -> dict[str, bytes]:
    mid = len(orig) // 2
    return {
        "truncated to half": orig[:mid],
        "truncated mid-page": orig[: 4096 * 3 + 1000],
        "bytes flipped in a middle page": orig[:mid] + bytes(b ^ 0xFF for b in orig[mid: mid + 16]) + orig[mid + 16:],
        "bytes flipped in page 1": orig[:100] + bytes(b ^ 0x01 for b in orig[100:108]) + orig[108:],
        "random garbage": hashlib.sha512(orig).digest() * (len(orig) // 64),
    }


@pytest.mark.parametrize("damage", list(_mutations(b"\0" * 200_000)))
def test_damaged_database_is_refused_and_never_overwritten(workstation, damage):
    dbp = ws_service.db_path(workstation.data_dir)
    damaged = _mutations(dbp.read_bytes())[damage]
    dbp.write_bytes(damaged)
    before = files(workstation.data_dir)
    with pytest.raises(StorageError) as info:
        sign_in(workstation, "admin")
    text = str(info.value)
    assert str(dbp) in text and ("damaged" in text or "integrity check" in text)
    assert dbp.read_bytes() == damaged, "a damaged database must never be rewritten"
    # The key header may record the (unrelated) sign-in attempt; the database file stays as it was.
    after = files(workstation.data_dir)
    assert after[ws_service.DB_NAME] == before[ws_service.DB_NAME]
    assert set(after) == set(before), "no -wal/-shm/journal files created next to a damaged database"


def test_zero_byte_database_is_refused_and_left_alone(workstation):
    dbp = ws_service.db_path(workstation.data_dir)
    dbp.write_bytes(b"")
    with pytest.raises(StorageError):
        sign_in(workstation, "admin")
    assert dbp.read_bytes() == b""


def test_missing_key_header_names_the_file_and_the_way_out(workstation):
    hp = ws_service.header_path(workstation.data_dir)
    db_before = digest(ws_service.db_path(workstation.data_dir))
    hp.unlink()
    with pytest.raises(StorageError) as info:
        sign_in(workstation, "admin")
    assert str(hp) in str(info.value) and "missing" in str(info.value) and "backup" in str(info.value)
    assert digest(ws_service.db_path(workstation.data_dir)) == db_before
    assert not hp.exists()


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"slots": 5}', b"\xff\xfe" * 50,
                                     b'{"format": 99, "slots": {}, "db_id": "x", "created": "", "keyring_mode": ""}'])
def test_damaged_key_header_is_refused_and_left_as_found(workstation, content):
    hp = ws_service.header_path(workstation.data_dir)
    hp.write_bytes(content)
    before = files(workstation.data_dir)
    with pytest.raises(StorageError) as info:
        sign_in(workstation, "admin")
    assert str(hp) in str(info.value)
    assert files(workstation.data_dir) == before


# -- read-only data directory ---------------------------------------------------------------------


@pytest.fixture
def read_only(workstation) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """The data directory as a read-only bind mount (root ignores chmod, a mount it cannot ignore)."""
    d = workstation.data_dir
    done = subprocess.run(["mount", "--bind", "-o", "ro", str(d), str(d)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("read-only bind mount needs root/CAP_SYS_ADMIN")
    yield d
    subprocess.run(["umount", str(d)], check=False)


def test_read_only_data_directory_gives_a_clear_message_and_changes_nothing(workstation, read_only):
    before = files(read_only)
    with pytest.raises(StorageError) as info:
        sign_in(workstation, "admin")
    assert str(read_only) in str(info.value)
    assert "not accessible" in str(info.value) or "read-only" in str(info.value)
    with pytest.raises(StorageError, match="read-only media|Read-only file system"):
        sign_in(workstation, "admin", "a-wrong-passphrase-1")  # the failure counter cannot be written: said so
    assert files(read_only) == before


def test_setup_into_a_read_only_folder_is_refused(tmp_path):
    target = tmp_path / "ro"
    target.mkdir()
    done = subprocess.run(["mount", "--bind", "-o", "ro", str(target), str(target)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("read-only bind mount needs root/CAP_SYS_ADMIN")
    try:
        with pytest.raises(StorageError, match="read-only"):
            ws_service.initialize(target, workstation_name="W", system_high="SECRET", admin_username="admin",
                                  admin_display_name="A", admin_passphrase=PASSPHRASES["admin"])
    finally:
        subprocess.run(["umount", str(target)], check=False)
    assert list(target.iterdir()) == []


# -- invalid dates, oversized artifact ------------------------------------------------------------


def _submission(received: date, release: date) -> Submission:
    return Submission(developer="Dev", model_name="M", version="1", received=received, planned_release=release,
                      marking=Marking.parse("SECRET"), notes_marking=Marking.parse("SECRET"))


def test_release_before_receipt_is_refused_naming_the_field(workstation):
    reviewer = sign_in(workstation, "reviewer")
    with pytest.raises(ValidationError) as info:
        submissions.create(reviewer, _submission(date(2026, 11, 20), date(2026, 11, 1)))
    assert info.value.field == "planned_release" and "2026-11-01" in str(info.value)
    assert submissions.count(reviewer) == 0
    assert not audit.events(sign_in(workstation, "auditor"), 10, action_prefix="submission.")
    reviewer.close()


def test_window_over_30_days_is_allowed_but_flagged(workstation):
    reviewer = sign_in(workstation, "reviewer")
    saved = submissions.create(reviewer, _submission(date(2026, 11, 1), date(2026, 12, 31)))
    assert saved.id is not None and saved.window_days == 60
    assert saved.window_flags and "60 days" in saved.window_flags[0]
    reviewer.close()


def test_unparseable_dates_name_the_field():
    from app.model.submissions import parse_date

    for text in ("2026-02-30", "tomorrow", "", "20-11-2026"):
        with pytest.raises(ValidationError) as info:
            parse_date("received", text)
        assert info.value.field == "received"


def test_oversized_artifact_is_refused_and_nothing_is_stored(workstation, tmp_path):
    admin = sign_in(workstation, "admin")
    ws_service.update_settings(admin, {"max_artifact_mb": 1})
    admin.close()
    reviewer = sign_in(workstation, "reviewer")
    sub = submissions.create(reviewer, _submission(date(2026, 11, 10), date(2026, 12, 1)))
    big = tmp_path / "system-card.pdf"
    big.write_bytes(b"x" * ((1 << 20) + 1))
    blobs_before = reviewer.db.query_one("SELECT count(*) FROM blob_chunks")[0]
    with pytest.raises(ValidationError) as info:
        submissions.attach_artifact(reviewer, sub.id, big, "system card", Marking.parse("SECRET"))
    assert "system-card.pdf" in str(info.value) and "1 MB" in str(info.value)
    assert submissions.artifacts(reviewer, sub.id) == []
    assert reviewer.db.query_one("SELECT count(*) FROM blob_chunks")[0] == blobs_before
    reviewer.close()


def test_artifact_that_grows_past_the_limit_while_read_is_rolled_back(workstation, tmp_path, monkeypatch):
    """The size check is repeated while streaming (the file can change between stat and read)."""
    admin = sign_in(workstation, "admin")
    ws_service.update_settings(admin, {"max_artifact_mb": 1})
    admin.close()
    reviewer = sign_in(workstation, "reviewer")
    sub = submissions.create(reviewer, _submission(date(2026, 11, 10), date(2026, 12, 1)))
    path = tmp_path / "card.md"
    path.write_bytes(b"y" * (3 << 20))
    tiny = tmp_path / "tiny"
    tiny.write_bytes(b"t")

    class StaleStatPath(type(Path())):  # type: ignore[misc]
        """stat() reports the size from before the file grew (a race with another writer)."""

        def stat(self, *, follow_symlinks: bool = True):  # type: ignore[no-untyped-def]
            return os.stat(tiny)

    monkeypatch.setattr(submissions, "Path", StaleStatPath)
    with pytest.raises(ValidationError, match="card.md: is larger than the 1 MB limit"):
        submissions.attach_artifact(reviewer, sub.id, path, "model card", Marking.parse("SECRET"))
    monkeypatch.undo()
    assert submissions.artifacts(reviewer, sub.id) == []
    assert reviewer.db.query_one("SELECT count(*) FROM blobs WHERE sha256 LIKE 'pending-%'")[0] == 0
    reviewer.close()


def test_an_artifact_named_in_latin1_is_stored_with_its_name_shown(workstation, tmp_path):
    """A file name that is not UTF-8 reached the database with surrogate escapes (UnicodeEncodeError)."""
    reviewer = sign_in(workstation, "reviewer")
    sub = submissions.create(reviewer, _submission(date(2026, 11, 10), date(2026, 12, 1)))
    path = tmp_path / os.fsdecode(b"r\xe9sum\xe9.pdf")
    path.write_bytes(b"%PDF-1.4 card")
    artifact = submissions.attach_artifact(reviewer, sub.id, path, "model card", Marking.parse("SECRET"))
    assert artifact.filename == "r\\xe9sum\\xe9.pdf"
