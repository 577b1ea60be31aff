"""Capability trend for the app and the report: trend(session, benchmark) -> app.model.trend.Trend.

One point per submission (its most capable complete, successful run of the benchmark), dated by the
submission's received date; the metric is the benchmark definition's usual metric. Intervals come
from the stored samples (app.services.statistics), conformance from the definition.
"""

from __future__ import annotations

from app.model import benchmark_defs
from app.model.accounts import Permission
from app.model.coverage import canonical_metric
from app.model.errors import NotFound
from app.model.results import Direction, EvalRun, RunStatus
from app.model.submissions import Submission
from app.model.trend import Trend, TrendPoint, better
from app.services import benchmark_catalog
from app.services import benchmarks as benchmarks_service
from app.services import statistics as statistics_service
from app.services.session import Session
from storage import results_repo, submissions_repo


def _value(run: EvalRun, metric: str) -> float | None:
    want = canonical_metric(metric)
    m = next((m for m in run.metrics if m.value is not None and canonical_metric(m.metric) == want), None)
    return float(m.value) if m is not None and m.value is not None else None


def trend(session: Session, benchmark: str) -> Trend:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    defs = benchmark_catalog.all_definitions(conn)
    definition = benchmark_defs.find(defs, benchmark)
    name = definition.name if definition else benchmark
    resolve = benchmark_catalog.task_resolver(conn)
    tasks = [t for t in results_repo.all_tasks(conn) if resolve(t) == name]
    runs = [r for r in results_repo.runs_for_tasks(conn, tasks, resolve)
            if r.status is RunStatus.SUCCESS and not r.incomplete and r.id is not None]
    if not runs and definition is None:
        raise NotFound(f"No benchmark {benchmark!r} and no runs of it.")
    metric = definition.usual_metric if definition else ""
    if not metric:
        heads = [r.headline.metric for r in runs if r.headline]
        metric = max(set(heads), key=heads.count) if heads else "accuracy"
    spec = definition.metric(metric) if definition else None
    direction = spec.direction if spec else Direction.HIGHER
    subs: dict[int, Submission] = {}
    best: dict[int, tuple[float, EvalRun]] = {}
    for r in runs:
        v = _value(r, metric)
        sid = r.submission_id or 0
        if v is None:
            continue
        if sid not in best or better(direction, v, best[sid][0]):
            best[sid] = (v, r)
    points = []
    for sid, (v, r) in best.items():
        sub = subs.setdefault(sid, submissions_repo.get(conn, sid))
        st = statistics_service.of_run(conn, r)
        iv = st.interval
        has_iv = iv is not None and abs(iv.estimate - v) < 1e-6
        c = benchmarks_service.check_run(conn, r, definition) if definition else None
        points.append(TrendPoint(sid, r.id or 0, f"{sub.developer} {sub.model_name} {sub.version}",
                                 f"{sub.developer}\x1f{sub.model_name}".lower(), sub.version, sub.received, v,
                                 iv.low if has_iv and iv else None, iv.high if has_iv and iv else None,
                                 st.scored, None if c is None else c.conforming))
    points.sort(key=lambda p: (p.when, p.submission_id))
    return Trend(name, metric, direction, tuple(points))
