"""Table model of evaluation runs (one row per imported log) for the results tab and comparisons.

The headline figure of each run is shown with its stderr, the sample count and the run status;
what makes a figure less trustworthy (errored samples, a run that did not finish, a log rebuilt
from its journal, an unmapped benchmark) is flagged in colour and explained in the tooltip.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.model.results import EvalRun, MetricValue, RunStatus
from ui.widgets.transcript_view import clean_text, plain_tooltip

Index = QModelIndex | QPersistentModelIndex

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


class RunsModel(QAbstractTableModel):
    RUN_ROLE = Qt.ItemDataRole.UserRole + 1
    SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # numbers sort as numbers in a QSortFilterProxyModel

    def __init__(self, runs: list[EvalRun] | None = None) -> None:
        super().__init__()
        self._runs: list[EvalRun] = list(runs or [])

    def set_runs(self, runs: list[EvalRun]) -> None:
        self.beginResetModel()
        self._runs = list(runs)
        self.endResetModel()

    def runs(self) -> list[EvalRun]:
        return list(self._runs)

    def run_at(self, row: int) -> EvalRun | None:
        return self._runs[row] if 0 <= row < len(self._runs) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._runs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run = self.run_at(index.row())
        if run is None:
            return None
        col = COLUMNS[index.column()]
        if role == self.RUN_ROLE:
            return run
        if role == self.SORT_ROLE:
            return self._sort_value(run, col)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(run, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            right = col in ("Value ± stderr", "n", "Errored")
            return int((Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft)
                       | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            if col == "Errored" and run.errored_samples:
                return ERROR_BG
            if col == "Status" and run.status in (RunStatus.ERROR, RunStatus.CANCELLED):
                return ERROR_BG
            if col == "Status" and (run.incomplete or run.status != RunStatus.SUCCESS):
                return WARN_BG
            if col == "Benchmark" and not run.benchmark:
                return WARN_BG
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == "Errored" and run.errored_samples:
                return ERROR_FG
            if col == "Benchmark" and not run.benchmark:
                return MUTED_FG
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            p = problems(run)
            if col == "Metric" and run.metrics:
                p = [f"{metric_text(m)}: {value_text(m)}" for m in run.metrics]
            return plain_tooltip("\n".join(p)) if p else None
        return None

    @classmethod
    def _sort_value(cls, run: EvalRun, col: str) -> Any:
        if col == "Value ± stderr":
            h = run.headline
            return h.value if h is not None and h.value is not None and math.isfinite(h.value) else -math.inf
        if col == "n":
            return run.completed_samples if run.completed_samples is not None else run.sample_count
        if col == "Errored":
            return run.errored_samples
        if col == "Imported":
            return run.imported_at
        return cls._display(run, col).lower()

    @staticmethod
    def _display(run: EvalRun, col: str) -> str:
        head = run.headline
        if col == "Benchmark":
            return clean_text(run.benchmark, 200) if run.benchmark else "Unmapped"
        if col == "Task":
            return clean_text(run.task, 200) + (f" v{clean_text(run.task_version, 40)}" if run.task_version
                                                and run.task_version != "0" else "")
        if col == "Metric":
            return metric_text(head)
        if col == "Value ± stderr":
            return value_text(head)
        if col == "n":
            return samples_text(run)
        if col == "Status":
            return status_text(run)
        if col == "Errored":
            return f"{run.errored_samples:,}" if run.errored_samples else "0"
        if col == "Model":
            return clean_text(run.model, 200)
        if col == "Harness":
            return f"{run.harness.value} {clean_text(run.harness_version, 40)}".strip()
        if col == "File":
            return clean_text(run.original_name, 200)
        if col == "Imported":
            return run.imported_at[:16].replace("T", " ")
        return ""
