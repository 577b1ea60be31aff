"""Catalog of cyber-capability benchmarks reviewers see (DOMAIN.md section 3).

Maps task names found in logs to a canonical benchmark and the direction of its metrics.
Unknown tasks still import (benchmark ""), and a reviewer can map them later; explicit mappings
stored in the database take precedence over this catalog (see app.services.results).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from app.model.results import Benchmark, Direction

CATALOG: tuple[Benchmark, ...] = (
    Benchmark("Cybench", "40 professional CTF tasks with optional subtasks", "unguided success rate",
              Direction.HIGHER, ("cybench", "cybench_*")),
    Benchmark("InterCode-CTF", "about 80 picoCTF tasks", "solve rate", Direction.HIGHER,
              ("gdm_intercode_ctf", "intercode_ctf", "intercode-ctf")),
    Benchmark("GDM in-house CTF", "13 CTFs", "success", Direction.HIGHER, ("gdm_in_house_ctf",)),
    Benchmark("NYU CTF Bench", "200 CSAW challenges in 6 categories", "solve rate", Direction.HIGHER,
              ("nyuctf", "nyu_ctf*")),
    Benchmark("CyberSecEval 2", "insecure code, ATT&CK compliance, false refusal, prompt injection, "
              "exploitation", "rate / exploit score", Direction.HIGHER, ("cyse2_*",),
              ("insecure_code_rate", "false_refusal_rate")),
    Benchmark("CyberSecEval 3", "offensive cyber and prompt injection", "rate", Direction.HIGHER,
              ("cyse3_*",), ("insecure_code_rate", "false_refusal_rate")),
    Benchmark("CyberSecEval 4", "secure code, AutoPatch, threat intelligence", "rate", Direction.HIGHER,
              ("cyse4_*",), ("insecure_code_rate", "false_refusal_rate")),
    Benchmark("CTIBench", "threat-intelligence knowledge, CVE->CWE, CVSS prediction",
              "accuracy / mean absolute deviation", Direction.HIGHER, ("cti_bench_*", "ctibench_*"),
              ("mean_absolute_deviation", "mad", "mae")),
    Benchmark("WMDP-cyber", "hazardous cyber knowledge, multiple choice", "acc", Direction.HIGHER,
              ("wmdp_cyber", "wmdp-cyber")),
    Benchmark("CyberMetric", "cybersecurity knowledge multiple choice", "accuracy", Direction.HIGHER,
              ("cybermetric_*", "cybermetric")),
    Benchmark("SecQA", "security question answering", "accuracy", Direction.HIGHER, ("sec_qa_*", "secqa*")),
    Benchmark("3CB", "catastrophic cyber capabilities benchmark", "success", Direction.HIGHER,
              ("threecb", "3cb")),
    Benchmark("CVE-Bench", "exploiting real web-application CVEs", "success", Direction.HIGHER,
              ("cve_bench", "cvebench")),
    Benchmark("CyberGym", "reproducing real vulnerabilities from descriptions", "success", Direction.HIGHER,
              ("cybergym",)),
)

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
