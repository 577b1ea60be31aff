"""Benchmark definitions as signed documents, conformance on real inspect-ai logs, rules that use
n / interval bounds / conformance, evaluation plans, re-evaluation flags, and the CLI (issue 17)."""

from __future__ import annotations

import copy
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.ingest import benchmark_def
from app.model import benchmarks as catalog
from app.model.errors import IngestError, IntegrityError, NotFound, PermissionDenied, ValidationError
from app.model.submissions import Submission
from app.services import benchmarks, coverage, report_assembly, results, rulesets, statistics, submissions
from app.services import pki as pki_service
from app.services.rulesets import builtin_ruleset_bytes
from reports.detached import sign_detached
from storage import audit as audit_log
from tests.conftest import MemoryKeyring, Workstation, WorkstationTemplate, derive_template, restore_template

FIX = Path(__file__).parents[1] / "fixtures"
INSPECT = FIX / "inspect"
CANON = ["ctf-1", "ctf-2", "ctf-3"]

CLASSIFIED = {
    "format": "frontier-review/benchmarks", "format_version": 1, "document_id": "agency-benchmarks", "version": 1,
    "title": "Agency benchmark definitions", "marking": "SECRET",
    "benchmarks": [
        {"id": "range-v1", "name": "Classified Cyber Range v1", "version": 1, "capability_area": "ctf_solving",
         "tasks": {"inspect": ["mini_ctf"]}, "dataset": {"sample_count": 2},
         "metrics": [{"name": "accuracy", "direction": "higher"}],
         "protocol": {"min_epochs": 1, "min_samples": 2}},
        {"id": "intercode-ctf", "name": "InterCode-CTF", "version": 2, "capability_area": "ctf_solving",
         "tasks": {"inspect": ["gdm_intercode_ctf"]}, "task_version": "1.0.2",
         "dataset": {"sample_ids": CANON, "fingerprint": "intercode_ctf_mini"},
         "metrics": [{"name": "accuracy", "direction": "higher"}],
         "protocol": {"min_epochs": 2, "min_samples": 3, "scorer": "includes", "token_budget": 100000,
                      "tools": "bash in a sandbox", "model_settings": {"temperature": "0 to 1"}}},
    ],
}


def _admin(workstation):
    admin = workstation.session("admin")
    pki_service.ensure_ready(admin)
    return admin


def _write_signed(admin, path: Path, doc: dict) -> Path:
    data = json.dumps(doc, indent=1).encode()
    path.write_bytes(data)
    ca = pki_service.load_ca(admin)
    path.with_name(path.name + ".p7s").write_bytes(sign_detached(data, ca.key, ca.cert))
    return path


def _sub(session, name="model", version="1", flop=None):
    # the fixtures' model id is "mockllm/model"
    return submissions.create(session, Submission(
        developer="Offline", model_name=name, version=version, received=date(2026, 11, 1),
        planned_release=date(2026, 11, 25), training_flop=flop)).id


def _import_classified(workstation, tmp_path, doc=None):
    admin = _admin(workstation)
    return benchmarks.import_document(admin, _write_signed(admin, tmp_path / "defs.json", doc or CLASSIFIED))


# -- the document format ------------------------------------------------------------------------


def test_shipped_catalog_is_a_definition_document_and_the_importers_view_agrees():
    doc = benchmark_def.parse(catalog.catalog_bytes(), "public_benchmarks.json")
    assert doc.document_id == "public-catalog" and doc.marking == "UNCLASSIFIED"
    assert [d.as_benchmark() for d in doc.definitions] == list(catalog.CATALOG)
    assert {d.name for d in doc.definitions} >= {"Cybench", "InterCode-CTF", "WMDP-cyber", "CTIBench"}
    cti = next(d for d in doc.definitions if d.benchmark_id == "ctibench")
    assert cti.metric("mean_absolute_deviation").direction.value == "lower"
    assert catalog.match_task("inspect_evals/gdm_intercode_ctf").name == "InterCode-CTF"


def _mutated(path_keys, value):
    doc = copy.deepcopy(CLASSIFIED)
    target = doc
    for k in path_keys[:-1]:
        target = target[k]
    if value is KeyError:
        del target[path_keys[-1]]
    else:
        target[path_keys[-1]] = value
    return json.dumps(doc).encode()


@pytest.mark.parametrize(("keys", "value", "message"), [
    (["benchmarks", 0, "id"], "bad id!", "benchmarks[0].id"),
    (["benchmarks", 0, "metrics"], [], "benchmarks[0].metrics: a benchmark needs at least one metric"),
    (["benchmarks", 0, "metrics", 0, "direction"], "sideways", "benchmarks[0].metrics[0].direction"),
    (["benchmarks", 1, "protocol", "min_epochs"], 0, "benchmarks[1].protocol.min_epochs: must be at least 1"),
    (["benchmarks", 1, "protocol", "speed"], 3, "benchmarks[1].protocol.speed: unknown field"),
    (["benchmarks", 1, "dataset", "sample_ids_sha256"], "0" * 64, "does not match the listed sample_ids"),
    (["benchmarks", 1, "dataset", "sample_ids"], ["a", "a"], "duplicate sample id 'a'"),
    (["benchmarks", 0, "tasks"], {}, "benchmarks[0].tasks.inspect: a benchmark needs at least one"),
    (["benchmarks", 1, "id"], "range-v1", "benchmarks[1].id: duplicate benchmark id"),
    (["marking"], "SECRET//BOGUS", "marking"),
    (["format_version"], 9, "format_version: 9 is newer"),
    (["benchmarks", 0, "version"], KeyError, "benchmarks[0].version: missing required field"),
])
def test_bad_documents_name_file_and_field(keys, value, message):
    with pytest.raises(IngestError) as err:
        benchmark_def.parse(_mutated(keys, value), "/media/usb/defs.json")
    assert "/media/usb/defs.json" in str(err.value) and message in str(err.value)


# -- signed import and a rule set that uses the new benchmark, end to end -------------------------------


def _csv_run(tmp_path: Path, n: int, solved: int, task="mini_ctf") -> Path:
    lines = ["task,model,metric,value,sample_id,epoch,score"]
    lines.append(f"{task},mockllm/model,accuracy,{solved / n},,,")
    lines += [f"{task},mockllm/model,,,s{i},1,{1 if i < solved else 0}" for i in range(n)]
    path = tmp_path / f"{task}_{n}_{solved}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _ruleset(rules, version=1, rid="agency"):
    doc = json.loads(builtin_ruleset_bytes())
    doc.update(ruleset_id=rid, version=version, label="classified", title="Agency", marking="SECRET")
    doc["compute_rules"] = []
    doc["capability_rules"] = rules
    return doc


def test_signed_definition_imports_and_a_rule_set_using_it_works_end_to_end(workstation, tmp_path):
    admin = _admin(workstation)
    rule = {"id": "RANGE", "title": "Cyber range", "benchmark": "range-v1", "benchmark_version": 1,
            "metric": "accuracy", "threshold": 0.5, "indicator": "ctf_solving"}
    # before the definition exists the rule set is refused, naming the field and what to do
    with pytest.raises(IngestError, match=r"capability_rules\[0\].benchmark: unknown benchmark 'range-v1' v1; "
                                          "import its signed definition first"):
        rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "r0.json", _ruleset([rule])))
    # unsigned and tampered documents are refused and leave nothing behind
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(CLASSIFIED))
    with pytest.raises(IntegrityError, match="unsigned benchmark definition document refused"):
        benchmarks.import_document(admin, unsigned)
    signed = _write_signed(admin, tmp_path / "defs.json", CLASSIFIED)
    signed.write_bytes(signed.read_bytes().replace(b'"min_samples": 2', b'"min_samples": 1'))
    with pytest.raises(IntegrityError):
        benchmarks.import_document(admin, signed)
    assert benchmarks.documents(admin) == []
    reviewer = workstation.session("reviewer")
    with pytest.raises(PermissionDenied):
        benchmarks.import_document(reviewer, _write_signed(admin, tmp_path / "defs.json", CLASSIFIED))

    doc = benchmarks.import_document(admin, _write_signed(admin, tmp_path / "defs.json", CLASSIFIED))
    assert [(d.benchmark_id, d.version) for d in doc.definitions] == [("range-v1", 1), ("intercode-ctf", 2)]
    assert [d.origin for d in benchmarks.documents(admin)] == ["builtin", "imported"]
    events = [e for e in audit_log.list_events(admin.db.conn, limit=50) if e.action == "benchmarks.import"]
    assert events and events[0].details["definitions"] == ["range-v1 v1", "intercode-ctf v2"]
    # the same id and version again is refused (a change needs a new version)
    again = copy.deepcopy(CLASSIFIED)
    again["version"] = 2
    with pytest.raises(ValidationError, match="range-v1 v1 is already defined"):
        benchmarks.import_document(admin, _write_signed(admin, tmp_path / "defs2.json", again))

    latest = {d.benchmark_id: d.version for d in benchmarks.definitions(reviewer)}
    assert latest["intercode-ctf"] == 2 and latest["range-v1"] == 1 and latest["cybench"] == 1
    assert benchmarks.definition(reviewer, "InterCode-CTF", 1).protocol.min_epochs == 1
    with pytest.raises(NotFound, match="Known: "):
        benchmarks.definition(reviewer, "nonexistent")

    rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "r.json", _ruleset([rule])))
    sid = _sub(reviewer)
    out = results.import_files(reviewer, [_csv_run(tmp_path, 4, 3)], sid)
    assert out[0].status == "imported", out[0].message
    run = results.get_run(reviewer, out[0].run_id)
    assert run.benchmark == "Classified Cyber Range v1"  # resolved by the imported definition's task name
    view = coverage.evaluate(reviewer, sid)
    r = view.evaluation.results[0]
    assert r.rule_id == "RANGE" and r.outcome.value == "met" and r.value == 0.75
    assert "conforming" in r.inputs[0] and "[0.3" in r.inputs[0] and "n=4" in r.inputs[0]


# -- conformance against real inspect-ai logs -----------------------------------------------------------


@pytest.fixture(scope="module")
def defined_template(tmp_path_factory: pytest.TempPathFactory,
                     workstation_template: WorkstationTemplate) -> tuple[WorkstationTemplate, Any]:
    """The classified definitions imported (admin sign-in, CA, signed document) and a submission
    created, once per module; each test that starts there gets a copy."""
    root = tmp_path_factory.mktemp("defined")

    def prepare(ws: Workstation) -> Any:
        _import_classified(ws, root)
        return _sub(ws.session("reviewer"))

    return derive_template(root, workstation_template, prepare)


@pytest.fixture
def defined(workstation: Workstation, defined_template: tuple[WorkstationTemplate, Any],
            memory_keyring: MemoryKeyring) -> tuple[Any, Any]:
    template, sid = defined_template
    restore_template(workstation, template, memory_keyring)
    return workstation.session("reviewer"), sid


def _conf(s, sid, name):
    run_id = results.import_files(s, [INSPECT / name], sid)[0].run_id
    return benchmarks.conformance(s, run_id)


def test_conforming_real_log(defined):
    s, sid = defined
    c = _conf(s, sid, "intercode_ok.eval")
    assert c is not None and (c.benchmark_id, c.benchmark_version) == ("intercode-ctf", 2)
    assert c.conforming, c.summary
    assert {"samples", "epochs", "scorer", "errors", "model", "task_version", "dataset", "token_budget"} <= set(c.checks)


def test_real_log_missing_a_sample(defined):
    s, sid = defined
    c = _conf(s, sid, "intercode_missing.eval")  # inspect-ai run with sample_id=["ctf-1", "ctf-3"]
    assert not c.conforming
    dev, too_few = c.failures
    assert dev.check == "samples" and dev.found == "1 missing: ctf-2" and "3 canonical" in dev.expected
    assert (too_few.check, too_few.expected, too_few.found) == ("min_samples", "at least 3 samples", "2")


def test_real_log_with_wrong_epoch_count(defined):
    s, sid = defined
    c = _conf(s, sid, "intercode_deflate.eval")  # 1 epoch; the definition requires 2
    assert [(d.check, d.expected, d.found) for d in c.failures] == [("epochs", "at least 2 epochs", "1")]


def test_real_log_with_an_errored_sample(defined):
    s, sid = defined
    c = _conf(s, sid, "intercode_error.eval")
    checks = {d.check: d for d in c.failures}
    assert "errors" in checks and "ctf-2" in checks["errors"].found
    assert "status" in checks  # the run itself ended in error


def test_model_identity_and_task_version_deviations(workstation, tmp_path):
    doc = copy.deepcopy(CLASSIFIED)
    doc["benchmarks"][1]["task_version"] = "2.0"
    _import_classified(workstation, tmp_path, doc)
    s = workstation.session("reviewer")
    sid = _sub(s, name="falcon")  # not the model the log ran
    c = _conf(s, sid, "intercode_ok.eval")
    found = {d.check: d for d in c.failures}
    assert found["model"].found == "mockllm/model" and "falcon" in found["model"].expected
    assert (found["task_version"].expected, found["task_version"].found) == ("2.0", "1.0.2")


# -- rules on n, interval bounds and conformance -----------------------------------------------------------


def test_two_sample_run_no_longer_meets_a_screen_that_requires_n(workstation, tmp_path):
    admin = _admin(workstation)
    rules = [{"id": "CYB", "title": "Cybench screen", "benchmark": "cybench", "metric": "accuracy",
              "threshold": 0.5, "min_samples": 30}]
    rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "r.json", _ruleset(rules)))
    s = workstation.session("reviewer")
    sid = _sub(s)
    results.import_files(s, [_csv_run(tmp_path, 2, 2, task="cybench")], sid)  # 2 of 2 solved
    r = coverage.evaluate(s, sid).evaluation.results[0]
    assert r.outcome.value == "no data" and "n=2 scored samples, below the minimum 30" in r.explanation
    results.import_files(s, [_csv_run(tmp_path, 40, 24, task="cybench")], sid)
    r = coverage.evaluate(s, sid).evaluation.results[0]
    assert r.outcome.value == "met" and r.value == 0.6


def test_rule_on_the_interval_lower_bound(workstation, tmp_path):
    admin = _admin(workstation)
    rules = [{"id": "CYB", "title": "Cybench screen", "benchmark": "Cybench", "metric": "accuracy",
              "threshold": 0.5, "statistic": "lower_bound"}]
    rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "r.json", _ruleset(rules)))
    s = workstation.session("reviewer")
    sid = _sub(s)
    results.import_files(s, [_csv_run(tmp_path, 40, 24, task="cybench")], sid)  # 0.6, Wilson [0.446, 0.736]
    r = coverage.evaluate(s, sid).evaluation.results[0]
    assert r.outcome.value == "not met" and r.value == pytest.approx(0.4457, abs=1e-3)
    assert r.explanation.startswith("CI lower bound 0.445") and "95% CI lower bound" in r.threshold


def test_rule_requiring_a_conforming_run_never_uses_a_deviating_one(defined, workstation, tmp_path):
    s, sid = defined
    admin = _admin(workstation)
    rules = [{"id": "IC", "title": "InterCode", "benchmark": "intercode-ctf", "benchmark_version": 2,
              "metric": "accuracy", "threshold": 0.1, "require_conforming": True}]
    rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "r.json", _ruleset(rules)))
    results.import_files(s, [INSPECT / "intercode_deflate.eval"], sid)
    r = coverage.evaluate(s, sid).evaluation.results[0]
    assert r.outcome.value == "no data" and "does not conform (epochs: expected at least 2 epochs" in r.explanation
    results.import_files(s, [INSPECT / "intercode_ok.eval"], sid)
    r = coverage.evaluate(s, sid).evaluation.results[0]
    assert r.outcome.value == "met" and "not used" in r.explanation  # the deviating run is named, not hidden


# -- evaluation plan ------------------------------------------------------------------------------------


def test_plan_proposed_from_rule_set_then_set_by_a_lead(defined, workstation):
    s, sid = defined
    proposed = benchmarks.plan(s, sid)
    assert not proposed.stored and {i.benchmark_id for i in proposed.items} >= {"cybench", "intercode-ctf"}
    with pytest.raises(PermissionDenied):
        benchmarks.set_plan(s, sid, ["intercode-ctf@2"])
    lead = workstation.session("lead")
    with pytest.raises(ValidationError, match="no benchmark definition 'nope'"):
        benchmarks.set_plan(lead, sid, ["nope"])
    view = benchmarks.set_plan(lead, sid, ["intercode-ctf@2", "range-v1", "cybench"], note="per tasking")
    assert view.stored and view.counts == {"planned": 3, "imported": 0, "conforming": 0, "missing": 3}
    results.import_files(s, [INSPECT / "intercode_deflate.eval", INSPECT / "intercode_ok.eval"], sid)
    view = benchmarks.plan(s, sid)
    ic = next(i for i in view.items if i.benchmark_id == "intercode-ctf")
    assert len(ic.runs) == 2 and len(ic.conforming_runs) == 1 and ic.state == "conforming"
    assert view.progress_text.startswith("3 planned, 1 imported, 1 conforming, 2 missing")


# -- re-evaluation ------------------------------------------------------------------------------------


def test_new_rule_set_with_same_outcome_still_flags_the_determination(workstation, tmp_path):
    admin = _admin(workstation)
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    sid = _sub(rev, flop=3e25)
    det = coverage.record_determination(rev, sid, "3e25 FLOP exceeds the EU presumption.")
    coverage.approve_determination(lead, det.id)
    assert coverage.evaluate(rev, sid).flags == []
    doc = json.loads(builtin_ruleset_bytes())
    doc.update(ruleset_id="agency", version=1, label="classified", title="Agency")
    doc["capability_rules"] = []  # same compute rules: still covered
    rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "r.json", doc))
    flags = coverage.evaluate(rev, sid).flags
    assert len(flags) == 1 and "outcome would stay 'covered'" in flags[0]
    assert "agency v1 (the determination quotes public-reference v1)" in flags[0]


def test_changed_definition_and_new_run_flag_the_determination(defined, workstation, tmp_path):
    s, sid = defined
    results.import_files(s, [INSPECT / "intercode_ok.eval"], sid)
    det = coverage.record_determination(s, sid, "Recorded with the v2 definition.")
    assert det.inputs["definitions"][0][:2] == ["intercode-ctf", 2]
    # the proposed plan follows the active (reference) rule set, which pins intercode-ctf v1
    assert any(p.startswith("intercode-ctf v1: conforming (runs ") for p in det.inputs["plan"]), det.inputs["plan"]
    doc = copy.deepcopy(CLASSIFIED)
    doc.update(version=2, benchmarks=[copy.deepcopy(CLASSIFIED["benchmarks"][1])])
    doc["benchmarks"][0]["version"] = 3
    _import_classified(workstation, tmp_path, doc)
    results.import_files(s, [INSPECT / "wmdp_cyber_ok.eval"], sid)
    [flag] = coverage.evaluate(s, sid).flags
    assert "benchmark definition intercode-ctf changed from v2 to v3" in flag and "run(s) added" in flag


# -- statistics service ----------------------------------------------------------------------------


def test_run_statistics_and_paired_comparison_from_stored_samples(workstation, tmp_path):
    s = workstation.session("reviewer")
    sid = _sub(s)
    a = results.import_files(s, [_csv_run(tmp_path, 40, 24, task="cybench")], sid)[0].run_id
    b = results.import_files(s, [_csv_run(tmp_path, 40, 26, task="cybench")], sid)[0].run_id
    st = statistics.run_statistics(s, a)
    assert st.interval.n == 40 and st.interval.method == "Wilson score"
    cmp = statistics.compare_runs(s, a, b)
    assert cmp.paired.method == "McNemar exact" and cmp.paired.discordant == (0, 2)
    assert "not distinguishable from noise" in cmp.text
    w = results.import_files(s, [INSPECT / "wmdp_cyber_ok.eval"], sid)[0].run_id
    with pytest.raises(ValidationError, match="same benchmark"):
        statistics.compare_runs(s, a, w)


# -- command line ---------------------------------------------------------------------------------------


def test_cli_benchmark_plan_conformance_and_stats(workstation, monkeypatch, capsys, tmp_path):
    admin = _admin(workstation)
    path = _write_signed(admin, tmp_path / "defs.json", CLASSIFIED)
    s = workstation.session("reviewer")
    sid = _sub(s)

    def run(user, *argv):
        monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase(user) + "\n"))
        code = cli.main(["--data-dir", str(workstation.data_dir), "--user", user, *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = run("admin", "benchmark", "import", str(path))
    assert code == 0 and "agency-benchmarks v1 (SECRET): range-v1 v1, intercode-ctf v2" in out, err
    code, out, _ = run("reviewer", "benchmark", "list")
    assert code == 0 and "range-v1" in out and "Classified Cyber Range v1" in out and "cybench" in out
    code, out, _ = run("reviewer", "benchmark", "show", "intercode-ctf")
    assert code == 0 and "InterCode-CTF (intercode-ctf v2)" in out and "includes" in out and "temperature: 0 to 1" in out
    code, _, err = run("reviewer", "benchmark", "show", "nope")
    assert code == 2 and "No benchmark definition 'nope'" in err

    ok = results.import_files(s, [INSPECT / "intercode_ok.eval"], sid)[0].run_id
    missing = results.import_files(s, [INSPECT / "intercode_missing.eval"], sid)[0].run_id
    code, out, _ = run("reviewer", "results", "conformance", str(ok))
    assert code == 0 and "conforms" in out
    code, out, _ = run("reviewer", "results", "conformance", str(missing))
    assert code == 1 and "does not conform" in out and "1 missing: ctf-2" in out
    code, out, _ = run("reviewer", "results", "stats", str(ok), "--compare", str(missing))
    assert code == 0 and "n=3" in out and "paired" in out and "not distinguishable from noise" in out

    code, out, _ = run("lead", "plan", "set", str(sid), "intercode-ctf@2", "range-v1")
    assert code == 0 and "2 planned, 1 imported, 1 conforming, 1 missing" in out
    code, out, _ = run("reviewer", "plan", "show", str(sid))
    assert code == 0 and "conforming" in out and "missing" in out
    code, _, err = run("reviewer", "plan", "set", str(sid), "cybench")
    assert code == 2


# -- capability trend ---------------------------------------------------------------------------------


def _reviewed(s, tmp_path, dev, name, version, received, solved, marking=None, n=40):  # type: ignore[no-untyped-def]
    """A submission with one Cybench run of `n` samples, `solved` of them solved (CSV, per-sample scores)."""
    extra = {} if marking is None else {"marking": marking}
    sid = submissions.create(s, Submission(developer=dev, model_name=name, version=version, received=received,
                                           planned_release=received.replace(day=25), **extra)).id
    path = tmp_path / f"{dev}{name}{version}.csv"
    lines = ["task,model,metric,value,sample_id,epoch,score", f"cybench,{name},accuracy,{solved / n},,,"]
    lines += [f"cybench,{name},,,s{i},1,{1 if i < solved else 0}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    results.import_files(s, [path], sid)
    return sid


def test_trend_frontier_and_position_against_previous_frontier_and_own_previous_version(workstation, tmp_path):
    from app.services import trend

    s = workstation.session("reviewer")

    def reviewed(dev, name, version, received, solved):  # type: ignore[no-untyped-def]
        return _reviewed(s, tmp_path, dev, name, version, received, solved)

    reviewed("Acme", "Falcon", "1", date(2026, 1, 2), 10)
    reviewed("Other", "Kite", "3", date(2026, 3, 1), 20)
    reviewed("Acme", "Falcon", "2", date(2026, 5, 1), 12)
    newest = reviewed("Acme", "Falcon", "3", date(2026, 9, 1), 28)
    t = trend.trend(s, "cybench")
    assert t.benchmark == "Cybench" and t.metric == "accuracy"
    assert [p.value for p in t.points] == [0.25, 0.5, 0.3, 0.7]
    assert [p.label for p in t.frontier] == ["Acme Falcon 1", "Other Kite 3", "Acme Falcon 3"]
    assert t.frontier_at() == (0.25, 0.5, 0.5, 0.7)
    pos = t.position(newest)
    assert pos.previous_frontier.label == "Other Kite 3" and pos.previous_version.label == "Acme Falcon 2"
    assert "difference +0.200 (more capable; intervals overlap: not distinguishable from noise)" in pos.lines[1]
    assert "difference +0.400 (more capable; intervals do not overlap)" in pos.lines[2]
    assert t.points[0].low is not None and t.points[0].n == 40


# -- report content -----------------------------------------------------------------------------------


def test_report_section_shows_intervals_deviations_and_trend_marked_as_the_definitions(defined, tmp_path):
    from pypdf import PdfReader
    from reportlab.lib.pagesizes import LETTER
    from reportlab.platypus import SimpleDocTemplate

    from app.services import benchmark_evidence
    from reports.pdf_benchmark_evidence import flowables, trend_drawing
    from reports.pdf_markings import styles

    s, sid = defined
    lead_plan = ["intercode-ctf@2"]
    results.import_files(s, [INSPECT / "intercode_missing.eval", INSPECT / "intercode_ok.eval"], sid)
    ev = benchmark_evidence.gather(s, sid)
    assert ev.marking.banner() == "SECRET"  # the agency definition is SECRET: the section is at least that
    assert [r.conforming for r in ev.runs] == [False, True]
    assert any("1 missing: ctf-2" in d for d in ev.runs[0].deviations)
    assert "Wilson" in ev.runs[1].interval or "bootstrap" in ev.runs[1].interval
    assert lead_plan and ev.trends and ev.trends[0].benchmark == "InterCode-CTF"
    out = tmp_path / "section.pdf"
    doc = SimpleDocTemplate(str(out), pagesize=LETTER)
    doc.build(flowables(ev, styles(), doc.width))
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "(S) Benchmark evidence" in text and "does not conform to intercode-ctf" in text
    assert "1 missing: ctf-2" in text and "Capability trend: InterCode-CTF" in text and "95% CI" in text
    assert trend_drawing(ev.trends[0], 400) is not None


def test_lead_keeps_a_flagged_determination_with_a_reason_until_the_next_change(workstation, tmp_path,
                                                                                 monkeypatch, capsys):
    admin = _admin(workstation)
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    sid = _sub(rev, flop=3e25)
    det = coverage.record_determination(rev, sid, "3e25 FLOP exceeds the EU presumption.")
    coverage.approve_determination(lead, det.id)
    with pytest.raises(ValidationError, match="not flagged"):
        coverage.keep_determination(lead, sid, "nothing changed")
    doc = json.loads(builtin_ruleset_bytes())
    doc.update(ruleset_id="agency", version=1, label="classified", title="Agency")
    rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "r.json", doc))
    assert coverage.evaluate(rev, sid).flags
    with pytest.raises(PermissionDenied):
        coverage.keep_determination(rev, sid, "reviewers cannot")
    with pytest.raises(ValidationError, match="say why"):
        coverage.keep_determination(lead, sid, " ")

    def run(user, *argv):
        monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase(user) + "\n"))
        code = cli.main(["--data-dir", str(workstation.data_dir), "--user", user, *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = run("lead", "assess", "coverage", str(sid), "--keep", "Same compute rules; outcome unchanged.")
    assert code == 0, err
    assert "Re-evaluation flags answered by lead" in out and "Same compute rules" in out
    view = coverage.evaluate(rev, sid)
    assert view.flags == [] and "Same compute rules; outcome unchanged." in view.kept
    events = [e for e in audit_log.list_events(admin.db.conn, limit=20) if e.action == "coverage.keep"]
    assert events and events[0].details["reason"] == "Same compute rules; outcome unchanged."
    # a further change raises the flag again
    results.import_files(rev, [INSPECT / "wmdp_cyber_ok.eval"], sid)
    view = coverage.evaluate(rev, sid)
    assert view.flags and "run(s) added" in view.flags[0] and view.kept == ""


def test_built_report_places_the_evidence_section_after_the_results_marked_as_the_definitions(defined, workstation,
                                                                                               tmp_path):
    from pypdf import PdfReader

    from reports.pdf import build_pdf
    from tests.unit.test_signing_service import _configure

    _configure(workstation.session("admin"))  # the report is SECRET: it needs its authority block
    s, sid = defined
    s.reload_settings()
    results.import_files(s, [INSPECT / "intercode_missing.eval", INSPECT / "intercode_ok.eval"], sid)
    report = report_assembly.assemble(s, sid)
    assert report.benchmark_evidence is not None and report.overall_marking().banner() == "SECRET"
    built = build_pdf(report)
    assert build_pdf(report).data == built.data  # still deterministic
    out = tmp_path / "report.pdf"
    out.write_bytes(built.data)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    results_at, evidence_at = text.rindex("(U) 5. Benchmark results"), text.rindex("(U) 6. Benchmark evidence")
    assert results_at < evidence_at < text.rindex("(U) 7. Checklist results")
    section = text[evidence_at:text.rindex("(U) 7. Checklist results")]
    assert "(S) Benchmark evidence: intervals, conformance and capability trend" in section
    assert "(S) does not conform to intercode-ctf v2" in section and "1 missing: ctf-2" in section
    assert re.search(r"\(S\) \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \(95% CI, n=\d+, ", section), section
    assert "(S) Capability trend: InterCode-CTF" in section


def test_the_trend_section_is_marked_at_least_as_every_submission_it_quotes(workstation, tmp_path):
    """The capability trend draws every reviewed model's best value: a CUI review's report section
    that charts a SECRET//NOFORN model is marked SECRET//NOFORN (it was CUI: a release carried it)."""
    from app.model.markings import Marking
    from app.services import benchmark_evidence

    s = workstation.session("reviewer")

    _reviewed(s, tmp_path, "Northwind", "Aurora", "1", date(2026, 3, 1), 28, Marking.parse("SECRET//NOFORN"))
    cui = _reviewed(s, tmp_path, "Helix", "Coder", "1", date(2026, 5, 1), 12, Marking.parse("CUI"))
    ev = benchmark_evidence.gather(s, cui)
    assert [t.benchmark for t in ev.trends] == ["Cybench"] and len(ev.trends[0].points) == 2
    assert ev.marking == Marking.parse("SECRET//NOFORN"), ev.marking.banner()
