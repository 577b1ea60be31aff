"""What a findings report says about a submission's benchmark evidence (issue 17): each run's
interval (n and method), its conformance to the benchmark definition with every deviation, the
evaluation plan, and the capability trend of each planned benchmark with the submission's position.

Plain values gathered by app.services.benchmark_evidence and drawn by reports.pdf_benchmark_evidence.
The marking is computed: at least the submission's, every definition quoted (a classified
benchmark's definition makes the section classified) and every submission the capability trend
quotes (each reviewed model's best value is on the chart).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.model.markings import Marking
from app.model.trend import Trend


@dataclass(frozen=True)
class RunEvidence:
    run_id: int
    benchmark: str
    task: str
    interval: str  # "0.600 [0.446, 0.736] (95% CI, n=40, Wilson score)" or why there is none
    conformance: str  # "conforms to cybench v2" / "does not conform to ..." / "no definition"
    conforming: bool | None
    deviations: tuple[str, ...] = ()


@dataclass(frozen=True)
class BenchmarkEvidence:
    submission_id: int
    marking: Marking
    runs: tuple[RunEvidence, ...]
    plan: tuple[str, ...]  # "cybench v1: conforming (runs 3)"
    plan_progress: str
    trends: tuple[Trend, ...]
    positions: tuple[tuple[str, ...], ...]  # per trend: the submission's position lines ("" when absent)
