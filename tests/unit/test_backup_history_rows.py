"""The backup history (storage/backup.py, read from the audit log) maps its rows by column name: a
renamed or missing column fails loudly instead of showing an actor as the time or a folder as the
outcome (issue 18 point 3)."""

from __future__ import annotations

import pytest

from app.model.backup import BackupRecord
from storage import audit
from storage import backup as store


@pytest.fixture
def conn(workstation):  # type: ignore[no-untyped-def]
    # A connection of its own: these tests write rows straight through the repository, and a
    # session's connections refuse writes outside Session.transaction.
    db = workstation.session("admin").runtime.writer.another()
    conn = db.conn
    audit.append(conn, "2026-01-01T00:00:00+00:00", "admin", "backup.create", "backup", "/media/a",
                 {"folder": "/media/a/frontier-backup-1", "verified": True})
    audit.append(conn, "2026-01-02T00:00:00+00:00", "lead", "backup.verify", "backup", "/media/b",
                 {"ok": True, "contents_checked": False})
    yield conn
    db.close()


def test_history_and_last_verified_map_by_name(conn) -> None:  # type: ignore[no-untyped-def]
    assert store.history(conn, 2) == [
        BackupRecord("2026-01-02T00:00:00+00:00", "lead", "backup.verify", "/media/b", True, False),
        BackupRecord("2026-01-01T00:00:00+00:00", "admin", "backup.create", "/media/a/frontier-backup-1", True, True),
    ]
    assert store.history(conn, 1) == store.history(conn, 2)[:1]
    assert store.last_verified(conn) == "2026-01-01T00:00:00+00:00"  # the newer check did not open the contents


def test_a_renamed_or_missing_column_fails_loudly(conn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(store, "_EVENT_COLS", "ts, actor AS who, action, object_id, details")
    with pytest.raises(TypeError, match="no field for column.*who"):
        store.history(conn)
    monkeypatch.setattr(store, "_EVENT_COLS", "ts, action, object_id, details")
    with pytest.raises(TypeError, match="no column for field.*actor"):
        store.last_verified(conn)
