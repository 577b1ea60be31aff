"""results_repo reads runs, metrics and samples by column name (issue 18 point 3): what goes in comes
back field for field, and a renamed or missing column fails loudly instead of shifting values."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.model.results import (
    Direction,
    EvalRun,
    Harness,
    MetricValue,
    PriorImport,
    RunStatus,
    SampleFilter,
    SampleResult,
    SampleRow,
    Score,
)
from app.model.submissions import Submission
from app.services import submissions
from storage import results_repo as repo
from tests.conftest import tamper

# Every field differs from its default, so a field read from the wrong column or left at its default shows.
RUN = EvalRun(
    Harness.LM_EVAL, "0.4.5", "gsm8k", "3", "acme/model-7b", "2026-11-20T10:00:00", RunStatus.ERROR, epochs=2,
    total_samples=40, completed_samples=30, errored_samples=5,
    metrics=(MetricValue("exact_match", "acc", 0.25, 0.01, Direction.HIGHER, "strict-match", "mean"),
             MetricValue("exact_match", "acc_stderr", None, None, Direction.UNKNOWN, "none", "")),
    file_sha256="ab" * 32, original_name="samples_gsm8k.jsonl", file_size=12345, media_label="USB 7",
    incomplete=True, error_message="worker died", eval_id="ev-1", run_id="rn-2", dataset="gsm8k/main",
    notes=("header.json missing", "2 lines skipped"),
)
SAMPLES = [
    SampleResult("q-1", 2, {"exact_match": Score.of("C", "42", "matched")}, "What is 6*7?", "42", "42",
                 "", 1.5, 1.25, 10, 20, 30, transcript={"messages": [{"role": "user", "content": "6*7"}]}),
    SampleResult("q-2", 1, {"exact_match": Score.of(0.5)}, "in", "t", "a", "boom", None, None, None, None, None),
]


@pytest.fixture
def stored(workstation):  # type: ignore[no-untyped-def]
    s = workstation.session("reviewer")
    sid = submissions.create(s, Submission(developer="D", model_name="m", version="1", received=date(2026, 11, 1),
                                           planned_release=date(2026, 11, 25))).id
    with tamper(s) as conn:
        run_id = repo.insert_run(conn, RUN, sid, "lm-eval", "rita", "2026-11-21T09:00:00")
        repo.insert_samples(conn, run_id, SAMPLES)
        repo.finish_run(conn, run_id, len(SAMPLES), 1)
    return s.db.conn, sid, run_id


def test_a_run_and_its_samples_come_back_field_for_field(stored) -> None:  # type: ignore[no-untyped-def]
    conn, sid, run_id = stored
    got = repo.get_run(conn, run_id, lambda task: f"bench:{task}")
    assert got == replace(RUN, id=run_id, submission_id=sid, benchmark="bench:gsm8k", imported_by="rita",
                          imported_at="2026-11-21T09:00:00", sample_count=2, errored_samples=1)
    assert repo.runs_for_submission(conn, sid, lambda task: f"bench:{task}") == [got]
    assert repo.find_by_sha(conn, "ab" * 32) == [PriorImport(run_id, sid, "gsm8k", "acme/model-7b")]

    page = repo.page_samples(conn, run_id, SampleFilter(), 0, 10)
    first = SampleRow(
        id=page[0].id, run_id=run_id, sample_id="q-1", epoch=2, score=1.0,
        scores={"exact_match": {"value": "C", "numeric": 1.0, "answer": "42", "explanation": "matched"}},
        input_text="What is 6*7?", target="42", answer="42", error="", total_time=1.5, working_time=1.25,
        input_tokens=10, output_tokens=20, total_tokens=30, has_transcript=True)
    second = SampleRow(
        id=page[0].id + 1, run_id=run_id, sample_id="q-2", epoch=1, score=0.5,
        scores={"exact_match": {"value": 0.5, "numeric": 0.5, "answer": "", "explanation": ""}},
        input_text="in", target="t", answer="a", error="boom", total_time=None, working_time=None,
        input_tokens=None, output_tokens=None, total_tokens=None, has_transcript=False)
    assert page == [first, second]
    assert type(page[0].has_transcript) is bool and type(page[1].has_transcript) is bool
    assert repo.get_sample(conn, second.id) == second
    assert repo.sample_scores(conn, run_id) == {("q-1", 2): 1.0, ("q-2", 1): 0.5}


def test_a_renamed_or_missing_sample_column_fails_loudly(stored, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conn, _, run_id = stored
    monkeypatch.setattr(repo, "_SAMPLE_COLS", repo._SAMPLE_COLS.replace("s.target,", "s.target AS goal,"))
    with pytest.raises(TypeError, match="SampleRow has no field for column.*goal"):
        repo.page_samples(conn, run_id, SampleFilter(), 0, 10)
    monkeypatch.setattr(repo, "_SAMPLE_COLS", repo._SAMPLE_COLS.replace("s.target AS goal, ", ""))
    with pytest.raises(TypeError, match="SampleRow has no column for field.*target"):
        repo.page_samples(conn, run_id, SampleFilter(), 0, 10)
    with pytest.raises(TypeError, match="SampleRow has no column for field.*target"):
        repo.page_samples(conn, run_id + 99, SampleFilter(), 0, 10)  # no rows: still checked


def test_a_renamed_or_missing_run_or_metric_column_fails_loudly(stored, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conn, sid, run_id = stored
    with monkeypatch.context() as m:
        m.setattr(repo, "_RUN_COLS", repo._RUN_COLS.replace("eval_run_id AS run_id", "eval_run_id"))
        with pytest.raises(TypeError, match="EvalRun has no field for column.*eval_run_id"):
            repo.get_run(conn, run_id, str)
    with monkeypatch.context() as m:  # dataset has a default: only the complete check notices it gone
        m.setattr(repo, "_RUN_COLS", repo._RUN_COLS.replace(" dataset,", ""))
        with pytest.raises(TypeError, match="EvalRun has no column for field.*dataset"):
            repo.runs_for_submission(conn, sid, str)
    with monkeypatch.context() as m:
        m.setattr(repo, "_METRIC_COLS", repo._METRIC_COLS.replace(", reducer", ""))
        with pytest.raises(TypeError, match="MetricValue has no column for field.*reducer"):
            repo.get_run(conn, run_id, str)
    assert repo.get_run(conn, run_id, str).metrics == RUN.metrics


def test_a_batch_larger_than_one_insert_statement_comes_back_whole_and_in_order(workstation) -> None:  # type: ignore[no-untyped-def]
    s = workstation.session("reviewer")
    sid = submissions.create(s, Submission(developer="D", model_name="m", version="1", received=date(2026, 11, 1),
                                           planned_release=date(2026, 11, 25))).id
    n = 2 * repo._ROWS_PER_INSERT + 37  # three multi-row statements per table
    batch = [SampleResult(f"s-{i}", 1 + i % 3, {"m": Score.of(i % 2)}, f"input {i}", "t", f"answer {i}", "",
                          float(i), None, i, None, None, transcript={"messages": [{"content": f"msg {i}"}]})
             for i in range(n)]
    with s.transaction() as conn:
        run_id = repo.insert_run(conn, RUN, sid, "lm-eval", "rita", "2026-11-21T09:00:00")
        assert repo.insert_samples(conn, run_id, batch) == (n, 0)
    rows = repo.page_samples(s.db.conn, run_id, SampleFilter(), 0, n + 10)
    assert [(r.sample_id, r.epoch, r.answer, r.total_time) for r in rows] == \
        [(f"s-{i}", 1 + i % 3, f"answer {i}", float(i)) for i in range(n)]
    assert [r.id for r in rows] == list(range(rows[0].id, rows[0].id + n))
    assert repo.get_transcript(s.db.conn, rows[-1].id) == {"messages": [{"content": f"msg {n - 1}"}]}
    assert repo.count_samples(s.db.conn, run_id, SampleFilter(search="input")) == n  # the FTS trigger saw every row
