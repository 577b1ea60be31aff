"""OSCAL assessment results (NIST OSCAL, validated with compliance-trestle's models).

UUIDs are version 5, derived from the control number and item ids, so the same report input
gives the same JSON. Classification markings travel as props on every object that carries
content (ns below), and the overall marking sits in the metadata.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time
from typing import Any

from app.model.errors import ValidationError
from app.model.markings import Marking, rollup
from app.model.report import EvidenceCitation, LinkedVulnerability, ReportInput

NS = "https://frontier-review.invalid/ns/oscal"  # .invalid: never resolvable, never fetched
_ROOT = uuid.UUID("6f1c7d7e-2b1a-5c7e-9d0e-5f0a1b2c3d4e")
_STATE = {"satisfied": "satisfied", "not satisfied": "not-satisfied", "risk accepted": "not-satisfied"}


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(_ROOT, "/".join(str(p) for p in parts)))


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": value}


def _mark(m: Marking) -> dict[str, str]:
    return _prop("marking", m.banner())


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _token(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-._" else "-" for ch in text.lower()).strip("-") or "item"


def _evidence(e: EvidenceCitation) -> dict[str, Any]:
    props = [_mark(e.marking), _prop("evidence-kind", e.kind), _prop("evidence-ref", e.ref)]
    for name, value in (("benchmark", e.benchmark), ("task", e.task), ("sample-id", e.sample_id),
                        ("score", e.score), ("log-sha256", e.log_sha256), ("artifact-name", e.name),
                        ("artifact-sha256", e.sha256)):
        if value:
            props.append(_prop(name, value))
    return {"description": e.describe(), "props": props}


def _vulnerability_props(v: LinkedVulnerability) -> list[dict[str, str]]:
    # each linked vulnerability with its own marking, as in the PDF, findings.json and its CSAF advisory
    props = [_prop("vulnerability", v.id), _prop("vulnerability-marking", v.marking.banner())]
    if v.cvss_vector:
        props += [_prop("cvss-v4-score", v.cvss_score), _prop("cvss-v4-vector", v.cvss_vector)]
    return props


def assessment_results(r: ReportInput) -> dict[str, Any]:
    cn = r.control_number
    generated = _ts(r.generated_at)
    start_date = r.review_started or r.submission.received
    start = _ts(datetime.combine(start_date, time(0, 0), tzinfo=UTC))
    observations: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    risks: list[dict[str, Any]] = []
    controls: list[dict[str, str]] = []
    for section in r.checklist:
        for item in section.items:
            obs_id = _uuid(cn, "observation", item.id)
            controls.append({"control-id": _token(item.id)})
            obs: dict[str, Any] = {
                "uuid": obs_id, "title": f"{item.id} {item.title}",
                "description": item.justification or f"Status: {item.status}",
                "props": [_mark(item.marking), _prop("checklist-status", _token(item.status))],
                "methods": ["EXAMINE"], "collected": generated,
            }
            if item.evidence:
                obs["relevant-evidence"] = [{"description": ref} for ref in item.evidence]
            observations.append(obs)
            state = _STATE.get(item.status)
            if state:
                findings.append({
                    "uuid": _uuid(cn, "checklist-finding", item.id), "title": f"{item.id} {item.title}",
                    "description": item.justification or item.status,
                    "props": [_mark(item.marking)],
                    "target": {"type": "objective-id", "target-id": _token(item.id),
                               "status": {"state": state, **({"remarks": "risk accepted"}
                                                             if item.status == "risk accepted" else {})}},
                    "related-observations": [{"observation-uuid": obs_id}],
                })
    for f in r.findings:
        risk_id = _uuid(cn, "risk", f.id)
        vuln_props = [p for v in f.vulnerabilities for p in _vulnerability_props(v)]
        risks.append({
            "uuid": risk_id, "title": f"{f.id} {f.title}", "description": f.description,
            "statement": f.recommendation or f.description, "status": "open",
            "props": [_mark(f.marking), _prop("severity", f.severity.value), *vuln_props],
        })
        finding: dict[str, Any] = {
            "uuid": _uuid(cn, "finding", f.id), "title": f"{f.id} {f.title}", "description": f.description,
            "props": [_mark(f.marking), _prop("severity", f.severity.value),
                      *(_prop("checklist-item", _token(i)) for i in f.checklist_refs)],
            "target": {"type": "objective-id", "target-id": _token(f.checklist_refs[0] if f.checklist_refs else f.id),
                       "status": {"state": "not-satisfied"}},
            "related-risks": [{"risk-uuid": risk_id}],
        }
        if f.evidence:
            # The evidence a finding rests on travels as an observation with one entry per reference.
            obs_id = _uuid(cn, "finding-evidence", f.id)
            observations.append({
                "uuid": obs_id, "title": f"Evidence for {f.id}", "description": f"Evidence cited by {f.id} {f.title}",
                "props": [_mark(rollup(e.marking for e in f.evidence))], "methods": ["EXAMINE", "TEST"],
                "collected": generated, "relevant-evidence": [_evidence(e) for e in f.evidence],
            })
            finding["related-observations"] = [{"observation-uuid": obs_id}]
        findings.append(finding)
    if r.coverage:
        observations.append({
            "uuid": _uuid(cn, "coverage"), "title": "Coverage determination",
            "description": f"{r.coverage.outcome}. {r.coverage.rationale}",
            "props": [_mark(r.coverage.marking), _prop("rule-set", r.coverage.rule_set),
                      _prop("rule-set-sha256", r.coverage.rule_set_sha256)],
            "methods": ["EXAMINE", "TEST"], "collected": generated,
        })
    selection: dict[str, Any] = {"include-controls": controls} if controls else {"include-all": {}}
    result: dict[str, Any] = {
        "uuid": _uuid(cn, "result"),
        "title": f"{r.submission.marking.portion()} Review of {r.submission.display_name}",
        "description": f"Pre-release review of submission #{r.submission.id}, report {cn}.",
        "start": start, "end": generated,
        "props": [_mark(r.overall_marking())],
        "reviewed-controls": {"control-selections": [selection]},
    }
    if observations:
        result["observations"] = observations
    if risks:
        result["risks"] = risks
    if findings:
        result["findings"] = findings
    from trestle.oscal.assessment_results import OSCAL_VERSION

    return {"assessment-results": {
        "uuid": _uuid(cn),
        "metadata": {
            "title": f"{r.title_marking.portion()} {r.title}", "last-modified": generated, "version": str(r.version),
            "oscal-version": OSCAL_VERSION,
            "props": [_mark(r.overall_marking()), _prop("control-number", cn),
                      _prop("audit-chain-head", r.audit_head_hash)],
        },
        "import-ap": {"href": f"urn:frontier-review:submission:{r.submission.id}:assessment-plan"},
        "results": [result],
    }}


def validate(document: dict[str, Any], source: str = "assessment-results.json") -> None:
    """Validate against the OSCAL model shipped in compliance-trestle; name the first problem."""
    from pydantic import ValidationError as PydanticError
    from trestle.oscal.assessment_results import AssessmentResults

    try:
        AssessmentResults.model_validate(document["assessment-results"])
    except KeyError:
        raise ValidationError(source, "root object 'assessment-results' is missing") from None
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ValidationError(source, f"not valid OSCAL assessment results at {where}: {first.get('msg')}") from None


def to_json(r: ReportInput) -> bytes:
    document = assessment_results(r)
    validate(document)
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
