"""The workstation runtime (issue 18 point 1): one writer connection, used only inside
`Session.transaction` under the write gate; a read-only connection per thread, handed out by the
session; a broadcast of what each committed write changed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.model.errors import StorageError
from app.model.submissions import Submission
from app.services import results, runtime, submissions
from app.services.runtime import ChangeSet
from storage import audit as audit_log

INSPECT = Path(__file__).parents[1] / "fixtures" / "inspect"


def _in_thread(fn: Callable[[], Any]) -> Any:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # handed back to the test's thread
            out.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def _submission(session: Any) -> int:
    s = submissions.create(session, Submission(developer="Offline", model_name="cyber-mini", version="7b",
                                               received=date(2026, 11, 1), planned_release=date(2026, 11, 28)))
    assert s.id is not None
    return s.id


def _query_only(db: Any) -> bool:
    return bool(db.conn.execute("PRAGMA query_only").fetchone()[0])


def test_each_thread_gets_its_own_read_connection_and_the_runtime_closes_them(workstation) -> None:
    s = workstation.session("reviewer")
    mine = s.db
    assert mine is s.db and mine is not s.runtime.writer and _query_only(mine)
    other = _in_thread(lambda: (s.db, s.db))
    assert other[0] is other[1] and other[0] is not mine and _query_only(other[0])
    assert s.runtime.open_connections == 3  # the writer, the owner's reader, the thread's reader
    # a thread's connection reads what the owner committed (WAL snapshot per transaction)
    sid = _submission(s)
    assert _in_thread(lambda: submissions.get(s, sid).model_name) == "cyber-mini"
    s.runtime.close()
    assert s.runtime.open_connections == 0
    for db in (s.runtime.writer, mine, other[0]):  # every connection is really closed
        with pytest.raises(Exception, match="closed"):
            db.conn.execute("SELECT 1")
    with pytest.raises(StorageError, match="closed"):
        _in_thread(lambda: s.db)
    with pytest.raises(StorageError, match="closed"), s.transaction():
        pass


def test_released_thread_connection_is_closed(workstation) -> None:
    s = workstation.session("reviewer")
    _ = s.db  # the owner's reader

    def use_and_release() -> tuple[int, Any]:
        db = s.db
        _ = db.conn.execute("SELECT 1").fetchone()
        n = s.runtime.open_connections
        runtime.thread_done()  # what the job runner calls when a job ends
        return n, db

    n, db = _in_thread(use_and_release)
    assert n == 3 and s.runtime.open_connections == 2
    with pytest.raises(Exception, match="closed"):
        db.conn.execute("SELECT 1")


def test_adopt_hands_the_owner_connection_to_the_calling_thread(workstation) -> None:
    session, signed_in_with = _in_thread(lambda: (lambda s: (s, s.db))(workstation.session("reviewer")))
    assert session.db is not signed_in_with  # the app signs in on a job's thread
    session.runtime.adopt()
    assert session.db is signed_in_with and session.runtime.open_connections == 2


def test_one_writer_connection_whatever_the_threads(workstation) -> None:
    s = workstation.session("reviewer")
    used: list[int] = []

    def write() -> None:
        with s.transaction() as conn:
            used.append(id(conn))
            assert s.db is s.runtime.writer and s.db.conn is conn  # the body reads its own writes
            s.audit(conn, "test.write", "test", threading.current_thread().name)

    threads = [threading.Thread(target=write, name=f"job-{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    write()
    assert len(used) == 5 and len(set(used)) == 1 and used[0] == id(s.runtime.writer.conn)
    writers = [db for db in s.runtime.connections() if not _query_only(db)]
    assert writers == []  # no transaction open: even the writer refuses writes
    assert sum(1 for db in s.runtime.connections() if db is s.runtime.writer) == 1
    assert len(s.runtime.connections()) == 2  # the writer and the owner's reader: thread readers unused


def test_two_threads_writing_at_once_are_serialised_and_both_commit(workstation) -> None:
    s = workstation.session("reviewer")
    inside = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with s.transaction() as conn:
            order.append("first in")
            inside.set()
            release.wait(10)
            s.audit(conn, "test.write", "test", "first")
            order.append("first out")

    def second() -> None:
        inside.wait(10)
        with s.transaction() as conn:
            order.append("second in")
            s.audit(conn, "test.write", "test", "second")

    t1, t2 = threading.Thread(target=first), threading.Thread(target=second)
    t1.start()
    t2.start()
    inside.wait(10)
    t2.join(0.3)  # the second writer waits for the gate
    assert t2.is_alive() and order == ["first in"]
    release.set()
    t1.join()
    t2.join()
    assert order == ["first in", "first out", "second in"]
    ids = [r[0] for r in s.db.conn.execute(
        "SELECT object_id FROM audit_events WHERE action = 'test.write' ORDER BY seq").fetchall()]
    assert ids == ["first", "second"]


def test_a_write_waiting_too_long_names_who_holds_the_gate(workstation) -> None:
    s = workstation.session("reviewer")
    s.runtime._gate_timeout = 0.2
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with s.transaction():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=hold, name="import-job")
    t.start()
    inside.wait(10)
    try:
        with pytest.raises(StorageError, match=r"database is busy: another write \(.*hold on thread import-job\)"):
            _submission(s)
    finally:
        release.set()
        t.join()
    _submission(s)  # the gate is free again


def test_a_read_during_a_long_write_sees_the_last_commit(workstation) -> None:
    s = workstation.session("reviewer")
    sid = _submission(s)
    inside, release = threading.Event(), threading.Event()

    def rename() -> None:
        with s.transaction() as conn:
            conn.execute("UPDATE submissions SET model_name = 'renamed' WHERE id = ?", (sid,))
            assert submissions.get(s, sid).model_name == "renamed"  # its own write, on the writer
            inside.set()
            release.wait(10)

    t = threading.Thread(target=rename)
    t.start()
    inside.wait(10)
    try:
        assert submissions.get(s, sid).model_name == "cyber-mini"  # the owner's reader
        assert _in_thread(lambda: submissions.get(s, sid).model_name) == "cyber-mini"  # a job's reader
    finally:
        release.set()
        t.join()
    assert submissions.get(s, sid).model_name == "renamed"


@pytest.mark.parametrize("sql", ["UPDATE submissions SET model_name = 'x'", "DELETE FROM audit_events",
                                 "INSERT INTO settings (key, value) VALUES ('k', 'v')"])
def test_a_write_outside_the_transaction_is_refused_by_the_database(workstation, sql: str) -> None:
    s = workstation.session("reviewer")
    sid = _submission(s)
    before = audit_log.head(s.db.conn)
    for db in (s.db, _in_thread(lambda: s.db), s.runtime.writer):  # owner's reader, a job's reader, idle writer
        with pytest.raises(Exception, match="readonly"):
            db.conn.execute(sql)
        with pytest.raises(StorageError, match="outside Session.transaction was refused"), db.transaction() as conn:
            conn.execute(sql)
    assert audit_log.head(s.db.conn) == before and submissions.get(s, sid).model_name == "cyber-mini"


def test_nested_transactions_commit_together_and_an_inner_failure_undoes_only_its_part(workstation) -> None:
    s = workstation.session("reviewer")
    seen: list[ChangeSet] = []
    s.runtime.subscribe(seen.append)
    with s.transaction() as outer:
        s.audit(outer, "test.outer", "test", "1")
        with s.transaction() as inner:
            assert inner is outer
            s.audit(inner, "test.inner", "test", "2")
        with pytest.raises(RuntimeError), s.transaction() as inner:
            s.audit(inner, "test.undone", "test", "3")
            raise RuntimeError("inner fails")
        assert seen == []  # nothing is announced before the outer commit
    assert len(seen) == 1 and seen[0].actions() == {"test.outer", "test.inner"}
    actions = [r[0] for r in s.db.conn.execute("SELECT action FROM audit_events WHERE action LIKE 'test.%'")]
    assert actions == ["test.outer", "test.inner"]
    assert audit_log.verify(s.db.conn).ok  # the savepoint left no gap in the chain


def test_an_exception_rolls_back_and_frees_the_gate(workstation) -> None:
    s = workstation.session("reviewer")
    sid = _submission(s)
    with pytest.raises(RuntimeError), s.transaction() as conn:
        conn.execute("UPDATE submissions SET model_name = 'half' WHERE id = ?", (sid,))
        raise RuntimeError("abandon")
    assert submissions.get(s, sid).model_name == "cyber-mini"
    assert not s.runtime.writing_here and not s.runtime.writer.writable
    # another thread gets the gate at once (a held gate would make it wait and fail)
    s.runtime._gate_timeout = 1.0
    assert _in_thread(lambda: _submission(s)) > sid


def test_committed_writes_are_broadcast_with_their_submission(workstation) -> None:
    s = workstation.session("reviewer")
    seen: list[ChangeSet] = []
    unsubscribe = s.runtime.subscribe(seen.append)
    sid = _submission(s)
    assert len(seen) == 1 and seen[0].actions() == {"submission.create"} and seen[0].submissions() == {sid}
    assert seen[0].touches("submission") and seen[0].ids("submission") == {str(sid)}
    with pytest.raises(RuntimeError), s.transaction() as conn:  # rolled back: nothing announced
        s.audit(conn, "submission.update", "submission", sid, {})
        raise RuntimeError("abandon")
    assert len(seen) == 1
    unsubscribe()
    _submission(s)
    assert len(seen) == 1


def test_import_in_a_worker_thread_writes_once_records_the_head_and_broadcasts(workstation) -> None:
    s = workstation.session("reviewer")
    sid = _submission(s)
    seen: list[tuple[ChangeSet, bool]] = []
    main = threading.get_ident()
    s.runtime.subscribe(lambda c: seen.append((c, threading.get_ident() == main)))
    out = _in_thread(lambda: results.import_files(s, [INSPECT / "intercode_ok.eval"], sid))
    assert out[0].status == "imported"
    imported = [c for c, _ in seen if "results.import" in c.actions()]
    assert len(imported) == 1 and imported[0].submissions() == {sid}
    assert not next(on_main for c, on_main in seen if "results.import" in c.actions())  # the committing thread
    # The head outside the database follows the import without an extra transaction.
    head = audit_log.head(s.db.conn)
    assert s.credentials.read().audit_head == {"seq": head[0], "hash": head[1]}
    assert [r.id for r in results.list_runs(s, sid)]


def test_changes_to_records_of_a_submission_name_it(workstation) -> None:
    from app.services import assessment, assessment_evidence

    s = workstation.session("reviewer")
    sid = _submission(s)
    seen: list[ChangeSet] = []
    s.runtime.subscribe(seen.append)
    view = assessment.start(s, sid)  # audited on the assessment, which belongs to the submission
    assert seen[-1].touches("assessment") and seen[-1].submissions() == {sid}
    assessment_evidence.add_observation(s, view.id, view.template.item_ids[0], "Seen in the transcript of sample 3.")
    assert "assessment.evidence_add" in seen[-1].actions() and seen[-1].submissions() == {sid}
