"""Coverage determination use cases: inputs from the submission and its results, evaluation
against the active rule set (app.services.rulesets) with per-rule explanations, recording and
approving a determination, and the re-evaluation flag.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from app.model import coverage as cov
from app.model.accounts import Permission
from app.model.determination import Determination
from app.model.errors import PermissionDenied, ValidationError
from app.model.markings import Marking, rollup
from app.model.results import RunStatus
from app.model.workflow import Act
from app.services import approvals, derivation, rulesets, submission_signatures, workflow
from app.services import benchmarks as benchmarks_service
from app.services import results as results_service
from app.services import statistics as statistics_service
from app.services.session import Session
from storage import assessment_repo as repo
from storage import benchmarks_repo, submissions_repo

MAX_RATIONALE = 50_000


# -- inputs ------------------------------------------------------------------------------------


# Metrics that are the mean of the per-sample scores the repository stores: these get the interval
# computed from the samples (and only when the log's value equals that mean, i.e. the same reducer).
_MEAN_METRICS = frozenset({"accuracy", "acc", "mean", "success", "success_rate", "solve_rate", "exact_match",
                           "pass_at_1"})


def inputs(session: Session, submission_id: int) -> cov.CoverageInputs:
    """Declared compute from the submission, metric values from its successful, complete runs, each
    with n, the confidence interval of the mean per-sample score and conformance to its definition."""
    conn = session.db.conn
    sub = submissions_repo.get(conn, submission_id)
    metrics = []
    used_defs: dict[str, tuple[str, int, str]] = {}
    defs = rulesets.definitions(conn)
    for run in results_service.list_runs(session, submission_id):
        if not run.benchmark or run.status is not RunStatus.SUCCESS or run.incomplete or run.id is None:
            continue
        conformance = benchmarks_service.check_run(conn, run)
        if conformance is not None:
            d = next(x for x in defs if x.benchmark_id == conformance.benchmark_id
                     and x.version == conformance.benchmark_version)
            used_defs[d.benchmark_id] = (d.benchmark_id, d.version, d.document_sha256)
        st = statistics_service.of_run(conn, run)
        for m in run.metrics:
            if m.value is None or m.metric in ("stderr", "std", "var") or m.metric.endswith("_stderr"):
                continue
            iv = st.interval
            has_iv = (iv is not None and cov.canonical_metric(m.metric) in _MEAN_METRICS
                      and abs(iv.estimate - float(m.value)) < 1e-6)
            metrics.append(cov.MetricInput(
                run.benchmark, m.metric, float(m.value), run.id, m.direction, run.task, st.scored,
                iv.low if has_iv and iv else None, iv.high if has_iv and iv else None,
                None if conformance is None else conformance.conforming,
                "" if conformance is None else "; ".join(d.text for d in conformance.failures),
                None if conformance is None else conformance.benchmark_version))
    plan = benchmarks_service.plan(session, submission_id)
    planned = tuple(f"{i.benchmark_id} v{i.version}: {i.state}"
                    + (f" (runs {', '.join(map(str, i.runs))})" if i.runs else "") for i in plan.items)
    return cov.CoverageInputs(sub.training_flop, sub.compute_estimate.value, tuple(metrics),
                              tuple(sorted(used_defs.values())), planned)


def excluded_runs(session: Session, submission_id: int) -> list[str]:
    """Runs that do not feed the engine, and why (shown next to the per-rule table)."""
    out = []
    for run in results_service.list_runs(session, submission_id):
        if not run.benchmark:
            out.append(f"run {run.id} ({run.task}): task not mapped to a defined benchmark")
        elif run.status is not RunStatus.SUCCESS or run.incomplete:
            out.append(f"run {run.id} ({run.task}): status {run.status.value}"
                       + (", incomplete" if run.incomplete else ""))
    return out


# -- evaluation and determination --------------------------------------------------------------


@dataclass(frozen=True)
class CoverageView:
    submission_id: int
    ruleset: cov.RuleSet
    inputs: cov.CoverageInputs
    evaluation: cov.Evaluation
    determination: Determination | None
    flags: list[str]  # re-evaluation reasons (empty: the recorded determination still holds)
    excluded: list[str]
    kept: str = ""  # a lead recorded why the determination stands despite the flags shown then


def evaluate(session: Session, submission_id: int) -> CoverageView:
    session.require(Permission.VIEW_CONTENT)
    ruleset = rulesets.active_ruleset(session)
    ins = inputs(session, submission_id)
    evaluation = cov.evaluate(ruleset, ins)
    det = repo.current_determination(session.db.conn, submission_id)
    flags = []
    if det is not None:
        flags = cov.reevaluation_reasons(cov.Overall(det.evaluation.get("overall", det.outcome)), det.ruleset_sha256,
                                         det.inputs_fingerprint, evaluation, cov.fingerprint_text(ins),
                                         f"{det.ruleset_id} v{det.ruleset_version}",
                                         cov.input_changes(det.inputs, ins))
    kept = ""
    if det is not None and flags:
        review = benchmarks_repo.determination_review(session.db.conn, det.id, _flags_digest(flags))
        if review is not None:
            kept = (f"Re-evaluation flags answered by {review.reviewed_by} at {review.reviewed_at[:16]}: "
                    f"{review.reason}")
            flags = []
    return CoverageView(submission_id, ruleset, ins, evaluation, det, flags, excluded_runs(session, submission_id),
                        kept)


def _flags_digest(flags: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(flags).encode()).hexdigest()


def keep_determination(session: Session, submission_id: int, reason: str) -> CoverageView:
    """A lead records why the current determination stands although the rule set, a definition or a run
    it rests on changed (the alternative is recording and approving a new one). Only the flags shown
    now are answered: a later change flags it again. Never by the person who recorded it."""
    session.require(Permission.APPROVE)
    reason = reason.strip()
    if not reason:
        raise ValidationError("reason", "say why the determination stands despite the changes")
    view = evaluate(session, submission_id)
    det = view.determination
    if det is None:
        raise ValidationError("determination", f"submission {submission_id} has no recorded determination")
    if not view.flags:
        raise ValidationError("determination", "the determination is not flagged for re-evaluation")
    if det.recorded_by == session.account.username:
        raise PermissionDenied(f"You recorded determination {det.id}; a different lead must decide that it stands "
                               "(two-person rule).")
    with session.transaction() as conn:
        benchmarks_repo.add_determination_review(conn, det.id, _flags_digest(view.flags), view.flags, reason,
                                                 session.account.username, session.now())
        session.audit(conn, "coverage.keep", "submission", submission_id,
                      {"determination": det.id, "flags": view.flags, "reason": reason})
    return evaluate(session, submission_id)


def reevaluation_flags(session: Session, submission_id: int) -> list[str]:
    return evaluate(session, submission_id).flags


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def record_determination(session: Session, submission_id: int, rationale: str, outcome: cov.Overall | None = None,
                         marking: Marking | None = None, lower_reason: str = "") -> Determination:
    """The reviewer records the determination with a rationale; pinned to rule set id/version/hash and
    the exact inputs. A person may depart from the engine's outcome, and the rationale must say why.

    The marking defaults to the computed one (`determination_floor`): the submission's, whose results
    it quotes, rolled up with the rule set's, whose thresholds it quotes. Lower only with a reason."""
    session.require(Permission.ASSESS)
    rationale = rationale.strip()
    if not rationale:
        raise ValidationError("rationale", "a coverage determination needs a written rationale")
    if len(rationale) > MAX_RATIONALE:
        raise ValidationError("rationale", f"must be at most {MAX_RATIONALE:,} characters")
    ins = inputs(session, submission_id)
    with session.transaction() as conn:
        stored = repo.active_ruleset(conn) or rulesets.ensure_builtin_ruleset(conn, session.now(),
                                                                              session.account.username)
        ruleset = rulesets.parse_stored(stored, conn)
        evaluation = cov.evaluate(ruleset, ins)
        chosen = outcome or evaluation.overall
        # The record quotes the rule set's thresholds, which may be classified, and the submission's
        # results: it starts at their roll-up.
        floor = rollup([submission_signatures.marking_floor(session, conn, submission_id),
                        Marking.parse(ruleset.marking)])
        marking = derivation.settle(session, conn, marking, floor, lower_reason, "the coverage determination",
                                    "submission", submission_id)
        did = repo.insert_determination(
            conn, submission_id, stored.pk, ruleset.ruleset_id, ruleset.version, ruleset.sha256, _to_json(ins),
            cov.fingerprint_text(ins), _to_json(evaluation), chosen.value, rationale, marking,
            session.account.username, session.now())
        approvals.record(session, conn, "coverage.record", "determination", did,
                         approvals.determination_content(repo.get_determination(conn, did)))
        session.audit(conn, "coverage.record", "submission", submission_id,
                      {"determination": did, "outcome": chosen.value, "engine": evaluation.overall.value,
                       "ruleset": f"{ruleset.ruleset_id} v{ruleset.version}", "ruleset_sha256": ruleset.sha256,
                       "rules_met": [r.rule_id for r in evaluation.met], "plan": list(ins.plan)})
        return repo.get_determination(conn, did)


def determination_floor(session: Session, submission_id: int) -> Marking:
    """The computed marking of a new determination for this submission (pickers start here)."""
    sub = submissions_repo.get(session.db.conn, submission_id)
    return rollup([sub.marking, Marking.parse(rulesets.active_ruleset(session).marking)])


def approve_determination(session: Session, determination_id: int) -> Determination:
    """A lead approves a recorded determination; never the person who recorded it."""
    session.require(Permission.APPROVE)
    with session.transaction() as conn:
        det = repo.get_determination(conn, determination_id)
        if det.superseded_at:
            raise ValidationError("determination", f"determination {determination_id} was superseded by a newer one")
        if det.approved_by:
            raise ValidationError("determination", f"determination {determination_id} is already approved by "
                                  f"{det.approved_by}")
        if det.recorded_by == session.account.username:
            raise PermissionDenied(f"You recorded determination {determination_id}; a different lead must approve it "
                                   "(two-person rule).")
        if repo.current_determination(conn, det.submission_id) == det:
            # The same rule (and reason) the UI shows for the current determination.
            workflow.require(session, det.submission_id, Act.APPROVE_DETERMINATION)
        repo.approve_determination(conn, determination_id, session.account.username, session.now())
        approvals.record(session, conn, "coverage.approve", "determination", determination_id,
                         approvals.determination_content(det))
        session.audit(conn, "coverage.approve", "submission", det.submission_id,
                      {"determination": determination_id, "outcome": det.outcome})
        return repo.get_determination(conn, determination_id)


def current_determination(session: Session, submission_id: int) -> Determination | None:
    session.require(Permission.VIEW_CONTENT)
    return repo.current_determination(session.db.conn, submission_id)


def determinations(session: Session, submission_id: int) -> list[Determination]:
    session.require(Permission.VIEW_CONTENT)
    return repo.determinations(session.db.conn, submission_id)
