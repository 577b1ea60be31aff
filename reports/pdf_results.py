"""Benchmark results section: every imported run, errored and incomplete ones flagged with
their counts, and a chart with one bar per distinct run (intervals where a standard error exists)."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.platypus import Spacer

from app.model.markings import UNCLASSIFIED, rollup
from app.model.report import BenchmarkRow, ReportInput
from reports.pdf_charts import bar_chart, distinct_bars
from reports.pdf_format import count, score
from reports.pdf_story import Story, text_width

FLAG_BACKGROUND = colors.HexColor("#fff1c2")
MAX_ERROR_TEXT = 160


def _benchmark_cell(b: BenchmarkRow) -> str:
    task = b.task + (f" v{b.task_version}" if b.task_version else "")
    return b.benchmark if b.benchmark == task else f"{b.benchmark}\n{task}"


def _metric_cell(b: BenchmarkRow) -> str:
    if not b.metric:
        return ""
    arrow = "↑" if b.higher_is_better else "↓"
    reducer = f" ({b.reducer})" if b.reducer and b.reducer != "mean" else ""
    return f"{b.metric}{reducer} {arrow}"


def _value_cell(b: BenchmarkRow) -> str:
    if b.value is None:
        return "no score" if b.flagged else ""
    # non-breaking spaces: "0.425 ± 0.020" stays on one line
    return score(b.value) + (f"\u00a0±\u00a0{score(b.stderr)}" if b.stderr is not None else "")


def _samples_cell(b: BenchmarkRow) -> str:
    parts = []
    if b.samples is not None and b.total_samples is not None and b.samples != b.total_samples:
        parts.append(f"{count(b.samples)} of {count(b.total_samples)} completed")
    elif b.samples is not None:
        parts.append(count(b.samples))
    elif b.total_samples is not None:
        parts.append(f"0 of {count(b.total_samples)} completed")
    if b.errored_samples:
        parts.append(f"{count(b.errored_samples)} errored")
    if b.epochs > 1:
        parts.append(f"{b.epochs} epochs")
    return "\n".join(parts)


def _run_cell(b: BenchmarkRow) -> str:
    status = b.run_status.upper() if b.flagged else b.run_status
    if b.incomplete:
        status += " (INCOMPLETE)"
    lines = [" · ".join(p for p in (b.run_ref, status) if p), b.harness]
    return "\n".join(p for p in lines if p)


def _flag_note(rows: tuple[BenchmarkRow, ...]) -> str:
    parts = []
    for b in rows:
        what = "incomplete" if b.incomplete and b.run_status == "success" else b.run_status
        msg = " ".join(b.error_message.split())
        if len(msg) > MAX_ERROR_TEXT:
            msg = msg[:MAX_ERROR_TEXT].rsplit(" ", 1)[0] + " …"
        counts = _samples_cell(b).replace("\n", ", ")
        parts.append(f"{b.run_ref or b.task} ({b.benchmark}) ended {what}" + (f", {counts}" if counts else "")
                     + (f": {msg}" if msg else ""))
    return ("Runs that did not finish cleanly are listed and flagged, never dropped; their figures are not "
            "final: " + "; ".join(parts) + ".")


def results(s: Story, r: ReportInput, num: str) -> None:
    s.heading(1, f"{num} Benchmark results")
    if not r.benchmarks:
        s.para(UNCLASSIFIED, "No benchmark results are attached to this review.")
        return
    marking = rollup(b.marking for b in r.benchmarks)
    rows: list[list[object]] = []
    style: list[tuple[object, ...]] = []
    for n, b in enumerate(r.benchmarks, start=1):
        rows.append([b.marking.portion(), _benchmark_cell(b), _metric_cell(b), _value_cell(b), _samples_cell(b),
                     _run_cell(b)])
        if b.flagged:
            style.append(("BACKGROUND", (0, n), (-1, n), FLAG_BACKGROUND))
    s.table(marking, "Benchmark results: value ± standard error; ↑ higher is better, ↓ lower is better; "
            "flagged rows did not finish cleanly",
            ["Mark", "Benchmark", "Metric", "Value", "Samples", "Run"], rows, weights=[0, 3, 3, 2, 2, 3], style=style)
    flagged = tuple(b for b in r.benchmarks if b.flagged)
    if flagged:
        s.para(rollup(b.marking for b in flagged), _flag_note(flagged))
    bars = distinct_bars(r.benchmarks)
    chart = bar_chart(bars, text_width())
    if chart is not None:
        has_interval = any(b.row.stderr is not None for b in bars)
        s.caption("Figure", rollup(b.row.marking for b in bars),
                  "Scores on a 0-1 scale, one bar per distinct run"
                  + ("; whiskers: 95% interval (± 1.96 standard errors) where the run reports one" if has_interval
                     else ""))
        s.add(chart, Spacer(1, 8))
