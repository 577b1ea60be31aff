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
    benchmark_id: str = ""  # the definition's id (rule sets refer to benchmarks by id and version)
    benchmark_version: int | None = None  # None: the latest definition on the workstation
    min_samples: int = 0  # a run with fewer scored samples is not used (0: no minimum)
    statistic: str = "point"  # "point", "lower_bound" or "upper_bound" of the run's confidence interval
    require_conforming: bool = False  # only runs that conform to the benchmark definition count

    @property
    def threshold_text(self) -> str:
        op = "<=" if self.direction is Direction.LOWER else ">="
        what = {"lower_bound": f"95% CI lower bound of {self.metric}",
                "upper_bound": f"95% CI upper bound of {self.metric}"}.get(self.statistic, self.metric)
        extra = [f"n >= {self.min_samples}"] if self.min_samples else []
        if self.require_conforming:
            extra.append("conforming run")
        return f"{self.benchmark} {what} {op} {self.threshold:g}" + (f" ({', '.join(extra)})" if extra else "")

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
    # Statistics from the run's stored samples (app.model.stats): n scored samples and the 95%
    # interval of the mean per-sample score; None where the metric is not that mean.
    n: int | None = None
    low: float | None = None
    high: float | None = None
    # Conformance to the benchmark definition: None when no definition could be checked.
    conforming: bool | None = None
    deviations: str = ""
    benchmark_version: int | None = None


@dataclass(frozen=True)
class CoverageInputs:
    training_flop: float | None
    flop_estimate: str = ""
    metrics: tuple[MetricInput, ...] = ()
    # (benchmark id, version, definition document sha256) of the definitions the inputs were checked
    # against: a changed definition flags the determination for re-evaluation.
    definitions: tuple[tuple[str, int, str], ...] = ()
    # The submission's evaluation plan as the determination saw it: "id vN: state (runs ...)".
    plan: tuple[str, ...] = ()

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


def _usable(rule: CapabilityRule, m: MetricInput) -> tuple[float | None, str]:
    """The value this rule reads from one input, or None and why the input cannot be used."""
    if rule.require_conforming and rule.benchmark_version is not None and m.benchmark_version != rule.benchmark_version:
        return None, (f"run {m.run_id} was checked against v{m.benchmark_version}, "
                      f"the rule needs a run conforming to v{rule.benchmark_version}")
    if rule.require_conforming and m.conforming is not True:
        why = m.deviations or "no benchmark definition to check it against"
        return None, f"run {m.run_id} does not conform ({why})"
    if rule.min_samples and (m.n is None or m.n < rule.min_samples):
        n = m.n if m.n is not None else "?"
        return None, f"run {m.run_id} has n={n} scored samples, below the minimum {rule.min_samples}"
    if rule.statistic in ("lower_bound", "upper_bound"):
        bound = m.low if rule.statistic == "lower_bound" else m.high
        if bound is None:
            return None, f"run {m.run_id} has no confidence interval for {m.metric}"
        return bound, ""
    return m.value, ""


def _input_text(m: MetricInput) -> str:
    where = f"run {m.run_id}{', ' + m.task if m.task else ''}"
    ci = f" [{m.low:.3g}, {m.high:.3g}] n={m.n}" if m.low is not None and m.high is not None else ""
    conf = ("" if m.conforming is None else ", conforming" if m.conforming
            else f", NOT conforming: {m.deviations}")
    return f"{m.benchmark} {m.metric} = {m.value:g}{ci} ({where}{conf})"


def _evaluate_capability(rule: CapabilityRule, inputs: CoverageInputs) -> RuleResult:
    found = matching_inputs(rule, inputs)
    texts = tuple(_input_text(m) for m in found)
    if not found:
        return RuleResult(rule.id, RuleKind.CAPABILITY, rule.title, (), rule.threshold_text, Outcome.NO_DATA,
                          f"no imported {rule.benchmark} run reports {rule.metric}")
    usable: list[tuple[float, MetricInput]] = []
    refused: list[str] = []
    for m in found:
        value, why = _usable(rule, m)
        if value is None:
            refused.append(why)
        else:
            usable.append((value, m))
    left_out = ("; not used: " + "; ".join(refused)) if refused else ""
    if not usable:
        return RuleResult(rule.id, RuleKind.CAPABILITY, rule.title, texts, rule.threshold_text, Outcome.NO_DATA,
                          "no usable run" + left_out, tuple(m.run_id for m in found))
    # Conservative: the most capable run decides (a second, weaker run does not hide the first).
    pick = min if rule.direction is Direction.LOWER else max
    value, best = pick(usable, key=lambda t: t[0])
    met = rule.meets(value)
    op = ("<=" if rule.direction is Direction.LOWER else ">=") if met else (
        ">" if rule.direction is Direction.LOWER else "<")
    stat = {"lower_bound": "CI lower bound ", "upper_bound": "CI upper bound "}.get(rule.statistic, "")
    unchecked = "" if best.conforming is not False else f"; run {best.run_id} does not conform: {best.deviations}"
    return RuleResult(rule.id, RuleKind.CAPABILITY, rule.title, texts, rule.threshold_text,
                      Outcome.MET if met else Outcome.NOT_MET,
                      f"{stat}{value:g} {op} {rule.threshold:g} (run {best.run_id}){unchecked}{left_out}",
                      tuple(m.run_id for m in found), value)


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


def input_changes(recorded: dict[str, object], current: CoverageInputs) -> list[str]:
    """What changed between the inputs a determination recorded (its stored JSON) and now."""
    out: list[str] = []
    if recorded.get("training_flop") != current.training_flop:
        out.append(f"declared training compute changed from {recorded.get('training_flop')} to {current.training_flop}")
    raw_metrics = recorded.get("metrics")
    old_metrics = [m for m in raw_metrics if isinstance(m, dict)] if isinstance(raw_metrics, list) else []
    old_runs = {int(m["run_id"]) for m in old_metrics if isinstance(m.get("run_id"), int)}
    new_runs = {m.run_id for m in current.metrics}
    if new_runs - old_runs:
        out.append("run(s) added: " + ", ".join(str(r) for r in sorted(new_runs - old_runs)))
    if old_runs - new_runs:
        out.append("run(s) no longer used (deleted, moved or excluded): "
                   + ", ".join(str(r) for r in sorted(old_runs - new_runs)))
    old_values = {(m.get("run_id"), m.get("metric")): m.get("value") for m in old_metrics}
    changed = sorted({m.run_id for m in current.metrics
                      if (m.run_id, m.metric) in old_values and old_values[(m.run_id, m.metric)] != m.value})
    if changed:
        out.append("result values changed for run(s) " + ", ".join(str(r) for r in changed))
    old_conf = {m.get("run_id"): m.get("conforming") for m in old_metrics if "conforming" in m}
    flipped = sorted({m.run_id for m in current.metrics if m.run_id in old_conf and old_conf[m.run_id] != m.conforming})
    if flipped:
        out.append("conformance changed for run(s) " + ", ".join(str(r) for r in flipped))
    if "definitions" in recorded and isinstance(recorded["definitions"], list):
        old_defs = {(str(d[0]), int(d[1]), str(d[2])) for d in recorded["definitions"]
                    if isinstance(d, list | tuple) and len(d) == 3}
        new_defs = set(current.definitions)
        old_by_id = {d[0]: d for d in old_defs}
        for bid, ver, sha in sorted(new_defs - old_defs):
            before = old_by_id.get(bid)
            if before is None:
                out.append(f"benchmark definition {bid} v{ver} now applies")
            elif before[1] != ver:
                out.append(f"benchmark definition {bid} changed from v{before[1]} to v{ver}")
            else:
                out.append(f"benchmark definition {bid} v{ver} now comes from another document ({sha[:12]}…)")
    return out


def reevaluation_reasons(recorded_outcome: Overall, recorded_ruleset_sha256: str,
                         recorded_inputs_fingerprint: str, current: Evaluation,
                         current_inputs_fingerprint: str, recorded_ruleset: str = "",
                         changes: Sequence[str] = ()) -> list[str]:
    """Why a recorded determination must be looked at again: whenever the rule set, a benchmark
    definition or a run it rests on changed, even if the outcome would stay the same.

    `changes`: specific input changes (input_changes); without them a changed fingerprint is
    reported generically."""
    why = []
    if current.ruleset_sha256 != recorded_ruleset_sha256:
        was = f" (the determination quotes {recorded_ruleset})" if recorded_ruleset else ""
        why.append(f"the active rule set is now {current.ruleset_id} v{current.ruleset_version}{was}")
    if changes:
        why.extend(changes)
    elif current_inputs_fingerprint != recorded_inputs_fingerprint:
        why.append("new or changed results / declared compute")
    if current.overall is not recorded_outcome:
        cause = "; ".join(why) or "the inputs changed"
        return [f"Outcome would change from '{recorded_outcome.value}' to '{current.overall.value}': {cause}."]
    if not why:
        return []
    return [f"The determination rests on inputs that changed (the outcome would stay '{current.overall.value}'): "
            + "; ".join(why) + ". A lead re-approves it or records why not."]


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
