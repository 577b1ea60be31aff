"""Gather a submission's benchmark evidence for the findings report (app.model.benchmark_evidence)."""

from __future__ import annotations

from app.model.accounts import Permission
from app.model.benchmark_evidence import BenchmarkEvidence, RunEvidence
from app.model.markings import Marking, rollup
from app.services import benchmark_catalog, benchmarks, results, statistics, submission_signatures, trend
from app.services.session import Session
from storage import submissions_repo


def gather(session: Session, submission_id: int) -> BenchmarkEvidence:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    sub = submissions_repo.get(conn, submission_id)
    defs = {(d.benchmark_id, d.version): d for d in benchmark_catalog.all_definitions(conn)}
    markings = [sub.marking]
    runs = []
    for r in results.list_runs(session, submission_id):
        if r.id is None:
            continue
        st = statistics.of_run(conn, r)
        c = benchmarks.check_run(conn, r)
        devs: tuple[str, ...] = ()
        if c is None:
            text = "not checked: the task maps to no defined benchmark"
        else:
            d = defs.get((c.benchmark_id, c.benchmark_version))
            if d is not None:
                markings.append(Marking.parse(d.marking))
            text = (f"{'conforms' if c.conforming else 'does not conform'} to {c.benchmark_id} "
                    f"v{c.benchmark_version}")
            devs = tuple(f"{x.severity}: {x.text}" for x in c.deviations)
        runs.append(RunEvidence(r.id, r.benchmark or "(unmapped)", r.task, st.text, text,
                                None if c is None else c.conforming, devs))
    plan = benchmarks.plan(session, submission_id)
    trends, positions = [], []
    quoted: dict[int, Marking] = {}
    for item in plan.items:
        d = defs.get((item.benchmark_id, item.version))
        if d is not None:
            markings.append(Marking.parse(d.marking))
        t = trend.trend(session, item.benchmark_id)
        if not t.points:
            continue
        # The chart and the position lines quote every reviewed model's best value: the section is
        # marked at least as each of those submissions (a SECRET//NOFORN model's score under CUI was
        # a spill, and a release to a partner carried it).
        for p in t.points:
            if p.submission_id not in quoted:
                quoted[p.submission_id] = submission_signatures.marking_floor(session, conn, p.submission_id)
            markings.append(quoted[p.submission_id])
        pos = t.position(submission_id)
        trends.append(t)
        positions.append(pos.lines if pos is not None else ())
    return BenchmarkEvidence(
        submission_id, rollup(markings), tuple(runs),
        tuple(f"{i.benchmark_id} v{i.version}: {i.state}" + (f" (runs {', '.join(map(str, i.runs))})" if i.runs
                                                              else "") for i in plan.items),
        plan.progress_text, tuple(trends), tuple(positions))
