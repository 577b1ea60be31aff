"""Table model of evaluation runs (one row per imported log) for the results tab and comparisons.

The headline figure of each run is shown with its stderr, the sample count and the run status;
what makes a figure less trustworthy (errored samples, a run that did not finish, a log rebuilt
from its journal, an unmapped benchmark) is flagged in colour and explained in the tooltip.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QColor

from app.model.results import EvalRun, MetricValue, RunStatus
from ui.models.columns_model import RIGHT, Column, ColumnsTableModel
from ui.widgets.transcript_view import clean_text, plain_tooltip

COLUMNS = ("Benchmark", "Task", "Metric", "Value ± stderr", "n", "Status", "Errored", "Model", "Harness",
           "File", "Imported")
COL = {name: i for i, name in enumerate(COLUMNS)}

WARN_BG = QColor("#fff8c5")  # incomplete / unmapped
ERROR_BG = QColor("#ffebe9")  # errored samples / failed run
ERROR_FG = QColor("#a40e26")
MUTED_FG = QColor("#57606a")


def fmt_number(v: float | None, digits: int = 3) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def value_text(m: MetricValue | None) -> str:
    if m is None:
        return "—"
    s = fmt_number(m.value)
    if m.stderr is not None and math.isfinite(m.stderr):
        s += f" ± {fmt_number(m.stderr)}"
    return s


def metric_text(m: MetricValue | None) -> str:
    if m is None:
        return ""
    arrow = m.direction.arrow
    return clean_text(m.label, 200) + (f" {arrow}" if arrow else "")


def samples_text(run: EvalRun) -> str:
    n = run.completed_samples if run.completed_samples is not None else run.sample_count
    if run.total_samples is not None and run.total_samples != n:
        return f"{n:,} / {run.total_samples:,}"
    return f"{n:,}"


def status_text(run: EvalRun) -> str:
    s = run.status.value
    if run.incomplete:
        s += " (incomplete)"
    return s


def problems(run: EvalRun, with_notes: bool = True) -> list[str]:
    """Why a reviewer should be careful with this run's figure (shown as a tooltip, and tested);
    `with_notes` adds the importer's informational remarks."""
    out = []
    if run.errored_samples:
        out.append(f"{run.errored_samples:,} sample(s) errored; the figure may exclude or penalise them.")
    if run.status != RunStatus.SUCCESS:
        out.append(f"The run did not finish successfully (status: {run.status.value}).")
    if run.incomplete:
        out.append("The log is incomplete (rebuilt from its journal); figures are not final.")
    if run.error_message:
        out.append("Error: " + clean_text(run.error_message, 500))
    if not run.benchmark:
        out.append("The task is not mapped to a known benchmark.")
    if with_notes:
        out.extend(clean_text(n, 500) for n in run.notes)
    return out


def _task(run: EvalRun) -> str:
    return clean_text(run.task, 200) + (f" v{clean_text(run.task_version, 40)}" if run.task_version
                                        and run.task_version != "0" else "")


def _headline_sort(run: EvalRun) -> float:
    h = run.headline
    return h.value if h is not None and h.value is not None and math.isfinite(h.value) else -math.inf


def _tooltip(run: EvalRun, metrics: bool = False) -> str | None:
    p = problems(run)
    if metrics and run.metrics:
        p = [f"{metric_text(m)}: {value_text(m)}" for m in run.metrics]
    return plain_tooltip("\n".join(p)) if p else None


def _status_bg(run: EvalRun) -> QColor | None:
    if run.status in (RunStatus.ERROR, RunStatus.CANCELLED):
        return ERROR_BG
    return WARN_BG if run.incomplete or run.status != RunStatus.SUCCESS else None


SPEC: tuple[Column, ...] = (
    Column("Benchmark", lambda r: clean_text(r.benchmark, 200) if r.benchmark else "Unmapped", tooltip=_tooltip,
           background=lambda r: None if r.benchmark else WARN_BG,
           foreground=lambda r: None if r.benchmark else MUTED_FG),
    Column("Task", _task, tooltip=_tooltip),
    Column("Metric", lambda r: metric_text(r.headline), tooltip=lambda r: _tooltip(r, metrics=True)),
    Column("Value ± stderr", lambda r: value_text(r.headline), _headline_sort, RIGHT, _tooltip),
    Column("n", samples_text, lambda r: r.completed_samples if r.completed_samples is not None else r.sample_count,
           RIGHT, _tooltip),
    Column("Status", status_text, tooltip=_tooltip, background=_status_bg),
    Column("Errored", lambda r: f"{r.errored_samples:,}" if r.errored_samples else "0", lambda r: r.errored_samples,
           RIGHT, _tooltip, background=lambda r: ERROR_BG if r.errored_samples else None,
           foreground=lambda r: ERROR_FG if r.errored_samples else None),
    Column("Model", lambda r: clean_text(r.model, 200), tooltip=_tooltip),
    Column("Harness", lambda r: f"{r.harness.value} {clean_text(r.harness_version, 40)}".strip(), tooltip=_tooltip),
    Column("File", lambda r: clean_text(r.original_name, 200), tooltip=_tooltip),
    Column("Imported", lambda r: r.imported_at[:16].replace("T", " "), lambda r: r.imported_at, tooltip=_tooltip),
)
assert tuple(c.header for c in SPEC) == COLUMNS


class RunsModel(ColumnsTableModel):
    RUN_ROLE = ColumnsTableModel.ROW_ROLE

    def __init__(self, runs: list[EvalRun] | None = None) -> None:
        super().__init__(SPEC, runs or [])

    def set_runs(self, runs: list[EvalRun]) -> None:
        self.set_rows(runs)

    def runs(self) -> list[EvalRun]:
        return list(self._rows)

    def run_at(self, row: int) -> EvalRun | None:
        run: EvalRun | None = self.row_at(row)
        return run
