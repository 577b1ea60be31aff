"""Statistics of stored runs for the UI, the CLI and the report (app.model.stats does the arithmetic).

    run_statistics(session, run_id) -> stats.RunStatistics      interval of the run's mean score
    compare_runs(session, run_a, run_b) -> RunComparison         B - A on the samples both scored

Both read the per-sample scores the results repository stored at import (one score per sample and
epoch: the primary scorer's numeric value, averaged over epochs in SQL), never the log's own
summary figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.model import stats
from app.model.accounts import Permission
from app.model.errors import ValidationError
from app.model.results import EvalRun
from app.services import results as results_service
from app.services.session import Session
from storage import benchmarks_repo
from storage.db import Connection


@dataclass(frozen=True)
class RunComparison:
    a: EvalRun
    b: EvalRun
    paired: stats.PairedComparison | None  # None: the runs share no scored sample

    @property
    def text(self) -> str:
        if self.paired is None:
            return (f"runs {self.a.id} and {self.b.id} share no scored sample id: no paired comparison is "
                    "possible (compare the intervals of each run instead)")
        return self.paired.text


def sample_means(session: Session, run_id: int) -> tuple[dict[str, float | None], int]:
    """Per-sample mean scores (epochs averaged; None: no scored epoch) and the most epochs of a sample."""
    session.require(Permission.VIEW_CONTENT)
    return benchmarks_repo.sample_means(session.db.conn, run_id)


_CACHE: dict[tuple[object, ...], stats.RunStatistics] = {}


def of_run(conn: Connection, run: EvalRun) -> stats.RunStatistics:
    """No role check (coverage inputs, trend, report). Stored runs never change: computed once each."""
    key = (run.id, run.file_sha256, run.imported_at)
    cached = _CACHE.get(key)
    if cached is None:
        values, epochs = benchmarks_repo.sample_mean_values(conn, run.id or 0)
        cached = stats.summarize(values, epochs)
        if len(_CACHE) > 10_000:
            _CACHE.clear()
        _CACHE[key] = cached
    return cached


def run_statistics(session: Session, run_id: int) -> stats.RunStatistics:
    run = results_service.get_run(session, run_id)  # NotFound for an unknown run, role check
    return of_run(session.db.conn, run)


def compare_runs(session: Session, run_a: int, run_b: int) -> RunComparison:
    """Paired comparison of two runs of the same benchmark (or the same task when unmapped)."""
    a = results_service.get_run(session, run_a)
    b = results_service.get_run(session, run_b)
    if run_a == run_b:
        raise ValidationError("compare", "compare a run with a different run")
    key_a, key_b = a.benchmark or a.task, b.benchmark or b.task
    if key_a != key_b:
        raise ValidationError("compare", f"run {run_a} is {key_a!r} but run {run_b} is {key_b!r}: a paired "
                              "comparison needs two runs of the same benchmark")
    return RunComparison(a, b, stats.compare_means(sample_means(session, run_a)[0], sample_means(session, run_b)[0]))
