"""storage/audit.py reads events by column name: list_events maps each row into AuditEvent, and the
chain walk checks its query's columns against StoredEvent's fields once, so a renamed, missing or
reordered column fails loudly instead of hashing or showing the wrong values (issue 18 point 3)."""

from __future__ import annotations

import pytest

from app.model.audit import AuditEvent
from storage import audit


@pytest.fixture
def conn(workstation):  # type: ignore[no-untyped-def]
    # A connection of its own: these tests write rows straight through the repository, and a
    # session's connections refuse writes outside Session.transaction.
    db = workstation.session("admin").runtime.writer.another()
    yield db.conn
    db.close()


def test_events_map_by_name_and_the_chain_still_verifies(conn) -> None:  # type: ignore[no-untyped-def]
    appended = audit.append(conn, "2026-01-01T00:00:00+00:00", "admin", "test.note", "note", 7, {"why": "check"},
                            signer=lambda h: ("ab" * 32, "c2ln"))
    [latest] = audit.list_events(conn, limit=1)
    assert latest == appended  # the appended event now carries its signer, as stored
    assert latest == AuditEvent(latest.seq, "2026-01-01T00:00:00+00:00", "admin", "test.note", "note", "7",
                                {"why": "check"}, latest.prev_hash, latest.hash, "ab" * 32, "c2ln")
    assert latest.seq == audit.count(conn) and latest.prev_hash == audit.hash_at(conn, latest.seq - 1)
    signed = [e for e in audit.list_events(conn, limit=500) if e.actor == "reviewer"]
    assert signed and all(e.signer and e.signature for e in signed)
    stored = list(audit.iter_raw(conn))
    assert stored[-1].details == '{"why": "check"}' and stored[-1].seq == latest.seq  # raw text, as hashed
    assert audit.verify(conn, known_head=(latest.seq, latest.hash)).ok


@pytest.mark.parametrize("cols", [
    audit._COLS.replace("actor,", "actor AS who,"),   # renamed
    audit._COLS.replace(" prev_hash,", ""),            # missing
])
def test_a_renamed_or_missing_column_fails_loudly(conn, monkeypatch, cols) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(audit, "_COLS", cols)
    with pytest.raises(TypeError, match="who|prev_hash"):
        audit.list_events(conn)
    with pytest.raises(TypeError, match="not StoredEvent's fields"):
        audit.verify(conn)


def test_the_chain_walk_refuses_reordered_columns(conn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The hash is computed positionally from the walk's values: swapped columns must not reach it."""
    monkeypatch.setattr(audit, "_COLS", audit._COLS.replace("ts, actor", "actor, ts"))
    with pytest.raises(TypeError, match="not StoredEvent's fields"):
        list(audit.iter_raw(conn))
    assert audit.list_events(conn, limit=1)[0].ts.startswith("20")  # by name, order does not matter
