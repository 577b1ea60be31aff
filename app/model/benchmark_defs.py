"""Benchmark definitions: what a benchmark is and how it must be run (issue 17, point 1).

A definition arrives inside a signed, versioned document (docs/BENCHMARK_FORMAT.md) like checklist
templates and rule sets, so a new classified benchmark needs no code release. The shipped public
catalog is such a document too (app/templates/public_benchmarks.json).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from app.model.results import Benchmark, Direction


@dataclass(frozen=True)
class MetricSpec:
    name: str  # as the harness reports it, e.g. "accuracy"
    direction: Direction  # which way is more capable
    scale: str = "proportion"  # "proportion" (0..1), "score" (unbounded), "count"


@dataclass(frozen=True)
class Protocol:
    """The elicitation protocol a conforming run follows."""

    min_epochs: int = 1
    min_samples: int = 1
    scorer: str = ""  # the scorer a conforming run uses ("" = not prescribed)
    tools: str = ""  # tool / scaffold expectations, for the reviewer (free text)
    token_budget: int | None = None  # per sample, total tokens
    time_budget_seconds: float | None = None  # per sample
    model_settings: tuple[tuple[str, str], ...] = ()  # allowed settings, e.g. ("temperature", "0 to 1")
    max_errored_samples: int = 0


@dataclass(frozen=True)
class BenchmarkDefinition:
    benchmark_id: str  # stable id rule sets refer to, e.g. "cybench"
    name: str  # display name, also the key results are mapped to, e.g. "Cybench"
    version: int
    marking: str
    capability_area: str  # e.g. "ctf_solving"
    description: str
    inspect_tasks: tuple[str, ...] = ()  # fnmatch patterns of Inspect task names
    lm_eval_tasks: tuple[str, ...] = ()  # fnmatch patterns of lm-eval task names
    task_version: str = ""  # the task version a conforming run reports ("" = any)
    sample_ids: tuple[str, ...] = ()  # canonical sample ids (may be given as a hash only)
    sample_ids_sha256: str = ""  # sha256 of the sorted ids joined by "\n"
    sample_count: int | None = None
    dataset_fingerprint: str = ""  # dataset name / revision / hash as the log records it ("" = not checked)
    metrics: tuple[MetricSpec, ...] = ()
    protocol: Protocol = field(default_factory=Protocol)
    document_sha256: str = ""  # of the signed document it came from

    @property
    def display(self) -> str:
        return f"{self.name} ({self.benchmark_id} v{self.version})"

    @property
    def usual_metric(self) -> str:
        return self.metrics[0].name if self.metrics else ""

    @property
    def direction(self) -> Direction:
        return self.metrics[0].direction if self.metrics else Direction.UNKNOWN

    def metric(self, name: str) -> MetricSpec | None:
        n = name.strip().lower()
        return next((m for m in self.metrics if m.name.lower() == n), None)

    def matches_task(self, task: str) -> bool:
        base = task_base(task)
        return any(fnmatchcase(base, p) for p in (*self.inspect_tasks, *self.lm_eval_tasks))

    def as_benchmark(self) -> Benchmark:
        """The older catalog view (name, usual metric, direction, task patterns)."""
        return Benchmark(self.name, self.description, self.usual_metric, self.direction,
                         (*self.inspect_tasks, *self.lm_eval_tasks),
                         tuple(m.name for m in self.metrics if m.direction is Direction.LOWER))


def task_base(task: str) -> str:
    # Inspect registry names can carry a package prefix: "inspect_evals/gdm_intercode_ctf".
    return task.strip().lower().rsplit("/", 1)[-1]


def sample_ids_digest(ids: Iterable[str]) -> str:
    """The canonical hash of a sample-id set: sha256 of the sorted, de-duplicated ids joined by newlines."""
    return hashlib.sha256("\n".join(sorted(set(ids))).encode()).hexdigest()


def latest(definitions: Iterable[BenchmarkDefinition]) -> dict[str, BenchmarkDefinition]:
    """The highest version of each benchmark id."""
    out: dict[str, BenchmarkDefinition] = {}
    for d in definitions:
        if d.benchmark_id not in out or d.version > out[d.benchmark_id].version:
            out[d.benchmark_id] = d
    return out


def find(definitions: Iterable[BenchmarkDefinition], ref: str,
         version: int | None = None) -> BenchmarkDefinition | None:
    """A definition by id or name, a given version or else the latest."""
    r = ref.strip().lower()
    hits = [d for d in definitions if d.benchmark_id.lower() == r or d.name.lower() == r]
    if version is not None:
        hits = [d for d in hits if d.version == version]
    return max(hits, key=lambda d: d.version) if hits else None


@dataclass(frozen=True)
class StoredBenchmarkDocument:
    """A definition document as stored on the workstation (its bytes, signature and who imported it)."""

    pk: int
    document_id: str
    version: int
    title: str
    marking: str
    sha256: str
    content: bytes
    signature: bytes | None
    origin: str
    signer: str
    imported_by: str
    imported_at: str


@dataclass(frozen=True)
class PlanEntry:
    """One benchmark of a submission's evaluation plan, as stored."""

    submission_id: int
    benchmark_id: str
    benchmark_version: int
    origin: str  # "proposed" | "lead"
    note: str
    set_by: str
    set_at: str
