"""CSAF exchange: schema validation (2.0 and 2.1), export -> import round trip between two
workstations, malformed and schema-invalid input, duplicates, conflicts with local edits."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from app.ingest import csaf_import
from app.model.errors import IngestError, IntegrityError, PermissionDenied, ValidationError
from app.model.markings import UNCLASSIFIED, Marking
from app.model.vulnerabilities import (
    Remediation,
    RemediationCategory,
    ReproStatus,
    Target,
    Tlp,
    Vulnerability,
    VulnStatus,
)
from app.services import csaf_exchange, csaf_merge
from app.services import vulnerabilities as vs
from app.services.csaf_merge import ActionKind
from reports import csaf, csaf_validate
from tests.unit.csaf_kit import partner_for

V4 = "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N"
V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "csaf"
TC_20 = "csaf/v20/data/mandatory"


def fix(details: str, category: RemediationCategory = RemediationCategory.VENDOR_FIX) -> Remediation:
    return Remediation(category, details)


def rich(**overrides: object) -> Vulnerability:
    base = Vulnerability(
        title="Sandbox escape through crafted archive", description="The model built an archive that escapes.",
        target=Target.SOFTWARE, vendor="Acme Corp", product="Acme Unpacker",
        product_id="pkg:pypi/acme-unpacker@2.4.1", cwe="CWE-22", cve="CVE-2026-40001", cvss_vector=V4,
        cvss_v3_vector=V3, repro_status=ReproStatus.REPRODUCED, repro_evidence="Run r-7, sample 12: step 4.",
        discovered=date(2026, 11, 12), vendor_notified=date(2026, 11, 14), embargo_until=date(2026, 11, 19),
        tlp=Tlp.AMBER_STRICT, remediations=(fix("Upgrade to 2.4.2."),), marking=Marking.parse("CUI"),
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def export(session, vid: str, tmp_path: Path, name: str = "media") -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    return csaf_exchange.export_csaf(session, [vid], folder, media_marking=Marking.parse("SECRET//NOFORN"),
                                     recipient=partner_for(session)).files[0]


def history_rows(session) -> int:  # type: ignore[no-untyped-def]
    return int(session.db.query_one("SELECT count(*) FROM vulnerability_history")[0])


# -- schema validation -----------------------------------------------------------------------

def test_export_is_csaf_21_with_cvss_v4_and_valid_against_the_official_schema(sender, tmp_path) -> None:
    v = vs.create(sender, rich())
    path = export(sender, v.id, tmp_path)
    doc = json.loads(path.read_text())
    assert path.name == "frw-vuln-2026-0001.json"
    assert doc["document"]["csaf_version"] == "2.1"
    assert doc["$schema"] == csaf_validate.CSAF_21_ID
    assert doc["document"]["distribution"]["tlp"]["label"] == "AMBER+STRICT"
    metric = doc["vulnerabilities"][0]["metrics"][0]["content"]
    assert metric["cvss_v4"] == {"version": "4.0", "vectorString": V4, "baseScore": 8.3, "baseSeverity": "HIGH"}
    assert metric["cvss_v3"]["baseScore"] == 7.5
    assert doc["vulnerabilities"][0]["cwes"][0]["name"].startswith("Improper Limitation of a Pathname")
    assert csaf_validate.validate(doc) == []
    assert csaf_validate.schema_source("2.1") == "bundled reports/schemas/csaf_2.1"


def test_export_is_csaf_20_when_only_cvss_v31_is_present(sender, tmp_path) -> None:
    v = vs.create(sender, rich(cvss_vector="", product_id="cpe:2.3:a:acme:unpacker:2.4.1:*:*:*:*:*:*:*"))
    doc = json.loads(export(sender, v.id, tmp_path).read_text())
    assert doc["document"]["csaf_version"] == "2.0"
    assert "$schema" not in doc
    # CSAF 2.0 carries TLP 1.0: AMBER+STRICT becomes AMBER, the strict label stays in the text.
    assert doc["document"]["distribution"]["tlp"]["label"] == "AMBER"
    assert "TLP 2.0 label: AMBER+STRICT" in doc["document"]["distribution"]["text"]
    assert doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["vectorString"] == V3
    assert csaf_validate.validate(doc, "2.0") == []
    # A 2.1-only construct makes it invalid as 2.0: the validator really checks against 2.0.
    broken = json.loads(json.dumps(doc))
    broken["document"]["distribution"]["tlp"]["label"] = "CLEAR"
    problems = csaf_validate.validate(broken, "2.0")
    assert [p.path for p in problems] == ["$.document.distribution.tlp.label"]
    assert csaf_validate.validate(broken, "2.1")  # and 2.1 wants its $schema


def test_csaf_20_schema_comes_from_the_csaf_package_and_matches_the_official_copy() -> None:
    assert csaf_validate.schema_source("2.0") == "csaf package (PyPI) csaf/v20/schema"
    packaged = (csaf_validate.csaf_package_dir() / "csaf/v20/schema/csaf.json").read_bytes()
    bundled = (csaf_validate.SCHEMA_DIR / "csaf_2.0/json_schema/csaf_json_schema.json").read_bytes()
    assert hashlib.sha256(packaged).digest() == hashlib.sha256(bundled).digest()


def test_bundled_21_schemas_are_the_official_files() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} (the shared OASIS copy) is absent; the bundle cannot be compared")
    for rel in ["json_schema/csaf.json", "json_schema/meta.json", "referenced_schema/first/cvss-v4.0.json",
                "referenced_schema/first/cvss-v3.1.json", "referenced_schema/certcc/SelectionList_2_0_0.schema.json"]:
        ours = (csaf_validate.SCHEMA_DIR / "csaf_2.1" / rel).read_bytes()
        assert ours == (SHARED / "csaf_2.1" / rel).read_bytes(), rel
    assert (csaf_validate.SCHEMA_DIR / "csaf_2.1" / "LICENSE.md").is_file()


def test_the_csaf_package_is_read_never_imported() -> None:
    # Its __init__ configures the root logger and loads network tooling (provider discovery).
    import subprocess
    import sys

    code = ("import sys, logging; from reports import csaf, csaf_validate; csaf_validate.validator('2.0'); "
            "csaf.cwe_entry('CWE-79'); print('csaf' in sys.modules, len(logging.getLogger().handlers))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout.split()
    assert out == ["False", "0"]


def test_technical_committee_test_documents() -> None:
    root = csaf_validate.csaf_package_dir() / TC_20
    valid = json.loads((root / "oasis_csaf_tc-csaf_2_0-2021-6-1-08-11.json").read_text())
    assert csaf_validate.validate(valid) == []
    invalid = json.loads((root / "oasis_csaf_tc-csaf_2_0-2021-6-1-08-01.json").read_text())
    problems = csaf_validate.validate(invalid)
    assert [str(p) for p in problems] == [
        "$.vulnerabilities[0].scores[0].cvss_v3.version: '3.1' is not one of ['3.0']"]


def test_validation_never_fetches_unknown_references() -> None:
    from referencing.exceptions import NoSuchResource

    with pytest.raises(NoSuchResource):
        csaf_validate._refuse("https://example.org/schema.json")


# -- round trip between two workstations -----------------------------------------------------

def test_round_trip_export_import_on_a_second_workstation(sender, receiver, tmp_path) -> None:
    original = vs.create(sender, rich())
    path = export(sender, original.id, tmp_path)

    preview = csaf_merge.preview_import(receiver, [path], UNCLASSIFIED)
    assert [a.kind for a in preview.actions] == [ActionKind.NEW]
    assert vs.count(receiver) == 0  # preview changes nothing
    result = csaf_merge.apply_import(receiver, preview)
    got = vs.get(receiver, result.created[0])
    assert got.exchanged() == original.exchanged()
    assert (got.score, got.severity) == (original.score, original.severity)
    assert got.tracking_id == original.id
    assert got.source == "https://test-workstation.clearinghouse.invalid"
    assert got.status is VulnStatus.NEW
    assert got.context.is_empty  # local links of the sender do not travel

    # Re-importing the same advisory is recognised by tracking id: nothing changes.
    rows = history_rows(receiver)
    again = csaf_merge.preview_import(receiver, [path], UNCLASSIFIED)
    assert [a.kind for a in again.actions] == [ActionKind.UNCHANGED]
    csaf_merge.apply_import(receiver, again)
    assert vs.count(receiver) == 1 and history_rows(receiver) == rows


def test_marking_above_the_media_label_is_kept_high_and_flagged(sender, receiver, tmp_path) -> None:
    v = vs.create(sender, rich(marking=Marking.parse("SECRET//NOFORN")))
    (action,) = csaf_merge.preview_import(receiver, [export(sender, v.id, tmp_path)], Marking.parse("CUI")).actions
    assert action.incoming is not None and action.incoming.marking.banner() == "SECRET//NOFORN"
    assert any("arrived on media labelled CUI" in w for w in action.warnings)


def test_unstated_marking_takes_the_media_label(sender, receiver, tmp_path) -> None:
    doc = json.loads(export(sender, vs.create(sender, rich()).id, tmp_path).read_text())
    doc["document"]["distribution"]["text"] = "Share with partners."
    doc["document"]["notes"] = doc["document"]["notes"][:1]
    path = write(tmp_path, "partner.json", json.dumps(doc))
    (action,) = csaf_merge.preview_import(receiver, [path], Marking.parse("SECRET")).actions
    assert action.incoming is not None and action.incoming.marking.banner() == "SECRET"
    assert action.incoming.embargo_until is None  # no embargo statement: none assumed


def test_round_trip_through_csaf_20_keeps_tlp_and_marking(sender, receiver, tmp_path) -> None:
    original = vs.create(sender, rich(cvss_vector="", tlp=Tlp.CLEAR, marking=Marking.parse("SECRET//NOFORN")))
    path = export(sender, original.id, tmp_path)
    assert json.loads(path.read_text())["document"]["distribution"]["tlp"]["label"] == "WHITE"
    result = csaf_merge.apply_import(receiver, csaf_merge.preview_import(receiver, [path], UNCLASSIFIED))
    got = vs.get(receiver, result.created[0])
    assert got.exchanged() == original.exchanged()
    assert got.tlp is Tlp.CLEAR and got.marking.banner() == "SECRET//NOFORN"


def test_advisory_sent_back_matches_the_original_entry(sender, receiver, tmp_path) -> None:
    original = vs.create(sender, rich())
    vs.create(receiver, Vulnerability(title="Receiver's own first entry"))  # ids differ between the two
    created = csaf_merge.apply_import(receiver, csaf_merge.preview_import(receiver, [export(sender, original.id, tmp_path)], UNCLASSIFIED)).created
    assert created == ["FRW-VULN-2026-0002"]
    mine = vs.get(receiver, created[0])
    vs.update(receiver, dataclasses.replace(mine, remediations=(fix("Receiver's mitigation."),)))
    back = export(receiver, mine.id, tmp_path, "back")
    doc = json.loads(back.read_text())
    assert doc["document"]["tracking"]["id"] == original.id
    assert doc["vulnerabilities"][0]["ids"][0]["text"] == original.id
    (action,) = csaf_merge.preview_import(sender, [back], UNCLASSIFIED).actions
    assert (action.kind, action.local_id, action.taken) == (ActionKind.UPDATE, original.id, ("remediations",))


def test_partner_update_is_taken_and_local_edits_are_kept(sender, receiver, tmp_path) -> None:
    original = vs.create(sender, rich())
    csaf_merge.apply_import(receiver, csaf_merge.preview_import(receiver, [export(sender, original.id, tmp_path, "v1")], UNCLASSIFIED))
    local = vs.list_all(receiver)[0]
    vs.update(receiver, dataclasses.replace(local, description="Receiver's own analysis."))
    # The sender changes another field and exports version 2.
    vs.update(sender, dataclasses.replace(vs.get(sender, original.id), remediations=(fix("Upgrade to 2.5.0."),)))
    path2 = export(sender, original.id, tmp_path, "v2")
    assert json.loads(path2.read_text())["document"]["tracking"]["version"] == "2"

    preview = csaf_merge.preview_import(receiver, [path2], UNCLASSIFIED)
    (action,) = preview.actions
    assert action.kind is ActionKind.UPDATE
    assert action.taken == ("remediations",)
    assert {c.field for c in action.changes} == {"description", "remediations"}
    csaf_merge.apply_import(receiver, preview)
    got = vs.get(receiver, local.id)
    assert got.remediations == (fix("Upgrade to 2.5.0."),)
    assert got.description == "Receiver's own analysis."


def test_conflict_with_local_edit_is_shown_and_never_silently_overwritten(sender, receiver, tmp_path) -> None:
    original = vs.create(sender, rich())
    csaf_merge.apply_import(receiver, csaf_merge.preview_import(receiver, [export(sender, original.id, tmp_path, "v1")], UNCLASSIFIED))
    local = vs.list_all(receiver)[0]
    vs.update(receiver, dataclasses.replace(local, remediations=(fix("Local: block the port."),)))
    vs.update(sender, dataclasses.replace(vs.get(sender, original.id), remediations=(fix("Partner: upgrade to 2.5."),)))
    path2 = export(sender, original.id, tmp_path, "v2")

    preview = csaf_merge.preview_import(receiver, [path2], UNCLASSIFIED)
    (action,) = preview.actions
    assert action.kind is ActionKind.CONFLICT
    assert action.conflicts == ("remediations",)
    (change,) = [c for c in action.changes if c.field == "remediations"]
    assert [[e["details"] for e in x] for x in (change.local, change.incoming, change.baseline)] == [
        ["Local: block the port."], ["Partner: upgrade to 2.5."], ["Upgrade to 2.4.2."]]
    assert change.conflict

    before = vs.get(receiver, local.id)
    result = csaf_merge.apply_import(receiver, preview)  # no resolution given
    assert result.kept_local == [local.id] and result.updated == []
    assert vs.get(receiver, local.id) == before

    # The reviewer chooses the partner's text: applied, and recorded in the history.
    result = csaf_merge.apply_import(receiver, csaf_merge.preview_import(receiver, [path2], UNCLASSIFIED), {0: {"remediations": "incoming"}})
    assert result.updated == [local.id]
    assert vs.get(receiver, local.id).remediations == (fix("Partner: upgrade to 2.5."),)
    assert vs.history(receiver, local.id)[-1].action == "import csaf"


def test_cve_match_without_exchange_history_differences_are_conflicts(sender, receiver, tmp_path) -> None:
    original = vs.create(sender, rich())
    vs.create(receiver, Vulnerability(title="Found here too", cve=original.cve))
    (action,) = csaf_merge.preview_import(receiver, [export(sender, original.id, tmp_path)], UNCLASSIFIED).actions
    assert action.kind is ActionKind.CONFLICT
    assert "never exchanged before" in action.message
    assert "title" in action.conflicts


def test_ambiguous_match_is_shown_and_skipped(sender, receiver, tmp_path) -> None:
    original = vs.create(sender, rich())
    path = export(sender, original.id, tmp_path)
    csaf_merge.apply_import(receiver, csaf_merge.preview_import(receiver, [path], UNCLASSIFIED))
    # The receiver's entry loses the CVE; another entry here claims it.
    mine = vs.list_all(receiver)[0]
    vs.update(receiver, dataclasses.replace(mine, cve=""))
    other = vs.create(receiver, Vulnerability(title="Same CVE, other entry", cve=original.cve))
    preview = csaf_merge.preview_import(receiver, [path], UNCLASSIFIED)
    (action,) = preview.actions
    assert action.kind is ActionKind.CONFLICT and not action.local_id
    assert mine.id in action.message and other.id in action.message
    result = csaf_merge.apply_import(receiver, preview, {0: {"title": "incoming"}})
    assert result.updated == [] and len(result.skipped) == 1
    assert vs.get(receiver, other.id).title == "Same CVE, other entry"


def test_register_changed_after_preview_applies_nothing(sender, receiver, tmp_path) -> None:
    original = vs.create(sender, rich())
    second = vs.create(sender, rich(cve="CVE-2026-40002", title="Second"))
    paths = [export(sender, original.id, tmp_path), export(sender, second.id, tmp_path)]
    preview = csaf_merge.preview_import(receiver, paths, UNCLASSIFIED)
    vs.create(receiver, Vulnerability(title="meanwhile", cve="CVE-2026-40002"))
    with pytest.raises(IntegrityError, match="preview the import again"):
        csaf_merge.apply_import(receiver, preview)
    assert vs.count(receiver) == 1  # the first NEW item was rolled back too


# -- bad input -------------------------------------------------------------------------------

def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


def test_malformed_json_names_the_file_and_position(receiver, tmp_path) -> None:
    bad = write(tmp_path, "broken.json", '{"document": {"csaf_version": "2.1",\n  "title": }')
    (action,) = csaf_merge.preview_import(receiver, [bad], UNCLASSIFIED).actions
    assert action.kind is ActionKind.INVALID
    assert str(bad) in action.message and "line 2 column" in action.message


@pytest.mark.parametrize(("content", "fragment"), [
    ("[1, 2]", "a CSAF document is a JSON object"),
    ('{"document": {"csaf_version": "3.0"}}', "$.document.csaf_version: '3.0'"),
    (b"\xff\xfe{}", "not UTF-8"),
    ('{"document": {"csaf_version": "2.0", "x": NaN}}', "NaN is not allowed"),
])
def test_unreadable_documents_are_refused_with_a_reason(receiver, tmp_path, content, fragment) -> None:
    (action,) = csaf_merge.preview_import(receiver, [write(tmp_path, "x.json", content)], UNCLASSIFIED).actions
    assert action.kind is ActionKind.INVALID
    assert fragment in action.message


def test_schema_invalid_csaf_names_the_json_path(sender, receiver, tmp_path) -> None:
    doc = json.loads(export(sender, vs.create(sender, rich()).id, tmp_path).read_text())
    doc["vulnerabilities"][0]["metrics"][0]["content"]["cvss_v4"]["vectorString"] = V4.replace("AV:N", "AV:Q")
    del doc["document"]["tracking"]["id"]
    (action,) = csaf_merge.preview_import(receiver, [write(tmp_path, "bad.json", json.dumps(doc))], UNCLASSIFIED).actions
    assert action.kind is ActionKind.INVALID
    assert "not a valid CSAF 2.1 document" in action.message
    assert "$.document.tracking: 'id' is a required property" in action.message
    assert "$.vulnerabilities[0].metrics[0].content.cvss_v4.vectorString" in action.message
    assert csaf_merge.apply_import(receiver, csaf_merge.preview_import(receiver, [tmp_path / "bad.json"], UNCLASSIFIED)).created == []


def test_invalid_cvss_inside_a_schema_valid_document_names_metric_and_path(tmp_path) -> None:
    doc = json.loads(json.dumps(csaf.advisory(rich(id="FRW-VULN-2026-0009").validate(),
                                              csaf.Publisher("P", "https://p.example"), csaf.AdvisoryMeta(
        "T-1", 1, (csaf.Revision("2026-11-20T00:00:00Z", "1", "Initial"),), "2026-11-20T00:00:00Z"))))
    # SA:S is allowed by the schema's pattern for MSA only; for SA the cvss package refuses it.
    doc["vulnerabilities"][0]["metrics"][0]["content"]["cvss_v4"]["vectorString"] = V4
    doc["vulnerabilities"][0]["cve"] = "CVE-2026-1"  # schema pattern needs 4+ digits: schema error
    path = write(tmp_path, "cve.json", json.dumps(doc))
    with pytest.raises(IngestError, match=r"\$\.vulnerabilities\[0\]\.cve"):
        csaf_import.read_advisory(path, csaf_validate.validate)
    # Without schema validation the reader's own checks still name the JSON path and field.
    with pytest.raises(IngestError, match=r"\$\.vulnerabilities\[0\]: cve: 'CVE-2026-1' is not a CVE id"):
        csaf_import.read_advisory(path, lambda d: [])
    doc["vulnerabilities"][0]["cve"] = "CVE-2026-40001"
    doc["vulnerabilities"][0]["metrics"][0]["content"]["cvss_v4"]["vectorString"] = V4.replace("AT:P/", "")
    with pytest.raises(IngestError, match=r"metrics\[0\]\.content\.cvss_v4\.vectorString AT: missing mandatory"):
        csaf_import.read_advisory(write(tmp_path, "v.json", json.dumps(doc)), lambda d: [])


def test_oversized_file_is_refused_before_parsing(tmp_path) -> None:
    big = write(tmp_path, "big.json", "{" + " " * 2048 + "}")
    with pytest.raises(IngestError, match="is larger than 1,024 bytes; not a CSAF advisory"):
        csaf_import.read_advisory(big, csaf_validate.validate, max_bytes=1024)


def test_duplicate_tracking_ids_and_cves_in_one_import(sender, receiver, tmp_path) -> None:
    v = vs.create(sender, rich())
    path = export(sender, v.id, tmp_path)
    copy = write(tmp_path, "copy.json", path.read_bytes())
    # Another publisher's advisory about the same CVE.
    other = json.loads(path.read_text())
    other["document"]["tracking"]["id"] = "PARTNER-2026-77"
    other["document"]["publisher"]["namespace"] = "https://partner.example"
    other_path = write(tmp_path, "partner.json", json.dumps(other))
    preview = csaf_merge.preview_import(receiver, [path, copy, other_path], UNCLASSIFIED)
    assert [a.kind for a in preview.actions] == [ActionKind.NEW, ActionKind.DUPLICATE, ActionKind.DUPLICATE]
    assert "tracking id FRW-VULN-2026-0001" in preview.actions[1].message
    assert "CVE-2026-40001 also in" in preview.actions[2].message
    result = csaf_merge.apply_import(receiver, preview)
    assert len(result.created) == 1 and len(result.skipped) == 2


def test_duplicate_cve_in_the_register_is_refused(sender) -> None:
    vs.create(sender, rich())
    with pytest.raises(ValidationError, match="CVE-2026-40001 is already recorded as FRW-VULN-2026-0001"):
        vs.create(sender, rich(title="again"))


# -- export rules ----------------------------------------------------------------------------

def test_export_refuses_media_marked_lower_and_writes_nothing(sender, tmp_path) -> None:
    v = vs.create(sender, rich(marking=Marking.parse("SECRET")))
    folder = tmp_path / "usb"
    folder.mkdir()
    with pytest.raises(ValidationError, match="marked SECRET but the media is labelled CUI"):
        csaf_exchange.export_csaf(sender, [v.id], folder, media_marking=Marking.parse("CUI"),
                                  recipient=partner_for(sender))
    assert list(folder.iterdir()) == []


def test_tracking_version_only_increases_when_content_changed(sender, tmp_path) -> None:
    v = vs.create(sender, rich())
    first = json.loads(export(sender, v.id, tmp_path, "a").read_text())["document"]["tracking"]
    same = json.loads(export(sender, v.id, tmp_path, "b").read_text())["document"]["tracking"]
    assert first["version"] == same["version"] == "1"
    vs.update(sender, dataclasses.replace(vs.get(sender, v.id), tlp=Tlp.RED))
    changed = json.loads(export(sender, v.id, tmp_path, "c").read_text())["document"]["tracking"]
    assert changed["version"] == "2"
    assert changed["revision_history"][-1]["summary"] == "Updated: tlp."


def test_auditor_cannot_import_or_export(workstation, sender, tmp_path) -> None:
    v = vs.create(sender, rich())
    path = export(sender, v.id, tmp_path)
    auditor = workstation.session("auditor")
    with pytest.raises(PermissionDenied):
        csaf_merge.preview_import(auditor, [path], UNCLASSIFIED)
    with pytest.raises(PermissionDenied):
        csaf_exchange.export_csaf(auditor, [v.id], tmp_path, recipient=partner_for(sender))


# -- signed-manifest package (the reports' package format) -----------------------------------

def test_csaf_package_is_signed_verifiable_and_imports_on_the_second_workstation(
        workstation, sender, receiver, tmp_path) -> None:
    from app.services import pki as pki_service
    from reports.package import CA_FILE, MANIFEST, MANIFEST_SIG
    from reports.verify_package import verify_package

    pki_service.ensure_ready(sender)  # CA and signing certificates (created at setup on new workstations)
    a = vs.create(sender, rich())
    b = vs.create(sender, rich(title="Second", cve="CVE-2026-40002", cvss_vector="", tlp=Tlp.GREEN,
                               marking=Marking.parse("SECRET")))
    media = tmp_path / "usb"
    media.mkdir()
    with pytest.raises(ValidationError, match="media label"):
        csaf_exchange.export_csaf_package(sender, [a.id, b.id], media, "CUI", workstation.passphrase("reviewer"),
                                          recipient=partner_for(sender))
    assert list(media.iterdir()) == []
    result = csaf_exchange.export_csaf_package(sender, [a.id, b.id], media, "SECRET", workstation.passphrase("reviewer"),
                                               recipient=partner_for(sender))
    folder = result.folder
    names = {p.name for p in folder.iterdir()}
    assert {MANIFEST, MANIFEST_SIG, CA_FILE, "frw-vuln-2026-0001.json", "frw-vuln-2026-0002.json"} <= names
    assert (folder / "MARKING.txt").read_text().startswith("SECRET")
    check = verify_package(folder, pki_service.trusted_roots(sender))
    # The manifest signature chains to the workstation CA and every advisory matches it; a CSAF-only
    # package carries no report.pdf and is not faulted for it.
    assert check.manifest_signer is not None
    assert check.problems == []
    assert {"frw-vuln-2026-0001.json SHA-256 matches", "frw-vuln-2026-0002.json SHA-256 matches"} <= set(
        check.checked)
    assert json.loads((folder / "frw-vuln-2026-0002.json").read_text())["document"]["csaf_version"] == "2.0"
    assert result.versions == {a.id: "CSAF 2.1, tracking version 1", b.id: "CSAF 2.0, tracking version 1"}

    preview = csaf_merge.preview_import(receiver, result.files, Marking.parse("SECRET"))
    assert [x.kind for x in preview.actions] == [ActionKind.NEW, ActionKind.NEW]
    created = csaf_merge.apply_import(receiver, preview).created
    got = [vs.get(receiver, vid) for vid in created]
    assert got[0].exchanged() == a.exchanged()  # stated CUI kept (the SECRET media is only a ceiling)
    assert got[1].marking.banner() == "SECRET" and got[1].tlp is Tlp.GREEN
    # The package folder itself imports only once the sender's CA is trusted here (SI-7).
    (action,) = csaf_merge.preview_import(receiver, [folder], UNCLASSIFIED).actions
    assert action.kind is ActionKind.INVALID and "fails verification" in action.message
    ca_file = tmp_path / "sender-ca.pem"
    ca_file.write_bytes((folder / CA_FILE).read_bytes())  # in real life obtained separately
    admin = second_workstation_admin(receiver)
    pki_service.import_trusted_root(admin, ca_file, "correct-horse-42-granite")
    preview = csaf_merge.preview_import(receiver, [folder], UNCLASSIFIED)
    assert [x.kind for x in preview.actions] == [ActionKind.UNCHANGED, ActionKind.UNCHANGED]
    assert preview.actions[0].warnings[0].startswith("signed package: ")
    # A tampered advisory no longer matches the signed manifest.
    (folder / "frw-vuln-2026-0001.json").write_text("{}")
    assert "frw-vuln-2026-0001.json was changed: its SHA-256 does not match the signed manifest" in (
        verify_package(folder, pki_service.trusted_roots(sender)).problems)
    (action,) = csaf_merge.preview_import(receiver, [folder], UNCLASSIFIED).actions
    assert action.kind is ActionKind.INVALID and "was changed" in action.message


def second_workstation_admin(receiver):  # type: ignore[no-untyped-def]
    from app.services import workstation as ws_service

    return ws_service.sign_in(receiver.data_dir, "admin", "correct-horse-42-granite", clock=receiver.clock)


def test_every_cwe_of_the_catalog_gives_a_schema_valid_weakness() -> None:
    import re

    schema = json.loads((csaf_validate.SCHEMA_DIR / "csaf_2.1/json_schema/csaf.json").read_text())
    cwe_schema = schema["properties"]["vulnerabilities"]["items"]["properties"]["cwes"]["items"]["properties"]
    name_re, version_re = re.compile(cwe_schema["name"]["pattern"]), re.compile(cwe_schema["version"]["pattern"])
    _, catalog = csaf._cwe_catalog()
    assert len(catalog) > 900
    for key in [*catalog, "999999"]:
        name, version = csaf.cwe_entry(f"CWE-{key}")
        assert name_re.match(name) and version_re.match(version), (key, name, version)
    # CWE-100 was removed from the list in 1.6: its last name and that version are used.
    assert csaf.cwe_entry("CWE-100") == ("Technology-Specific Input Validation Problems", "1.0")
    for v in (rich(cwe="CWE-100", id="FRW-VULN-2026-0001"), rich(cwe="CWE-100", cvss_vector="", id="FRW-VULN-2026-0001")):
        doc = csaf.advisory(v.validate(), csaf.Publisher("P", "https://p.example"), csaf.AdvisoryMeta(
            "T-1", 1, (csaf.Revision("2026-11-20T00:00:00Z", "1", "Initial"),), "2026-11-20T00:00:00Z"))
        assert csaf_validate.validate(doc) == []


def test_control_and_bidi_characters_from_partners_are_removed(sender, receiver, tmp_path) -> None:
    doc = json.loads(export(sender, vs.create(sender, rich()).id, tmp_path).read_text())
    doc["vulnerabilities"][0]["title"] = "Bad\x1b[31m title \u202egnp.exe"
    doc["vulnerabilities"][0]["notes"][0]["text"] = "line one\nline\ttwo\x07"
    (action,) = csaf_merge.preview_import(receiver, [write(tmp_path, "ctl.json", json.dumps(doc))], UNCLASSIFIED).actions
    assert action.incoming is not None
    assert action.incoming.title == "Bad title ⟨U+202E⟩gnp.exe"  # escape sequence gone, reversal shown
    assert action.incoming.description == "line one\nline\ttwo"


def test_update_that_would_break_a_record_rule_is_skipped_with_the_reason(sender, tmp_path) -> None:
    v = vs.create(sender, rich(status=VulnStatus.VENDOR_NOTIFIED))
    doc = json.loads(export(sender, v.id, tmp_path).read_text())
    del doc["vulnerabilities"][0]["involvements"]  # the partner no longer states the notification
    doc["document"]["tracking"]["version"] = "2"
    preview = csaf_merge.preview_import(sender, [write(tmp_path, "v2.json", json.dumps(doc))], UNCLASSIFIED)
    assert preview.actions[0].kind is ActionKind.UPDATE and preview.actions[0].taken == ("vendor_notified",)
    result = csaf_merge.apply_import(sender, preview)
    assert result.updated == [] and "needs the date the vendor was notified" in result.skipped[0]
    assert vs.get(sender, v.id).vendor_notified == date(2026, 11, 14)


def test_an_import_never_lowers_a_local_marking(sender, receiver, tmp_path) -> None:
    import dataclasses

    original = vs.create(sender, rich(marking=Marking.parse("SECRET")))
    first = csaf_merge.apply_import(receiver, csaf_merge.preview_import(receiver, [export(sender, original.id, tmp_path, "m1")], UNCLASSIFIED))
    local_id = first.created[0]
    assert vs.get(receiver, local_id).marking.banner() == "SECRET"
    # The partner lowers its copy (an explicit, audited act there) and sends it again.
    lowered = vs.update(sender, dataclasses.replace(vs.get(sender, original.id), marking=Marking.parse("CUI"),
                                                    title="Renamed upstream"), lower_reason="partner review")
    preview = csaf_merge.preview_import(receiver, [export(sender, lowered.id, tmp_path, "m2")], UNCLASSIFIED)
    csaf_merge.apply_import(receiver, preview)
    got = vs.get(receiver, local_id)
    assert got.title == "Renamed upstream"  # the partner's other changes are taken
    assert got.marking.banner() == "SECRET"  # but never a lower marking


def _schema_valid_doc() -> dict:  # type: ignore[type-arg]
    return json.loads(json.dumps(csaf.advisory(rich(id="FRW-VULN-2026-0009").validate(),
                                               csaf.Publisher("P", "https://p.example"), csaf.AdvisoryMeta(
        "T-1", 1, (csaf.Revision("2026-11-20T00:00:00Z", "1", "Initial"),), "2026-11-20T00:00:00Z"))))


def _nested_branches(doc: dict, depth: int) -> None:  # type: ignore[type-arg]
    leaf = top = {"category": "vendor", "name": "v"}
    for k in range(depth):
        leaf["branches"] = [nxt := {"category": "product_version", "name": f"p{k}"}]
        leaf = nxt
    leaf["product"] = {"name": "x", "product_id": "CSAFPID-x"}
    doc["product_tree"]["branches"] = [top]


def _text_of(doc: dict) -> str:  # type: ignore[type-arg]
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)  # json.dumps recurses as deep as the document
    try:
        return json.dumps(doc)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize(("change", "fragment"), [
    # a date the embargo sentence names that does not exist: date.fromisoformat raised ValueError
    (lambda d: d["document"]["distribution"].update(text=d["document"]["distribution"]["text"].replace(
        "2026-11-19", "2026-13-45")), "$.document.distribution.text: embargo: '2026-13-45' is not a date-time"),
    # an integer beyond a float's range: schema validation raised decimal.InvalidOperation
    (lambda d: d["vulnerabilities"][0]["metrics"][0]["content"]["cvss_v4"].update(baseScore=10 ** 400),
     "(401 digits) is out of range"),
    # a finite float above 1e27: multipleOf 0.1 raised decimal.InvalidOperation at 28 digits
    (lambda d: d["vulnerabilities"][0]["metrics"][0]["content"]["cvss_v4"].update(baseScore=1e308),
     "not a valid CSAF 2.1 document: $.vulnerabilities[0].metrics[0].content.cvss_v4"),
    # product branches 300 deep: schema validation ended in RecursionError
    (lambda d: _nested_branches(d, 300), "JSON nested more than 100 levels deep"),
], ids=["embargo date", "integer 10**400", "float 1e308", "300 branches deep"])
def test_hostile_values_in_a_schema_valid_advisory_are_refused_by_name(receiver, tmp_path, change,
                                                                       fragment) -> None:
    doc = _schema_valid_doc()
    change(doc)
    (action,) = csaf_merge.preview_import(receiver, [write(tmp_path, "hostile.json", _text_of(doc))], UNCLASSIFIED).actions
    assert action.kind is ActionKind.INVALID, action
    assert "hostile.json" in action.message and fragment in action.message


def test_a_lone_surrogate_in_an_advisory_is_replaced(receiver, tmp_path) -> None:
    """"\\ud800" is valid JSON; stored as it was (tracking id, publisher, product identifier) it
    ended the import in a UnicodeEncodeError traceback from the database driver."""
    doc = _schema_valid_doc()
    doc["document"]["tracking"]["id"] = "T-\ud800"
    doc["document"]["publisher"]["name"] = "P\ud800"
    preview = csaf_merge.preview_import(receiver, [write(tmp_path, "surrogate.json", json.dumps(doc))], UNCLASSIFIED)
    (action,) = preview.actions
    assert action.kind is ActionKind.NEW, action
    assert len(csaf_merge.apply_import(receiver, preview).created) == 1


def test_an_advisory_whose_file_name_is_not_utf8_imports(receiver, tmp_path) -> None:
    """The file's name (surrogate escapes from the OS) went into the audit log: UnicodeEncodeError."""
    import os

    path = write(tmp_path, os.fsdecode(b"avis-\xe9.json"), json.dumps(_schema_valid_doc()))
    preview = csaf_merge.preview_import(receiver, [path], UNCLASSIFIED)
    assert preview.actions[0].file.endswith("avis-\\xe9.json")
    assert len(csaf_merge.apply_import(receiver, preview).created) == 1
