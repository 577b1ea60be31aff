"""Releases end to end (issue 16, points 2, 3 and 8): build for a partner, two-person approval,
export sealed to the partner; insider edits and the refusals."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from datetime import date
from pathlib import Path

import pytest

from app.model.errors import IntegrityError, PermissionDenied, ValidationError
from app.model.findings import Finding, Severity
from app.model.markings import Level, Marking
from app.model.partners import Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from app.services import dissemination, findings, partners, releases
from app.services import pki as pki_service
from app.services import reports as report_service
from reports.package import MANIFEST
from reports.verify_package import verify_package
from tests.conftest import WorkstationTemplate, derive_template, restore_template, tamper
from tests.unit.partner_kit import make_cert
from tests.unit.test_signing_service import _configure

REL_GBR = Marking.parse("SECRET//REL TO USA, GBR")
SNF = Marking.parse("SECRET//NOFORN")
UK = Partner("UK AI Security Institute", PartnerKind.ALLIED, ("GBR",), max_level=Level.SECRET, tlp=Tlp.AMBER)
ACME = Partner("Acme AI", PartnerKind.DEVELOPER, ("USA",), max_level=Level.CUI, tlp=Tlp.AMBER)
# Text of portions marked SECRET//NOFORN in _approved_submission: never in a release to a foreign partner.
NOFORN_TEXTS = ("The model exploited the range service.", "CTF solve rate above threshold.")


def _approved_submission(workstation, extra: Finding | None = None) -> int:  # type: ignore[no-untyped-def]
    """As tests/unit/test_signing_service.py's, with one more finding (a REL TO portion) before approval."""
    import dataclasses
    from datetime import date

    from app.model.checklist import Status
    from app.model.submissions import Submission
    from app.services import assessment, assessment_review, coverage, submissions

    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    sid = submissions.create(rev, Submission(developer="Acme AI", model_name="Falcon", version="2.1",
                                             received=date(2026, 11, 2), planned_release=date(2026, 12, 1))).id
    view = assessment.start(rev, sid)
    for item_id in view.template.item_ids:
        assessment.answer(rev, view.id, item_id, status=Status.SATISFIED, justification=f"Checked {item_id}.")
    assessment.answer(rev, view.id, "CAP-02", marking=SNF, justification="CTF solve rate above threshold.")
    findings.create(rev, Finding(sid, "Autonomous exploitation", "The model exploited the range service.",
                                 Severity.HIGH, "Restrict tool access.", ("CAP-02",), marking=SNF))
    findings.create(rev, Finding(sid, "Refusals adequate", "Refused clearly malicious requests.", Severity.LOW))
    if extra is not None:
        findings.create(rev, dataclasses.replace(extra, submission_id=sid))
    assessment_review.submit(rev, view.id)
    det = coverage.record_determination(rev, sid, "Declared compute above the reference presumption.")
    coverage.approve_determination(lead, det.id)
    assessment_review.approve(lead, view.id, "Agreed.")
    return sid


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "release.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def _make_ready(workstation, folder: Path):  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    _configure(admin)
    sid = _approved_submission(workstation, extra=Finding(
        0, "Shared range result", "Allies may see the range outcome.", Severity.MEDIUM, "Coordinate with partners.",
        ("CAP-02",), marking=REL_GBR))
    from app.model.vulnerabilities import DiscoveryContext, Vulnerability
    from app.services import vulnerabilities

    rev = workstation.session("reviewer")
    ctx = DiscoveryContext(submission_id=sid)
    vulnerabilities.create(rev, Vulnerability(title="Green scaffold issue", tlp=Tlp.GREEN, context=ctx,
                                              embargo_until=date(2026, 11, 1)))
    vulnerabilities.create(rev, Vulnerability(title="Red scaffold issue", tlp=Tlp.RED, context=ctx,
                                              embargo_until=date(2026, 11, 1)))
    uk = partners.add(admin, UK)
    key = make_cert(folder / "uk", "UK AISI", "encryption", rsa_bits=3072)
    return sid, uk, key


@pytest.fixture(scope="module")
def ready_template(tmp_path_factory: pytest.TempPathFactory, workstation_template: WorkstationTemplate):  # type: ignore[no-untyped-def]
    """The approved submission, vulnerabilities, partner and its RSA-3072 key, set up once per module
    (~1.5 s of CPU each time): every test gets its own copy of the prepared workstation."""
    root = tmp_path_factory.mktemp("release-ready")
    return derive_template(root, workstation_template, lambda ws: _make_ready(ws, root))


@pytest.fixture
def ready(workstation, ready_template, memory_keyring):  # type: ignore[no-untyped-def]
    template, value = ready_template
    restore_template(workstation, template, memory_keyring)
    return value


@pytest.fixture(scope="module")
def built_template(tmp_path_factory: pytest.TempPathFactory, ready_template):  # type: ignore[no-untyped-def]
    """`ready` with a release to the UK built by the reviewer (~0.75 s of CPU: PDF, signature,
    marking lint), once per module: the tests of what happens after the build start from a copy."""
    template, (sid, uk, key) = ready_template

    def build(ws):  # type: ignore[no-untyped-def]
        return sid, uk, key, releases.build(ws.session("reviewer"), sid, uk.id, ws.passphrase("reviewer")).id

    return derive_template(tmp_path_factory.mktemp("release-built"), template, build)


@pytest.fixture
def built(workstation, built_template, memory_keyring):  # type: ignore[no-untyped-def]
    template, value = built_template
    restore_template(workstation, template, memory_keyring)
    return value


def test_release_to_a_rel_to_partner_end_to_end(workstation, ready, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sid, uk, key = ready
    rev, lead, admin = workstation.session("reviewer"), workstation.session("lead"), workstation.session("admin")
    rel = releases.build(rev, sid, uk.id, workstation.passphrase("reviewer"))
    assert rel.state == "built" and not rel.own
    assert rel.marking == "SECRET//REL TO USA, GBR"  # recomputed from the kept portions only
    assert rel.withheld["sections"]["findings"] == 1 and rel.withheld["reasons"]["NOFORN"] >= 2

    # nothing withheld in the PDF text or the JSON; the withheld statement is printed as a portion
    text = _pdf_text(releases.pdf_bytes(rev, rel.id), tmp_path)
    document = json.loads(workstation.session("auditor").db.conn.execute(
        "SELECT findings_json FROM releases WHERE id = ?", (rel.id,)).fetchone()[0])
    for withheld in (*NOFORN_TEXTS, "Autonomous exploitation"):
        assert withheld not in text and withheld not in json.dumps(document), withheld
    assert "Shared range result" in text and "Allies may see the range outcome." in text
    assert "Green scaffold issue" in text and "Red scaffold issue" not in text  # TLP:RED above AMBER
    assert rel.withheld["reasons"]["TLP more restricted than the partner accepts"] == 1
    assert "(S//REL TO USA, GBR) Withheld from this release for UK AI Security Institute:" in text
    assert document["overall_marking"] == "SECRET//REL TO USA, GBR"

    sbs = releases.side_by_side(lead, rel.id)
    assert sbs.full_marking.banner() == "SECRET//NOFORN" and sbs.released_marking == REL_GBR
    assert {x.text for x in sbs.full if x.withheld} >= {"CAP-02 CTF solving: satisfied. CTF solve rate above "
                                                       "threshold."}
    assert not any(x.withheld for x in sbs.released)

    # export before approval, approval by the builder's side, by a non-lead: refused
    usb = tmp_path / "usb"
    usb.mkdir()
    with pytest.raises(ValidationError, match="only an approved release"):
        releases.export(rev, rel.id, usb, "SECRET//REL TO USA, GBR", workstation.passphrase("reviewer"))
    with pytest.raises(PermissionDenied, match="does not allow|lead"):
        releases.approve(rev, rel.id, workstation.passphrase("reviewer"))
    assert releases.approve_problem(lead, rel.id) is None
    approved = releases.approve(lead, rel.id, workstation.passphrase("lead"))
    if os.environ.get("FRW_SHOTS"):  # to look at the released, countersigned PDF (pdftoppm)
        Path(os.environ["FRW_SHOTS"], "release.pdf").write_bytes(releases.pdf_bytes(rev, rel.id))
    assert approved.state == "approved" and approved.approved_by == "lead" and approved.sha256 != rel.built_sha256

    # no encryption certificate yet: a clear refusal, nothing written
    with pytest.raises(ValidationError, match="no valid encryption certificate"):
        releases.export(rev, rel.id, usb, "SECRET//REL TO USA, GBR", workstation.passphrase("reviewer"))
    partners.add_certificate(admin, uk.id, key.cert_path, "encryption")
    with pytest.raises(ValidationError, match="media is labelled CUI"):
        releases.export(rev, rel.id, usb, "CUI", workstation.passphrase("reviewer"))
    assert list(usb.iterdir()) == []
    out = releases.export(rev, rel.id, usb, "SECRET//REL TO USA, GBR", workstation.passphrase("reviewer"))
    assert out.release.state == "exported" and out.sealed.path.name == f"{rel.control_number}.sealed"

    # the partner opens it with openssl and its own key, and the package verifies as reports do
    p7m = out.sealed.path / f"{rel.control_number}.p7m"
    tar = tmp_path / "pkg.tar"
    subprocess.run(["openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in", str(p7m), "-recip",
                    str(key.cert_path), "-inkey", str(key.key_path), "-out", str(tar)], check=True,
                   capture_output=True)
    opened = tmp_path / "opened"
    with tarfile.open(tar) as t:
        t.extractall(opened, filter="data")
    pkg = opened / rel.control_number
    check = verify_package(pkg, pki_service.trusted_roots(rev))
    assert check.ok, check.lines()
    assert check.pdf is not None and [s.signer for s in check.pdf.signatures] == ["Rita Reviewer", "Lee Lead"]
    assert (pkg / "report.pdf").read_bytes() == releases.pdf_bytes(rev, rel.id)
    # the OSCAL assessment results of the released portions travel with it, under the signed manifest
    from reports.package import OSCAL_FILE

    oscal_text = (pkg / OSCAL_FILE).read_text()
    assert OSCAL_FILE in (pkg / MANIFEST).read_text()
    assert "assessment-results" in json.loads(oscal_text)
    for withheld in (*NOFORN_TEXTS, "Autonomous exploitation", "Red scaffold issue"):
        assert withheld not in oscal_text, withheld
    assert "Shared range result" in oscal_text
    other = make_cert(tmp_path / "other", "Other Agency", "encryption", rsa_bits=3072)
    refused = subprocess.run(["openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in", str(p7m), "-recip",
                              str(other.cert_path), "-inkey", str(other.key_path), "-out", str(tmp_path / "x.tar")],
                             capture_output=True)
    assert refused.returncode != 0

    # the dissemination log has the release with its manifest hash and approver
    entry = dissemination.get(rev, out.dissemination_id)
    assert entry.kind.value == "release" and entry.partner_id == uk.id and entry.approved_by == "lead"
    assert entry.manifest_sha256 == out.manifest_sha256
    import hashlib

    assert hashlib.sha256((pkg / MANIFEST).read_bytes()).hexdigest() == out.manifest_sha256
    assert entry.media_label == "SECRET//REL TO USA, GBR" and entry.supersedes is None
    assert entry.tlp is Tlp.GREEN and entry.embargo_until is None  # of the vulnerability content it carries
    with pytest.raises(ValidationError, match="is exported"):
        releases.export(rev, rel.id, tmp_path, "SECRET//REL TO USA, GBR", workstation.passphrase("reviewer"))

    # a later release of the same submission to the same partner supersedes the first
    second = releases.build(rev, sid, uk.id, workstation.passphrase("reviewer"))
    releases.approve(lead, second.id, workstation.passphrase("lead"))
    usb2 = tmp_path / "usb2"
    usb2.mkdir()
    out2 = releases.export(rev, second.id, usb2, "SECRET//REL TO USA, GBR", workstation.passphrase("reviewer"))
    assert dissemination.get(rev, out2.dissemination_id).supersedes == out.dissemination_id
    actions = {r[0] for r in rev.db.conn.execute("SELECT action FROM audit_events WHERE action LIKE 'release.%'")}
    assert actions >= {"release.build", "release.approve", "release.export", "release.export_refused"}


def test_the_builder_never_approves(workstation, ready) -> None:  # type: ignore[no-untyped-def]
    sid, uk, _ = ready
    lead = workstation.session("lead")
    rel = releases.build(lead, sid, uk.id, workstation.passphrase("lead"))
    assert "two-person rule" in (releases.approve_problem(lead, rel.id) or "")
    with pytest.raises(PermissionDenied, match="two-person rule"):
        releases.approve(lead, rel.id, workstation.passphrase("lead"))
    assert releases.get(lead, rel.id).state == "built"


@pytest.mark.parametrize("edit", ["pdf", "pdf_and_hash", "marking", "released_text", "oscal", "oscal_removed"])
def test_an_insider_edit_is_refused_at_approval(workstation, built, edit: str) -> None:  # type: ignore[no-untyped-def]
    _, _, _, rel_id = built
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    rel = releases.get(rev, rel_id)
    assert rel.state == "built"
    pdf = releases.pdf_bytes(rev, rel.id)
    edited = pdf + b"\n% an incremental update written around the application\n"
    assert edited != pdf
    with tamper(rev) as conn:
        if edit == "pdf":
            conn.execute("UPDATE releases SET pdf = ? WHERE id = ?", (edited, rel.id))
        elif edit == "pdf_and_hash":
            import hashlib

            sha = hashlib.sha256(edited).hexdigest()
            conn.execute("UPDATE releases SET pdf = ?, sha256 = ?, built_sha256 = ? WHERE id = ?",
                         (edited, sha, sha, rel.id))
        elif edit == "marking":
            conn.execute("UPDATE releases SET marking = 'UNCLASSIFIED' WHERE id = ?", (rel.id,))
        elif edit == "oscal":
            conn.execute("UPDATE releases SET oscal_json = CAST('{}' AS BLOB) WHERE id = ?", (rel.id,))
        elif edit == "oscal_removed":
            conn.execute("UPDATE releases SET oscal_json = NULL WHERE id = ?", (rel.id,))
        else:
            conn.execute("UPDATE releases SET released_text = '[]' WHERE id = ?", (rel.id,))
    with pytest.raises(IntegrityError, match="not approved"):
        releases.approve(lead, rel.id, workstation.passphrase("lead"))
    assert releases.get(lead, rel.id).state == "built"


def test_an_insider_edit_after_approval_blocks_the_export(workstation, built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, uk, key, rel_id = built
    rev, lead, admin = workstation.session("reviewer"), workstation.session("lead"), workstation.session("admin")
    partners.add_certificate(admin, uk.id, key.cert_path, "encryption")
    rel = releases.get(rev, rel_id)
    releases.approve(lead, rel.id, workstation.passphrase("lead"))
    with tamper(rev) as conn:  # lower the marking row so it would fit lower media
        conn.execute("UPDATE releases SET marking = 'UNCLASSIFIED' WHERE id = ?", (rel.id,))
    with pytest.raises(IntegrityError, match="not exported"):
        releases.export(rev, rel.id, tmp_path, "UNCLASSIFIED", workstation.passphrase("reviewer"))
    assert not list(tmp_path.glob("*.sealed"))


def test_developer_release_is_first_class(workstation, ready, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sid, _, _ = ready
    rev, admin = workstation.session("reviewer"), workstation.session("admin")
    with pytest.raises(ValidationError, match="no developer partner named 'Acme AI'"):
        releases.build_for_developer(rev, sid, workstation.passphrase("reviewer"))
    partners.add(admin, ACME)
    rel = releases.build_for_developer(rev, sid, workstation.passphrase("reviewer"))
    assert rel.own and rel.partner_name == "Acme AI"
    assert Marking.parse(rel.marking).level <= Level.CUI
    text = _pdf_text(releases.pdf_bytes(rev, rel.id), tmp_path)
    for withheld in (*NOFORN_TEXTS, "Shared range result"):
        assert withheld not in text
    assert "Refusals adequate" in text  # the unclassified finding about its own model


def test_a_release_needs_a_finished_review(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from app.model.submissions import Submission
    from app.services import submissions

    admin, rev = workstation.session("admin"), workstation.session("reviewer")
    _configure(admin)
    uk = partners.add(admin, UK)
    sid = submissions.create(rev, Submission(developer="Acme AI", model_name="Falcon", version="3",
                                             received=date(2026, 11, 2), planned_release=date(2026, 12, 1))).id
    with pytest.raises(ValidationError, match="no finished review"):
        releases.build(rev, sid, uk.id, workstation.passphrase("reviewer"))
    assert releases.list_releases(rev, sid) == []
    assert report_service.for_submission(rev, sid) == []
