"""CSAF with several affected products: every one in the product tree with its own id, known_affected,
scores and remediations over all of them, valid against the official 2.0 and 2.1 schemas; a partner's
multi-product advisory imports every product; an export -> import round trip keeps them all."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest

from app.model.markings import UNCLASSIFIED, Marking
from app.model.vulnerabilities import (
    AffectedProduct,
    Remediation,
    RemediationCategory,
    Tlp,
    Vulnerability,
)
from app.services import csaf_exchange, csaf_merge
from app.services import vulnerabilities as vs
from app.services.csaf_merge import ActionKind
from reports import csaf, csaf_validate
from tests.unit.csaf_kit import partner_for

V4 = "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N"
V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
CPE_41 = "cpe:2.3:a:northwind_ai:aurora:4.1-preview:*:*:*:*:*:*:*"
CPE_42 = "cpe:2.3:a:northwind_ai:aurora:4.2:*:*:*:*:*:*:*"
SCAFFOLD = "pkg:pypi/aurora-agent@1.3.0"
AURORA_42 = AffectedProduct("Northwind AI", "Aurora 4.2", CPE_42)
AGENT = AffectedProduct("Contoso", "Agent scaffold", SCAFFOLD)
NAMED_ONLY = AffectedProduct("", "Aurora eval harness", "")
META = csaf.AdvisoryMeta("T-1", 1, (csaf.Revision("2026-11-20T00:00:00Z", "1", "Initial"),), "2026-11-20T00:00:00Z")
PUBLISHER = csaf.Publisher("P", "https://p.example")


def aurora(**changes: object) -> Vulnerability:
    v = Vulnerability(
        title="Sandbox escape via tool call", vendor="Northwind AI", product="Aurora 4.1-preview", product_id=CPE_41,
        cwe="CWE-22", cvss_vector=V4, cvss_v3_vector=V3, discovered=date(2026, 11, 12), tlp=Tlp.AMBER,
        more_products=(AURORA_42, AGENT, NAMED_ONLY), marking=Marking.parse("CUI"),
        remediations=(Remediation(RemediationCategory.NONE_AVAILABLE, "No fix for the model yet."),
                      Remediation(RemediationCategory.VENDOR_FIX, "Upgrade the scaffold to 1.3.1.", (SCAFFOLD,)),
                      Remediation(RemediationCategory.MITIGATION, "Disable the tool for 4.2 and the harness.",
                                  (CPE_42, "Aurora eval harness"))),
    )
    return dataclasses.replace(v, **changes).validate()  # type: ignore[arg-type]


def advisory(v: Vulnerability) -> dict:  # type: ignore[type-arg]
    return csaf.advisory(dataclasses.replace(v, id="FRW-VULN-2026-0009"), PUBLISHER, META)


def names_by_ref(doc: dict) -> dict[str, tuple[str, str, str]]:  # type: ignore[type-arg]
    """CSAF product id -> (vendor, branch or product name, CPE/purl) as the tree states it."""
    out = {}
    for vendor in doc["product_tree"].get("branches", []):
        for b in vendor["branches"]:
            helper = b["product"].get("product_identification_helper", {})
            ident = helper.get("cpe") or helper.get("purl") or next(iter(helper.get("purls", [])), "")
            out[b["product"]["product_id"]] = (vendor["name"], b["name"], ident)
    for fp in doc["product_tree"].get("full_product_names", []):
        helper = fp.get("product_identification_helper", {})
        out[fp["product_id"]] = ("", fp["name"], helper.get("cpe") or next(iter(helper.get("purls", [])), ""))
    return out


@pytest.mark.parametrize("version", ["2.1", "2.0"])
@pytest.mark.parametrize("count", [1, 2, 4])
def test_every_product_is_in_the_tree_and_the_document_is_schema_valid(version, count) -> None:
    more = (AURORA_42, AGENT, NAMED_ONLY)[:count - 1]
    v = aurora(more_products=more, cvss_vector=V4 if version == "2.1" else "",
               remediations=(Remediation(RemediationCategory.WORKAROUND, "Turn the tool off."),))
    doc = advisory(v)
    assert doc["document"]["csaf_version"] == version
    assert csaf_validate.validate(doc, version) == []
    refs = [f"FRWP-{n}" for n in range(1, count + 1)]
    tree = names_by_ref(doc)
    assert sorted(tree) == refs
    assert tree["FRWP-1"] == ("Northwind AI", "Aurora 4.1-preview", CPE_41)
    if count >= 2:
        assert tree["FRWP-2"] == ("Northwind AI", "Aurora 4.2", CPE_42)
    if count >= 4:
        assert tree["FRWP-3"] == ("Contoso", "Agent scaffold", SCAFFOLD)
        assert tree["FRWP-4"] == ("", "Aurora eval harness", "")
    vuln = doc["vulnerabilities"][0]
    assert vuln["product_status"] == {"known_affected": refs}
    scored = vuln["metrics"][0]["products"] if version == "2.1" else vuln["scores"][0]["products"]
    assert scored == refs
    assert vuln["remediations"][0]["product_ids"] == refs
    # one vendor branch per vendor, its products under it
    assert [b["name"] for b in doc["product_tree"]["branches"]] == ["Northwind AI", "Contoso"][:1 + (count >= 4)]


def test_remediations_map_to_the_right_product_ids() -> None:
    doc = advisory(aurora())
    assert csaf_validate.validate(doc, "2.1") == []
    rems = doc["vulnerabilities"][0]["remediations"]
    assert rems[0]["product_ids"] == ["FRWP-1", "FRWP-2", "FRWP-3", "FRWP-4"]  # () = every affected product
    assert rems[1]["product_ids"] == ["FRWP-3"]
    assert rems[2]["product_ids"] == ["FRWP-2", "FRWP-4"]
    assert "Northwind AI Aurora 4.2; Contoso Agent scaffold; Aurora eval harness" in (
        doc["document"]["notes"][0]["text"])


def test_a_product_only_a_remediation_names_still_follows_the_affected_ones() -> None:
    other = "pkg:pypi/aurora-agent@1.2.0"
    v = aurora(remediations=(Remediation(RemediationCategory.VENDOR_FIX, "Old scaffold: upgrade.", (other,)),))
    doc = advisory(v)
    assert csaf_validate.validate(doc, "2.1") == []
    assert names_by_ref(doc)["FRWP-5"] == ("", other, other)
    assert doc["vulnerabilities"][0]["product_status"]["known_affected"] == ["FRWP-1", "FRWP-2", "FRWP-3", "FRWP-4"]


# -- import and round trip --------------------------------------------------------------------

def export(session, vid: str, folder: Path) -> Path:  # type: ignore[no-untyped-def]
    folder.mkdir(exist_ok=True)
    return csaf_exchange.export_csaf(session, [vid], folder, media_marking=Marking.parse("SECRET//NOFORN"),
                                     recipient=partner_for(session)).files[0]


@pytest.mark.parametrize("v4", [V4, ""], ids=["csaf 2.1", "csaf 2.0"])
def test_round_trip_keeps_every_product_its_vendor_split_and_id(sender, receiver, tmp_path, v4) -> None:
    original = vs.create(sender, aurora(cvss_vector=v4))
    path = export(sender, original.id, tmp_path / "media")
    preview = csaf_merge.preview_import(receiver, [path], UNCLASSIFIED)
    (action,) = preview.actions
    assert action.kind is ActionKind.NEW and not any("several affected" in w for w in action.warnings)
    got = vs.get(receiver, csaf_merge.apply_import(receiver, preview).created[0])
    assert got.products == original.products == (original.first_product, AURORA_42, AGENT, NAMED_ONLY)
    assert got.remediations == original.remediations
    assert got.exchanged() == original.exchanged()
    # the same advisory again is recognised as unchanged
    assert [a.kind for a in csaf_merge.preview_import(receiver, [path], UNCLASSIFIED).actions] == [ActionKind.UNCHANGED]


def test_a_partner_adding_a_product_is_taken_as_an_update(sender, receiver, tmp_path) -> None:
    original = vs.create(sender, aurora(more_products=(AURORA_42,)))
    mine = vs.get(receiver, csaf_merge.apply_import(
        receiver, csaf_merge.preview_import(receiver, [export(sender, original.id, tmp_path / "out")], UNCLASSIFIED)).created[0])
    vs.update(receiver, dataclasses.replace(mine, more_products=(AURORA_42, AGENT)))
    back = export(receiver, mine.id, tmp_path / "back")
    (action,) = csaf_merge.preview_import(sender, [back], UNCLASSIFIED).actions
    assert (action.kind, action.taken) == (ActionKind.UPDATE, ("more_products",))
    change = next(c for c in action.changes if c.field == "more_products")
    assert csaf_merge.shown(change.incoming) == (f"Northwind AI Aurora 4.2 ({CPE_42})\n"
                                                 f"Contoso Agent scaffold ({SCAFFOLD})")
    csaf_merge.apply_import(sender, csaf_merge.preview_import(sender, [back], UNCLASSIFIED))
    assert vs.get(sender, original.id).more_products == (AURORA_42, AGENT)


def partner_document() -> dict:  # type: ignore[type-arg]
    """A partner's own CSAF 2.0 advisory (not written by this app): three products, two known affected,
    one fixed; a remediation for one affected product, one for both."""
    return {
        "document": {
            "category": "csaf_security_advisory", "csaf_version": "2.0", "title": "Aurora tool-call escape",
            "publisher": {"category": "coordinator", "name": "Partner CERT", "namespace": "https://cert.example"},
            "tracking": {"id": "PCERT-2026-77", "status": "final", "version": "1",
                         "initial_release_date": "2026-11-18T00:00:00Z", "current_release_date": "2026-11-18T00:00:00Z",
                         "revision_history": [{"date": "2026-11-18T00:00:00Z", "number": "1", "summary": "Initial"}]},
            "distribution": {"tlp": {"label": "GREEN"}},
        },
        "product_tree": {"branches": [{"category": "vendor", "name": "Northwind AI", "branches": [
            {"category": "product_name", "name": "Aurora", "branches": [
                {"category": "product_version", "name": "4.1-preview", "product": {
                    "name": "Northwind AI Aurora 4.1-preview", "product_id": "CSAFPID-0001",
                    "product_identification_helper": {"cpe": CPE_41}}},
                {"category": "product_version", "name": "4.2", "product": {
                    "name": "Northwind AI Aurora 4.2", "product_id": "CSAFPID-0002",
                    "product_identification_helper": {"cpe": CPE_42}}},
                {"category": "product_version", "name": "4.3", "product": {
                    "name": "Northwind AI Aurora 4.3", "product_id": "CSAFPID-0003"}}]}]}],
            "full_product_names": [{"name": "Aurora agent scaffold 1.3.0", "product_id": "CSAFPID-0004",
                                    "product_identification_helper": {"purl": SCAFFOLD}}]},
        "vulnerabilities": [{
            "cve": "CVE-2026-47001", "title": "Tool-call sandbox escape",
            "product_status": {"known_affected": ["CSAFPID-0001", "CSAFPID-0002", "CSAFPID-0004"],
                               "fixed": ["CSAFPID-0003"]},
            "scores": [{"products": ["CSAFPID-0001", "CSAFPID-0002", "CSAFPID-0004"],
                        "cvss_v3": {"version": "3.1", "vectorString": V3, "baseScore": 7.5, "baseSeverity": "HIGH"}}],
            "remediations": [
                {"category": "vendor_fix", "details": "Upgrade to Aurora 4.3.",
                 "product_ids": ["CSAFPID-0001", "CSAFPID-0002"]},
                {"category": "workaround", "details": "Disable the shell tool.",
                 "product_ids": ["CSAFPID-0001", "CSAFPID-0002", "CSAFPID-0004"]}],
        }],
    }


def test_a_partners_multi_product_advisory_imports_every_affected_product(receiver, tmp_path) -> None:
    doc = partner_document()
    assert csaf_validate.validate(doc, "2.0") == []
    path = tmp_path / "pcert-2026-77.json"
    path.write_text(json.dumps(doc))
    (action,) = csaf_merge.preview_import(receiver, [path], UNCLASSIFIED).actions
    assert action.kind is ActionKind.NEW, action.message
    assert not any("several affected products" in w for w in action.warnings)
    got = vs.get(receiver, csaf_merge.apply_import(receiver, csaf_merge.preview_import(receiver, [path], UNCLASSIFIED)).created[0])
    assert got.products == (AffectedProduct("Northwind AI", "Aurora", CPE_41),
                            AffectedProduct("Northwind AI", "Aurora", CPE_42),
                            AffectedProduct("", "Aurora agent scaffold 1.3.0", SCAFFOLD))
    # the fixed 4.3 is no affected product
    assert [(r.category.value, r.product_ids) for r in got.remediations] == [
        ("vendor_fix", (CPE_41, CPE_42)), ("workaround", ())]  # () = every affected product
    assert got.score == 7.5


def test_a_product_listed_twice_is_one_product(receiver, tmp_path) -> None:
    doc = partner_document()
    doc["product_tree"]["full_product_names"].append({"name": "Aurora 4.2 again", "product_id": "CSAFPID-0005",
                                                      "product_identification_helper": {"cpe": CPE_42}})
    doc["vulnerabilities"][0]["product_status"]["known_affected"].append("CSAFPID-0005")
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(doc))
    (action,) = csaf_merge.preview_import(receiver, [path], UNCLASSIFIED).actions
    assert action.kind is ActionKind.NEW, action.message
    assert action.incoming is not None
    assert [p.identity for p in action.incoming.products] == [CPE_41, CPE_42, SCAFFOLD]


def test_an_invalid_further_product_makes_the_advisory_invalid_by_name(receiver, tmp_path) -> None:
    doc = partner_document()
    # valid for the CSAF 2.0 schema, not a package URL the register accepts (the type is lower case)
    doc["product_tree"]["full_product_names"][0]["product_identification_helper"] = {"purl": "pkg:PyPI/aurora"}
    assert csaf_validate.validate(doc, "2.0") == []
    path = tmp_path / "bad-purl.json"
    path.write_text(json.dumps(doc))
    (action,) = csaf_merge.preview_import(receiver, [path], UNCLASSIFIED).actions
    assert action.kind is ActionKind.INVALID
    assert "bad-purl.json" in action.message and "not a valid package URL" in action.message
    assert "$.vulnerabilities[0]: more_products[1].product_id" in action.message
