"""Capability trend of one benchmark (issue 17, point 5): every reviewed model and version over time,
the frontier line (the best value reviewed up to each date), and where a submission stands against
the previous frontier and against its own previous version. Pure values; app.services.trend fills them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.model.results import Direction


@dataclass(frozen=True)
class TrendPoint:
    """The most capable run of one submission on the benchmark."""

    submission_id: int
    run_id: int
    label: str  # "Developer Model version"
    lineage: str  # developer + model name: versions of one model share it
    version: str
    when: date  # when the submission was received for review
    value: float
    low: float | None = None  # 95% interval from the stored samples, where the metric is their mean
    high: float | None = None
    n: int | None = None
    conforming: bool | None = None


@dataclass(frozen=True)
class Position:
    point: TrendPoint
    previous_frontier: TrendPoint | None  # the best point received before this one (other submissions)
    previous_version: TrendPoint | None  # the latest earlier version of the same model
    lines: tuple[str, ...]


def better(direction: Direction, a: float, b: float) -> bool:
    return a < b if direction is Direction.LOWER else a > b


def _beyond_noise(a: TrendPoint, b: TrendPoint) -> bool | None:
    """True when the intervals do not overlap; None when either has no interval."""
    if a.low is None or a.high is None or b.low is None or b.high is None:
        return None
    return a.low > b.high or a.high < b.low


@dataclass(frozen=True)
class Trend:
    benchmark: str
    metric: str
    direction: Direction
    points: tuple[TrendPoint, ...]  # ordered by date, then submission

    @property
    def frontier(self) -> tuple[TrendPoint, ...]:
        """Points that set a new best when they were received (the frontier line's steps)."""
        out: list[TrendPoint] = []
        for p in self.points:
            if not out or better(self.direction, p.value, out[-1].value):
                out.append(p)
        return tuple(out)

    def frontier_at(self) -> tuple[float, ...]:
        """The frontier value as of each point (running best, including that point)."""
        best: float | None = None
        out = []
        for p in self.points:
            if best is None or better(self.direction, p.value, best):
                best = p.value
            out.append(best)
        return tuple(out)

    def position(self, submission_id: int) -> Position | None:
        me = next((p for p in self.points if p.submission_id == submission_id), None)
        if me is None:
            return None
        earlier = [p for p in self.points if p.when < me.when and p.submission_id != submission_id]
        frontier = None
        for p in earlier:
            if frontier is None or better(self.direction, p.value, frontier.value):
                frontier = p
        own = [p for p in earlier if p.lineage == me.lineage]
        previous = own[-1] if own else None
        lines = [f"{me.label}: {self.metric} {me.value:.3f}" + (
            f" [{me.low:.3f}, {me.high:.3f}] (n={me.n})" if me.low is not None and me.high is not None else "")]
        for name, other in (("previous frontier", frontier), ("own previous version", previous)):
            if other is None:
                lines.append(f"{name}: none reviewed before {me.when.isoformat()}")
                continue
            delta = me.value - other.value
            ahead = better(self.direction, me.value, other.value)
            noise = _beyond_noise(me, other)
            verdict = ("intervals overlap: not distinguishable from noise" if noise is False
                       else "intervals do not overlap" if noise else "no interval to judge noise")
            lines.append(f"{name}: {other.label} ({other.when.isoformat()}) {other.value:.3f}; "
                         f"difference {delta:+.3f} ({'more' if ahead else 'not more'} capable; {verdict})")
        return Position(me, frontier, previous, tuple(lines))
