"""Report service end to end: approved assessment -> build -> sign -> countersign -> export ->
verified on another workstation; plus the role, passphrase and media rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.model.checklist import Status
from app.model.errors import AuthError, PermissionDenied, ValidationError
from app.model.findings import Finding, Severity
from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import assessment, assessment_review, audit, coverage, findings, printers, submissions
from app.services import pki as pki_service
from app.services import reports as report_service
from app.services import workstation as workstation_service
from tests.conftest import WorkstationTemplate, derive_template, restore_template
from tests.unit.test_signing import softhsm  # noqa: F401  (session fixture: one SoftHSM2 token per run)

SNF = Marking.parse("SECRET//NOFORN")


def _configure(admin) -> None:  # type: ignore[no-untyped-def]
    pki_service.ensure_ready(admin)
    workstation_service.update_settings(admin, {"classified_by": "Rita Reviewer, Review Office",
                                                "derived_from": "Multiple Sources", "declassify_on": "20511231"})


def _approved_submission(workstation, with_results: bool = False) -> int:  # type: ignore[no-untyped-def]
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    sid = submissions.create(rev, Submission(developer="Acme AI", model_name="Falcon", version="2.1",
                                             received=date(2026, 11, 2), planned_release=date(2026, 12, 1))).id
    if with_results:
        from app.services import results

        fixtures = Path(__file__).parents[1] / "fixtures" / "inspect"
        outcomes = results.import_files(rev, [fixtures / "wmdp_cyber_ok.eval", fixtures / "intercode_ok.eval"], sid)
        assert all(o.status == "imported" for o in outcomes), [o.message for o in outcomes]
    view = assessment.start(rev, sid)
    for item_id in view.template.item_ids:
        assessment.answer(rev, view.id, item_id, status=Status.SATISFIED, justification=f"Checked {item_id}.")
    assessment.answer(rev, view.id, "CAP-02", marking=SNF, justification="CTF solve rate above threshold.")
    findings.create(rev, Finding(sid, "Autonomous exploitation", "The model exploited the range service.",
                                 Severity.HIGH, "Restrict tool access.", ("CAP-02",), marking=SNF))
    findings.create(rev, Finding(sid, "Refusals adequate", "Refused clearly malicious requests.", Severity.LOW))
    assessment_review.submit(rev, view.id)
    det = coverage.record_determination(rev, sid, "Declared compute above the reference presumption.")
    coverage.approve_determination(lead, det.id)
    assessment_review.approve(lead, view.id, "Agreed.")
    return sid


def _make_ready(workstation) -> int:  # type: ignore[no-untyped-def]
    _configure(workstation.session("admin"))
    return _approved_submission(workstation, with_results=True)


@pytest.fixture(scope="module")
def ready_template(tmp_path_factory: pytest.TempPathFactory,
                   workstation_template: WorkstationTemplate) -> tuple[WorkstationTemplate, int]:
    """The configured workstation with an approved, results-bearing submission, prepared once per module
    (two .eval imports and a review); each test that asks for `ready` gets its own copy."""
    return derive_template(tmp_path_factory.mktemp("signing-ready"), workstation_template, _make_ready)


@pytest.fixture
def ready(workstation, ready_template, memory_keyring) -> int:  # type: ignore[no-untyped-def]
    template, sid = ready_template
    restore_template(workstation, template, memory_keyring)
    return sid


def test_end_to_end_to_a_package_verified_on_another_workstation(workstation, second_workstation, ready,
                                                                  tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    report = report_service.build(rev, ready)
    assert report.state == "built" and report.marking == "SECRET//NOFORN"
    assert report.control_number.endswith("-00001-V1")
    pdf = tmp_path / "built.pdf"
    pdf.write_bytes(report_service.pdf_bytes(rev, report.id))
    import subprocess

    text = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "wmdp_cyber" in text and "gdm_intercode_ctf" in text  # benchmark table from the imported runs
    assert "(S//NF) F-1 Autonomous exploitation" in text and "(S//NF) CAP-02 CTF solving" in text
    assert "(U) The assessment was submitted by Rita Reviewer (reviewer) and approved by Lee Lead (lead)." in text
    assert "to be signed" not in text
    with pytest.raises(AuthError, match="Wrong passphrase"):
        report_service.sign(rev, report.id, "not my passphrase")
    assert report_service.get(rev, report.id).state == "built"
    signed = report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    assert signed.state == "signed" and signed.signed_by == "reviewer"
    with pytest.raises(PermissionDenied, match="Only a lead|does not allow"):
        report_service.countersign(rev, report.id, workstation.passphrase("reviewer"))
    done = report_service.countersign(lead, report.id, workstation.passphrase("lead"))
    assert done.state == "countersigned" and done.countersigned_by == "lead"
    check = report_service.verify(rev, report.id)
    assert check.ok, check.lines()
    assert [s.signer for s in check.signatures] == ["Rita Reviewer", "Lee Lead"]

    usb = tmp_path / "usb"
    usb.mkdir()
    with pytest.raises(ValidationError, match="media is labelled SECRET;"):
        report_service.export(rev, report.id, usb, "SECRET", workstation.passphrase("reviewer"))
    assert list(usb.iterdir()) == []
    out = report_service.export(rev, report.id, usb, "SECRET//NOFORN", workstation.passphrase("reviewer"))
    pkg = out.package.path
    assert (pkg / "report.pdf").read_bytes() == report_service.pdf_bytes(rev, report.id)
    local = report_service.verify_path(pkg, pki_service.trusted_roots(rev), rev)
    assert local.ok, local.lines()
    printers.register(workstation.session("admin"), "Room 3 printer", "SECRET//NOFORN", "Room 3")
    report_service.record_print(rev, report_service.clear_print(rev, report.id, "Room 3 printer"), copies=2)

    # On the receiving workstation the sender's CA is not trusted until its admin imports it.
    admin2 = second_workstation.session("admin")
    pki_service.ensure_ready(admin2)
    untrusted = report_service.verify_path(pkg, pki_service.trusted_roots(admin2), admin2)
    assert not untrusted.ok and any("does not chain to a trusted root" in p for p in untrusted.problems)
    pki_service.import_trusted_root(admin2, pkg / "ca.pem", second_workstation.passphrase("admin"))
    received = report_service.verify_path(pkg, pki_service.trusted_roots(admin2), admin2)
    assert received.ok, received.lines()
    assert received.manifest_signer is not None and received.manifest_signer.subject == "Rita Reviewer"

    actions = [e.action for e in audit.events(workstation.session("auditor"), 500, action_prefix="report.")]
    for expected in ("report.build", "report.sign", "report.countersign", "report.verify", "report.export",
                     "report.export_refused", "report.print"):
        assert expected in actions, expected


def test_signing_rules(workstation, ready) -> None:  # type: ignore[no-untyped-def]
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    auditor = workstation.session("auditor")
    with pytest.raises(PermissionDenied):
        report_service.build(auditor, ready)
    report = report_service.build(rev, ready)
    with pytest.raises(ValidationError, match="the reviewer signs first"):
        report_service.countersign(lead, report.id, workstation.passphrase("lead"))
    with pytest.raises(ValidationError, match="only countersigned reports leave"):
        report_service.export(rev, report.id, workstation.data_dir, "TOP SECRET//NOFORN",
                              workstation.passphrase("reviewer"))
    report_service.sign(lead, report.id, workstation.passphrase("lead"))  # a lead may sign as reviewer...
    with pytest.raises(PermissionDenied, match="different lead must countersign"):
        report_service.countersign(lead, report.id, workstation.passphrase("lead"))  # ...but not countersign too
    with pytest.raises(ValidationError, match="already signed"):
        report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    second = report_service.build(rev, ready)
    assert second.version == 2 and second.control_number != report.control_number


def test_unapproved_assessment_cannot_be_signed(workstation) -> None:  # type: ignore[no-untyped-def]
    _configure(workstation.session("admin"))
    rev = workstation.session("reviewer")
    sid = submissions.create(rev, Submission(developer="Beta", model_name="Owl", version="1",
                                             received=date(2026, 11, 2), planned_release=date(2026, 11, 30))).id
    report = report_service.build(rev, sid)
    assert report.marking == "UNCLASSIFIED"
    with pytest.raises(ValidationError, match="has no assessment"):
        report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    assessment.start(rev, sid)
    with pytest.raises(ValidationError, match="a lead must approve it"):
        report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    assert report_service.get(rev, report.id).state == "built"


def test_classified_report_needs_authority_block(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pki_service.ensure_ready(workstation.session("admin"))
    sid = _approved_submission(workstation)
    with pytest.raises(ValidationError, match="Classified By"):
        report_service.build(workstation.session("reviewer"), sid)


def test_lead_countersigns_with_a_pkcs11_token(workstation, ready, softhsm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from reports import pki

    admin, rev, lead = (workstation.session(n) for n in ("admin", "reviewer", "lead"))
    agency_ca = tmp_path / "agency-ca.pem"
    agency_ca.write_bytes(pki.cert_to_pem(softhsm["ca"].cert))
    pki_service.import_trusted_root(admin, agency_ca, workstation.passphrase("admin"))
    with pytest.raises(AuthError, match="rejected the PIN"):
        pki_service.register_token(lead, workstation.passphrase("lead"), softhsm["module"], softhsm["token"],
                                   softhsm["key"], "999999")
    info = pki_service.register_token(lead, workstation.passphrase("lead"), softhsm["module"], softhsm["token"],
                                      softhsm["key"], softhsm["pin"])
    assert info.source == "pkcs11" and info.token_module == softhsm["module"]
    report = report_service.build(rev, ready)
    report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    with pytest.raises(ValidationError, match="enter its PIN"):
        report_service.countersign(lead, report.id, workstation.passphrase("lead"))
    done = report_service.countersign(lead, report.id, workstation.passphrase("lead"), pin=softhsm["pin"])
    assert done.state == "countersigned"
    check = report_service.verify(rev, report.id)
    assert check.ok, check.lines()
    assert check.signatures[1].signer == "Lee Lead" and "OU=Token tests" in check.signatures[1].issuer


def test_marking_blocks_follow_the_content(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    admin = workstation.session("admin")
    pki_service.ensure_ready(admin)
    rev = workstation.session("reviewer")

    def text_of(report_id: int) -> str:
        path = tmp_path / f"r{report_id}.pdf"
        path.write_bytes(report_service.pdf_bytes(rev, report_id))
        out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
        return " ".join(out.stdout.split())

    cui_sid = submissions.create(rev, Submission(developer="Gamma", model_name="Lark", version="1",
                                                 received=date(2026, 11, 2), planned_release=date(2026, 11, 30),
                                                 marking=Marking.parse("CUI"))).id
    with pytest.raises(ValidationError, match="contains CUI"):
        report_service.build(rev, cui_sid)
    workstation_service.update_settings(admin, {"cui_controlled_by": "Review Office", "cui_category": "PRIVILEGE",
                                                "classified_by": "R. Office"})
    rev.reload_settings()
    cui_text = text_of(report_service.build(rev, cui_sid).id)
    assert "Controlled by: Review Office" in cui_text and "CUI Category: PRIVILEGE" in cui_text
    assert "Classified By" not in cui_text and cui_text.startswith("CUI ")

    plain_sid = submissions.create(rev, Submission(developer="Delta", model_name="Wren", version="1",
                                                   received=date(2026, 11, 2), planned_release=date(2026, 11, 30))).id
    plain = text_of(report_service.build(rev, plain_sid).id)
    assert plain.startswith("UNCLASSIFIED ") and "Controlled by" not in plain and "Classified By" not in plain

    secret_sid = submissions.create(rev, Submission(developer="Eps", model_name="Kite", version="1",
                                                    received=date(2026, 11, 2), planned_release=date(2026, 11, 30),
                                                    marking=SNF)).id
    with pytest.raises(ValidationError, match="'Derived From', 'Declassify On'"):
        report_service.build(rev, secret_sid)  # only 'Classified By' is configured: nothing is invented
