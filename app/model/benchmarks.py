"""The shipped public benchmark catalog (DOMAIN.md section 3) as plain values for the importers.

The catalog is data, not code: app/templates/public_benchmarks.json, a benchmark definition document
in the format every signed definition uses (docs/BENCHMARK_FORMAT.md; app.ingest.benchmark_def
validates it, tests/unit/test_benchmark_defs.py checks the two views agree). The importers use it
only for metric directions; which benchmark a run counts as, and what a conforming run is, comes
from the definitions stored on the workstation (app.services.benchmarks), which classified
documents extend without a code release.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from importlib import resources

from app.model.results import Benchmark, Direction

CATALOG_FILE = "public_benchmarks.json"


def catalog_bytes() -> bytes:
    return resources.files("app.templates").joinpath(CATALOG_FILE).read_bytes()


def _load_catalog() -> tuple[Benchmark, ...]:
    out = []
    for d in json.loads(catalog_bytes())["benchmarks"]:
        metrics = d["metrics"]
        out.append(Benchmark(d["name"], d.get("description", ""), metrics[0]["name"],
                             Direction(metrics[0]["direction"]),
                             (*d["tasks"].get("inspect", ()), *d["tasks"].get("lm_eval", ())),
                             tuple(m["name"] for m in metrics if m["direction"] == "lower")))
    return tuple(out)


CATALOG: tuple[Benchmark, ...] = _load_catalog()

_BY_NAME = {b.name: b for b in CATALOG}

# Metric names that are lower-is-better whatever the benchmark.
LOWER_IS_BETTER_METRICS = frozenset({
    "mean_absolute_deviation", "mad", "mae", "mse", "rmse", "perplexity", "word_perplexity",
    "byte_perplexity", "bits_per_byte", "false_refusal_rate", "insecure_code_rate", "error_rate",
})
UNDIRECTED_METRICS = frozenset({"stderr", "std", "var", "count"})


def by_name(name: str) -> Benchmark | None:
    return _BY_NAME.get(name)


def _task_base(task: str) -> str:
    # Inspect registry names can carry a package prefix: "inspect_evals/gdm_intercode_ctf".
    return task.strip().lower().rsplit("/", 1)[-1]


def match_task(task: str) -> Benchmark | None:
    """The catalog benchmark whose task patterns match `task`, or None for an unknown task."""
    base = _task_base(task)
    for b in CATALOG:
        if any(fnmatchcase(base, p) for p in b.task_patterns):
            return b
    return None


def metric_direction(metric: str, benchmark: Benchmark | None = None) -> Direction:
    """Higher or lower is better for `metric` (of `benchmark` when known)."""
    m = metric.strip().lower()
    if m in UNDIRECTED_METRICS or m.endswith("_stderr"):
        return Direction.UNKNOWN
    if benchmark is not None and m in benchmark.lower_is_better_metrics:
        return Direction.LOWER
    if m in LOWER_IS_BETTER_METRICS:
        return Direction.LOWER
    if benchmark is not None:
        return benchmark.direction
    if m in ("accuracy", "acc", "acc_norm", "exact_match", "f1", "mean", "pass_at_1", "success"):
        return Direction.HIGHER
    return Direction.UNKNOWN
