import pytest

from app.model.audit import GENESIS
from storage import audit
from storage.db import Database

KEY = b"k" * 32
TS = "2026-11-20T10:00:00+00:00"


@pytest.fixture
def db(tmp_path):
    d = Database.open(tmp_path / "a.db", KEY, create=True)
    with d.transaction() as conn:
        for i in range(5):
            audit.append(conn, TS, "rita", f"thing.{i}", "submission", i, {"n": i})
    yield d
    d.close()


def _unprotect(conn):
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")


def test_intact_chain(db):
    result = audit.verify(db.conn, audit.head(db.conn))
    assert result.ok and result.events == 5
    first = audit.list_events(db.conn, limit=10)[-1]
    assert first.prev_hash == GENESIS


def test_append_only_enforced_by_database(db):
    import sqlcipher3

    with pytest.raises(sqlcipher3.DatabaseError, match="append-only"):
        db.conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    with pytest.raises(sqlcipher3.DatabaseError, match="append-only"):
        db.conn.execute("DELETE FROM audit_events WHERE seq = 2")


def test_modified_event_is_named(db):
    _unprotect(db.conn)
    db.conn.execute("UPDATE audit_events SET details = '{\"n\": 99}' WHERE seq = 3")
    result = audit.verify(db.conn)
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "event 3" in result.problems[0] and "modified" in result.problems[0]


def test_deleted_event_is_named(db):
    _unprotect(db.conn)
    db.conn.execute("DELETE FROM audit_events WHERE seq = 2")
    result = audit.verify(db.conn)
    assert not result.ok and result.first_bad_seq == 2
    assert "event 2 is missing" in result.problems[0]


def test_deleted_tail_caught_by_recorded_head(db):
    head = audit.head(db.conn)
    _unprotect(db.conn)
    db.conn.execute("DELETE FROM audit_events WHERE seq = 5")
    assert audit.verify(db.conn).ok  # the chain alone cannot see a cut tail
    result = audit.verify(db.conn, head)
    assert not result.ok and "deleted from the end" in result.problems[0]


def test_reordered_events_detected(db):
    _unprotect(db.conn)
    rows = db.conn.execute("SELECT * FROM audit_events ORDER BY seq").fetchall()
    db.conn.execute("DELETE FROM audit_events")
    # Events 2 and 3 swap places (each keeps its own content, the sequence numbers stay in order).
    for seq, r in zip(range(1, 6), [rows[0], rows[2], rows[1], rows[3], rows[4]], strict=True):
        db.conn.execute("INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (seq, *r[1:]))
    result = audit.verify(db.conn)
    assert not result.ok and result.first_bad_seq == 2
    assert "does not link" in result.problems[0]


def test_a_lone_surrogate_is_stored_shown_and_the_chain_holds(tmp_path):
    """A name that is not UTF-8 (a surrogate escape) reaching the audit trail used to make the event
    unhashable, failing the change it records: it is stored shown as \\udce9, and the chain verifies."""
    d = Database.open(tmp_path / "s.db", KEY, create=True)
    try:
        with d.transaction() as conn:
            event = audit.append(conn, TS, "rita", "results.import", "file", "caf\udce9.eval",
                                 {"path": "/media/caf\udce9.eval", "n": 1})
        assert event.object_id == "caf\\udce9.eval" and event.details["path"] == "/media/caf\\udce9.eval"
        (stored,) = audit.list_events(d.conn, limit=1)
        assert stored.details == {"path": "/media/caf\\udce9.eval", "n": 1} and stored.hash == event.hash
        assert audit.verify(d.conn, audit.head(d.conn)).ok
    finally:
        d.close()
