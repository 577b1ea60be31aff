"""The writer's WAL is checkpointed by the runtime's checkpointer thread, not inside a COMMIT
(issue 19): a transaction returns once its data is in the fsynced WAL; the copy into the database
file happens after a large commit, before a backup and at close, and the WAL stays bounded."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.model.errors import StorageError
from app.model.submissions import Submission
from app.services import backup, results, submissions
from app.services import workstation as ws_service
from storage.db import Database
from tests.conftest import PASSPHRASES

INSPECT = Path(__file__).parents[1] / "fixtures" / "inspect"
NEVER = 1 << 62  # a checkpoint threshold no test reaches: the WAL keeps what was committed


def _submission(session: Any, n: int = 1) -> int:
    s = submissions.create(session, Submission(developer="Offline", model_name=f"cyber-mini-{n}", version="7b",
                                               received=date(2026, 11, 1), planned_release=date(2026, 11, 28)))
    assert s.id is not None
    return s.id


def _import(session: Any, sid: int, name: str = "intercode_ok.eval") -> int:
    out = results.import_files(session, [INSPECT / name], sid)
    assert out[0].status == "imported", out[0].message
    return out[0].samples


def _db_file(session: Any) -> str:
    """The database file's SHA-256: whether anything was copied into it."""
    return hashlib.sha256(session.runtime.writer.path.read_bytes()).hexdigest()


def test_the_writer_leaves_checkpoints_to_the_runtime(workstation) -> None:
    s = workstation.session("reviewer")
    assert s.runtime.writer.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    # the threshold is SQLite's own 1,000 pages, so the WAL grows no larger than before
    assert s.runtime.checkpointer.threshold == 1000 * s.runtime.writer.page_size


def test_a_commit_returns_with_its_data_in_the_wal_and_the_checkpoint_copies_it(workstation) -> None:
    s = workstation.session("reviewer")
    s.runtime.checkpointer.threshold = NEVER
    sid = _submission(s)
    before = _db_file(s)
    samples = _import(s, sid)
    assert s.runtime.checkpointer.runs == 0
    assert _db_file(s) == before  # nothing was copied into the database file by the COMMIT
    assert s.runtime.writer.wal_bytes() > 0
    other = s.runtime.writer.reader()  # a new connection reads the committed import from the WAL
    assert other.query_one("SELECT count(*) FROM eval_samples")[0] == samples
    other.close()
    assert s.runtime.checkpoint(timeout=60)
    cp = s.runtime.checkpointer
    assert cp.runs == 1 and cp.error is None and cp.last is not None and cp.last[1] == cp.last[2] > 0
    assert cp.truncated == 1 and s.runtime.writer.wal_bytes() == 0  # idle: the WAL file was emptied
    assert _db_file(s) != before


def test_a_commit_over_the_threshold_wakes_the_checkpointer(workstation) -> None:
    s = workstation.session("reviewer")
    s.runtime.checkpointer.threshold = 1
    sid = _submission(s)
    _import(s, sid)
    assert s.runtime.checkpointer.wait(timeout=60)
    assert s.runtime.checkpointer.runs >= 1 and s.runtime.checkpointer.error is None
    assert s.runtime.writer.wal_bytes() == 0


def _blocked_checkpoint(s: Any, order: list[str]) -> tuple[threading.Event, threading.Event]:
    """Make the session's next checkpoint wait for `release` (it sets `started` first)."""
    cp = s.runtime.checkpointer
    started, release = threading.Event(), threading.Event()
    real = cp._once

    def once(db: Database) -> None:
        order.append("checkpoint start")
        started.set()
        release.wait(60)
        order.append("checkpoint end")
        real(db)

    cp._once = once  # type: ignore[method-assign]
    return started, release


def test_over_the_limit_a_transaction_waits_for_the_running_checkpoint(workstation) -> None:
    s = workstation.session("reviewer")
    cp = s.runtime.checkpointer
    cp.threshold, cp.limit = NEVER, 0
    _submission(s)  # something in the WAL
    order: list[str] = []
    s.runtime.subscribe(lambda changes: order.append("commit"))
    started, release = _blocked_checkpoint(s, order)
    cp.request()
    assert started.wait(60)
    writer = threading.Thread(target=lambda: _submission(s, 2))
    writer.start()
    time.sleep(0.2)  # long enough for the write to commit if it did not wait
    release.set()
    writer.join(60)
    assert order == ["checkpoint start", "checkpoint end", "commit"]
    assert cp.error is None


def test_under_the_limit_a_transaction_does_not_wait_for_a_checkpoint(workstation) -> None:
    s = workstation.session("reviewer")
    cp = s.runtime.checkpointer
    cp.threshold = NEVER
    _submission(s)
    order: list[str] = []
    started, release = _blocked_checkpoint(s, order)
    cp.request()
    assert started.wait(60)
    writer = threading.Thread(target=lambda: _submission(s, 2))
    writer.start()
    writer.join(60)
    done = not writer.is_alive()
    release.set()
    assert done, "the transaction waited for a checkpoint while the WAL was under the limit"
    assert cp.wait(timeout=60) and cp.error is None


def test_a_failed_checkpoint_is_kept_as_an_error_and_retried(workstation, monkeypatch) -> None:
    s = workstation.session("reviewer")
    s.runtime.checkpointer.threshold = NEVER
    sid = _submission(s)
    samples = _import(s, sid)
    real = Database.checkpoint
    monkeypatch.setattr(Database, "checkpoint", lambda self, *a, **k: (_ for _ in ()).throw(StorageError("disk gone")))
    assert s.runtime.checkpoint(timeout=60)
    assert s.runtime.checkpointer.error == "disk gone"
    assert s.db.query_one("SELECT count(*) FROM eval_samples")[0] == samples  # still committed (WAL)
    monkeypatch.setattr(Database, "checkpoint", real)
    assert s.runtime.checkpoint(timeout=60)
    assert s.runtime.checkpointer.error is None and s.runtime.writer.wal_bytes() == 0


@pytest.mark.parametrize("how", ["close", "sign_out"])
def test_close_and_sign_out_copy_the_wal_into_the_database(workstation, how) -> None:
    s = workstation.session("reviewer")
    s.runtime.checkpointer.threshold = NEVER
    sid = _submission(s)
    samples = _import(s, sid)
    writer = s.runtime.writer
    assert writer.wal_bytes() > 0
    if how == "close":
        s.close()
    else:
        ws_service.sign_out(s)
    assert writer.wal_bytes() == 0  # emptied (or removed with the last connection)
    again = workstation.session("reviewer")
    assert again.db.query_one("SELECT count(*) FROM eval_samples")[0] == samples


def test_a_backup_after_an_unchecked_import_holds_it_and_restores(workstation, tmp_path) -> None:
    reviewer = workstation.session("reviewer")
    reviewer.runtime.checkpointer.threshold = NEVER
    sid = _submission(reviewer)
    samples = _import(reviewer, sid)
    assert reviewer.runtime.writer.wal_bytes() > 0
    admin = workstation.session("admin")
    admin.runtime.checkpointer.threshold = NEVER
    media = tmp_path / "media"
    media.mkdir()
    made = backup.create(admin, media, PASSPHRASES["admin"], media_label="SECRET//NOFORN")
    assert made.verified, made.problems
    assert admin.runtime.checkpointer.runs == 1  # checkpointed before the snapshot
    from tests.reliability.conftest import ca_fingerprint

    target = tmp_path / "restored"
    backup.restore(made.folder, target, admin_username="admin", passphrase=PASSPHRASES["admin"],
                   known_cas=[ca_fingerprint(admin)])
    restored = ws_service.sign_in(target, "reviewer", PASSPHRASES["reviewer"])
    try:
        assert restored.db.query_one("SELECT count(*) FROM eval_samples")[0] == samples
        assert restored.db.integrity_check() == []
    finally:
        restored.close()


def test_an_import_has_its_wal_written_to_disk_beside_it(workstation, monkeypatch) -> None:
    """After each stored batch the checkpointer thread fdatasyncs the WAL, so the COMMIT's own fsync
    (which stays) finds less to write; the data is the same."""
    from app.services import checkpointer

    synced: list[str] = []
    real = checkpointer.os.fdatasync

    def fdatasync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(checkpointer.os, "fdatasync", fdatasync)
    monkeypatch.setattr(results, "BATCH", 2)  # several batches from a small fixture
    s = workstation.session("reviewer")
    s.runtime.checkpointer.threshold = NEVER
    sid = _submission(s)
    samples = _import(s, sid)
    assert samples > 2
    deadline = time.monotonic() + 60
    while s.runtime.checkpointer.flushes == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert s.runtime.checkpointer.flushes >= 1
    assert synced and all(p == f"{s.runtime.writer.path}-wal" for p in synced)
    assert s.runtime.checkpointer.runs == 0  # a flush is not a checkpoint
    assert s.db.query_one("SELECT count(*) FROM eval_samples")[0] == samples


def test_a_flush_without_a_wal_does_nothing(workstation, tmp_path) -> None:
    from app.services.checkpointer import Checkpointer

    s = workstation.session("reviewer")
    fake = type("W", (), {"path": tmp_path / "none.db", "page_size": 4096})()
    cp = Checkpointer(fake, threading.RLock())  # type: ignore[arg-type]
    cp.flush()
    cp.close()
    assert cp.flushes == 0 and s.runtime.checkpointer.flushes == 0


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the death is the test
def test_a_checkpointer_thread_that_dies_releases_its_waiters_and_is_started_again(workstation, monkeypatch) -> None:
    s = workstation.session("reviewer")
    cp = s.runtime.checkpointer
    cp.threshold = NEVER
    sid = _submission(s)
    _import(s, sid)

    def broken() -> None:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(cp, "_flush_wal", broken)
    cp.flush()
    assert cp.checkpoint(timeout=60)  # not left waiting for a thread that is gone
    monkeypatch.undo()
    assert cp.checkpoint(timeout=60) and s.runtime.writer.wal_bytes() == 0
