"""Assessment services over a real workstation: two-person rule, locking, history, evidence,
suggestions from imported results, signed template/rule-set imports and their refusals."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from app.model.checklist import State, Status
from app.model.coverage import Overall
from app.model.errors import IngestError, IntegrityError, PermissionDenied, ValidationError
from app.model.findings import EvidenceRef, Finding, Severity
from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import (
    answers_import,
    assessment,
    assessment_evidence,
    assessment_export,
    assessment_review,
    assessment_suggestions,
    assessment_templates,
    coverage,
    findings,
    results,
    rulesets,
    submissions,
)
from app.services import pki as pki_service
from app.services.assessment_templates import builtin_template_bytes
from app.services.rulesets import builtin_ruleset_bytes
from reports import pki
from reports.detached import sign_detached
from storage import assessment_repo
from storage import audit as audit_log
from tests.conftest import FIXED_NOW, tamper

INSPECT = Path(__file__).parents[1] / "fixtures" / "inspect"


def _sub(session, flop=None):
    return submissions.create(session, Submission(
        developer="Offline", model_name="cyber-mini", version="7b", received=date(2026, 11, 1),
        planned_release=date(2026, 11, 28), training_flop=flop)).id


def _complete_all(s, aid, view, skip=()):
    for item_id in view.template.item_ids:
        if item_id not in skip:
            assessment.answer(s, aid, item_id, status=Status.SATISFIED)


def _admin(workstation):
    """Admin session on a workstation whose CA exists (ensure_ready is idempotent)."""
    admin = workstation.session("admin")
    pki_service.ensure_ready(admin)
    return admin


def _sign(admin, data: bytes) -> bytes:
    ca = pki_service.load_ca(admin)
    return sign_detached(data, ca.key, ca.cert)


def _write_signed(admin, path: Path, doc: dict, signer=None) -> Path:
    data = json.dumps(doc, indent=1).encode()
    path.write_bytes(data)
    sig = _sign(admin, data) if signer is None else sign_detached(data, signer.key, signer.cert)
    path.with_name(path.name + ".p7s").write_bytes(sig)
    return path


@pytest.fixture
def started(workstation):
    s = workstation.session("reviewer")
    sid = _sub(s, flop=3e25)
    view = assessment.start(s, sid)
    return s, sid, view


def test_start_pins_builtin_template_and_is_one_per_submission(started):
    s, sid, view = started
    assert view.template.template_id == "frontier-default" and view.template.version == 1
    assert len(view.template.sections) == 8 and len(view.template.item_ids) == 40
    assert view.state is State.DRAFT and str(view.progress) == "0/40"
    with pytest.raises(ValidationError, match="already has an assessment"):
        assessment.start(s, sid)


def test_answers_keep_full_history_and_justification_rules(started):
    s, _sid, view = started
    aid = view.id
    a = assessment.answer(s, aid, "SUB-01", status=Status.NOT_SATISFIED)
    assert a.status is Status.NOT_SATISFIED and not a.complete and "justification is required" in (a.missing or "")
    assessment.answer(s, aid, "SUB-01", justification="Model card missing; requested 2026-11-19.",
                      marking=Marking.parse("CUI"))
    # Saving the same values again records nothing (autosave no-op).
    assessment.answer(s, aid, "SUB-01", justification="Model card missing; requested 2026-11-19.")
    hist = assessment.history(s, aid, "SUB-01")
    assert [sorted(h.changes) for h in hist] == [["status"], ["justification", "marking"]]
    assert hist[0].changed_by == "reviewer" and hist[1].marking == "CUI"
    view = assessment.get(s, aid)
    assert view.answer("SUB-01").complete and view.sections["SUB"].done == 1 and view.marking.banner() == "CUI"

    # Risk accepted: expiry required (soft while editing), must lie in the future (hard).
    with pytest.raises(ValidationError, match="after today"):
        assessment.answer(s, aid, "SUB-02", status=Status.RISK_ACCEPTED, justification="x",
                          risk_expiry=date(2026, 11, 1))
    assert assessment.get(s, aid).answer("SUB-02").status is Status.NOT_STARTED  # nothing half-written
    r = assessment.answer(s, aid, "SUB-02", status=Status.RISK_ACCEPTED, justification="hashes follow")
    assert r.missing == "a risk acceptance needs an expiry date"
    with pytest.raises(ValidationError, match="not in template"):
        assessment.answer(s, aid, "NOPE-1", status=Status.SATISFIED)


def test_two_person_rule_lock_return_and_reopen(workstation, started):
    s, _sid, view = started
    aid = view.id
    with pytest.raises(ValidationError, match="40 item"):
        assessment_review.submit(s, aid)
    _complete_all(s, aid, view, skip=("SUB-02",))
    assessment.answer(s, aid, "SUB-02", status=Status.RISK_ACCEPTED, justification="Hashes due in 5 days.",
                      risk_expiry=date(2026, 12, 31))
    submitted = assessment_review.submit(s, aid)
    assert submitted.state is State.SUBMITTED and submitted.submitted_by == "reviewer"

    # Submitted: the reviewer cannot change anything.
    with pytest.raises(PermissionDenied, match="submitted for approval"):
        assessment.answer(s, aid, "SUB-01", status=Status.NOT_APPLICABLE, justification="n/a")
    # A reviewer cannot approve at all.
    with pytest.raises(PermissionDenied, match="does not allow"):
        assessment_review.approve(s, aid)

    lead = workstation.session("lead")
    with pytest.raises(ValidationError, match="risk acceptance not yet approved"):
        assessment_review.approve(lead, aid)
    assessment.approve_risk(lead, aid, "SUB-02")
    with pytest.raises(ValidationError, match="say what must change"):
        assessment_review.return_for_changes(lead, aid, "  ")
    returned = assessment_review.return_for_changes(lead, aid, "Tighten the CAP answers.",
                                                    {"CAP-02": "Quote n and stderr for the solve rate."})
    assert returned.state is State.RETURNED
    assert [c.item_id for c in assessment.comments(s, aid)] == [None, "CAP-02"]

    # The reviewer's first change after a return moves the assessment back to draft (recorded).
    assessment.answer(s, aid, "CAP-02", justification="Solve rate 0.5 (n=6, stderr 0.29).")
    assert assessment.get(s, aid).state is State.DRAFT
    assessment_review.submit(s, aid)

    # The lead who submits cannot approve their own submission.
    lead_sub = workstation.session("lead")
    assessment_review.return_for_changes(lead_sub, aid, "one more look")
    assessment.answer(lead_sub, aid, "CAP-01", justification="Checked by lead.")
    assessment_review.submit(lead_sub, aid)
    with pytest.raises(PermissionDenied, match="two-person rule"):
        assessment_review.approve(lead_sub, aid)
    with pytest.raises(PermissionDenied, match="two-person rule"):
        assessment_review.return_for_changes(lead_sub, aid, "self-return")


def _settle_coverage(rev, lead, sid):
    det = coverage.record_determination(rev, sid, "Declared compute is below every reference threshold.")
    return coverage.approve_determination(lead, det.id)


def test_approval_needs_an_approved_coverage_determination(workstation):
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    sid = _sub(rev)
    view = assessment.start(rev, sid)
    _complete_all(rev, view.id, view)
    assessment_review.submit(rev, view.id)
    with pytest.raises(ValidationError, match="coverage determination is not recorded"):
        assessment_review.approve(lead, view.id)
    det = coverage.record_determination(rev, sid, "Below every reference threshold.")
    with pytest.raises(ValidationError, match="coverage determination is not approved yet"):
        assessment_review.approve(lead, view.id)
    coverage.approve_determination(lead, det.id)
    assert assessment_review.approve(lead, view.id).state is State.APPROVED


def test_approved_is_locked_and_reopen_is_recorded(workstation):
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    sid = _sub(rev)
    view = assessment.start(rev, sid)
    _complete_all(rev, view.id, view)
    assessment_review.submit(rev, view.id)
    _settle_coverage(rev, lead, sid)
    approved = assessment_review.approve(lead, view.id, "Good work.")
    assert approved.state is State.APPROVED and approved.approved_by == "lead" and approved.locked

    before = assessment.history(rev, view.id)
    for attempt in (
        lambda: assessment.answer(rev, view.id, "SUB-01", status=Status.IN_PROGRESS),
        lambda: assessment_evidence.add_observation(rev, view.id, "SUB-01", "late note"),
        lambda: findings.create(rev, Finding(sid, "Late", "late finding", Severity.LOW)),
    ):
        with pytest.raises(PermissionDenied, match="locked"):
            attempt()
    assert assessment.history(rev, view.id) == before  # nothing was written

    with pytest.raises(PermissionDenied):
        assessment_review.reopen(rev, view.id, "I want to edit")
    with pytest.raises(ValidationError, match="needs a reason"):
        assessment_review.reopen(lead, view.id, "")
    reopened = assessment_review.reopen(lead, view.id, "Developer sent a corrected model card.")
    assert reopened.state is State.DRAFT and reopened.approved_by is None
    actions = [t.action for t in assessment.transitions(rev, view.id)]
    assert actions == ["submit", "approve", "reopen"]
    events = [e.action for e in audit_log.list_events(rev.db.conn, limit=500)]
    assert "assessment.reopen" in events and "assessment.approve" in events
    assessment.answer(rev, view.id, "SUB-01", status=Status.IN_PROGRESS)  # editable again


def test_evidence_runs_samples_files_and_observations(workstation, started):
    s, sid, view = started
    aid = view.id
    out = results.import_files(s, [INSPECT / "intercode_ok.eval"], sid)
    run_id = out[0].run_id
    assessment_evidence.add_run_evidence(s, aid, "CAP-02", run_id, note="InterCode run")
    assessment_evidence.add_run_evidence(s, aid, "CAP-02", run_id, sample_id="ctf-1", note="solved in both epochs")
    with pytest.raises(Exception, match="no sample"):
        assessment_evidence.add_run_evidence(s, aid, "CAP-02", run_id, sample_id="nope")
    eid = assessment_evidence.add_stream_evidence(s, aid, "CAP-02", io.BytesIO(b"scaffold config v3\n"), "scaffold.txt",
                                                  Marking.parse("CUI"))
    assessment_evidence.add_observation(s, aid, "CAP-02", "Transcripts show genuine exploitation, not memorised flags.")
    links = assessment_evidence.evidence(s, aid, "CAP-02")
    assert [e.kind for e in links] == ["run", "sample", "file", "observation"]
    f = next(e for e in links if e.kind == "file")
    import hashlib
    assert f.sha256 == hashlib.sha256(b"scaffold config v3\n").hexdigest() and f.size == 19
    assert assessment_evidence.read_file_evidence(s, eid) == ("scaffold.txt", b"scaffold config v3\n")
    assert assessment.get(s, aid).evidence_counts["CAP-02"] == 4
    # The file lives only inside the encrypted database.
    assert b"scaffold config v3" not in (workstation.data_dir / "workstation.db").read_bytes()

    import dataclasses
    s._settings = dataclasses.replace(s.settings, max_artifact_mb=1)
    with pytest.raises(ValidationError, match="larger than"):
        assessment_evidence.add_stream_evidence(s, aid, "CAP-02", io.BytesIO(b"x" * ((1 << 20) + 1)), "big.bin")
    assert assessment.get(s, aid).evidence_counts["CAP-02"] == 4

    with pytest.raises(ValidationError, match="reason"):
        assessment_evidence.remove_evidence(s, links[0].id, "")
    assessment_evidence.remove_evidence(s, links[0].id, "wrong run")
    assert len(assessment_evidence.evidence(s, aid, "CAP-02")) == 3
    kinds = [h.changes.get("evidence") for h in assessment.history(s, aid, "CAP-02")]
    assert kinds[0] == ["", f"linked run {run_id}"] and kinds[-1][1] == ""


def test_suggestion_from_results_accept_and_override(workstation, started, tmp_path):
    s, sid, view = started
    aid = view.id
    results.import_files(s, [INSPECT / "intercode_ok.eval"], sid)  # InterCode-CTF accuracy 0.5
    sug = assessment_suggestions.suggestion(s, aid, "CAP-02")
    # Reference set: InterCode screen at 0.8 -> below; Cybench has no data -> what is known, no status.
    assert sug is not None and sug.status == "" and "no input yet for SCREEN-CYBENCH" in sug.text
    assert "0.5 < 0.8 (run" in sug.text
    with pytest.raises(ValidationError, match="no suggested status"):
        assessment_suggestions.decide_suggestion(s, aid, "CAP-02", accept=True)

    admin = _admin(workstation)
    doc = json.loads(builtin_ruleset_bytes())
    doc.update(ruleset_id="agency-cyber", version=1, label="classified", title="Agency rule set (test)",
               marking="SECRET//NOFORN")
    doc["capability_rules"] = [{"id": "CTF-1", "title": "CTF solve rate", "benchmark": "InterCode-CTF",
                                "metric": "accuracy", "threshold": 0.4, "indicator": "ctf_solving"}]
    rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "agency.json", doc))

    sug = assessment_suggestions.suggestion(s, aid, "CAP-02")
    assert sug is not None and sug.status == "not_satisfied" and sug.rule_ids == ("CTF-1",)
    assert "0.5 >= 0.4" in sug.text and len(sug.run_ids) == 1 and f"run {sug.run_ids[0]}" in sug.text
    a = assessment_suggestions.decide_suggestion(s, aid, "CAP-02", accept=True)
    assert a.status is Status.NOT_SATISFIED and "CTF-1" in a.justification and a.complete
    assert a.marking.banner() == "SECRET//NOFORN"  # it quotes a classified threshold
    with pytest.raises(ValidationError, match="needs a reason"):
        assessment_suggestions.decide_suggestion(s, aid, "CAP-02", accept=False, status=Status.SATISFIED)
    b = assessment_suggestions.decide_suggestion(s, aid, "CAP-02", accept=False, status=Status.SATISFIED,
                                                 reason="Flags were in the training data (contamination check EVD-03).")
    assert b.status is Status.SATISFIED and "overridden" in b.justification
    decisions = assessment_suggestions.suggestion_decisions(s, aid, "CAP-02")
    assert [d["decision"] for d in decisions] == ["accepted", "overridden"]
    assert decisions[1]["reason"].startswith("Flags were") and decisions[0]["run_ids"] == list(sug.run_ids)


def test_coverage_determination_two_person_and_reevaluation_flag(workstation, tmp_path):
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    sid = _sub(rev, flop=3e25)
    view = coverage.evaluate(rev, sid)
    assert view.ruleset.label.value == "reference"
    by_id = {r.rule_id: r for r in view.evaluation.results}
    assert by_id["EU-AIA-GPAI-SR"].outcome.value == "met" and by_id["US-EO14110"].outcome.value == "not met"
    assert view.evaluation.overall is Overall.COVERED

    with pytest.raises(ValidationError, match="rationale"):
        coverage.record_determination(rev, sid, "")
    det = coverage.record_determination(rev, sid, "Declared 3e25 FLOP exceeds the EU presumption.")
    assert (det.ruleset_id, det.outcome, det.recorded_by) == ("public-reference", "covered", "reviewer")
    assert len(det.ruleset_sha256) == 64 and det.inputs["training_flop"] == 3e25
    with pytest.raises(PermissionDenied):
        coverage.approve_determination(rev, det.id)
    own = coverage.record_determination(lead, sid, "Re-recorded by the lead.")
    with pytest.raises(PermissionDenied, match="two-person"):
        coverage.approve_determination(lead, own.id)
    det2 = coverage.record_determination(rev, sid, "Declared 3e25 FLOP exceeds the EU presumption.")
    assert coverage.approve_determination(lead, det2.id).approved_by == "lead"
    assert coverage.evaluate(rev, sid).flags == []

    # A new rule set that changes the outcome raises the flag.
    admin = _admin(workstation)
    doc = json.loads(builtin_ruleset_bytes())
    doc.update(ruleset_id="agency", version=2, label="classified", title="Agency")
    doc["compute_rules"] = [{"id": "C1", "title": "Compute", "threshold_flop": 1e27}]
    doc["capability_rules"] = []
    doc["marking"] = "SECRET"
    rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "r.json", doc))
    flags = coverage.evaluate(rev, sid).flags
    assert len(flags) == 1 and "'covered' to 'not covered'" in flags[0] and "agency v2" in flags[0]
    # A determination under a classified rule set is never marked lower than the rule set.
    det3 = coverage.record_determination(rev, sid, "Under the agency rule set: not covered.")
    assert det3.outcome == "not covered" and det3.marking.banner() == "SECRET"


# -- bad input: templates and rule sets --------------------------------------------------------


def _template_doc(**changes):
    doc = json.loads(builtin_template_bytes())
    doc.update(changes)
    return doc


def test_signed_template_import_and_migration_carries_answers(workstation, tmp_path):
    rev, admin = workstation.session("reviewer"), _admin(workstation)
    sid = _sub(rev)
    view = assessment.start(rev, sid)
    assessment.answer(rev, view.id, "SUB-01", status=Status.SATISFIED)
    assessment.answer(rev, view.id, "SUB-03", status=Status.SATISFIED)
    assessment.answer(rev, view.id, "SUB-05", status=Status.SATISFIED)

    doc = _template_doc(version=2)
    sub = doc["sections"][0]["items"]
    sub[2]["title"] = "Review window tracked and extension requests logged"
    del sub[4]  # SUB-05 removed
    sub.append({"id": "SUB-06", "title": "Access credentials rotated", "guidance": "Rotate after review."})
    stored = assessment_templates.import_template(admin, _write_signed(admin, tmp_path / "t2.json", doc))
    assert stored.version == 2 and stored.origin == "imported" and "issued by" in stored.signer

    pinned = assessment.get(rev, view.id)
    assert pinned.template.version == 1 and pinned.newer_template == (stored.pk, 2)
    changes = assessment.migrate_template(rev, view.id)
    kinds = {(c.kind, c.item_id) for c in changes}
    assert {("added", "SUB-06"), ("removed", "SUB-05"), ("reworded", "SUB-03")} <= kinds
    moved = assessment.get(rev, view.id)
    assert moved.template.version == 2 and moved.newer_template is None
    assert moved.answer("SUB-01").status is Status.SATISFIED
    assert moved.answer("SUB-03").status is Status.IN_PROGRESS  # reworded: re-check
    assert "SUB-05" not in moved.answers
    # The removed answer stays in the history.
    assert any(h.item_id == "SUB-05" and "template" in h.changes for h in assessment.history(rev, view.id))


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["sections"][1]["items"].append(dict(d["sections"][0]["items"][0])),
     r"sections\[1\]\.items\[5\]\.id: duplicate item id 'SUB-01' \(first at sections\[0\]\.items\[0\]\)"),
    (lambda d: d["sections"][2]["items"][0].pop("title"), r"sections\[2\]\.items\[0\]\.title: missing required"),
    (lambda d: d.update(version="two"), r"version: must be a whole number"),
    (lambda d: d["sections"][0].update(colour="red"), r"sections\[0\]\.colour: unknown field"),
])
def test_bad_templates_are_refused_naming_file_and_field(workstation, tmp_path, mutate, message):
    admin = _admin(workstation)
    doc = _template_doc(version=3)
    mutate(doc)
    path = _write_signed(admin, tmp_path / "bad.json", doc)
    with pytest.raises(IngestError, match=message) as exc:
        assessment_templates.import_template(admin, path)
    assert str(path) in str(exc.value)
    assert [t.version for t in assessment_templates.list_templates(admin)] in ([], [1])


def test_malformed_json_template_names_file_and_position(workstation, tmp_path):
    admin = _admin(workstation)
    path = tmp_path / "broken.json"
    data = b'{"format": "frontier-review/checklist", "sections": [}'
    path.write_bytes(data)
    path.with_name("broken.json.p7s").write_bytes(_sign(admin, data))
    with pytest.raises(IngestError, match=r"broken\.json: invalid JSON at line 1 column"):
        assessment_templates.import_template(admin, path)


def test_unsigned_wrongly_signed_and_tampered_imports_are_refused(workstation, tmp_path):
    admin = _admin(workstation)
    doc = _template_doc(version=2)
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(doc))
    with pytest.raises(IntegrityError, match="unsigned checklist template refused"):
        assessment_templates.import_template(admin, unsigned)

    stranger = pki.create_ca("Somebody else", FIXED_NOW)
    foreign = _write_signed(admin, tmp_path / "foreign.json", doc, signer=stranger)
    with pytest.raises(IntegrityError, match="does not chain to a trusted root"):
        assessment_templates.import_template(admin, foreign)

    tampered = _write_signed(admin, tmp_path / "tampered.json", doc)
    original = tampered.read_text()
    tampered.write_text(original.replace("package complete", "package c0mplete"))
    assert tampered.read_text() != original
    with pytest.raises(IntegrityError, match="changed after signing"):
        assessment_templates.import_template(admin, tampered)

    rs = json.loads(builtin_ruleset_bytes())
    rs["version"] = 5
    plain = tmp_path / "rules.json"
    plain.write_text(json.dumps(rs))
    with pytest.raises(IntegrityError, match="unsigned coverage rule set refused"):
        rulesets.import_ruleset(admin, plain)
    assert [d.origin for d in rulesets.list_rulesets(admin)] == []

    # Only an administrator imports trusted documents.
    rev = workstation.session("reviewer")
    with pytest.raises(PermissionDenied):
        assessment_templates.import_template(rev, _write_signed(admin, tmp_path / "ok.json", doc))


def test_rule_set_with_unknown_benchmark_or_metric_is_refused(workstation, tmp_path):
    admin = _admin(workstation)
    rs = json.loads(builtin_ruleset_bytes())
    rs["version"] = 7
    rs["capability_rules"][1]["benchmark"] = "CTF-o-matic"
    with pytest.raises(IngestError, match=r"capability_rules\[1\]\.benchmark: unknown benchmark 'CTF-o-matic'"):
        rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "a.json", rs))
    rs = json.loads(builtin_ruleset_bytes())
    rs["version"] = 7
    rs["capability_rules"][0]["metric"] = "vibes"
    with pytest.raises(IngestError, match=r"capability_rules\[0\]\.metric: unknown metric 'vibes' for Cybench"):
        rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "b.json", rs))
    rs = json.loads(builtin_ruleset_bytes())
    rs["version"] = 7
    rs["compute_rules"].append(dict(rs["compute_rules"][0]))
    with pytest.raises(IngestError, match=r"compute_rules\[4\]\.id: duplicate rule id 'US-EO14110'"):
        rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / "c.json", rs))
    assert rulesets.list_rulesets(admin) == []


def test_findings_register(workstation, started):
    s, sid, _view = started
    with pytest.raises(ValidationError, match="title"):
        findings.create(s, Finding(sid, " ", "d", Severity.HIGH))
    with pytest.raises(ValidationError, match="not in template"):
        findings.create(s, Finding(sid, "T", "d", Severity.HIGH, item_ids=("ZZZ-9",)))
    f = findings.create(s, Finding(sid, "CTF uplift", "Solves half of InterCode.", Severity.HIGH,
                                   "Restrict agentic deployment.", ("CAP-02",), (), Marking.parse("SECRET//NOFORN")))
    g = findings.create(s, Finding(sid, "Weak SDL", "No code review.", Severity.MEDIUM))
    assert (f.label, g.label) == ("F-1", "F-2") and f.marking.banner() == "SECRET//NOFORN"
    updated = findings.update(s, Finding(**{**f.__dict__, "severity": Severity.CRITICAL}))
    assert updated.severity is Severity.CRITICAL
    with pytest.raises(ValidationError, match="reason"):
        findings.delete(s, g.id, "")
    findings.delete(s, g.id, "duplicate of F-1")
    assert [x.label for x in findings.list_findings(s, sid)] == ["F-1"]
    with pytest.raises(ValidationError):
        EvidenceRef.parse("disk:1")


def test_export_contains_answers_history_and_marking(started):
    s, _sid, view = started
    assessment.answer(s, view.id, "SUB-01", status=Status.SATISFIED, marking=Marking.parse("SECRET"))
    data = assessment_export.export(s, view.id)
    assert data["marking"] == "SECRET" and data["template"]["version"] == 1
    item = data["sections"][0]["items"][0]
    assert (item["id"], item["status"], item["portion"]) == ("SUB-01", "satisfied", "(S)")
    assert data["history"][0]["item_id"] == "SUB-01" and data["progress"] == {"done": 1, "total": 40}
    json.loads(assessment_export.export_json(s, view.id))


@pytest.mark.parametrize(("data", "problem"), [
    (b"[" * 100_000 + b"]" * 100_000, "nested more than 512 levels"),  # json.loads raised RecursionError
    (b'{"assessment": {"id": 1180591620717411303424}, "sections": []}', "names no assessment"),  # OverflowError
    (b'{"assessment": {"id": true}, "sections": []}', "names no assessment"),  # was read as assessment 1
])
def test_answers_file_that_cannot_be_read_is_refused_by_name(started, tmp_path, data, problem):
    s, _sid, _view = started
    path = tmp_path / "answers.json"
    path.write_bytes(data)
    with pytest.raises(IngestError, match=f"answers.json: .*{problem}"):
        answers_import.import_answers(s, path)


def test_an_answers_file_that_is_a_named_pipe_is_refused(started, tmp_path):
    """A named pipe picked as the answers file blocked the read until a writer came (a hang)."""
    import os

    s, _sid, _view = started
    os.mkfifo(tmp_path / "answers.json")
    with pytest.raises(IngestError, match="answers.json: is not a regular file"):
        answers_import.import_answers(s, tmp_path / "answers.json")


def test_answers_with_lone_surrogates_are_read(started, tmp_path):
    """A lone surrogate escape (valid JSON) in an item id or a justification reached the database, which raised
    UnicodeEncodeError; it is read as U+FFFD: an unknown item is refused by name, the text kept."""
    s, _sid, view = started
    path = tmp_path / "answers.json"
    doc = {"assessment": {"id": view.id}, "sections": [{"items": [{"id": "SUB-\ud800", "status": "satisfied"}]}]}
    path.write_text(json.dumps(doc))
    with pytest.raises(IngestError, match="item SUB-\ufffd: .* is not in template"):
        answers_import.import_answers(s, path)
    doc["sections"][0]["items"][0] = {"id": "SUB-01", "status": "satisfied", "justification": "ok\ud800"}
    path.write_text(json.dumps(doc))
    assert answers_import.import_answers(s, path).changed == ("SUB-01",)
    assert assessment_repo.get_answer(s.db.conn, view.id, "SUB-01").justification == "ok\ufffd"


def test_evidence_file_named_in_latin1_is_stored_with_its_name_shown(started, tmp_path):
    """A file name that is not UTF-8 reached the database with surrogate escapes (UnicodeEncodeError)."""
    import os

    s, _sid, view = started
    path = tmp_path / os.fsdecode(b"preuve-\xe9.txt")
    path.write_text("log excerpt")
    evidence_id = assessment_evidence.add_file_evidence(s, view.id, "SUB-01", path)
    assert assessment_evidence.read_file_evidence(s, evidence_id)[0] == "preuve-\\xe9.txt"


def test_signed_and_answer_files_named_in_latin1_import(workstation, started, tmp_path):
    """A file name that is not UTF-8 went into the audit log and the answer history as it came from
    the OS (surrogate escapes): UnicodeEncodeError. It is recorded with the byte shown as \\xe9."""
    import os

    s, _sid, view = started
    path = tmp_path / os.fsdecode(b"r\xe9ponses.json")
    path.write_text(json.dumps({"assessment": {"id": view.id},
                                "sections": [{"items": [{"id": "SUB-01", "status": "satisfied"}]}]}))
    assert answers_import.import_answers(s, path).changed == ("SUB-01",)
    admin = _admin(workstation)
    doc = json.loads(builtin_ruleset_bytes())
    doc["version"] = 7
    stored = rulesets.import_ruleset(admin, _write_signed(admin, tmp_path / os.fsdecode(b"r\xe8gles.json"), doc))
    assert stored.version == 7
    event = audit_log.list_events(admin.db.conn, 1, action_prefix="coverage.ruleset_import")[0]
    assert event.details["file"] == "r\\xe8gles.json"


def test_auditor_reads_but_cannot_answer(workstation, started):
    _s, _sid, view = started
    auditor = workstation.session("auditor")
    assert assessment.get(auditor, view.id).id == view.id
    with pytest.raises(PermissionDenied):
        assessment.answer(auditor, view.id, "SUB-01", status=Status.SATISFIED)
    assert assessment_repo.get_answer(auditor.db.conn, view.id, "SUB-01") is None


def test_answer_history_is_sealed_into_the_audit_chain(workstation, started):
    s, _sid, view = started
    aid = view.id
    for item_id in view.template.item_ids:
        assessment.answer(s, aid, item_id, status=Status.SATISFIED)
    assessment.answer(s, aid, "SUB-01", justification="Package complete; manifest attached.")
    # Autosaves are not audited one by one (the history holds them) ...
    assert not [e for e in audit_log.list_events(s.db.conn, 500) if e.action == "assessment.answer"]
    assessment_review.submit(s, aid)
    event = audit_log.list_events(s.db.conn, 5, action_prefix="assessment.submit")[0]
    # ... but the submit seals all 41 history rows.
    assert event.details["history"]["rows"] == 41 and len(event.details["history"]["sha256"]) == 64
    assert assessment_review.verify_history(s, aid) == []

    # Someone with the database key drops the append-only trigger and rewrites a justification.
    with tamper(s) as conn:
        conn.execute("DROP TRIGGER answer_history_no_update")
        with pytest.raises(Exception, match="append-only"):
            conn.execute("DELETE FROM answer_history WHERE item_id = 'SUB-02'")
        conn.execute("UPDATE answer_history SET justification = 'Package incomplete' WHERE item_id = 'SUB-01' "
                     "AND justification != ''")
    problems = assessment_review.verify_history(s, aid)
    assert len(problems) == 1 and "no longer matches what was sealed at assessment.submit" in problems[0]


def test_rule_set_signed_with_stock_openssl_by_an_imported_agency_root(workstation, tmp_path):
    """The documented signing command (docs/RULESET_FORMAT.md) with an agency CA the admin imported."""
    import shutil
    import subprocess

    from cryptography.hazmat.primitives import serialization

    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    admin = _admin(workstation)
    agency = pki.create_ca("Agency", FIXED_NOW)
    author = pki.issue_signing_certificate(agency, "Rule Author", "author", "Lead", FIXED_NOW)
    (tmp_path / "agency-root.pem").write_bytes(pki.cert_to_pem(agency.cert))
    (tmp_path / "signer.pem").write_bytes(pki.cert_to_pem(author.cert))
    (tmp_path / "signer.key").write_bytes(author.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    doc = json.loads(builtin_ruleset_bytes())
    doc.update(ruleset_id="agency-cyber", version=4, label="classified", title="Agency rule set",
               marking="SECRET//NOFORN")
    path = tmp_path / "agency-ruleset-v4.json"
    path.write_text(json.dumps(doc))
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-in", str(path), "-signer",
                    str(tmp_path / "signer.pem"), "-inkey", str(tmp_path / "signer.key"), "-md", "sha256",
                    "-out", str(path) + ".p7s"], check=True, capture_output=True)
    with pytest.raises(IntegrityError, match="does not chain to a trusted root"):
        rulesets.import_ruleset(admin, path)
    pki_service.import_trusted_root(admin, tmp_path / "agency-root.pem", workstation.passphrase("admin"))
    stored = rulesets.import_ruleset(admin, path)
    assert stored.active and stored.label == "classified" and stored.signer.startswith("Rule Author")
    active = rulesets.active_ruleset(workstation.session("reviewer"))
    assert (active.ruleset_id, active.version, active.marking) == ("agency-cyber", 4, "SECRET//NOFORN")


def test_template_signed_by_a_reviewer_account_certificate_is_refused(workstation, tmp_path):
    """Reviewers' certificates chain to the workstation CA but are not an authority for rules."""
    admin = _admin(workstation)
    reviewer_identity = pki_service.load_identity(workstation.session("reviewer"), "reviewer")
    doc = _template_doc(version=99)
    path = _write_signed(admin, tmp_path / "by_reviewer.json", doc, signer=reviewer_identity)
    with pytest.raises(IntegrityError, match="workstation account certificate"):
        assessment_templates.import_template(admin, path)
