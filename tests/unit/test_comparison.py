"""app.model.comparison: the pure rules behind the Compare screen (no Qt, no database)."""

from __future__ import annotations

from datetime import date

from app.model.comparison import (
    DeltaRow,
    build_lines,
    default_pair,
    metric_names,
    metric_of,
    pair_deltas,
    summarise,
    trend,
    version_key,
)
from app.model.results import Comparison, Direction, EvalRun, Harness, MetricValue, RunStatus, SampleDelta
from app.model.submissions import Submission


def _sub(sid: int, model: str, version: str, developer: str = "Acme") -> Submission:
    return Submission(developer, model, version, date(2026, 11, 1), date(2026, 11, 28), id=sid)


def _run(rid: int, sid: int, acc: float | None, *, status: RunStatus = RunStatus.SUCCESS, incomplete: bool = False,
         samples: int = 10, imported_at: str = "2026-11-02T10:00:00", extra: tuple[MetricValue, ...] = ()) -> EvalRun:
    metrics = (MetricValue("match", "accuracy", acc, 0.05), MetricValue("match", "stderr", 0.05), *extra)
    return EvalRun(Harness.INSPECT, "0.3", "gdm_intercode_ctf", "1", "m", "2026-11-01", status, metrics=metrics,
                   incomplete=incomplete, id=rid, submission_id=sid, sample_count=samples, imported_at=imported_at)


SUBS = {1: _sub(1, "Falcon", "1.9"), 2: _sub(2, "Falcon", "1.10"), 3: _sub(3, "Q", "1.0", "Borealis"),
        4: _sub(4, "Falcon", "2.0")}


def _comparison(runs: list[EvalRun], samples: tuple[SampleDelta, ...] = ()) -> Comparison:
    return Comparison("InterCode-CTF", "accuracy", Direction.HIGHER, tuple(runs),
                      {r.id: (metric_of(r, "accuracy").value if metric_of(r, "accuracy") else None)  # type: ignore[union-attr]
                       for r in runs}, {r.id: 0.05 for r in runs}, samples)


def test_version_key_is_natural_order() -> None:
    assert sorted(["2.0", "1.10", "1.9", "1.0-rc1", "1.0"], key=version_key) == ["1.0", "1.0-rc1", "1.9", "1.10", "2.0"]
    assert version_key("V1.2") == version_key("v1.2")


def test_metric_names_most_shared_first_and_spread_statistics_left_out() -> None:
    runs = [_run(1, 1, 0.5, extra=(MetricValue("m", "mean", 0.4),)), _run(2, 2, 0.6)]
    assert metric_names(runs) == ["accuracy", "mean"]  # "stderr" is not a metric one compares
    assert metric_of(runs[0], "mean") == MetricValue("m", "mean", 0.4)
    assert metric_of(_run(3, 1, None), "accuracy") is None  # a missing value is no value


def test_build_lines_orders_by_model_line_then_natural_version() -> None:
    runs = [_run(10, 4, 0.9), _run(11, 3, 0.2), _run(12, 1, 0.5), _run(13, 2, 0.7), _run(14, 99, 0.1)]
    lines = build_lines(_comparison(runs), SUBS, "accuracy")
    assert [ln.run_id for ln in lines] == [12, 13, 10, 11, 14]  # Acme Falcon 1.9 < 1.10 < 2.0, Borealis, unknown
    assert lines[0].label == "Acme Falcon 1.9 · run 12" and lines[0].short_label == "Falcon 1.9 (run 12)"
    assert lines[-1].who == "submission #99" and lines[-1].version == ""  # a submission not (yet) loaded
    other = build_lines(_comparison([_run(1, 1, 0.5, extra=(MetricValue("m", "mean", 0.4, 0.1),))]), SUBS, "mean")
    assert (other[0].value, other[0].stderr) == (0.4, 0.1)  # another metric is read from the run itself


def test_default_pair_is_previous_vs_newest_version_of_the_fullest_line() -> None:
    runs = [_run(1, 1, 0.5), _run(2, 2, 0.6), _run(3, 4, 0.7), _run(4, 3, 0.2)]
    assert default_pair(build_lines(_comparison(runs), SUBS, "accuracy")) == (2, 3)  # Falcon 1.10 -> 2.0


def test_default_pair_prefers_a_complete_run_per_version_and_falls_back_to_first_two() -> None:
    runs = [_run(1, 1, 0.5), _run(2, 4, 0.7, samples=40), _run(3, 4, 0.9, status=RunStatus.ERROR, samples=400)]
    assert default_pair(build_lines(_comparison(runs), SUBS, "accuracy")) == (1, 2)
    one_each = [_run(5, 1, 0.5), _run(6, 3, 0.2)]  # no model line with two versions
    assert default_pair(build_lines(_comparison(one_each), SUBS, "accuracy")) == (5, 6)
    assert default_pair(build_lines(_comparison([_run(7, 1, 0.5)]), SUBS, "accuracy")) is None


def test_trend_takes_latest_successful_run_per_version_and_gaps_stay_empty() -> None:
    runs = [_run(1, 1, 0.5), _run(2, 1, 0.55, imported_at="2026-11-05T00:00:00"),
            _run(3, 4, 0.9, incomplete=True, imported_at="2026-11-09T00:00:00"), _run(4, 4, 0.7),
            _run(5, 3, 0.2)]
    versions, series = trend(build_lines(_comparison(runs), SUBS, "accuracy"))
    assert versions == ("1.0", "1.9", "2.0")
    by_line = {s.lineage: s for s in series}
    assert by_line["Acme Falcon"].values == (None, 0.55, 0.7)  # the incomplete re-run of 2.0 loses
    assert by_line["Borealis Q"].values == (0.2, None, None)
    assert by_line["Acme Falcon"].stderrs == (None, 0.05, 0.05)


def test_pair_deltas_keep_only_samples_scored_finitely_in_both_runs() -> None:
    samples = (SampleDelta("s1", 1, {1: 0.0, 2: 1.0}), SampleDelta("s2", 1, {1: 1.0, 2: 0.0}),
               SampleDelta("s3", 1, {1: 1.0, 2: 1.0}), SampleDelta("s4", 1, {1: 1.0}),
               SampleDelta("s5", 2, {1: float("nan"), 2: 1.0}), SampleDelta("s6", 1, {1: None, 2: 1.0}))
    rows = pair_deltas(_comparison([_run(1, 1, 0.5), _run(2, 2, 0.6)], samples), 1, 2)
    assert [(r.sample_id, r.delta) for r in rows] == [("s1", 1.0), ("s2", -1.0), ("s3", 0.0)]


def test_summarise_counts_in_the_metric_direction() -> None:
    rows = [DeltaRow("a", 1, 0.0, 1.0), DeltaRow("b", 1, 1.0, 0.0), DeltaRow("c", 1, 2.0, 0.5), DeltaRow("d", 1, 1, 1)]
    assert summarise(rows, Direction.HIGHER) == (1, 2, 1)
    assert summarise(rows, Direction.LOWER) == (2, 1, 1)  # e.g. mean absolute deviation: lower is better
    assert summarise(rows, Direction.UNKNOWN) == (1, 2, 1)  # unknown counts as higher-is-better
    assert rows[3].better(Direction.HIGHER) is None
