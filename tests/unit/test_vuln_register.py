"""Vulnerability register: rules, history, filters, links to findings/samples, report annex, CLI."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date
from pathlib import Path

import pytest

from app import cli
from app.model.errors import IntegrityError, PermissionDenied, ValidationError
from app.model.exchange_merge import three_way
from app.model.findings import EvidenceRef, Finding
from app.model.findings import Severity as FindingSeverity
from app.model.markings import Marking
from app.model.submissions import Submission
from app.model.vulnerabilities import (
    CvssSeverity,
    DiscoveryContext,
    Vulnerability,
    VulnStatus,
)
from app.services import csaf_exchange, submissions
from app.services import vulnerabilities as vs
from tests.conftest import tamper
from tests.unit.csaf_kit import partner_for

CRIT = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3
MED = "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"  # 4.6
HIGH = "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 7.3


@pytest.fixture
def session(workstation):  # type: ignore[no-untyped-def]
    return workstation.session("reviewer")


@pytest.fixture
def submission(session) -> Submission:  # type: ignore[no-untyped-def]
    return submissions.create(session, Submission(
        "Acme AI", "Falcon", "2", date(2026, 11, 10), date(2026, 12, 5), marking=Marking.parse("SECRET")))


def test_ids_are_sequential_per_year_and_embargo_defaults_to_planned_release(session, submission) -> None:
    a = vs.create(session, Vulnerability(title="A", cvss_vector=CRIT, marking=submission.marking,
                                         context=DiscoveryContext(submission_id=submission.id)))
    b = vs.create(session, Vulnerability(title="B"))
    assert (a.id, b.id) == ("FRW-VULN-2026-0001", "FRW-VULN-2026-0002")
    assert a.embargo_until == date(2026, 12, 5)  # the model's planned public release
    assert b.embargo_until is None and b.discovered == date(2026, 11, 20)  # session clock
    assert (a.score, a.severity) == (9.3, CvssSeverity.CRITICAL)
    explicit = vs.create(session, Vulnerability(title="C", embargo_until=date(2027, 1, 1), marking=submission.marking,
                                                context=DiscoveryContext(submission_id=submission.id)))
    assert explicit.embargo_until == date(2027, 1, 1)


@pytest.mark.parametrize(("changes", "field", "fragment"), [
    ({"title": " "}, "title", "is required"),
    ({"cwe": "CWE79"}, "cwe", "CWE-NNN"),
    ({"cve": "CVE-26-1"}, "cve", "CVE-YYYY-NNNN"),
    ({"product_id": "cpe:2.3:a:acme"}, "product_id", "not a valid CPE"),
    ({"product_id": "pkg:PyPI"}, "product_id", "not a valid package URL"),
    ({"product_id": "acme widget"}, "product_id", "must be a CPE"),
    ({"cvss_vector": CRIT.replace("UI:N", "UI:Z")}, "cvss_vector UI", "invalid value 'Z'"),
    ({"discovered": date(2026, 11, 5), "vendor_notified": date(2026, 11, 1)}, "vendor_notified", "before discovery"),
    ({"status": VulnStatus.PUBLISHED}, "published", "publication date"),
    ({"status": VulnStatus.VENDOR_NOTIFIED}, "vendor_notified", "date the vendor was notified"),
])
def test_bad_input_names_the_field_and_stores_nothing(session, changes, field, fragment) -> None:
    with pytest.raises(ValidationError) as info:
        vs.create(session, dataclasses.replace(Vulnerability(title="ok"), **changes))
    assert info.value.field == field and fragment in str(info.value)
    assert vs.count(session) == 0


def test_valid_identifiers_are_normalised(session) -> None:
    v = vs.create(session, Vulnerability(title="t", cwe="cwe-79", cve="cve-2026-12345",
                                         product_id="cpe:2.3:a:acme:widget:1.0:*:*:*:*:*:*:*"))
    assert (v.cwe, v.cve) == ("CWE-79", "CVE-2026-12345")
    assert vs.create(session, Vulnerability(title="p", product_id="pkg:npm/%40acme/widget@1.2.3")).product_id


def test_every_change_is_in_the_history_and_the_audit_trail(session) -> None:
    from storage import audit

    v = vs.create(session, Vulnerability(title="t", cvss_vector=MED))
    v2 = vs.update(session, dataclasses.replace(v, cvss_vector=CRIT, status=VulnStatus.CONFIRMED))
    assert v2.revision == 2 and v2.severity is CvssSeverity.CRITICAL
    entries = vs.history(session, v.id)
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].changes["cvss_vector"] == [MED, CRIT]
    assert entries[1].changes["severity"] == ["Medium", "Critical"]
    assert entries[1].snapshot["status"] == "confirmed"
    events = audit.list_events(session.db.conn, object_type="vulnerability", object_id=v.id)
    assert [e.action for e in events] == ["vulnerability.update", "vulnerability.create"]
    assert audit.verify(session.db.conn).ok
    # The history table refuses edits.
    with pytest.raises(Exception, match="append-only"), tamper(session) as conn:
        conn.execute("DELETE FROM vulnerability_history")


def test_stale_edit_is_refused_not_overwritten(workstation, session) -> None:
    v = vs.create(session, Vulnerability(title="t"))
    other = workstation.session("lead")
    vs.update(other, dataclasses.replace(vs.get(other, v.id), description="lead's text"))
    with pytest.raises(IntegrityError, match="changed by lead since you opened it"):
        vs.update(session, dataclasses.replace(v, description="my text"))
    assert vs.get(session, v.id).description == "lead's text"


def test_filters_severity_status_and_embargo_ending_soon(session) -> None:
    vs.create(session, Vulnerability(title="crit", cvss_vector=CRIT, embargo_until=date(2026, 11, 25)))
    vs.create(session, Vulnerability(title="high", cvss_vector=HIGH, embargo_until=date(2026, 12, 30),
                                     status=VulnStatus.CONFIRMED))
    vs.create(session, Vulnerability(title="med", cvss_vector=MED, embargo_until=date(2026, 11, 19)))  # past
    vs.create(session, Vulnerability(title="unscored"))

    def titles(**kw: object) -> list[str]:
        return [v.title for v in vs.list_all(session, vs.filters(session, **kw), sort="severity", descending=True)]

    assert titles() == ["crit", "high", "med", "unscored"]
    assert titles(severities=[CvssSeverity.CRITICAL, CvssSeverity.MEDIUM]) == ["crit", "med"]
    assert titles(statuses=[VulnStatus.CONFIRMED]) == ["high"]
    assert titles(embargo_within_days=7) == ["crit"]  # today is 2026-11-20; past embargoes excluded
    assert titles(embargo_within_days=60) == ["crit", "high"]
    assert titles(search="HIG") == ["high"]
    assert vs.count(session, vs.filters(session, embargo_within_days=7)) == 1
    page = vs.page(session, None, 1, 2, sort="id")
    assert [v.title for v in page] == ["high", "med"]
    with pytest.raises(ValidationError):
        vs.filters(session, embargo_within_days=-1)


def test_create_from_a_finding_keeps_the_link(session, submission) -> None:
    finding = Finding(submission.id, "Model wrote a working exploit", "Details of the exploit.",
                      FindingSeverity.HIGH, evidence=(EvidenceRef("sample", "run-9:42"),),
                      marking=Marking.parse("SECRET//NOFORN"), id=7, number=1)
    draft = vs.draft_from_finding(session, finding)
    assert draft.context == DiscoveryContext(submission.id, "run-9", "42", "7")
    assert draft.title == finding.title and draft.embargo_until == date(2026, 12, 5)
    assert draft.marking.banner() == "SECRET//NOFORN"
    stored = vs.create_from_finding(session, finding, cvss_vector=HIGH)
    assert stored.context.finding_id == "7" and stored.score == 7.3


def test_create_from_a_sample_keeps_run_and_sample(session, submission) -> None:
    stored = vs.create_from_sample(session, submission.id, "run-3", "sample-17")
    assert stored.context == DiscoveryContext(submission.id, "run-3", "sample-17", "")
    assert "sample sample-17 of run run-3" in stored.title
    assert stored.marking.banner() == "SECRET"  # never below the submission's marking
    with pytest.raises(ValidationError, match="run id and a sample id"):
        vs.draft_from_sample(session, submission.id, "", "x")


def test_annex_rows_for_the_findings_report(session, submission) -> None:
    from app.model.report import VulnerabilityRow

    ctx = DiscoveryContext(submission_id=submission.id)
    vs.create(session, Vulnerability(title="low one", cvss_vector=MED, context=ctx, marking=submission.marking))
    vs.create(session, Vulnerability(title="worst", cvss_vector=CRIT, cve="CVE-2026-5555", vendor="Acme",
                                     context=ctx, marking=Marking.parse("SECRET//NOFORN")))
    vs.create(session, Vulnerability(title="elsewhere", cvss_vector=CRIT))
    rows = vs.annex_rows(session, submission.id)
    assert all(isinstance(r, VulnerabilityRow) for r in rows)
    assert [r.title for r in rows] == ["worst (Acme, CVE-2026-5555)", "low one"]
    assert rows[0].severity == "Critical" and rows[0].score.startswith("9.3 (CVSS:4.0/")
    assert rows[0].marking.banner() == "SECRET//NOFORN"
    assert "embargo until 2026-12-05" in rows[0].status


def test_auditor_reads_but_cannot_change(workstation, session) -> None:
    v = vs.create(session, Vulnerability(title="t"))
    auditor = workstation.session("auditor")
    assert vs.get(auditor, v.id).title == "t"
    with pytest.raises(PermissionDenied):
        vs.create(auditor, Vulnerability(title="x"))
    with pytest.raises(PermissionDenied):
        vs.update(auditor, v)


def test_three_way_merge_rules() -> None:
    base = {"title": "a", "cwe": "r"}
    assert three_way(base, {"title": "a", "cwe": "r"}, {"title": "b", "cwe": "r"})[1:] == (
        ["title"], [])
    assert three_way(base, {"title": "L", "cwe": "r"}, {"title": "a", "cwe": "r"})[1:] == ([], [])
    assert three_way(base, {"title": "L", "cwe": "r"}, {"title": "I", "cwe": "r"})[1:] == (
        [], ["title"])
    assert three_way(None, {"title": "L"}, {"title": "I"})[2] == ["title"]


# -- CLI -------------------------------------------------------------------------------------

def run_cli(monkeypatch, capsys, data_dir: Path, user: str, passphrase: str, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(passphrase + "\n"))
    code = cli.main(["--data-dir", str(data_dir), "--user", user, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_add_list_export_import(workstation, second_workstation, monkeypatch, capsys, tmp_path) -> None:
    pw = workstation.passphrase("reviewer")
    code, out, err = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "vuln", "add",
                             "--title", "Prompt-injection bypass of tool sandbox", "--cvss", CRIT,
                             "--cwe", "CWE-74", "--target", "model safeguard", "--tlp", "RED", "--marking", "CUI")
    assert code == 0, err
    assert out.startswith("FRW-VULN-2026-0001  (CUI) Prompt-injection bypass") and "Critical 9.3" in out

    code, out, err = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "vuln", "add",
                             "--title", "bad", "--cvss", CRIT.replace("AV:N", "AV:X"))
    assert code == 2 and "cvss_vector AV" in err and "Attack Vector" in err

    code, out, _ = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "vuln", "list",
                           "--severity", "Critical")
    assert "FRW-VULN-2026-0001" in out and "RED" in out

    media = tmp_path / "media"
    media.mkdir()
    code, out, err = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "vuln", "export-csaf",
                             "FRW-VULN-2026-0001", "--out", str(media), "--media-marking", "CUI",
                             "--recipient", partner_for(workstation.session("reviewer")))
    assert code == 0, err
    assert "CSAF 2.1, tracking version 1" in out
    exported = media / "frw-vuln-2026-0001.json"
    assert json.loads(exported.read_text())["document"]["distribution"]["tlp"]["label"] == "RED"

    from app.services import pki as pki_service

    pki_service.ensure_ready(workstation.session("admin"))
    code, out, err = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "vuln", "export-csaf",
                             "FRW-VULN-2026-0001", "--out", str(media), "--media-marking", "SECRET", "--package",
                             "--recipient", "National CERT")
    assert code == 0, err
    package = Path(out.split("package ", 1)[1].splitlines()[0])
    assert (package / "SHA256SUMS.p7s").is_file() and (package / "frw-vuln-2026-0001.json").is_file()

    pw2 = second_workstation.passphrase("reviewer")
    code, out, err = run_cli(monkeypatch, capsys, second_workstation.data_dir, "reviewer", pw2, "vuln",
                             "import-csaf", str(exported), "--marking", "CUI")
    assert code == 0, err
    assert "NEW" in out and "preview only: nothing was changed" in out
    code, out, err = run_cli(monkeypatch, capsys, second_workstation.data_dir, "reviewer", pw2, "vuln",
                             "import-csaf", str(exported), "--marking", "CUI", "--apply")
    assert code == 0, err
    assert "created 1" in out and "created FRW-VULN-2026-0001" in out
    code, out, _ = run_cli(monkeypatch, capsys, second_workstation.data_dir, "reviewer", pw2, "vuln", "show",
                           "FRW-VULN-2026-0001")
    assert "model safeguard" in out and "import csaf" in out

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, out, _ = run_cli(monkeypatch, capsys, second_workstation.data_dir, "reviewer", pw2, "vuln",
                           "import-csaf", str(broken), "--media-label", "CUI")
    assert code == 1 and "INVALID" in out and "line 1 column 2" in out

    # Walk 2 (s31) #10: the media label is what the person says the media is labelled; it marks every
    # advisory that states no marking, so it is never assumed (it was UNCLASSIFIED by default).
    with pytest.raises(SystemExit) as stopped:
        run_cli(monkeypatch, capsys, second_workstation.data_dir, "reviewer", pw2, "vuln", "import-csaf",
                str(exported))
    assert stopped.value.code == 2 and "required: --media-label" in capsys.readouterr().err
    code, _, err = run_cli(monkeypatch, capsys, second_workstation.data_dir, "reviewer", pw2, "vuln",
                           "import-csaf", str(exported), "--media-label", " ")
    assert code == 2 and "say how the media is labelled" in err


def test_three_way_merge_properties() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    from app.model.vulnerabilities import EXCHANGED_FIELDS

    values = st.sampled_from(["a", "b", "c"])
    records = st.fixed_dictionaries({f: values for f in EXCHANGED_FIELDS[:5]})

    @given(base=records, local=records, incoming=records)
    def check(base: dict[str, str], local: dict[str, str], incoming: dict[str, str]) -> None:
        merged, taken, conflicts = three_way(base, local, incoming)
        for f in local:
            if local[f] != base[f]:
                # a local edit is never replaced without a person's choice
                assert merged[f] == local[f] and f not in taken
            if f in conflicts:
                assert local[f] != base[f] and incoming[f] != base[f] and local[f] != incoming[f]
                assert merged[f] == local[f]
            if f in taken:
                assert local[f] == base[f] and merged[f] == incoming[f]
            if local[f] == base[f]:
                assert merged[f] == incoming[f]  # partner-only changes always arrive

    check()


def test_a_vulnerability_of_a_secret_submission_is_never_silently_unclassified(workstation, session, submission,
                                                                              tmp_path) -> None:
    """Issue 11/12 regression: recorded as UNCLASSIFIED it was exported to UNCLASSIFIED media."""
    from app.services import audit

    ctx = DiscoveryContext(submission_id=submission.id)
    with pytest.raises(ValidationError, match="marked SECRET; UNCLASSIFIED would lower it"):
        vs.create(session, Vulnerability(title="prompt injection", context=ctx))
    stored = vs.create(session, Vulnerability(title="prompt injection", context=ctx, marking=submission.marking))
    with pytest.raises(ValidationError, match="would lower it"):
        vs.update(session, dataclasses.replace(stored, marking=Marking()))
    media = tmp_path / "usb"
    media.mkdir()
    with pytest.raises(ValidationError, match="marked SECRET"):
        csaf_exchange.export_csaf_package(session, [stored.id], media / "pkg", "UNCLASSIFIED", "x",
                                          recipient=partner_for(session))
    # Lowering is possible only as an explicit act with a reason, and it is audited.
    lowered = vs.update(session, dataclasses.replace(stored, marking=Marking()), lower_reason="public CVE text only")
    assert lowered.marking == Marking()
    events = audit.events(workstation.session("auditor"), action_prefix="marking.lower")
    assert [(e.details["from"], e.details["to"], e.details["reason"]) for e in events] == [
        ("SECRET", "UNCLASSIFIED", "public CVE text only")]
