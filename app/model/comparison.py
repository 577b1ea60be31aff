"""Comparing one benchmark across submissions and versions: pure rules behind the Compare screen.

Which runs line up (natural version order per model line), which pair a reviewer looks at first,
what the trend over versions shows, and per-sample changes counted in the metric's direction.
No Qt: the screen only draws what these functions return.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.model.results import Comparison, Direction, EvalRun, MetricValue, RunStatus
from app.model.submissions import Submission

# Spread and count statistics have no better/worse direction: never offered as the compared metric.
UNDIRECTED = frozenset({"stderr", "std", "var", "count"})


def version_key(version: str) -> tuple[Any, ...]:
    """Natural order for version strings: 1.9 < 1.10 < 2.0; text parts compare as text."""
    parts = re.findall(r"\d+|[^\d.]+", version.lower())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def metric_of(run: EvalRun, metric: str) -> MetricValue | None:
    """The run's first value of `metric` that is not missing."""
    return next((m for m in run.metrics if m.metric == metric and m.value is not None), None)


def metric_names(runs: Iterable[EvalRun]) -> list[str]:
    """Metrics present in the runs, the most widely shared first."""
    counts: dict[str, int] = {}
    for r in runs:
        for m in {m.metric for m in r.metrics if m.metric not in UNDIRECTED}:
            counts[m] = counts.get(m, 0) + 1
    return sorted(counts, key=lambda k: (-counts[k], k))


@dataclass(frozen=True)
class RunLine:
    """One run as compared: its submission and the chosen metric's value."""

    run: EvalRun
    submission: Submission | None
    value: float | None
    stderr: float | None

    @property
    def run_id(self) -> int:
        return self.run.id or 0

    @property
    def who(self) -> str:
        s = self.submission
        return s.display_name if s is not None else f"submission #{self.run.submission_id}"

    @property
    def lineage(self) -> str:
        """The model line (developer and model name) whose versions a trend connects."""
        s = self.submission
        return f"{s.developer} {s.model_name}" if s is not None else self.who

    @property
    def version(self) -> str:
        return self.submission.version if self.submission is not None else ""

    @property
    def label(self) -> str:
        return f"{self.who} · run {self.run_id}"

    @property
    def short_label(self) -> str:
        s = self.submission
        name = f"{s.model_name} {s.version}" if s is not None else self.who
        return f"{name} (run {self.run_id})"

    @property
    def complete_success(self) -> bool:
        return self.run.status == RunStatus.SUCCESS and not self.run.incomplete


def build_lines(comparison: Comparison, subs: dict[int, Submission], metric: str) -> list[RunLine]:
    """Every run of the comparison with `metric`'s value, in (model line, natural version, run) order."""
    lines = []
    for r in comparison.runs:
        if metric == comparison.metric and r.id is not None:
            v, e = comparison.values.get(r.id), comparison.stderrs.get(r.id)
        else:
            m = metric_of(r, metric)
            v, e = (m.value, m.stderr) if m else (None, None)
        lines.append(RunLine(r, subs.get(r.submission_id or -1), v, e))
    lines.sort(key=lambda ln: (ln.lineage.lower(), version_key(ln.version), ln.run_id))
    return lines


@dataclass(frozen=True)
class TrendSeries:
    """One model line over the trend's versions (None where that version has no value)."""

    lineage: str
    values: tuple[float | None, ...]
    stderrs: tuple[float | None, ...]


def trend(lines: list[RunLine]) -> tuple[tuple[str, ...], tuple[TrendSeries, ...]]:
    """(versions in natural order, a series per model line); per version the latest successful
    complete run, else the latest run with a value."""
    versions = tuple(sorted({ln.version for ln in lines if ln.value is not None}, key=version_key))
    lineages = sorted({ln.lineage for ln in lines if ln.value is not None}, key=str.lower)
    series = []
    for lin in lineages:
        vals: list[float | None] = []
        errs: list[float | None] = []
        for v in versions:
            cands = [ln for ln in lines if ln.lineage == lin and ln.version == v and ln.value is not None]
            cands.sort(key=lambda ln: (ln.complete_success, ln.run.imported_at, ln.run_id))
            best = cands[-1] if cands else None
            vals.append(best.value if best else None)
            errs.append(best.stderr if best else None)
        series.append(TrendSeries(lin, tuple(vals), tuple(errs)))
    return versions, tuple(series)


def default_pair(lines: list[RunLine]) -> tuple[int, int] | None:
    """Previous version vs newest version of the model line with the most runs (the question a
    reviewer asks first: did the new version get better?); else the first two runs."""
    if len(lines) < 2:
        return None

    def rank(ln: RunLine) -> tuple[bool, int, int]:
        # per version: a complete run first, then the fullest (re-runs of a few samples lose)
        return (ln.complete_success, ln.run.sample_count, ln.run_id)

    by_lineage: dict[str, dict[str, RunLine]] = {}
    for ln in lines:
        if ln.value is None:
            continue
        versions = by_lineage.setdefault(ln.lineage, {})
        if ln.version not in versions or rank(ln) > rank(versions[ln.version]):
            versions[ln.version] = ln
    candidates = [(len([x for x in lines if x.lineage == lin]), lin) for lin, v in by_lineage.items() if len(v) >= 2]
    if not candidates:
        return lines[0].run_id, lines[1].run_id
    _n, lineage = max(candidates)
    ordered = sorted(by_lineage[lineage].values(), key=lambda ln: version_key(ln.version))
    return ordered[-2].run_id, ordered[-1].run_id


@dataclass(frozen=True)
class DeltaRow:
    """One sample (id and epoch) scored in both runs."""

    sample_id: str
    epoch: int
    a: float
    b: float

    @property
    def delta(self) -> float:
        return self.b - self.a

    def better(self, direction: Direction) -> bool | None:
        """True if B improved on A in the metric's direction (higher if unknown), None if unchanged."""
        if self.delta == 0:
            return None
        return self.delta < 0 if direction == Direction.LOWER else self.delta > 0


def pair_deltas(comparison: Comparison, run_a: int, run_b: int) -> list[DeltaRow]:
    """Samples (id and epoch) scored with a finite value in both runs."""
    out = []
    for s in comparison.samples:
        a, b = s.scores.get(run_a), s.scores.get(run_b)
        if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
            continue
        out.append(DeltaRow(s.sample_id, s.epoch, a, b))
    return out


def summarise(rows: list[DeltaRow], direction: Direction) -> tuple[int, int, int]:
    """(better, worse, unchanged) counted in the metric's direction (higher is better if unknown)."""
    better = sum(1 for r in rows if r.better(direction) is True)
    worse = sum(1 for r in rows if r.better(direction) is False)
    return better, worse, len(rows) - better - worse
