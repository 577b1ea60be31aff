"""benchmarks_repo reads definition documents, evaluation plans and determination reviews by column
name into app.model types (issue 18 point 3): what goes in comes back field for field, and a renamed
or missing column fails loudly instead of shifting values."""

from __future__ import annotations

import pytest

from app.model.benchmark_defs import PlanEntry, StoredBenchmarkDocument
from app.model.conformance import SampleView
from app.model.determination import DeterminationReview
from app.model.results import EvalRun, Harness, RunStatus, SampleResult, Score
from storage import benchmarks_repo as repo
from storage import results_repo
from tests.conftest import tamper

NOW = "2026-11-05T10:00:00"


@pytest.fixture
def stored(workstation):  # type: ignore[no-untyped-def]
    s = workstation.session("reviewer")
    conn = s.db.conn
    # The rows referenced here (a submission, a recorded determination) are not what is tested.
    with tamper(s, foreign_keys=False) as c:
        signed = repo.insert_document(c, "doc-x", 3, "Cyber evals", "CUI", "aa" * 32, b"{\"doc\": 1}", b"sig",
                                      "imported", "CN=Lead", "rita", NOW)
        unsigned = repo.insert_document(c, "doc-y", 1, "Bio evals", "UNCLASSIFIED", "bb" * 32, b"{}", None,
                                        "builtin", "", "system", NOW)
        repo.insert_definition(c, "cybench", 2, "Cybench", "CUI", signed)
        repo.replace_plan(c, 77, [("cybench", 2, "all tasks"), ("wmdp", 1, "")], "lead", "lena", NOW)
        repo.add_determination_review(c, 55, "cc" * 32, ["few samples", "old version"], "kept: pilot", "lena", NOW)
        run = results_repo.insert_run(c, EvalRun(Harness.INSPECT, "0.3", "t", "1", "m", NOW, RunStatus.SUCCESS),
                                      77, "inspect-eval", "rita", NOW)
        results_repo.insert_samples(c, run, [
            SampleResult("a", 1, {"s": Score.of("C")}, total_tokens=900, total_time=3.0),
            SampleResult("a", 2, {}, error="timeout", total_tokens=50),
            SampleResult("b", 1, {"s": Score.of("I")}, total_time=12.5)])
    return conn, signed, unsigned, run


def test_documents_plans_reviews_and_sample_facts_come_back_field_for_field(stored) -> None:  # type: ignore[no-untyped-def]
    conn, signed, unsigned, run = stored
    doc_x = StoredBenchmarkDocument(signed, "doc-x", 3, "Cyber evals", "CUI", "aa" * 32, b"{\"doc\": 1}", b"sig",
                                    "imported", "CN=Lead", "rita", NOW)
    doc_y = StoredBenchmarkDocument(unsigned, "doc-y", 1, "Bio evals", "UNCLASSIFIED", "bb" * 32, b"{}", None,
                                    "builtin", "", "system", NOW)
    assert repo.documents(conn) == [doc_x, doc_y]
    assert repo.get_document(conn, signed) == doc_x and repo.find_document(conn, "doc-y", 1) == doc_y
    assert type(doc_x.content) is bytes and type(repo.get_document(conn, signed).signature) is bytes
    assert repo.document_hashes(conn) == [(signed, "aa" * 32), (unsigned, "bb" * 32)]
    assert repo.definition_index(conn) == [("cybench", 2, "Cybench", signed)]
    assert repo.find_definition(conn, "cybench", 2) == signed
    assert repo.plan(conn, 77) == [PlanEntry(77, "cybench", 2, "lead", "all tasks", "lena", NOW),
                                   PlanEntry(77, "wmdp", 1, "lead", "", "lena", NOW)]
    assert repo.planned_submissions(conn) == {77}
    assert repo.determination_review(conn, 55, "cc" * 32) == DeterminationReview(
        55, "cc" * 32, ["few samples", "old version"], "kept: pilot", "lena", NOW)
    assert repo.determination_review(conn, 55, "dd" * 32) is None
    assert repo.sample_facts(conn, run, token_budget=100, time_budget=10.0) == SampleView(
        {"a": 2, "b": 1}, {"a": 1}, 1, {"a": 900}, {"b": 12.5})


def test_a_renamed_or_missing_column_fails_loudly(stored, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conn, signed, _, _ = stored
    with monkeypatch.context() as m:
        m.setattr(repo, "_D_COLS", repo._D_COLS.replace("id AS pk", "id"))
        with pytest.raises(TypeError, match="StoredBenchmarkDocument has no field for column.*id"):
            repo.get_document(conn, signed)
    with monkeypatch.context() as m:
        m.setattr(repo, "_D_COLS", repo._D_COLS.replace(" signature,", ""))
        with pytest.raises(TypeError, match="StoredBenchmarkDocument has no column for field.*signature"):
            repo.documents(conn)
    with monkeypatch.context() as m:
        m.setattr(repo, "_PLAN_COLS", repo._PLAN_COLS.replace("note", "note AS remark"))
        with pytest.raises(TypeError, match="PlanEntry has no field for column.*remark"):
            repo.plan(conn, 77)
    with monkeypatch.context() as m:
        m.setattr(repo, "_REVIEW_COLS", repo._REVIEW_COLS.replace(", reason", ""))
        with pytest.raises(TypeError, match="DeterminationReview has no column for field.*reason"):
            repo.determination_review(conn, 55, "cc" * 32)


def test_a_runs_sample_facts_are_read_in_table_order(stored) -> None:  # type: ignore[no-untyped-def]
    """Conformance reads every sample of a run. Walked by one of the run_id-first sort indexes (by
    tokens, say), each row's page was fetched out of order: 50 s for a 1,000,000-sample run on the
    results page's conformance line instead of 1 s. The read goes by the run's id index."""
    conn, *_, run = stored
    plan = " ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + repo.SAMPLE_FACTS_SQL, (run,)))
    assert "INDEX eval_samples_run (run_id=?)" in plan and "TEMP B-TREE" not in plan, plan
    # and the epochs come from an index alone, no table row read
    plan = " ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + repo.SAMPLE_EPOCHS_SQL, (run,)))
    assert "COVERING INDEX eval_samples_run_sample (run_id=?)" in plan and "TEMP B-TREE" not in plan, plan


def test_sample_ids_edited_to_another_type_are_read_as_text(workstation) -> None:  # type: ignore[no-untyped-def]
    """Conformance sorts, hashes and lists the sample ids; an id an insider edited to a blob or a number
    raised TypeError there (sorting text with bytes, joining bytes). They are read as text naming what
    they are, and the conformance check's listing and digest work."""
    from app.model.benchmark_defs import sample_ids_digest
    from app.model.conformance import _ids

    s = workstation.session("reviewer")
    with tamper(s, foreign_keys=False) as c:
        run = results_repo.insert_run(c, EvalRun(Harness.INSPECT, "0.3", "t", "1", "m", NOW, RunStatus.SUCCESS),
                                      77, "inspect-eval", "rita", NOW)
        results_repo.insert_samples(c, run, [SampleResult("a", 1, {}, error="timeout"), SampleResult("b", 1, {}),
                                             SampleResult("c", 1, {})])
    with tamper(s) as c:
        c.execute("UPDATE eval_samples SET sample_id = ? WHERE run_id = ? AND sample_id = 'b'", (b"\x00\xff", run))
        c.execute("UPDATE eval_samples SET sample_id = 42 WHERE run_id = ? AND sample_id = 'c'", (run,))
    view = repo.sample_facts(s.db.conn, run)
    assert view.epochs == {"a": 1, "blob x00FF": 1, "42": 1} and view.errored == {"a": 1}
    assert _ids(view.epochs) == "42, a, blob x00FF" and len(sample_ids_digest(view.epochs)) == 64


def test_sample_means_average_scored_epochs_in_sample_id_order(workstation) -> None:  # type: ignore[no-untyped-def]
    """Read in table order and averaged in Python (grouped in SQL, the rows were fetched in sample-id
    order, out of the table's): the same means as SQL's AVG, None for a sample never scored, and the
    samples in id order whatever order they were stored in (the bootstrap resamples that list)."""
    s = workstation.session("reviewer")
    with tamper(s, foreign_keys=False) as c:
        run = results_repo.insert_run(c, EvalRun(Harness.INSPECT, "0.3", "t", "1", "m", NOW, RunStatus.SUCCESS),
                                      77, "inspect-eval", "rita", NOW)
        results_repo.insert_samples(c, run, [
            SampleResult("s10", 1, {"s": Score.of(0.25)}), SampleResult("s2", 1, {"s": Score.of("C")}),
            SampleResult("s10", 2, {"s": Score.of(1.0)}), SampleResult("s1", 1, {}, error="timeout"),
            SampleResult("s2", 2, {}, error="timeout"), SampleResult("s10", 3, {"s": Score.of(0.5)})])
    conn = s.db.conn
    means, most = repo.sample_means(conn, run)
    in_sql = {sid: m for sid, m in conn.execute(
        "SELECT sample_id, AVG(score) FROM eval_samples WHERE run_id = ? GROUP BY sample_id", (run,))}
    assert means == in_sql == {"s1": None, "s10": 0.5833333333333334, "s2": 1.0} and most == 3
    assert list(means) == ["s1", "s10", "s2"]
    with tamper(s) as c:  # a row edited outside the app: a blob where the id is text
        c.execute("UPDATE eval_samples SET sample_id = ? WHERE run_id = ? AND sample_id = 's1'", (b"\x00", run))
    assert list(repo.sample_means(conn, run)[0]) == ["s10", "s2", b"\x00"]
