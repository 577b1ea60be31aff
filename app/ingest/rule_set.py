"""Coverage rule set reader: versioned JSON (docs/RULESET_FORMAT.md) -> app.model.coverage.RuleSet.

Every capability rule must name a benchmark defined on the workstation (by id or name, optionally
with its definition version: the shipped public catalog plus imported signed definition documents,
docs/BENCHMARK_FORMAT.md) and a metric the workstation knows, so a typo cannot silently make a rule
"no data" forever.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.foundation.files import read_bounded
from app.ingest.jsonread import loads_object
from app.ingest.versioned_json import Fields
from app.model import benchmark_defs, benchmarks
from app.model.benchmark_defs import BenchmarkDefinition
from app.model.coverage import CapabilityRule, ComputeRule, Label, RuleSet
from app.model.errors import IngestError, ValidationError
from app.model.markings import Marking
from app.model.results import Direction

FORMAT = "frontier-review/ruleset"
FORMAT_VERSION = 1
MAX_BYTES = 2 << 20

# Metric names the importers produce for the catalog benchmarks (Inspect scorers, lm-eval).
COMMON_METRICS = frozenset({
    "accuracy", "acc", "acc_norm", "mean", "success", "success_rate", "solve_rate", "f1", "exact_match",
    "pass_at_1", "unguided_success_rate", "subtask_success_rate", "exploit_score", "attack_success_rate",
    "refusal_rate", "compliance_rate", "prompt_injection_success_rate",
})


STATISTICS = ("point", "lower_bound", "upper_bound")


def known_metrics(benchmark_name: str, definition: BenchmarkDefinition | None = None) -> frozenset[str]:
    b = benchmarks.by_name(benchmark_name)
    own = set(b.lower_is_better_metrics) if b else set()
    if definition is not None:
        own |= {m.name.lower() for m in definition.metrics}
    return COMMON_METRICS | benchmarks.LOWER_IS_BETTER_METRICS | own


@functools.cache
def _public_definitions() -> tuple[BenchmarkDefinition, ...]:
    from app.ingest import benchmark_def  # the shipped catalog, parsed like any definition document

    return benchmark_def.parse(benchmarks.catalog_bytes(), benchmarks.CATALOG_FILE).definitions


def parse(data: bytes, path: str, extra_metrics: Iterable[str] = (), check_metrics: bool = True,
          definitions: Sequence[BenchmarkDefinition] | None = None) -> RuleSet:
    """`extra_metrics`: metric names already seen in imported results (also accepted).
    `definitions`: the benchmark definitions on the workstation (default: the shipped public catalog)."""
    defs = list(definitions) if definitions is not None else _public_definitions()
    if len(data) > MAX_BYTES:
        raise IngestError(path, f"is larger than {MAX_BYTES >> 20} MB; not a rule set")
    extra = {m.lower() for m in extra_metrics}
    doc = Fields(loads_object(data, path), path, "")
    doc.only({"format", "format_version", "ruleset_id", "version", "label", "title", "description", "marking",
              "compute_rules", "capability_rules"})
    doc.format_header(FORMAT, FORMAT_VERSION)
    label_text = doc.text("label")
    try:
        label = Label(label_text)
    except ValueError:
        raise doc.fail("label", f"{label_text!r}; expected 'reference' or 'classified'") from None
    marking = doc.text("marking", required=False, default="UNCLASSIFIED")
    try:
        Marking.parse(marking)
    except ValidationError as exc:
        raise doc.fail("marking", exc.reason) from None
    seen: dict[str, str] = {}

    def unique(f: Fields) -> str:
        rid = f.ident("id")
        if rid in seen:
            raise f.fail("id", f"duplicate rule id {rid!r} (first at {seen[rid]})")
        seen[rid] = f.where
        return rid

    compute = []
    for i, raw in enumerate(doc.array("compute_rules", required=False)):
        f = Fields(raw, path, f"compute_rules[{i}]")
        f.only({"id", "title", "threshold_flop", "inclusive", "citation"})
        compute.append(ComputeRule(unique(f), f.text("title", max_len=300), f.number("threshold_flop", positive=True),
                                   f.boolean("inclusive", False), f.text("citation", required=False)))
    capability = []
    for i, raw in enumerate(doc.array("capability_rules", required=False)):
        f = Fields(raw, path, f"capability_rules[{i}]")
        f.only({"id", "title", "benchmark", "benchmark_version", "metric", "threshold", "direction", "indicator",
                "citation", "min_samples", "statistic", "require_conforming"})
        rid = unique(f)
        bench_ref = f.text("benchmark")
        bench_version = f.integer("benchmark_version") if "benchmark_version" in f.obj else None
        definition = benchmark_defs.find(defs, bench_ref, bench_version)
        if definition is None:
            known = ", ".join(sorted({f"{d.benchmark_id} ({d.name})" for d in defs}))
            wanted = f"{bench_ref!r}" + (f" v{bench_version}" if bench_version is not None else "")
            raise f.fail("benchmark", f"unknown benchmark {wanted}; import its signed definition first. "
                         f"Known: {known}")
        bench_name = definition.name
        bench = definition.as_benchmark()
        metric = f.text("metric")
        metrics_known = known_metrics(bench_name, definition)
        if check_metrics and metric.lower() not in metrics_known and metric.lower() not in extra:
            raise f.fail("metric", f"unknown metric {metric!r} for {bench_name}")
        statistic = f.text("statistic", required=False, default="point")
        if statistic not in STATISTICS:
            raise f.fail("statistic", f"{statistic!r}; expected one of {', '.join(STATISTICS)}")
        min_samples = f.integer("min_samples", minimum=1) if "min_samples" in f.obj else 0
        dir_text = f.text("direction", required=False)
        if dir_text:
            try:
                direction = Direction(dir_text)
            except ValueError:
                raise f.fail("direction", f"{dir_text!r}; expected 'higher' or 'lower'") from None
        else:
            spec = definition.metric(metric)
            direction = spec.direction if spec else benchmarks.metric_direction(metric, bench)
        if direction is Direction.UNKNOWN:
            raise f.fail("direction", f"cannot tell whether higher or lower {metric} is more capable; "
                         "give 'direction': 'higher' or 'lower'")
        indicator = f.text("indicator", required=False)
        if indicator and not indicator.replace("_", "").isalnum():
            raise f.fail("indicator", f"{indicator!r} is not an indicator name (letters, digits, '_')")
        capability.append(CapabilityRule(rid, f.text("title", max_len=300), bench_name, metric,
                                         f.number("threshold"), direction, indicator,
                                         f.text("citation", required=False), definition.benchmark_id, bench_version,
                                         min_samples, statistic, f.boolean("require_conforming", False)))
    if not compute and not capability:
        raise doc.fail("compute_rules", "a rule set needs at least one compute or capability rule")
    return RuleSet(doc.ident("ruleset_id"), doc.integer("version"), label, doc.text("title", max_len=300),
                   tuple(compute), tuple(capability), doc.text("description", required=False), marking,
                   hashlib.sha256(data).hexdigest())


def load(path: Path, extra_metrics: Iterable[str] = (),
         definitions: Sequence[BenchmarkDefinition] | None = None) -> RuleSet:
    path = Path(path)
    return parse(read_bounded(path, MAX_BYTES, "rule set"), str(path), extra_metrics, definitions=definitions)
