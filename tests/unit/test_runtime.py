"""The workstation runtime (issue 18 point 1): one connection per thread, handed out by the session;
one write path (`Session.transaction`); a broadcast of what each committed write changed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.model.errors import StorageError
from app.model.submissions import Submission
from app.services import results, submissions
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


def test_each_thread_gets_its_own_connection_and_the_runtime_closes_them(workstation) -> None:
    s = workstation.session("reviewer")
    assert s.db is s.main_db and s.db is s.db
    other = _in_thread(lambda: (s.db, s.db))
    assert other[0] is other[1] and other[0] is not s.main_db
    assert s.runtime.open_connections == 2
    # a thread's connection reads what the owner committed (WAL snapshot per transaction)
    sid = _submission(s)
    assert _in_thread(lambda: submissions.get(s, sid).model_name) == "cyber-mini"
    s.runtime.close()
    with pytest.raises(StorageError, match="closed"):
        _in_thread(lambda: s.db)


def test_released_thread_connection_is_closed(workstation) -> None:
    s = workstation.session("reviewer")

    def use_and_release() -> int:
        _ = s.db.conn.execute("SELECT 1").fetchone()
        n = s.runtime.open_connections
        s.runtime.release_thread()
        return n

    assert _in_thread(use_and_release) == 2
    assert s.runtime.open_connections == 1


def test_adopt_hands_the_sign_in_connection_to_the_calling_thread(workstation) -> None:
    session = _in_thread(lambda: workstation.session("reviewer"))  # the app signs in on a job's thread
    assert session.db is not session.main_db
    session.runtime.adopt()
    assert session.db is session.main_db and session.runtime.open_connections == 1


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
