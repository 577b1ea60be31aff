"""workflow_repo reads stage facts, assignments, discussion and item approvals by column name into
app.model types (issue 18 point 3): what goes in comes back field for field, and a renamed or
missing column fails loudly instead of shifting values."""

from __future__ import annotations

from datetime import date

import pytest

from app.model.approval import ItemApproval
from app.model.assignment import Assignment
from app.model.discussion import Comment
from app.model.markings import Marking
from app.model.results import EvalRun, Harness, RunStatus
from app.model.submissions import Submission
from app.model.workflow import StageFacts
from storage import results_repo, submissions_repo, workflow_repo
from tests.conftest import tamper

NOW = "2026-11-06T11:00:00"


@pytest.fixture
def stored(workstation):  # type: ignore[no-untyped-def]
    s = workstation.session("reviewer")
    conn = s.db.conn
    # The rows referenced here (accounts, an assessment) are not what is tested.
    with tamper(s, foreign_keys=False) as c:
        sub = Submission(developer="D", model_name="M", version="1", received=date(2026, 11, 1),
                         planned_release=date(2026, 11, 20))
        quiet = submissions_repo.insert(c, sub, "rita", NOW)
        busy = submissions_repo.insert(c, sub, "rita", NOW)
        results_repo.insert_run(c, EvalRun(Harness.INSPECT, "0.3", "t", "1", "m", NOW, RunStatus.SUCCESS), busy,
                                "inspect-eval", "rita", NOW)
        aid = workflow_repo.add_assignment(c, busy, "sam", "SEC-2", "lena", NOW)
        cid = workflow_repo.add_comment(c, busy, "item", "SUB-01", "Why partial?", Marking.parse("CUI"), "lena", NOW)
        gid = workflow_repo.add_comment(c, None, "vulnerability", "V-9", "general", Marking.parse("UNCLASSIFIED"),
                                        "sam", NOW)
        workflow_repo.approve_item(c, 31, "SUB-01", "ee" * 32, "lena", NOW)
    return conn, quiet, busy, aid, cid, gid, s


def test_facts_assignments_comments_and_approvals_come_back_field_for_field(stored) -> None:  # type: ignore[no-untyped-def]
    conn, quiet, busy, aid, cid, gid, s = stored
    facts = workflow_repo.stage_facts(conn)
    assert facts[quiet] == StageFacts(quiet, "received", False, None, None, None, None, None, "", None, False)
    assert facts[busy] == StageFacts(busy, "received", True, None, None, None, None, None, "", None, False)
    assert type(facts[busy].has_results) is bool and type(facts[busy].released) is bool
    assert workflow_repo.stage_facts(conn, [busy]) == {busy: facts[busy]}
    assignment = Assignment(aid, busy, "sam", "SEC-2", "lena", NOW)
    assert workflow_repo.assignments(conn, busy) == [assignment]
    assert workflow_repo.assigned_submissions(conn, "sam") == [busy]
    comment = Comment(cid, busy, "item", "SUB-01", "Why partial?", Marking.parse("CUI"), "lena", NOW)
    assert workflow_repo.thread(conn, "item", "SUB-01") == [comment]
    assert workflow_repo.submission_comments(conn, busy) == [comment]
    assert workflow_repo.thread(conn, "vulnerability", "V-9") == [
        Comment(gid, None, "vulnerability", "V-9", "general", Marking.parse("UNCLASSIFIED"), "sam", NOW)]
    assert workflow_repo.comment_counts(conn, "item", ["SUB-01", "SUB-02"]) == {"SUB-01": 1}
    assert workflow_repo.item_approvals(conn, 31) == {"SUB-01": ItemApproval("SUB-01", "ee" * 32, "lena", NOW)}
    with tamper(s) as c:  # a write: on a connection that may write
        assert workflow_repo.remove_assignment(c, aid, "lena", NOW) == assignment


def test_a_renamed_or_missing_column_fails_loudly(stored, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conn, _, busy, *_ = stored
    with monkeypatch.context() as m:
        m.setattr(workflow_repo, "_FACTS", workflow_repo._FACTS.replace("AS report_label", "AS control_number"))
        with pytest.raises(TypeError, match="StageFacts has no field for column.*control_number"):
            workflow_repo.stage_facts(conn)
    with monkeypatch.context() as m:
        m.setattr(workflow_repo, "_FACTS", workflow_repo._FACTS.replace(" a.submitted_by,", ""))
        with pytest.raises(TypeError, match="StageFacts has no column for field.*submitted_by"):
            workflow_repo.stage_facts(conn, [busy])
    with monkeypatch.context() as m:
        m.setattr(workflow_repo, "_A_COLS", workflow_repo._A_COLS.replace("section_id", "section_id AS section"))
        with pytest.raises(TypeError, match="Assignment has no field for column.*section"):
            workflow_repo.assignments(conn, busy)
    with monkeypatch.context() as m:
        m.setattr(workflow_repo, "_C_COLS", workflow_repo._C_COLS.replace(" marking,", ""))
        with pytest.raises(TypeError, match="Comment has no column for field.*marking"):
            workflow_repo.submission_comments(conn, busy)
