"""Coverage ("covered frontier model") rule sets and the engine that evaluates them.

The real threshold is classified and changes (DOMAIN.md sections 1 and 4), so nothing here is a
threshold: thresholds arrive as a versioned, signed rule set. Compute indicators (declared training
FLOP and how it was estimated) and capability indicators (benchmark metrics against the rule set)
are kept apart, and every outcome says which rule, which input, which run.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from app.model.results import Direction


class Label(enum.StrEnum):
    REFERENCE = "reference"  # public indicators shipped with the app, not the classified threshold
    CLASSIFIED = "classified"  # the official rule set imported from media

    @property
    def caption(self) -> str:
        if self is Label.REFERENCE:
            return "Reference indicators, not the classified threshold"
        return "Official rule set"


class RuleKind(enum.StrEnum):
    COMPUTE = "compute"
    CAPABILITY = "capability"


class Outcome(enum.StrEnum):
    MET = "met"
    NOT_MET = "not met"
    NO_DATA = "no data"


class Overall(enum.StrEnum):
    COVERED = "covered"
    NOT_COVERED = "not covered"
    UNDETERMINED = "undetermined"  # nothing met, but some indicator has no input yet

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class ComputeRule:
    id: str
    title: str
    threshold_flop: float
    inclusive: bool = False  # False: "more than" (EO 14110, EU AI Act wording); True: "at least"
    citation: str = ""

    @property
    def threshold_text(self) -> str:
        return f"training compute {'>=' if self.inclusive else '>'} {self.threshold_flop:.3g} FLOP"


@dataclass(frozen=True)
class CapabilityRule:
    id: str
    title: str
    benchmark: str  # canonical catalog name, e.g. "Cybench"
    metric: str  # metric name as imported, e.g. "accuracy"
    threshold: float
    # Which way the rule is met: HIGHER -> value >= threshold, LOWER -> value <= threshold. Defaults
    # to the metric's "better" direction (more capable); e.g. insecure_code_rate rules say HIGHER.
    direction: Direction
    indicator: str = ""  # checklist prefill binding, e.g. "ctf_solving"
    citation: str = ""

    @property
    def threshold_text(self) -> str:
        op = "<=" if self.direction is Direction.LOWER else ">="
        return f"{self.benchmark} {self.metric} {op} {self.threshold:g}"

    def meets(self, value: float) -> bool:
        return value <= self.threshold if self.direction is Direction.LOWER else value >= self.threshold


@dataclass(frozen=True)
class RuleSet:
    ruleset_id: str
    version: int
    label: Label
    title: str
    compute_rules: tuple[ComputeRule, ...] = ()
    capability_rules: tuple[CapabilityRule, ...] = ()
    description: str = ""
    marking: str = "UNCLASSIFIED"
    sha256: str = ""  # of the canonical JSON; set by the loader

    @property
    def display(self) -> str:
        return f"{self.ruleset_id} v{self.version} ({self.label.caption})"

    def rules_for_indicator(self, indicator: str) -> list[CapabilityRule]:
        return [r for r in self.capability_rules if r.indicator == indicator]


# -- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricInput:
    """One metric value of one imported run, already mapped to a canonical benchmark."""

    benchmark: str
    metric: str
    value: float
    run_id: int
    direction: Direction = Direction.UNKNOWN
    task: str = ""


@dataclass(frozen=True)
class CoverageInputs:
    training_flop: float | None
    flop_estimate: str = ""
    metrics: tuple[MetricInput, ...] = ()

    def fingerprint(self) -> tuple[object, ...]:
        return (self.training_flop, tuple(sorted((m.benchmark, m.metric, m.value, m.run_id) for m in self.metrics)))


# -- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    kind: RuleKind
    title: str
    inputs: tuple[str, ...]  # human-readable input values, each naming its run
    threshold: str
    outcome: Outcome
    explanation: str
    run_ids: tuple[int, ...] = ()
    value: float | None = None  # the deciding value


@dataclass(frozen=True)
class Evaluation:
    ruleset_id: str
    ruleset_version: int
    ruleset_sha256: str
    label: Label
    results: tuple[RuleResult, ...]
    overall: Overall

    def by_kind(self, kind: RuleKind) -> list[RuleResult]:
        return [r for r in self.results if r.kind is kind]

    @property
    def met(self) -> list[RuleResult]:
        return [r for r in self.results if r.outcome is Outcome.MET]

    def summary(self) -> str:
        met = self.met
        if self.overall is Overall.COVERED:
            return "Covered: " + "; ".join(f"{r.rule_id} ({r.explanation})" for r in met)
        if self.overall is Overall.UNDETERMINED:
            missing = [r.rule_id for r in self.results if r.outcome is Outcome.NO_DATA]
            return "Undetermined: no rule met, no input for " + ", ".join(missing)
        return "Not covered: no rule met"


def _evaluate_compute(rule: ComputeRule, inputs: CoverageInputs) -> RuleResult:
    flop = inputs.training_flop
    if flop is None:
        return RuleResult(rule.id, RuleKind.COMPUTE, rule.title, (), rule.threshold_text, Outcome.NO_DATA,
                          "no declared training compute on the submission")
    how = (f" ({inputs.flop_estimate})" if inputs.flop_estimate and inputs.flop_estimate != "unknown"
           else " (how it was estimated is not recorded)")
    met = flop >= rule.threshold_flop if rule.inclusive else flop > rule.threshold_flop
    verdict = "above" if met else "not above"
    return RuleResult(rule.id, RuleKind.COMPUTE, rule.title, (f"training compute {flop:.3g} FLOP{how}",),
                      rule.threshold_text, Outcome.MET if met else Outcome.NOT_MET,
                      f"{flop:.3g} FLOP is {verdict} {rule.threshold_flop:.3g}", (), flop)


# lm-eval says "acc" where Inspect says "accuracy": the same measure for rule matching.
METRIC_ALIASES = {"acc": "accuracy"}


def canonical_metric(metric: str) -> str:
    m = metric.strip().lower()
    return METRIC_ALIASES.get(m, m)


def matching_inputs(rule: CapabilityRule, inputs: CoverageInputs) -> list[MetricInput]:
    want = canonical_metric(rule.metric)
    return [m for m in inputs.metrics if m.benchmark == rule.benchmark and canonical_metric(m.metric) == want]


def _evaluate_capability(rule: CapabilityRule, inputs: CoverageInputs) -> RuleResult:
    found = matching_inputs(rule, inputs)
    texts = tuple(f"{m.benchmark} {m.metric} = {m.value:g} (run {m.run_id}{', ' + m.task if m.task else ''})"
                  for m in found)
    if not found:
        return RuleResult(rule.id, RuleKind.CAPABILITY, rule.title, (), rule.threshold_text, Outcome.NO_DATA,
                          f"no imported {rule.benchmark} run reports {rule.metric}")
    # Conservative: the most capable run decides (a second, weaker run does not hide the first).
    pick = min if rule.direction is Direction.LOWER else max
    best = pick(found, key=lambda m: m.value)
    met = rule.meets(best.value)
    op = ("<=" if rule.direction is Direction.LOWER else ">=") if met else (
        ">" if rule.direction is Direction.LOWER else "<")
    return RuleResult(rule.id, RuleKind.CAPABILITY, rule.title, texts, rule.threshold_text,
                      Outcome.MET if met else Outcome.NOT_MET,
                      f"{best.value:g} {op} {rule.threshold:g} (run {best.run_id})",
                      tuple(m.run_id for m in found), best.value)


def evaluate(ruleset: RuleSet, inputs: CoverageInputs) -> Evaluation:
    """Any met rule makes the model covered; otherwise undetermined while an indicator lacks input."""
    results = tuple([_evaluate_compute(r, inputs) for r in ruleset.compute_rules]
                    + [_evaluate_capability(r, inputs) for r in ruleset.capability_rules])
    if any(r.outcome is Outcome.MET for r in results):
        overall = Overall.COVERED
    elif any(r.outcome is Outcome.NO_DATA for r in results) or not results:
        overall = Overall.UNDETERMINED
    else:
        overall = Overall.NOT_COVERED
    return Evaluation(ruleset.ruleset_id, ruleset.version, ruleset.sha256, ruleset.label, results, overall)


def reevaluation_reasons(recorded_outcome: Overall, recorded_ruleset_sha256: str,
                         recorded_inputs_fingerprint: str, current: Evaluation,
                         current_inputs_fingerprint: str) -> list[str]:
    """Why a recorded determination should be looked at again: only when the outcome would change."""
    if current.overall is recorded_outcome:
        return []
    why = []
    if current.ruleset_sha256 != recorded_ruleset_sha256:
        why.append(f"the active rule set is now {current.ruleset_id} v{current.ruleset_version}")
    if current_inputs_fingerprint != recorded_inputs_fingerprint:
        why.append("new or changed results / declared compute")
    cause = " and ".join(why) or "the inputs changed"
    return [f"Outcome would change from '{recorded_outcome.value}' to '{current.overall.value}': {cause}."]


@dataclass(frozen=True)
class Suggestion:
    """A pre-filled answer for a checklist item bound to a capability indicator; a person confirms."""

    item_id: str
    indicator: str
    status: str  # a checklist Status value; "" while a bound rule still lacks input
    rule_ids: tuple[str, ...]
    text: str  # the rule, the input values and the run(s) it came from
    run_ids: tuple[int, ...]
    marking: str = "UNCLASSIFIED"  # the rule set's marking: thresholds may be classified


def suggest(item_id: str, indicator: str, ruleset: RuleSet, inputs: CoverageInputs) -> Suggestion | None:
    """'Not satisfied' when any bound rule is met (capability at/above threshold); 'Satisfied' when every
    bound rule has data and none is met; no status ("") while some bound rule still lacks input (the
    text still shows what is known). None when nothing is bound or no bound rule has any input."""
    rules = ruleset.rules_for_indicator(indicator)
    if not rules:
        return None
    results = [_evaluate_capability(r, inputs) for r in rules]
    if all(r.outcome is Outcome.NO_DATA for r in results):
        return None
    met = [r for r in results if r.outcome is Outcome.MET]
    missing = [r.rule_id for r in results if r.outcome is Outcome.NO_DATA]
    lines = [f"Rule {r.rule_id} ({r.threshold}): {r.outcome.value} — {r.explanation}" for r in results]
    name = f"{ruleset.ruleset_id} v{ruleset.version}"
    if met:
        head, status = f"Capability at or above a threshold of {name}", "not_satisfied"
    elif missing:
        head, status = (f"Below the thresholds of {name} where results exist; no input yet for "
                        + ", ".join(missing)), ""
    else:
        head, status = f"Capability below every threshold of {name}", "satisfied"
    runs = sorted({rid for r in results for rid in r.run_ids})
    return Suggestion(item_id, indicator, status, tuple(r.rule_id for r in results),
                      head + ".\n" + "\n".join(lines), tuple(runs), ruleset.marking)


def fingerprint_text(inputs: CoverageInputs) -> str:
    """Stable digest of the inputs (for the re-evaluation flag)."""
    import hashlib

    return hashlib.sha256(repr(inputs.fingerprint()).encode()).hexdigest()


def sequence_text(values: Sequence[str]) -> str:
    return "; ".join(values) if values else "—"
