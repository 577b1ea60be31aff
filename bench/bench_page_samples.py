"""Cost of one page of 200 samples (results_repo.page_samples, the hot path of a run's first paint
and of paging) and how much of it is turning rows into SampleRow (issue 18: mapping by column name
must not slow it measurably).

    python bench/bench_page_samples.py [--samples N] [--repeats R] [--baseline REV]

An encrypted database (storage.db, random raw key) gets one run of N samples through
storage.results_repo. Timed, each R times at offsets spread over the run, interleaved (each page
read once untimed first, then the variants in rotating order) so the page cache and load changes
favour none of them:
  - page: `page_samples(conn, run, SampleFilter(), offset, 200)`;
  - same queries, no mapping: the id lookup and the SELECT's `fetchall()` that page_samples runs,
    without making SampleRows (what the mapping costs is the difference);
  - with --baseline REV: page_samples of storage/results_repo.py as it was at git revision REV,
    loaded beside the current one, on the same connection; if REV maps positionally (before issue
    18), also the mapping step alone on the page's fetched rows, positional and by name.
Prints medians (µs per page, wall and CPU), the least CPU time and the machine's load.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PAGE = 200


def baseline_module(rev: str, tmp: Path) -> ModuleType:
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:storage/results_repo.py"],
                         check=True, capture_output=True, text=True).stdout
    path = tmp / "results_repo_baseline.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("results_repo_baseline", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def fill(conn: Any, repo: ModuleType, n: int) -> int:
    from app.model.results import EvalRun, Harness, MetricValue, RunStatus, SampleResult, Score

    rng = random.Random(7)
    run = EvalRun(Harness.INSPECT, "0.3.285", "bench_task", "1", "bench/model", "2026-12-02", RunStatus.SUCCESS,
                  metrics=(MetricValue("includes", "accuracy", 0.4, 0.01),), file_sha256="e" * 64,
                  original_name="bench.eval", total_samples=n, completed_samples=n)
    conn.execute("PRAGMA foreign_keys = OFF")  # no submission row: this measures the samples table only
    conn.execute("BEGIN IMMEDIATE")
    run_id = int(repo.insert_run(conn, run, 1, "inspect-eval", "bench", "2026-12-02"))
    batch = [SampleResult(sample_id=f"s{i:06d}", epoch=1,
                          scores={"includes": Score.of("C" if rng.random() < .4 else "I")},
                          input_text=f"Challenge {i}: " + "word " * rng.randint(20, 200), target=f"flag{{{i:x}}}",
                          answer=f"answer {i}", error="timeout" if i % 97 == 0 else "",
                          total_time=rng.random() * 100, total_tokens=rng.randint(100, 90_000),
                          transcript={"messages": [{"role": "user", "content": f"m{i}"}]} if i % 2 else None)
             for i in range(n)]
    repo.insert_samples(conn, run_id, batch)
    repo.finish_run(conn, run_id, n, n // 97 + 1)
    conn.execute("COMMIT")
    return run_id


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=400)
    ap.add_argument("--baseline", help="git revision whose storage/results_repo.py to time beside the current one")
    ns = ap.parse_args()

    from app.model.results import SampleFilter, SampleRow
    from storage import results_repo
    from storage.db import Database
    from storage.rows import column_names, mapper

    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(Path(tmp) / "bench.db", os.urandom(32), create=True)
        conn = db.conn
        run_id = fill(conn, results_repo, ns.samples)
        f = SampleFilter()
        sql = (f"SELECT {results_repo._SAMPLE_COLS} FROM eval_samples s WHERE s.run_id = ? AND s.id >= ? "
               "ORDER BY s.id ASC LIMIT ? OFFSET 0")

        fetched: list[Any] = [conn.execute(sql, (run_id, 0, PAGE)).fetchall()]
        variants: dict[str, Callable[[int], Any]] = {
            "page_samples (this tree)": lambda off: results_repo.page_samples(conn, run_id, f, off, PAGE),
            "same queries, no mapping": lambda off: conn.execute(
                sql, (run_id, results_repo._contiguous_start(conn, run_id, off, False), PAGE)).fetchall(),
        }
        if ns.baseline:
            base = baseline_module(ns.baseline, Path(tmp))
            variants[f"page_samples at {ns.baseline}"] = lambda off: base.page_samples(conn, run_id, f, off, PAGE)
            a, b = results_repo.page_samples(conn, run_id, f, 777, PAGE), base.page_samples(conn, run_id, f, 777, PAGE)
            assert a == b, "the two revisions return different pages"
            if hasattr(base, "_sample_row"):  # the positional row function before issue 18
                cols = column_names(conn.execute(sql, (run_id, 0, 0)))

                def by_name(off: int) -> list[Any]:
                    to_row = mapper(SampleRow, cols, results_repo._SAMPLE)  # once per page, as page_samples
                    return [to_row(r) for r in fetched[0]]
                variants["map fetched rows: by name"] = by_name
                variants[f"map fetched rows: positional at {ns.baseline}"] = lambda off: [
                    base._sample_row(r) for r in fetched[0]]

        rng = random.Random(11)
        offsets = [rng.randrange(0, ns.samples - PAGE) for _ in range(ns.repeats)]
        wall: dict[str, list[float]] = {k: [] for k in variants}
        cpu: dict[str, list[float]] = {k: [] for k in variants}
        for fn in variants.values():  # warm the page cache for every variant
            for off in offsets[:20]:
                fn(off)
        names = list(variants)
        for k, off in enumerate(offsets):
            fetched[0] = variants[names[1]](off)  # the page's rows read (and decrypted) once, untimed
            for name in names[k % len(names):] + names[:k % len(names)]:  # each variant goes first in turn
                fn = variants[name]
                w, c = time.perf_counter(), time.process_time()
                rows = fn(off)
                cpu[name].append(time.process_time() - c)
                wall[name].append(time.perf_counter() - w)
                assert len(rows) == PAGE
        db.close()

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"command: python bench/bench_page_samples.py --samples {ns.samples} --repeats {ns.repeats}"
          + (f" --baseline {ns.baseline}" if ns.baseline else ""))
    print(f"| variant ({PAGE} rows, {ns.repeats} pages) | median wall µs | p90 wall µs | median CPU µs | "
          "min CPU µs |")
    print("|---|---:|---:|---:|---:|")
    for name in variants:
        ws = sorted(wall[name])
        print(f"| {name} | {statistics.median(ws) * 1e6:,.0f} | {ws[int(len(ws) * 0.9)] * 1e6:,.0f} | "
              f"{statistics.median(cpu[name]) * 1e6:,.0f} | {min(cpu[name]) * 1e6:,.0f} |")


if __name__ == "__main__":
    main()
