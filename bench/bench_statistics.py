"""Honest-statistics figures (issue 17): the interval of a 40,000-sample run computed from its stored
samples, a paired bootstrap (10,000 resamples) over 5,000 paired samples, and the trend over 200 runs.

    python bench/bench_statistics.py [--write]

Runs are imported through the real path (CSV files, app.services.results.import_files) into a
temporary SQLCipher workstation; the figures time the service calls the UI and CLI make, database
reads included. --write replaces the "Statistics" section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import os
import platform
import random
import statistics as pystats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = "bench-granite-harbour-42"
SECTION = "## Statistics"


def write_csv(path: Path, task: str, model: str, n: int, scores: Callable[[int], float]) -> Path:
    values = [scores(i) for i in range(n)]
    lines = ["task,model,metric,value,sample_id,epoch,score",
             f"{task},{model},accuracy,{sum(values) / n},,,"]
    lines += [f"{task},{model},,,s{i},1,{v}" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    return path


def cold() -> None:
    """Forget per-run statistics and conformance computed earlier (the services cache them per run)."""
    from app.services import benchmarks, statistics

    statistics._CACHE.clear()
    benchmarks._CHECKED.clear()


def timed(fn: Callable[[], object], repeat: int = 5, fresh: bool = True) -> list[float]:
    out = []
    for _ in range(repeat):
        if fresh:
            cold()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def fmt(values: list[float]) -> str:
    return f"{pystats.median(values) * 1000:.0f} ms (max {max(values) * 1000:.0f}; n={len(values)})"


def main(argv: list[str]) -> int:
    from app.model import stats
    from app.model.accounts import Role
    from app.model.submissions import Submission
    from app.services import results, statistics, submissions, users, workstation

    rng = random.Random(17)
    tmp = Path(tempfile.mkdtemp(prefix="bench-statistics-"))
    init = workstation.initialize(tmp / "ws", workstation_name="Bench", system_high="SECRET//NOFORN",
                                  admin_username="admin", admin_display_name="Admin",
                                  admin_passphrase=PASSPHRASE, use_keyring=False)
    users.create_and_enrol(init.session, PASSPHRASE, "reviewer", "Bench Reviewer", Role.REVIEWER, PASSPHRASE)
    init.session.close()
    s = workstation.sign_in(tmp / "ws", "reviewer", PASSPHRASE)
    sid = submissions.create(s, Submission("Bench Labs", "Big", "1.0", date(2026, 11, 1), date(2026, 11, 28))).id
    assert sid is not None
    figures: dict[str, tuple[list[float], str]] = {}

    big = write_csv(tmp / "big.csv", "gdm_intercode_ctf", "bench/big-1.0", 40_000, lambda i: float(rng.random() < 0.4))
    [out] = results.import_files(s, [big], sid)
    assert out.run_id is not None
    big_run = out.run_id
    figures["interval of a 40,000-sample run (read stored scores + Wilson)"] = (
        timed(lambda: statistics.run_statistics(s, big_run)), "< 200 ms")
    cont = write_csv(tmp / "cont.csv", "gdm_intercode_ctf", "bench/big-1.0", 40_000, lambda i: round(rng.random(), 6))
    [out] = results.import_files(s, [cont], sid)
    cont_run = out.run_id or 0
    figures["interval of a 40,000-sample run, continuous scores (read + bootstrap; 1,250 resamples at 50M draws)"] = (
        timed(lambda: statistics.run_statistics(s, cont_run)), "")

    a = {(f"s{i}", 1): rng.random() for i in range(5_000)}
    b = {k: min(1.0, v + rng.gauss(0.01, 0.05)) for k, v in a.items()}
    figures["paired bootstrap, 10,000 resamples, 5,000 paired continuous samples"] = (
        timed(lambda: stats.compare_runs(a, b)), "< 1 s")
    ab = {(f"s{i}", 1): float(rng.random() < 0.5) for i in range(5_000)}
    bb = {k: v if rng.random() < 0.9 else 1 - v for k, v in ab.items()}
    figures["McNemar + paired bootstrap, 5,000 paired binary samples"] = (timed(lambda: stats.compare_runs(ab, bb)), "")

    trend_fn = None
    try:
        from app.services import trend  # the trend view's service (issue 17 point 5)

        day = date(2025, 1, 1)
        for k in range(200):
            sub = submissions.create(s, Submission(f"Lab {k % 7}", f"M{k % 25}", f"{k // 25}.0",
                                                   day + timedelta(days=3 * k), day + timedelta(days=3 * k + 20))).id
            p = write_csv(tmp / f"t{k}.csv", "cybench", f"lab/m{k % 25}-{k // 25}", 200,
                          partial(lambda k, _i: float(rng.random() < 0.2 + k / 400), k))
            results.import_files(s, [p], sub or 0)

        def trend_fn() -> object:
            return trend.trend(s, "Cybench")
    except ImportError:
        pass
    if trend_fn is not None:
        figures["trend of one benchmark over 200 runs, first open (intervals and conformance computed)"] = (
            timed(trend_fn), "< 300 ms")
        figures["trend of one benchmark over 200 runs, opened again (per-run figures cached)"] = (
            timed(trend_fn, fresh=False), "< 300 ms")
    s.close()

    cpu = platform.processor() or platform.machine()
    rows = [f"| {name} | {fmt(values)} | {target} |" for name, (values, target) in figures.items()]
    text = "\n".join([
        SECTION,
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        "SQLCipher database on local disk.",
        "Command: `python bench/bench_statistics.py --write`",
        "Data: CSV runs imported through app.services.results; statistics through app.services.statistics "
        "(database read of the stored per-sample scores included); paired comparisons on in-memory scores.",
        "",
        "| Measure | Time (median) | Target |",
        "|---|---|---|",
        *rows,
        "",
        "Bootstraps resample with numpy. When the values take few distinct values (binary, partial credit, "
        "epoch means) a resample is drawn as one multinomial count vector over those values, which has exactly "
        "the distribution of resampling the items and costs O(distinct values) instead of O(n) per resample; "
        "otherwise indices are drawn in bounded chunks (about 32 MB). The seed is fixed, so a printed interval "
        "is reproducible.",
        "",
        "Per-run intervals and conformance results are cached in the process, keyed by run id, the log's "
        "SHA-256, the import time, the definition and the submission's model (stored runs never change): the "
        "first figures above are measured with the cache emptied before every call.",
        "",
    ])
    from perfdoc import publish

    publish(SECTION, text, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
