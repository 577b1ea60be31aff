"""Hostile checklist templates, coverage rule sets, CSAF advisories, export packages and signed PDFs."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ingest import checklist_template, csaf_import, rule_set
from app.model.markings import Marking
from app.services.assessment_templates import builtin_template_bytes
from app.services.rulesets import builtin_ruleset_bytes
from reports import csaf_validate, findings_json, oscal, pki
from reports.detached import sign_detached, verify_detached
from reports.package import MANIFEST, MANIFEST_SIG, PDF_FILE, write_package
from reports.pdf import build_pdf
from reports.sample import sample_input
from reports.signing import lead_request, reviewer_request, sign_pdf, software_signer
from reports.verify import verify_pdf
from reports.verify_package import verify_package
from tests.conftest import WorkstationTemplate, fixture_conditions
from tests.reliability.hostile import HOSTILE, json_mutated, mutated, refuses_cleanly

TEMPLATE = builtin_template_bytes()
RULESET = builtin_ruleset_bytes()


# -- checklist templates and rule sets (admin imports them from media, signed) --------------------


@HOSTILE
@given(st.one_of(json_mutated(json.loads(TEMPLATE)), mutated(TEMPLATE)))
def test_checklist_template(data: bytes) -> None:
    refuses_cleanly(lambda: checklist_template.parse(data, "/media/template.json"), "template.json")


@HOSTILE
@given(st.one_of(json_mutated(json.loads(RULESET)), mutated(RULESET)))
def test_rule_set(data: bytes) -> None:
    refuses_cleanly(lambda: rule_set.parse(data, "/media/rules.json"), "rules.json")


# -- CSAF -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def csaf_doc(tmp_path_factory: pytest.TempPathFactory, workstation_template: WorkstationTemplate) -> dict[str, Any]:
    """A real advisory exported by this workstation (valid against the official 2.1 schema), from a
    copy of the session's template workstation rather than one set up for this module."""
    from app.services import csaf_exchange, vulnerabilities
    from tests.unit.csaf_kit import partner_for
    from tests.unit.test_csaf import rich

    root = tmp_path_factory.mktemp("csaf")
    with fixture_conditions(root) as backend:
        ws = workstation_template.copy_to(root / "ws", backend)
        s = ws.session("reviewer")
        try:
            v = vulnerabilities.create(s, rich())
            (root / "out").mkdir()
            media = Marking.parse("SECRET//NOFORN")
            path = csaf_exchange.export_csaf(s, [v.id], root / "out", media_marking=media,
                                             recipient=partner_for(s)).files[0]
        finally:
            s.close()
    doc: dict[str, Any] = json.loads(path.read_bytes())
    return doc


@HOSTILE
@given(data=st.data())
def test_csaf_advisory(csaf_doc: dict[str, Any], data: st.DataObject) -> None:
    raw = data.draw(st.one_of(json_mutated(csaf_doc, 2), mutated(json.dumps(csaf_doc).encode())))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "partner-advisory.json"
        path.write_bytes(raw)
        refuses_cleanly(lambda: csaf_import.read_advisory(path, csaf_validate.validate), "partner-advisory.json")


# -- export packages and signed PDFs (what a receiving workstation verifies) ----------------------

NOW = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ca = pki.create_ca("Hostile package tests", NOW)
    rev = pki.issue_signing_certificate(ca, "Rita Reviewer", "reviewer", "Reviewer", NOW)
    lead = pki.issue_signing_certificate(ca, "Lee Lead", "lead", "Lead reviewer", NOW)
    report = sample_input(4)
    built = build_pdf(report)
    reviewed = sign_pdf(built.data, software_signer(rev.key, rev.cert, rev.chain),
                        reviewer_request(built.signature_page, built.signature_boxes))
    signed = sign_pdf(reviewed, software_signer(lead.key, lead.cert, lead.chain),
                      lead_request(built.signature_page, built.signature_boxes))
    files = {"report.pdf": signed, "assessment-results.json": oscal.to_json(report),
             "findings.json": findings_json.to_json(report)}
    dest = tmp_path_factory.mktemp("pkg")
    result = write_package(dest, "FRW-hostile", files, report.overall_marking(), report.overall_marking(),
                           lambda data: sign_detached(data, rev.key, rev.cert, rev.chain), pki.cert_to_pem(ca.cert))
    assert verify_package(result.path, [ca.cert]).ok
    manifest, signature = (result.path / MANIFEST).read_bytes(), (result.path / MANIFEST_SIG).read_bytes()
    return {"ca": ca, "folder": result.path, "pdf": signed,
            "pdf_verified": verify_pdf(signed, [ca.cert], PDF_FILE), "manifest": (manifest, signature),
            "manifest_signer": verify_detached(manifest, signature, [ca.cert], what=MANIFEST_SIG)}


@pytest.fixture
def unchanged_reused(package: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """verify_package re-verifies the signed PDF (0.14 s of CPU) and the manifest's signature
    (0.05 s) on every example. Where an example damaged another file, their bytes are the original's:
    they get the fixture's own verification of those very bytes instead of the same work again.
    Damaged bytes (or other roots, names, times) still go to the real verifiers."""
    import reports.verify_package as vp

    roots = [package["ca"].cert]

    def pdf(data: bytes, trusted_roots: Any, name: str = PDF_FILE, at: datetime | None = None) -> Any:
        if data == package["pdf"] and list(trusted_roots) == roots and name == PDF_FILE and at is None:
            known = package["pdf_verified"]  # a fresh result object, as a real call returns
            return dataclasses.replace(known, signatures=list(known.signatures), problems=list(known.problems))
        return verify_pdf(data, trusted_roots, name, at)

    def detached(data: bytes, signature: bytes, trusted_roots: Any, what: str = "signature",
                 at: datetime | None = None) -> Any:
        if ((data, signature) == package["manifest"] and list(trusted_roots) == roots and what == MANIFEST_SIG
                and at is None):
            return package["manifest_signer"]
        return verify_detached(data, signature, trusted_roots, what, at)

    monkeypatch.setattr(vp, "verify_pdf", pdf)
    monkeypatch.setattr(vp, "verify_detached", detached)


@HOSTILE
@given(data=st.data())
def test_package_files(package: dict[str, Any], unchanged_reused: None, data: st.DataObject) -> None:
    src: Path = package["folder"]
    name = data.draw(st.sampled_from(sorted(p.name for p in src.iterdir())))
    original = (src / name).read_bytes()
    content = data.draw(mutated(original, 2) if len(original) < 200_000 else mutated(original, 1))
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / src.name
        shutil.copytree(src, copy)
        (copy / name).write_bytes(content)
        result = verify_package(copy, [package["ca"].cert])  # reports problems; must never raise
        if content != original and name != "SHA256SUMS.p7s":
            assert not result.ok, f"a modified {name} verified"
        if not result.ok and result.problems:
            assert any(name in p or "SHA256SUMS" in p for p in result.problems), result.problems


def _verify_pdf_or_refuse(content: bytes, ca: Any) -> Any:
    from app.model.errors import FrontierError

    try:
        return verify_pdf(content, [ca], name="report.pdf")
    except FrontierError as exc:
        assert "report.pdf" in str(exc), str(exc)
        return None


@HOSTILE
@given(data=st.data())
def test_signed_pdf_damaged(package: dict[str, Any], data: st.DataObject) -> None:
    _verify_pdf_or_refuse(data.draw(mutated(package["pdf"], 3)), package["ca"].cert)


@HOSTILE
@given(data=st.data())
def test_signed_pdf_any_flipped_byte_is_detected(package: dict[str, Any], data: st.DataObject) -> None:
    """The signature covers the whole file (ByteRange) except its own hex: every flip must show."""
    pdf = bytearray(package["pdf"])
    pos = data.draw(st.integers(0, len(pdf) - 1))
    pdf[pos] ^= data.draw(st.integers(1, 255))
    result = _verify_pdf_or_refuse(bytes(pdf), package["ca"].cert)
    assert result is None or not result.ok, f"flip at byte {pos} of {len(pdf)} still verifies"
