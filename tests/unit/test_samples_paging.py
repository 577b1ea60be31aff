"""Keyset and id-seek paging return exactly the rows OFFSET paging returns, for every sort."""

from __future__ import annotations

import random

import pytest

from app.model.results import EvalRun, Harness, RunStatus, SampleFilter, SampleResult, Score
from app.services import results
from storage import results_repo as repo
from tests.conftest import WorkstationTemplate, derive_template, restore_template

N = 137
PAGE = 20


def _run(session, sid: int, name: str) -> int:
    r = EvalRun(Harness.INSPECT, "0.3", name, "1", "m", "2026-11-01", RunStatus.SUCCESS, file_sha256=name * 4,
                original_name=f"{name}.eval")
    with session.transaction() as conn:
        return repo.insert_run(conn, r, sid, "inspect-eval", "rita", "2026-11-01")


def _samples(rng: random.Random, start: int, n: int) -> list[SampleResult]:
    out = []
    for i in range(start, start + n):
        score = rng.choice([None, 0.0, 0.5, 1.0])  # NULL scores and many ties
        out.append(SampleResult(
            sample_id=f"s{rng.randint(0, 40):03d}", epoch=1 + i % 3,
            scores={} if score is None else {"m": Score.of(score)}, input_text=f"input {i}", target="t",
            answer="a", error="boom" if i % 11 == 0 else "",
            total_time=None if i % 5 == 0 else float(rng.randint(1, 9)),
            total_tokens=None if i % 7 == 0 else rng.randint(1, 5)))
    return out


def _make_runs(workstation) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """Two runs whose ids interleave (not one contiguous range) and one imported in one block."""
    s = workstation.session("reviewer")
    from datetime import date

    from app.model.submissions import Submission
    from app.services import submissions

    sid = submissions.create(s, Submission(developer="D", model_name="m", version="1", received=date(2026, 11, 1),
                                           planned_release=date(2026, 11, 25))).id
    rng = random.Random(5)
    a, b, c = _run(s, sid, "aaaa"), _run(s, sid, "bbbb"), _run(s, sid, "cccc")
    for k in range(0, N, 30):
        with s.transaction() as conn:
            repo.insert_samples(conn, a, _samples(rng, k, min(30, N - k)))
            repo.insert_samples(conn, b, _samples(rng, k, min(30, N - k)))
    with s.transaction() as conn:
        repo.insert_samples(conn, c, _samples(rng, 0, N))
        for run in (a, b, c):
            repo.finish_run(conn, run, N, 0)
    return a, b, c


@pytest.fixture(scope="module")
def runs_template(tmp_path_factory: pytest.TempPathFactory,
                  workstation_template: WorkstationTemplate) -> tuple[WorkstationTemplate, tuple[int, int, int]]:
    """The three runs written once per module (~0.25 s each time); the tests only read them."""
    return derive_template(tmp_path_factory.mktemp("samples-paging"), workstation_template, _make_runs)


@pytest.fixture
def runs(workstation, runs_template, memory_keyring):  # type: ignore[no-untyped-def]
    template, ids = runs_template
    restore_template(workstation, template, memory_keyring)
    return workstation.session("reviewer"), ids


@pytest.mark.parametrize("sort", ["order", "sample_id", "epoch", "score", "time", "tokens"])
@pytest.mark.parametrize("descending", [False, True])
def test_keyset_pages_equal_offset_pages(runs, sort: str, descending: bool) -> None:
    s, ids = runs
    for run_id in ids:
        for flt in (SampleFilter(), SampleFilter(epoch=2), SampleFilter(errors_only=True)):
            by_offset = [r.id for r in results.page_samples(s, run_id, flt, 0, 10_000, sort, descending)]
            by_key: list[int] = []
            after = None
            while True:
                page = results.page_samples(s, run_id, flt, len(by_key), PAGE, sort, descending, after)
                by_key += [r.id for r in page]
                if len(page) < PAGE:
                    break
                after = page[-1]
            assert by_key == by_offset, (run_id, flt)


@pytest.mark.parametrize("descending", [False, True])
def test_unfiltered_log_order_seeks_by_id_only_when_the_ids_are_contiguous(runs, descending: bool) -> None:
    s, (a, _b, c) = runs
    conn = s.db.conn
    assert repo._contiguous_start(conn, a, 5, descending) is None  # interleaved with run b
    start = repo._contiguous_start(conn, c, 5, descending)
    assert start is not None
    for run_id in (a, c):
        whole = [r.id for r in results.page_samples(s, run_id, SampleFilter(), 0, 10_000, "order", descending)]
        for offset in (0, 1, 59, N - 3, N, N + 5):
            page = results.page_samples(s, run_id, SampleFilter(), offset, PAGE, "order", descending)
            assert [r.id for r in page] == whole[offset:offset + PAGE]


def test_scores_column_reads_back_as_json_dumps_wrote_it() -> None:
    """The scores column is written by msgspec when every value is plain, else by json.dumps (NaN,
    infinity, nested values, lone surrogates): either way json.loads gives back the same scores."""
    import json
    import math

    from storage.results_repo import _scores_json

    cases = [
        {"includes": {"value": "C", "numeric": 1.0, "answer": "picoCTF{é}", "explanation": "line\nbreak \"q\""}},
        {"a": {"value": 10**30, "numeric": None, "answer": "", "explanation": ""},
         "b": {"value": True, "numeric": 0.5, "answer": "x", "explanation": "y"}},
        {"nan": {"value": float("nan"), "numeric": float("inf"), "answer": "", "explanation": ""}},
        {"nested": {"value": {"acc": [1, 2]}, "numeric": None, "answer": "", "explanation": ""}},
        {"surrogate": {"value": "\ud800", "numeric": 1.0, "answer": "\udfff", "explanation": ""}},
    ]

    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return (math.isnan(a) and math.isnan(b)) or a == b
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        return a == b

    for scores in cases:
        assert same(json.loads(_scores_json(scores)), json.loads(json.dumps(scores, ensure_ascii=False, default=str)))
