"""Conformance: did an imported run execute the benchmark as its definition prescribes (issue 17, point 2)?

Each check compares one property of the run (header as imported, per-sample facts as stored) with
the definition and yields a deviation naming what was expected and what was found. A "fail"
deviation makes the run non-conforming; a "note" is shown but does not (e.g. a log that carries no
dataset fingerprint to compare). Nothing here reads files or the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.model.benchmark_defs import BenchmarkDefinition, sample_ids_digest
from app.model.results import EvalRun, RunStatus

FAIL = "fail"
NOTE = "note"
_SHOW = 8  # sample ids listed in a deviation before "and N more"


@dataclass(frozen=True)
class Deviation:
    check: str  # "samples", "epochs", "scorer", "errors", "model", "task", "task_version", "dataset", ...
    expected: str
    found: str
    severity: str = FAIL

    @property
    def text(self) -> str:
        return f"{self.check}: expected {self.expected}; found {self.found}"


@dataclass(frozen=True)
class Conformance:
    run_id: int
    benchmark_id: str
    benchmark_version: int
    definition_sha256: str  # the document the definition came from
    deviations: tuple[Deviation, ...]
    checks: tuple[str, ...]  # every check that ran

    @property
    def conforming(self) -> bool:
        return not any(d.severity == FAIL for d in self.deviations)

    @property
    def failures(self) -> list[Deviation]:
        return [d for d in self.deviations if d.severity == FAIL]

    @property
    def summary(self) -> str:
        head = f"run {self.run_id} against {self.benchmark_id} v{self.benchmark_version}: "
        if self.conforming:
            notes = [d.text for d in self.deviations]
            return head + "conforms" + (f" ({'; '.join(notes)})" if notes else "")
        return head + "does not conform: " + "; ".join(d.text for d in self.failures)


@dataclass(frozen=True)
class SampleView:
    """Per-sample facts of a stored run, without inputs or transcripts (storage.benchmarks_repo.sample_facts)."""

    epochs: Mapping[str, int]  # sample id -> how many distinct epochs of it are stored
    errored: Mapping[str, int]
    unscored: int
    over_tokens: Mapping[str, int]
    over_time: Mapping[str, float]


def _ids(ids: Iterable[str]) -> str:
    items = sorted(ids)
    shown = ", ".join(items[:_SHOW])
    return shown + (f" and {len(items) - _SHOW} more" if len(items) > _SHOW else "")


_NORM = re.compile(r"[^a-z0-9]+")


def _norm(text: str) -> str:
    return _NORM.sub("", text.lower())


def model_matches(run_model: str, model_name: str, version: str) -> bool:
    """The log's model id names the submission's model (and version when the id carries one)."""
    nid = _norm(run_model)
    name = _norm(model_name)
    return bool(name) and name in nid


def check(definition: BenchmarkDefinition, run: EvalRun, samples: SampleView, model_name: str = "",
          model_version: str = "") -> Conformance:
    p = definition.protocol
    dev: list[Deviation] = []
    checks: list[str] = []

    def add(check_name: str, expected: str, found: str, severity: str = FAIL) -> None:
        dev.append(Deviation(check_name, expected, found, severity))

    checks.append("task")
    if not definition.matches_task(run.task):
        patterns = ", ".join((*definition.inspect_tasks, *definition.lm_eval_tasks))
        add("task", f"one of {patterns}", run.task)
    checks.append("status")
    if run.status is not RunStatus.SUCCESS or run.incomplete:
        add("status", "a complete, successful run",
            run.status.value + (" (incomplete: rebuilt from the journal)" if run.incomplete else ""))
    if definition.task_version:
        checks.append("task_version")
        if run.task_version != definition.task_version:
            add("task_version", definition.task_version, run.task_version or "(not recorded in the log)")

    present = set(samples.epochs)
    checks.append("samples")
    if definition.sample_ids:
        canonical = set(definition.sample_ids)
        missing, extra = canonical - present, present - canonical
        if missing:
            add("samples", f"all {len(canonical)} canonical samples",
                f"{len(missing)} missing: {_ids(missing)}")
        if extra:
            add("samples", "only canonical sample ids", f"{len(extra)} not in the definition: {_ids(extra)}")
    elif definition.sample_ids_sha256:
        digest = sample_ids_digest(present)
        if digest != definition.sample_ids_sha256:
            add("samples", f"the canonical sample set (sha256 {definition.sample_ids_sha256[:16]}…)",
                f"{len(present)} sample ids hashing to {digest[:16]}…")
    if definition.sample_count is not None and not definition.sample_ids and len(present) < definition.sample_count:
        add("samples", f"{definition.sample_count} samples", f"{len(present)}")
    if len(present) < p.min_samples:
        add("min_samples", f"at least {p.min_samples} samples", f"{len(present)}")

    checks.append("epochs")
    if run.epochs < p.min_epochs:
        add("epochs", f"at least {p.min_epochs} epochs", f"{run.epochs}")
    short = {sid for sid, eps in samples.epochs.items() if eps < max(run.epochs, p.min_epochs)}
    if short and run.epochs >= p.min_epochs:
        add("epochs", f"{run.epochs} epochs of every sample", f"{len(short)} sample(s) with fewer: {_ids(short)}")

    if p.scorer:
        checks.append("scorer")
        scorers = {m.scorer for m in run.metrics if m.scorer}
        if p.scorer not in scorers:
            add("scorer", p.scorer, ", ".join(sorted(scorers)) or "(no scorer recorded)")

    checks.append("errors")
    errored = sum(samples.errored.values())
    if errored > p.max_errored_samples or run.errored_samples > p.max_errored_samples:
        n = max(errored, run.errored_samples)
        add("errors", f"at most {p.max_errored_samples} errored samples",
            f"{n} errored" + (f": {_ids(samples.errored)}" if samples.errored else ""))
    if samples.unscored and samples.unscored > errored:
        add("errors", "a score for every sample", f"{samples.unscored - errored} sample-epoch(s) without a score", NOTE)

    if model_name:
        checks.append("model")
        if not model_matches(run.model, model_name, model_version):
            add("model", f"the submission's model {model_name} {model_version}".strip(), run.model or "(none)")

    if definition.dataset_fingerprint:
        checks.append("dataset")
        if not run.dataset:
            add("dataset", definition.dataset_fingerprint, "the log carries no dataset name or fingerprint", NOTE)
        elif run.dataset != definition.dataset_fingerprint:
            add("dataset", definition.dataset_fingerprint, run.dataset)

    if p.token_budget is not None:
        checks.append("token_budget")
        if samples.over_tokens:
            add("token_budget", f"at most {p.token_budget:,} tokens per sample",
                f"{len(samples.over_tokens)} sample(s) over: {_ids(samples.over_tokens)}")
    if p.time_budget_seconds is not None:
        checks.append("time_budget")
        if samples.over_time:
            add("time_budget", f"at most {p.time_budget_seconds:g} s per sample",
                f"{len(samples.over_time)} sample(s) over: {_ids(samples.over_time)}")
    return Conformance(run.id or 0, definition.benchmark_id, definition.version, definition.document_sha256,
                       tuple(dev), tuple(checks))
