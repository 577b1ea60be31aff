"""Evaluation results: one run per imported log, its metrics, its per-sample results.

These are plain values shared by the importers (app.ingest), the repository (storage.results_repo)
and the results service (app.services.results). Untrusted text from logs (inputs, answers,
transcripts) is carried as plain strings and must be shown as plain text, never as markup.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any


class Harness(enum.StrEnum):
    INSPECT = "inspect_ai"
    LM_EVAL = "lm-evaluation-harness"
    CSV = "csv"


class RunStatus(enum.StrEnum):
    SUCCESS = "success"
    STARTED = "started"
    CANCELLED = "cancelled"
    ERROR = "error"
    INTERRUPTED = "interrupted"  # no header.json: rebuilt from the journal

    @classmethod
    def parse(cls, text: str) -> RunStatus:
        try:
            return cls(text)
        except ValueError:
            return cls.ERROR


class Direction(enum.StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    UNKNOWN = "unknown"

    @property
    def arrow(self) -> str:
        return {"higher": "↑", "lower": "↓"}.get(self.value, "")


@dataclass(frozen=True)
class MetricValue:
    """One scorer/metric value of a run, e.g. includes/accuracy = 0.5 ± 0.29."""

    scorer: str
    metric: str
    value: float | None
    stderr: float | None = None
    direction: Direction = Direction.UNKNOWN
    filter: str = ""  # lm-eval filter name ("none", "strict-match"); "" for Inspect
    reducer: str = ""  # Inspect epoch reducer ("mean", "pass_at_2"...)

    @property
    def label(self) -> str:
        parts = [self.scorer, self.metric] if self.scorer and self.scorer != self.metric else [self.metric]
        if self.filter and self.filter != "none":
            parts.append(self.filter)
        return "/".join(parts)


# The parts of an lm-eval samples line that make up its transcript (a line stored whole is cut to these).
LM_EVAL_TRANSCRIPT_KEYS = ("doc", "arguments", "resps", "filtered_resps", "filter", "doc_hash", "prompt_hash",
                           "target_hash")


@dataclass(frozen=True)
class SampleResult:
    """One sample of one epoch. `scores` maps scorer name -> Score (value as given plus numeric)."""

    sample_id: str
    epoch: int = 1
    scores: dict[str, Score] = field(default_factory=dict)
    input_text: str = ""
    target: str = ""
    answer: str = ""  # the model's final output (or the scorer's extracted answer)
    error: str = ""
    total_time: float | None = None
    working_time: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    transcript: dict[str, Any] | None = None  # messages/events/attachments as in the log; stored compressed
    # The sample's JSON exactly as read (Inspect .eval member): stored as the transcript instead of
    # re-serialising `transcript`, which saves a full JSON encode per sample.
    transcript_json: bytes | None = field(default=None, repr=False)
    # `transcript_json` already compressed as one Zstandard frame (an .eval member as the log stores
    # it): kept as is, so the importer does not compress the same bytes again.
    transcript_zstd: bytes | None = field(default=None, repr=False)

    @property
    def primary_score(self) -> float | None:
        for s in self.scores.values():
            if s.numeric is not None:
                return s.numeric
        return None


@dataclass(frozen=True)
class Score:
    value: Any  # as in the log: "C", 0.5, True, {"a": 1}...
    numeric: float | None = None
    answer: str = ""
    explanation: str = ""

    @staticmethod
    def of(value: Any, answer: str = "", explanation: str = "") -> Score:
        return Score(value, score_to_float(value), answer, explanation)


# SQLite's INTEGER is 64 bits: a count beyond it cannot be stored (the driver raises OverflowError,
# and a parser process could not even send it), so the readers take it as unknown, like NaN.
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def stored_int(value: int | None) -> int | None:
    """`value` when SQLite can store it; None for None or an integer beyond 64 bits."""
    return value if value is None or INT64_MIN <= value <= INT64_MAX else None


# Inspect's letter grades (inspect_ai.scorer value_to_float defaults).
LETTER_SCORES = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}


def finite_float(value: int | float) -> float | None:
    """float(value) when finite; None for NaN, an infinity or an integer beyond a float's range (for
    which float() raises OverflowError: JSON allows 10**400, and a log is untrusted)."""
    try:
        f = float(value)
    except OverflowError:
        return None
    return f if math.isfinite(f) else None


def score_to_float(value: Any) -> float | None:
    """Numeric view of a score value: letters C/I/P/N, bools, numbers, yes/no; else None."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return finite_float(value)
    if isinstance(value, str):
        v = value.strip()
        if v.upper() in LETTER_SCORES:
            return LETTER_SCORES[v.upper()]
        if v.lower() in ("yes", "true", "correct"):
            return 1.0
        if v.lower() in ("no", "false", "incorrect"):
            return 0.0
        try:
            f = float(v)
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


@dataclass(frozen=True)
class EvalRun:
    """Header of one imported evaluation log (one run of one task against one model)."""

    harness: Harness
    harness_version: str
    task: str
    task_version: str
    model: str
    created: str
    status: RunStatus
    epochs: int = 1
    total_samples: int | None = None
    completed_samples: int | None = None
    errored_samples: int = 0
    metrics: tuple[MetricValue, ...] = ()
    file_sha256: str = ""
    original_name: str = ""
    file_size: int = 0
    media_label: str = ""
    incomplete: bool = False  # rebuilt from a journal / partial: figures are not final
    error_message: str = ""
    eval_id: str = ""
    run_id: str = ""
    dataset: str = ""
    notes: tuple[str, ...] = ()  # importer remarks shown to the reviewer (e.g. "header.json missing")
    # set once stored
    id: int | None = None
    submission_id: int | None = None
    benchmark: str = ""  # canonical benchmark name ("" = unmapped)
    imported_by: str = ""
    imported_at: str = ""
    sample_count: int = 0  # per-sample rows actually stored

    @property
    def headline(self) -> MetricValue | None:
        """The metric shown in tables: first metric that is not itself a stderr/std."""
        for m in self.metrics:
            if m.value is not None and m.metric not in ("stderr", "std", "var"):
                return m
        return self.metrics[0] if self.metrics else None


@dataclass(frozen=True)
class Benchmark:
    """Catalog entry: a known benchmark, its usual metric and which direction is better."""

    name: str  # canonical, e.g. "InterCode-CTF"
    description: str
    usual_metric: str
    direction: Direction = Direction.HIGHER
    task_patterns: tuple[str, ...] = ()  # fnmatch-style task names, e.g. "cyse2_*"
    lower_is_better_metrics: tuple[str, ...] = ()  # metrics of this benchmark where lower is better


@dataclass(frozen=True)
class SampleFilter:
    """Filters for paging samples of one run (all optional, combined with AND)."""

    epoch: int | None = None
    min_score: float | None = None
    max_score: float | None = None
    errors_only: bool = False
    no_errors: bool = False
    search: str = ""  # full-text over input, target, answer (SQLite FTS5 syntax, words are ANDed)
    sample_id: str | None = None


@dataclass(frozen=True)
class SampleRow:
    """One row of the per-sample table (no transcript)."""

    id: int
    run_id: int
    sample_id: str
    epoch: int
    score: float | None
    scores: dict[str, Any]
    input_text: str
    target: str
    answer: str
    error: str
    total_time: float | None
    working_time: float | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    has_transcript: bool


@dataclass(frozen=True)
class SampleDelta:
    sample_id: str
    epoch: int
    scores: dict[int, float | None]  # run id -> score


@dataclass(frozen=True)
class Comparison:
    """One benchmark across runs (submissions / versions): headline values and per-sample deltas."""

    benchmark: str
    metric: str
    direction: Direction
    runs: tuple[EvalRun, ...]
    values: dict[int, float | None]  # run id -> headline metric value
    stderrs: dict[int, float | None]
    samples: tuple[SampleDelta, ...]  # only sample ids present in at least two runs


@dataclass(frozen=True)
class PriorImport:
    """A run already imported from a file (found by the file's SHA-256 before importing it again)."""

    run_id: int
    submission_id: int
    task: str
    model: str


@dataclass(frozen=True)
class CitingApproval:
    """An approved assessment that cites a run as evidence for one checklist item."""

    assessment_id: int
    item_id: str


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file of an import batch."""

    path: str
    run_id: int | None
    status: str  # "imported" | "duplicate" | "failed" | "cancelled"
    message: str = ""
    samples: int = 0
    task: str = ""
    model: str = ""
