"""First paint of a run's page when the run has 1,000,000 samples (issue 19: < 100 ms).

    QT_QPA_PLATFORM=offscreen python bench/bench_first_paint.py [--samples N] [--keep DIR] [--write]

The run goes in through storage.results_repo (the import path's repository) in transactions of
20,000 samples; --keep DIR keeps the workstation for the next invocation (built once, ~1 min on a
quiet machine). Each measurement is a first visit: the per-run caches of the statistics and
conformance services are emptied before it. The clock runs from constructing the page until its
table's first paint has been handled (the visible rows fetched and drawn), also as CPU time of the
GUI thread, and, as before, until a `grab()` (a second full render) returns; the page's statistics
line (a full pass over the run's scores) is read on a worker thread and timed until it is shown.
Each page is hidden once its statistics are shown, as the app replaces the page of the run before
(a page left showing was repainted during the next visit: a second window's paint in its figure).
--write replaces the "## First paint of a 1,000,000-sample run" section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PASS = "bench-first-paint-passphrase-42"
SECTION = "## First paint of a 1,000,000-sample run"
RUNS = 5
WORDS = ("buffer overflow heap stack canary flag shellcode ropchain format string injection sql xss csrf "
         "deserialization race toctou kernel module privilege escalation reverse engineering binary").split()


def build(data_dir: Path, n: int) -> None:
    from datetime import date

    from app.model.accounts import Role
    from app.model.results import EvalRun, Harness, MetricValue, RunStatus, SampleResult, Score
    from app.model.submissions import Submission
    from app.services import submissions, users, workstation
    from storage import results_repo as repo

    init = workstation.initialize(data_dir, workstation_name="bench", system_high="SECRET",
                                  admin_username="admin", admin_display_name="Admin", admin_passphrase=PASS,
                                  use_keyring=False)
    users.create_and_enrol(init.session, PASS, "rita", "Rita", Role.REVIEWER, PASS + "r")
    init.session.close()
    s = workstation.sign_in(data_dir, "rita", PASS + "r")
    sid = submissions.create(s, Submission(developer="Bench", model_name="mock", version="1",
                                           received=date(2026, 11, 1), planned_release=date(2026, 11, 30))).id
    assert sid is not None
    run = EvalRun(Harness.INSPECT, "0.3.285", "gdm_intercode_ctf", "1", "big/model", "2026-11-26", RunStatus.SUCCESS,
                  metrics=(MetricValue("includes", "accuracy", 0.4, 0.0005),), file_sha256="f" * 64,
                  original_name="big.eval", total_samples=n, completed_samples=n)
    rng = random.Random(7)
    with s.transaction() as conn:
        run_id = repo.insert_run(conn, run, sid, "inspect-eval", "rita", "2026-11-26")
    done = 0
    while done < n:
        batch = []
        for i in range(done, min(n, done + 20_000)):
            words = " ".join(rng.choice(WORDS) for _ in range(12))
            v = rng.random() < 0.4
            batch.append(SampleResult(sample_id=f"s{i:07d}", epoch=1, scores={"includes": Score.of("C" if v else "I")},
                                      input_text=f"Challenge {i}: {words}", target=f"flag{{{i:x}}}",
                                      answer=f"I found {rng.choice(WORDS)} {i}",
                                      error="timeout" if i % 997 == 0 else "",
                                      total_time=rng.random() * 100, total_tokens=rng.randint(100, 90000)))
        with s.transaction() as conn:
            repo.insert_samples(conn, run_id, batch)
        done += len(batch)
    with s.transaction() as conn:
        repo.finish_run(conn, run_id, n, n // 997 + 1)
    s.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--keep", help="folder for the workstation (reused when it exists)")
    ap.add_argument("--write", action="store_true")
    ns = ap.parse_args()
    import tempfile

    folder = Path(ns.keep or tempfile.mkdtemp(prefix="bench-first-paint-"))
    data_dir = folder / f"ws_{ns.samples}"
    if not data_dir.exists():
        t0 = time.perf_counter()
        build(data_dir, ns.samples)
        print(f"built {ns.samples:,} samples in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    from PySide6.QtWidgets import QApplication

    from app.services import benchmarks, workstation
    from app.services import statistics as run_stats
    from ui import theme
    from ui.context import UiContext
    from ui.jobs import JobRunner
    from ui.screens.run_detail import RunDetail

    session = workstation.sign_in(data_dir, "rita", PASS + "r")
    run_id = int(session.db.conn.execute("SELECT id FROM eval_runs").fetchone()[0])
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    theme.apply(app)
    ctx = UiContext(session=session, jobs=JobRunner())  # as in the app: jobs on worker threads
    paints: list[float] = []
    paint_cpu: list[float] = []
    grabbed: list[float] = []
    ready: list[float] = []
    pages: list[RunDetail] = []
    for _ in range(RUNS):
        run_stats._CACHE.clear()  # a first visit: nothing computed for this run yet
        benchmarks._CHECKED.clear()
        t0, c0 = time.perf_counter(), time.thread_time()
        w = RunDetail(ctx, run_id)
        w.resize(1280, 800)
        w.show()
        while not w._painted:  # set when the table's first paint event arrives; it is handled before this returns
            app.processEvents()
        paints.append(time.perf_counter() - t0)
        paint_cpu.append(time.thread_time() - c0)
        w.grab()  # a second, complete render of the page (the measure used before)
        grabbed.append(time.perf_counter() - t0)
        while w.conformance_pending:
            app.processEvents()
            time.sleep(0.001)
        ready.append(time.perf_counter() - t0)
        w.hide()
        pages.append(w)
    session.close()

    def ms(values: list[float]) -> str:
        return (f"{statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f}, "
                f"max {max(values) * 1000:.0f})")

    machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, Qt offscreen; "
               f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    text = "\n".join([
        SECTION, "",
        f"Command: `QT_QPA_PLATFORM=offscreen python bench/bench_first_paint.py --samples {ns.samples}` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).  ",
        f"Machine: {machine}. {RUNS} first visits (service caches emptied before each), median.", "",
        "| measure | time |", "|---|---:|",
        f"| run page first paint ({ns.samples:,} samples: header, filters, first screen of rows) | {ms(paints)} |",
        f"| the same, CPU time of the GUI thread | {ms(paint_cpu)} |",
        f"| first paint plus `grab()` (a second full render of the page) | {ms(grabbed)} |",
        f"| statistics and conformance line shown (worker thread, after the paint) | {ms(ready)} |",
        "",
    ])
    from perfdoc import publish

    publish(SECTION, text, sys.argv if ns.write else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
