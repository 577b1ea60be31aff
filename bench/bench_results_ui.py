"""Results explorer figures: first paint of a run with 1,000,000 samples, jumping/filtering/
searching in it, and the comparison view for 10 runs.

    QT_QPA_PLATFORM=offscreen python bench/bench_results_ui.py [--samples N] [--write]

The data goes in through the real import path (a CSV in the documented layout, imported by
app.services.results.import_files into an encrypted workstation). --write replaces the
"Results explorer" section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import csv
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 5
PASSPHRASE = "bench-granite-harbour-42"
SECTION = "## Results explorer"
COMPARE_RUNS = 10
COMPARE_SAMPLES = 5_000
WORDS = ("buffer overflow heap stack kernel exploit payload shellcode injection privilege escalation sandbox "
         "firewall packet capture reverse engineering binary cipher hash password token session cookie").split()


def write_csv(path: Path, task: str, model: str, n: int, seed: int, ability: float) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["task", "model", "metric", "value", "stderr", "sample_id", "epoch", "score", "answer", "target",
                    "input", "error", "total_time", "input_tokens", "output_tokens"])
        w.writerow([task, model, "accuracy", ability, 0.001] + [""] * 10)
        for i in range(n):
            words = " ".join(rng.choice(WORDS) for _ in range(12))
            error = "sandbox timed out" if rng.random() < 0.01 else ""
            score = 0 if error else int(rng.random() < ability)
            w.writerow([task, model, "", "", "", f"s{i:07d}", 1, score, f"answer {i} {words[:40]}", f"target {i}",
                        f"Task {i}: {words}", error, round(rng.uniform(1, 300), 1), rng.randint(100, 9000),
                        rng.randint(10, 900)])


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def ms(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0] * 1000:.0f} ms"
    return f"{statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    n = int(argv[argv.index("--samples") + 1]) if "--samples" in argv else 1_000_000
    from PySide6.QtWidgets import QApplication

    from app.model.accounts import Role
    from app.model.results import SampleFilter
    from app.model.submissions import Submission
    from app.services import results, submissions, users, workstation
    from ui import theme
    from ui.context import UiContext
    from ui.jobs import JobRunner
    from ui.screens.compare_screen import CompareScreen
    from ui.screens.run_detail import RunDetail

    tmp = Path(tempfile.mkdtemp(prefix="bench-results-ui-"))
    print(f"workstation in {tmp}", file=sys.stderr)
    init = workstation.initialize(tmp / "ws", workstation_name="Bench", system_high="SECRET//NOFORN",
                                  admin_username="admin", admin_display_name="Admin",
                                  admin_passphrase=PASSPHRASE, use_keyring=False)
    users.create_and_enrol(init.session, PASSPHRASE, "reviewer", "Bench Reviewer", Role.REVIEWER, PASSPHRASE)
    init.session.close()
    session = workstation.sign_in(tmp / "ws", "reviewer", PASSPHRASE)
    big_sub = submissions.create(session, Submission("Bench Labs", "Big", "1.0", date(2026, 11, 1),
                                                     date(2026, 11, 28)))
    assert big_sub.id is not None
    big_csv = tmp / "big.csv"
    t = time.perf_counter()
    write_csv(big_csv, "wmdp_cyber", "bench/big-1.0", n, 1, 0.4)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    (outcome,) = results.import_files(session, [str(big_csv)], big_sub.id)
    imported = time.perf_counter() - t
    assert outcome.status == "imported" and outcome.run_id is not None, outcome.message
    big_run = outcome.run_id
    size_mb = big_csv.stat().st_size / 1e6
    big_csv.unlink()

    # 10 runs of one benchmark: 5 model lines x 2 versions, same sample ids
    for i in range(COMPARE_RUNS):
        sub = submissions.create(session, Submission(f"Dev {i // 2}", f"Model{i // 2}", f"{i % 2 + 1}.0",
                                                     date(2026, 11, 1), date(2026, 11, 28)))
        assert sub.id is not None
        path = tmp / f"cmp{i}.csv"
        write_csv(path, "gdm_intercode_ctf", f"dev{i // 2}/model{i // 2}-{i % 2 + 1}.0", COMPARE_SAMPLES, 100 + i,
                  0.2 + 0.05 * i)
        (o,) = results.import_files(session, [str(path)], sub.id)
        assert o.status == "imported", o.message

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    theme.apply(app)
    ctx = UiContext(session=session, jobs=JobRunner(synchronous=True))
    figures: dict[str, list[float]] = {}
    keep: list[RunDetail] = []
    rss_before = rss_mb()

    def first_paint() -> None:
        w = RunDetail(ctx, big_run)
        w.resize(1280, 800)
        w.show()
        app.processEvents()
        w.grab()  # the visible rows are really fetched and painted
        keep.append(w)

    figures[f"run detail first paint ({n:,} samples)"] = [timed(first_paint) for _ in range(RUNS)]
    detail = keep[-1]
    table = detail.table
    model = detail.model

    def jump(row: int) -> Callable[[], None]:
        def go() -> None:
            table.scrollTo(model.index(row, 0))
            app.processEvents()
            table.grab()
        return go

    def cold(row: int) -> float:
        table.scrollToTop()
        app.processEvents()
        model.clear_cache()  # measure a real fetch, not the page cache
        return timed(jump(row))

    figures["scroll: next screen (rows 40-80; page already cached)"] = [timed(jump(80)) for _ in range(RUNS)]
    figures["jump to the middle (row 500,000; uncached page)"] = [cold(min(500_000, n - 1)) for _ in range(RUNS)]
    figures["jump to the last row (uncached page)"] = [cold(n - 1) for _ in range(RUNS)]

    def apply(setup: Callable[[], None]) -> Callable[[], None]:
        def go() -> None:
            setup()
            detail.apply_filters()
            app.processEvents()
            table.grab()
        return go

    def reset() -> None:
        detail.search_edit.setText("")
        detail.score_combo.setCurrentIndex(0)
        detail.error_combo.setCurrentIndex(0)
        detail.apply_filters()

    def time_filter(name: str, setup: Callable[[], None]) -> None:
        values = []
        for _ in range(RUNS):
            reset()
            values.append(timed(apply(setup)))
        figures[name] = values

    time_filter("filter: correct only (count + first page)", lambda: detail.score_combo.setCurrentIndex(1))
    time_filter("filter: incorrect only (count + first page)", lambda: detail.score_combo.setCurrentIndex(2))
    errored = results.count_samples(session, big_run, SampleFilter(errors_only=True))
    time_filter(f"filter: errored only ({errored:,} rows)", lambda: detail.error_combo.setCurrentIndex(1))
    needle = f"Task {n * 7 // 9}"
    hits = results.count_samples(session, big_run, SampleFilter(search=needle))
    time_filter(f"full-text search, 2 words ({hits:,} hit)", lambda: detail.search_edit.setText(needle))
    common = results.count_samples(session, big_run, SampleFilter(search="kernel exploit"))
    time_filter(f"full-text search, common words ({common:,} hits)",
                lambda: detail.search_edit.setText("kernel exploit"))
    reset()
    rss_after = rss_mb()

    screens: list[CompareScreen] = []

    def compare_open() -> None:
        w = CompareScreen(ctx)
        w.resize(1280, 800)
        w.refresh()  # as the main window does on showing it: the first benchmark is InterCode-CTF
        w.select_benchmark("InterCode-CTF")
        w.show()
        app.processEvents()
        w.grab()
        screens.append(w)

    figures[f"compare view open, {COMPARE_RUNS} runs x {COMPARE_SAMPLES:,} samples (incl. per-sample deltas)"] = [
        timed(compare_open) for _ in range(RUNS)]
    cmp = screens[-1]
    assert len(cmp.lines) == COMPARE_RUNS, len(cmp.lines)
    lines = cmp.lines

    def switch_pair() -> None:
        cmp.set_pair(lines[0].run_id, lines[-1].run_id)
        app.processEvents()
        cmp.grab()

    figures["compare: choose another pair of runs"] = [timed(switch_pair) for _ in range(RUNS)]

    def compare_big() -> None:
        cmp.select_benchmark("WMDP-cyber")
        app.processEvents()
        cmp.grab()
        cmp.select_benchmark("InterCode-CTF")

    figures[f"compare: benchmark with one {n:,}-sample run (worker-thread job; screen stays responsive)"] = [
        timed(compare_big) for _ in range(2)]

    for w in [*keep, *screens]:
        w.close()
        w.deleteLater()
    app.processEvents()
    session.close()
    shutil.rmtree(tmp, ignore_errors=True)  # about 0.5 GB of encrypted database

    cpu = platform.processor() or platform.machine()
    text = "\n".join([
        SECTION,
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        "Qt offscreen platform, SQLCipher database.",
        f"Command: `QT_QPA_PLATFORM=offscreen python bench/bench_results_ui.py --write` (median of {RUNS} runs).",
        f"Data: one run of {n:,} samples imported through the real CSV import path ({size_mb:.0f} MB CSV written "
        f"in {gen:.0f} s, imported with FTS5 indexing in {imported:.0f} s = {n / imported:,.0f} samples/s), plus "
        f"{COMPARE_RUNS} runs of {COMPARE_SAMPLES:,} samples with the same sample ids for the comparison.",
        "",
        "| Measure | Time |",
        "|---|---|",
        *[f"| {name} | {ms(values)} |" for name, values in figures.items()],
        "",
        f"Peak RSS of the benchmark process: {rss_before:.0f} MB before opening the run, {rss_after:.0f} MB after "
        "all of the above (the windowed model keeps at most 24 pages of 200 rows).",
        "",
        "First paint needs no count query (the run's stored sample count is used) and fetches one page of 200 "
        "rows; filters and search cost one COUNT plus one page, read on a worker thread (the window stays "
        "responsive; the figures are the wait), done in SQL on (run_id, ...) indexes and the "
        "FTS5 index. In log order a page is found by key (the id after the last row of the page before), "
        "other sorts by OFFSET on their index counting ids alone (storage/results_repo.page_samples), so a "
        "jump deep into a million-row run costs about what the first page does; scrolling near a cached page "
        "costs nothing. This benchmark runs the UI's jobs synchronously (JobRunner(synchronous=True)), so the "
        "first visit's maximum includes the statistics and conformance line (about 3 s for this run), which "
        "the app computes on a worker thread after the paint (bench/bench_first_paint.py). A score filter switches "
        "the order to score (the (run_id, score, id) index answers it; log order would make SQLite sort every "
        "match: 3-5 s per page on this run before that change). The comparison is gathered on a worker thread, "
        "so the last figure is waiting time, not a frozen window.",
        "",
    ])
    from perfdoc import publish

    publish(SECTION, text, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
