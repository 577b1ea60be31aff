"""Every CSAF merge case (issue 16 point 6): a partner returns our advisory with a change, sometimes
while we changed the same record here. Products, remediations, scores and notes added, removed and
changed; conflicts (both sides changed the same field) are shown as conflicts and never merged
silently. The scenario of the issue: a vendor fix added next to our "none_available" remediation."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.model.exchange_merge import merge, merge_entries
from app.model.markings import Marking
from app.model.vulnerabilities import (
    NO_REMEDIATION,
    AffectedProduct,
    Note,
    NoteCategory,
    Remediation,
    RemediationCategory,
    Vulnerability,
)
from app.services import csaf_exchange, csaf_merge
from app.services import vulnerabilities as vs
from app.services.csaf_merge import ActionKind
from reports import csaf_validate
from tests.conftest import MemoryKeyring, Workstation, WorkstationTemplate
from tests.unit.csaf_kit import partner_for, partnered_template
from tests.unit.test_csaf import V3, rich

NONE = Remediation(RemediationCategory.NONE_AVAILABLE, NO_REMEDIATION)
FIX = "Acme shipped safety patch 2.0.1"


@pytest.fixture(scope="module")
def partnered(tmp_path_factory: pytest.TempPathFactory, workstation_template: WorkstationTemplate
              ) -> WorkstationTemplate:
    return partnered_template(tmp_path_factory.mktemp("partnered"), workstation_template)


@pytest.fixture
def workstation(tmp_path: Path, partnered: WorkstationTemplate, memory_keyring: MemoryKeyring
                ) -> Iterator[Workstation]:
    """The conftest's workstation, with the partner every export here is addressed to registered."""
    ws = partnered.copy_to(tmp_path / "ws", memory_keyring)
    yield ws
    for s in ws.sessions:
        s.close()


@pytest.fixture
def session(workstation):  # type: ignore[no-untyped-def]
    return workstation.session("reviewer")


class Partner:
    """Our exported advisory, edited as the partner would, then offered back to the register."""

    def __init__(self, session: Any, v: Vulnerability, tmp_path: Path) -> None:
        self.session, self.id, self.tmp = session, v.id, tmp_path
        folder = tmp_path / "out"
        folder.mkdir(parents=True, exist_ok=True)
        (path,) = csaf_exchange.export_csaf(session, [v.id], folder, media_marking=Marking.parse("SECRET"),
                                            recipient=partner_for(session)).files
        self.doc = json.loads(path.read_text())
        self.n = 0

    @property
    def vuln(self) -> dict[str, Any]:
        return self.doc["vulnerabilities"][0]

    def returned(self) -> csaf_merge.ImportAction:
        """The partner's advisory (next version, still schema-valid) previewed against the register."""
        tracking = self.doc["document"]["tracking"]
        tracking["version"] = str(int(tracking["version"]) + 1)
        tracking["revision_history"].append({"date": tracking["current_release_date"],
                                             "number": tracking["version"], "summary": "Partner update."})
        assert csaf_validate.validate(self.doc) == [], csaf_validate.validate(self.doc)
        self.n += 1
        path = self.tmp / f"partner-{self.n}.json"
        path.write_text(json.dumps(self.doc))
        (action,) = csaf_merge.preview_import(self.session, [path], Marking.parse("SECRET")).actions
        self.last = action
        return action

    def apply(self, resolutions: dict[str, str] | None = None) -> Vulnerability:
        preview = csaf_merge.ImportPreview((self.last,), (self.last.file,))
        csaf_merge.apply_import(self.session, preview, {0: resolutions} if resolutions else None)
        return vs.get(self.session, self.id)


def edit_here(session: Any, vid: str, **changes: Any) -> Vulnerability:
    return vs.update(session, dataclasses.replace(vs.get(session, vid), **changes))


def rems(v: Vulnerability) -> list[tuple[str, str]]:
    return [(r.category.value, r.details) for r in v.remediations]


# -- the case --------------------------------------------------------------------------

def test_partner_vendor_fix_next_to_our_none_available_is_a_new_entry(session, tmp_path) -> None:
    v = vs.create(session, rich(remediations=(NONE,)))
    partner = Partner(session, v, tmp_path)
    partner.vuln["remediations"].append({"category": "vendor_fix", "details": FIX, "product_ids": ["FRWP-1"],
                                         "date": "2026-11-20T00:00:00.000Z", "url": "https://acme.example/2.0.1"})
    action = partner.returned()
    assert (action.kind, action.taken, action.conflicts) == (ActionKind.UPDATE, ("remediations",), ())
    got = partner.apply()
    assert rems(got) == [("none_available", NO_REMEDIATION), ("vendor_fix", FIX)]
    vendor_fix = got.remediations[1]
    assert (vendor_fix.issued.isoformat() if vendor_fix.issued else "", vendor_fix.url) == (
        "2026-11-20", "https://acme.example/2.0.1")
    assert NO_REMEDIATION + "\n\n" + FIX not in json.dumps([r.as_dict() for r in got.remediations])
    # Export writes every entry, each with its own category; the partner's copy now matches ours.
    again = Partner(session, got, tmp_path / "again")
    assert [(r["category"], r["details"]) for r in again.vuln["remediations"]] == rems(got)
    assert again.returned().kind is ActionKind.UNCHANGED


# -- products ----------------------------------------------------------------------------------

def test_product_added_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich(vendor="", product="", product_id=""))
    partner = Partner(session, v, tmp_path)
    partner.doc["product_tree"] = {"branches": [{"category": "vendor", "name": "Acme Corp", "branches": [{
        "category": "product_name", "name": "Acme Unpacker", "product": {
            "name": "Acme Corp Acme Unpacker", "product_id": "FRWP-1",
            "product_identification_helper": {"purls": ["pkg:pypi/acme-unpacker@2.4.1"]}}}]}]}
    action = partner.returned()
    assert action.kind is ActionKind.UPDATE and set(action.taken) == {"vendor", "product", "product_id"}
    got = partner.apply()
    assert (got.vendor, got.product, got.product_id) == ("Acme Corp", "Acme Unpacker", "pkg:pypi/acme-unpacker@2.4.1")


def test_product_removed_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    product = partner.doc["product_tree"]["branches"][0]["branches"][0]["product"]
    del product["product_identification_helper"]
    action = partner.returned()
    assert action.kind is ActionKind.UPDATE and action.taken == ("product_id",)
    assert partner.apply().product_id == ""


def test_product_changed_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    branch = partner.doc["product_tree"]["branches"][0]["branches"][0]
    branch["name"] = "Acme Unpacker Pro"
    branch["product"]["product_identification_helper"] = {"purls": ["pkg:pypi/acme-unpacker-pro@3.0.0"]}
    action = partner.returned()
    assert action.kind is ActionKind.UPDATE and set(action.taken) == {"product", "product_id"}
    got = partner.apply()
    assert (got.product, got.product_id) == ("Acme Unpacker Pro", "pkg:pypi/acme-unpacker-pro@3.0.0")


def test_a_second_affected_product_from_the_partner_is_taken_not_dropped(session, tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    partner.doc["product_tree"]["full_product_names"] = [{"name": "Acme Unpacker 2.5", "product_id": "ACME-25"}]
    partner.vuln["product_status"]["known_affected"].append("ACME-25")
    action = partner.returned()
    assert not any("several affected products" in w for w in action.warnings)
    # the partner's remediation still names only the first product: it says so now, explicitly
    assert action.kind is ActionKind.UPDATE and set(action.taken) == {"more_products", "remediations"}
    got = partner.apply()
    assert got.more_products == (AffectedProduct("", "Acme Unpacker 2.5", ""),)
    assert got.remediations[0].product_ids == (v.product_identity,)


def test_remediation_for_another_product_round_trips(session, tmp_path) -> None:
    v = vs.create(session, rich(remediations=(NONE,)))
    partner = Partner(session, v, tmp_path)
    partner.doc["product_tree"]["full_product_names"] = [{
        "name": "Acme Unpacker 2.5", "product_id": "ACME-25",
        "product_identification_helper": {"purls": ["pkg:pypi/acme-unpacker@2.5.0"]}}]
    partner.vuln["remediations"].append({"category": "vendor_fix", "details": "Fixed in 2.5.0.",
                                         "product_ids": ["ACME-25"]})
    assert partner.returned().taken == ("remediations",)
    got = partner.apply()
    assert got.remediations[1].product_ids == ("pkg:pypi/acme-unpacker@2.5.0",)
    assert got.remediations[0].product_ids == ()  # the affected product itself
    again = Partner(session, got, tmp_path / "again")
    assert again.vuln["remediations"][1]["product_ids"] == ["FRWP-2"]
    assert again.returned().kind is ActionKind.UNCHANGED


# -- remediations ------------------------------------------------------------------------------

def test_remediation_removed_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich(remediations=(NONE, Remediation(RemediationCategory.MITIGATION, "Block port 9000."))))
    partner = Partner(session, v, tmp_path)
    partner.vuln["remediations"] = partner.vuln["remediations"][1:]
    action = partner.returned()
    assert action.taken == ("remediations",)
    assert rems(partner.apply()) == [("mitigation", "Block port 9000.")]


def test_remediation_category_changed_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich(remediations=(Remediation(RemediationCategory.WORKAROUND, "Disable uploads."),)))
    partner = Partner(session, v, tmp_path)
    partner.vuln["remediations"][0]["category"] = "mitigation"
    assert partner.returned().taken == ("remediations",)
    assert rems(partner.apply()) == [("mitigation", "Disable uploads.")]


def test_remediation_text_changed_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich(remediations=(NONE, Remediation(RemediationCategory.VENDOR_FIX, "Upgrade to 2.4.2."))))
    partner = Partner(session, v, tmp_path)
    partner.vuln["remediations"][1]["details"] = "Upgrade to 2.4.3 (2.4.2 was incomplete)."
    assert partner.returned().taken == ("remediations",)
    assert rems(partner.apply()) == [("none_available", NO_REMEDIATION),
                                     ("vendor_fix", "Upgrade to 2.4.3 (2.4.2 was incomplete).")]


def test_remediations_added_on_both_sides_are_both_kept(session, tmp_path) -> None:
    v = vs.create(session, rich(remediations=(NONE,)))
    partner = Partner(session, v, tmp_path)
    edit_here(session, v.id, remediations=(NONE, Remediation(RemediationCategory.MITIGATION, "Block port 9000.")))
    partner.vuln["remediations"].append({"category": "vendor_fix", "details": FIX, "product_ids": ["FRWP-1"]})
    action = partner.returned()
    assert (action.kind, action.conflicts) == (ActionKind.UPDATE, ())
    (change,) = [c for c in action.changes if c.field == "remediations"]
    assert change.merged != change.incoming  # shown as "merged" (ours and theirs), not "incoming"
    assert rems(partner.apply()) == [("none_available", NO_REMEDIATION), ("mitigation", "Block port 9000."),
                                     ("vendor_fix", FIX)]


# -- scores ------------------------------------------------------------------------------------

def test_cvss_v4_vector_changed_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    new = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    partner.vuln["metrics"][0]["content"]["cvss_v4"].update(vectorString=new, baseScore=9.3, baseSeverity="CRITICAL")
    assert partner.returned().taken == ("cvss_vector",)
    got = partner.apply()
    assert (got.cvss_vector, got.score) == (new, 9.3)


def test_cvss_v3_vector_changed_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    new = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    partner.vuln["metrics"][0]["content"]["cvss_v3"].update(vectorString=new, baseScore=9.8, baseSeverity="CRITICAL")
    assert partner.returned().taken == ("cvss_v3_vector",)
    assert partner.apply().cvss_v3_vector == new


def test_score_added_and_removed_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich(cvss_v3_vector=""))
    partner = Partner(session, v, tmp_path)
    partner.vuln["metrics"][0]["content"]["cvss_v3"] = {"version": "3.1", "vectorString": V3, "baseScore": 7.5,
                                                        "baseSeverity": "HIGH"}
    assert partner.returned().taken == ("cvss_v3_vector",)
    assert partner.apply().cvss_v3_vector == V3
    partner2 = Partner(session, vs.get(session, v.id), tmp_path / "2")
    del partner2.vuln["metrics"][0]["content"]["cvss_v3"]
    assert partner2.returned().taken == ("cvss_v3_vector",)
    assert partner2.apply().cvss_v3_vector == ""


# -- notes -------------------------------------------------------------------------------------

PARTNER_NOTE = {"category": "general", "title": "Partner analysis", "text": "Also reachable through the API."}


def test_note_added_changed_and_removed_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    partner.vuln["notes"].append(dict(PARTNER_NOTE))
    assert partner.returned().taken == ("notes",)
    got = partner.apply()
    assert got.notes == (Note(NoteCategory.GENERAL, "Partner analysis", "Also reachable through the API."),)

    partner = Partner(session, got, tmp_path / "changed")  # our export carries the note
    assert partner.vuln["notes"][-1] == PARTNER_NOTE
    partner.vuln["notes"][-1]["text"] = "Reachable through the API and the CLI."
    assert partner.returned().taken == ("notes",)
    assert [n.text for n in partner.apply().notes] == ["Reachable through the API and the CLI."]

    partner = Partner(session, vs.get(session, v.id), tmp_path / "removed")
    partner.vuln["notes"] = partner.vuln["notes"][:-1]
    assert partner.returned().taken == ("notes",)
    assert partner.apply().notes == ()


def test_description_note_changed_and_removed_by_the_partner(session, tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    partner.vuln["notes"][0]["text"] = "The archive escapes the sandbox through a symlink."
    assert partner.returned().taken == ("description",)
    assert partner.apply().description == "The archive escapes the sandbox through a symlink."
    partner = Partner(session, vs.get(session, v.id), tmp_path / "removed")
    partner.vuln["notes"] = [n for n in partner.vuln["notes"] if n["category"] != "description"]
    assert partner.returned().taken == ("description",)
    assert partner.apply().description == ""


# -- conflicts: both sides changed the same field ----------------------------------------------

@pytest.mark.parametrize("case", ["title", "cvss_vector", "cvss_v3_vector", "product_id", "remediations",
                                  "remediation category", "notes", "description"])
def test_both_sides_changed_the_same_field_is_a_conflict(session, tmp_path, case: str) -> None:
    v = vs.create(session, rich(remediations=(NONE, Remediation(RemediationCategory.VENDOR_FIX, "Upgrade to 2.4.2.")),
                                notes=(Note(NoteCategory.GENERAL, "Partner analysis", "First text."),)))
    partner = Partner(session, v, tmp_path)
    body, doc = partner.vuln, partner.doc
    if case == "title":
        edit_here(session, v.id, title="Our title")
        body["title"] = "Their title"
        field, theirs = "title", "Their title"
    elif case == "cvss_vector":
        edit_here(session, v.id, cvss_vector="CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N")
        theirs = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
        body["metrics"][0]["content"]["cvss_v4"].update(vectorString=theirs, baseScore=9.3, baseSeverity="CRITICAL")
        field = "cvss_vector"
    elif case == "cvss_v3_vector":
        edit_here(session, v.id, cvss_v3_vector="CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N")
        theirs = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        body["metrics"][0]["content"]["cvss_v3"].update(vectorString=theirs, baseScore=9.8, baseSeverity="CRITICAL")
        field = "cvss_v3_vector"
    elif case == "product_id":
        edit_here(session, v.id, product_id="pkg:pypi/acme-unpacker@2.4.9")
        theirs = "pkg:pypi/acme-unpacker@2.5.0"
        doc["product_tree"]["branches"][0]["branches"][0]["product"]["product_identification_helper"] = {
            "purls": [theirs]}
        field = "product_id"
    elif case == "remediations":
        edit_here(session, v.id, remediations=(NONE, Remediation(RemediationCategory.VENDOR_FIX, "Ours: 2.4.3.")))
        body["remediations"][1]["details"] = "Theirs: 2.5.0."
        field, theirs = "remediations", "Theirs: 2.5.0."
    elif case == "remediation category":
        edit_here(session, v.id, remediations=(NONE, Remediation(RemediationCategory.MITIGATION, "Upgrade to 2.4.2.")))
        body["remediations"][1]["category"] = "workaround"
        field, theirs = "remediations", "workaround"
    elif case == "notes":
        edit_here(session, v.id, notes=(Note(NoteCategory.GENERAL, "Partner analysis", "Our text."),))
        body["notes"][-1]["text"] = "Their text."
        field, theirs = "notes", "Their text."
    else:
        edit_here(session, v.id, description="Our description.")
        body["notes"][0]["text"] = "Their description."
        field, theirs = "description", "Their description."
    before = vs.get(session, v.id)
    action = partner.returned()
    assert action.kind is ActionKind.CONFLICT and action.conflicts == (field,)
    (change,) = [c for c in action.changes if c.field == field]
    assert change.conflict
    # Without a choice nothing is merged: the local record stays exactly as it was.
    assert partner.apply() == before
    # The reviewer takes the partner's side: applied for that field only.
    got = partner.apply({field: "incoming"})
    assert theirs in json.dumps(got.exchanged()[field])
    if field == "remediations":
        assert got.remediations[0] == NONE and len(got.remediations) == 2  # the other entry untouched


@pytest.mark.parametrize("choice", ["local", "incoming"])
def test_removed_here_while_changed_by_the_partner_is_a_conflict(session, tmp_path, choice: str) -> None:
    v = vs.create(session, rich(remediations=(NONE, Remediation(RemediationCategory.VENDOR_FIX, "Upgrade to 2.4.2."))))
    partner = Partner(session, v, tmp_path)
    edit_here(session, v.id, remediations=(NONE,))
    partner.vuln["remediations"][1]["details"] = "Upgrade to 2.4.3."
    action = partner.returned()
    assert action.conflicts == ("remediations",)
    expected = [("none_available", NO_REMEDIATION)]
    if choice == "incoming":
        expected.append(("vendor_fix", "Upgrade to 2.4.3."))
    assert rems(partner.apply({"remediations": choice})) == expected


# -- the entry merge on its own ----------------------------------------------------------------

def entry(category: str, details: str) -> dict[str, Any]:
    return {"category": category, "details": details, "product_ids": [], "date": "", "url": ""}


def test_merge_entries_rules() -> None:
    keys = (("category", "details"), ("details",), ("category",))
    none, fix = entry("none_available", NO_REMEDIATION), entry("vendor_fix", FIX)
    assert merge_entries([none], [none], [none, fix], keys) == ([none, fix], [none, fix], False)
    assert merge_entries([none, fix], [none, fix], [fix], keys) == ([fix], [fix], False)  # removed there
    assert merge_entries([none, fix], [fix], [none, fix], keys) == ([fix], [fix], False)  # removed here
    changed = entry("vendor_fix", "Patch 2.0.2")
    assert merge_entries([fix], [fix], [changed], keys) == ([changed], [changed], False)
    ours = entry("vendor_fix", "Patch 2.0.3")
    assert merge_entries([fix], [ours], [changed], keys) == ([ours], [changed], True)
    # the same addition on both sides is kept once
    assert merge_entries([], [fix], [fix], keys) == ([fix], [fix], False)


def test_merge_without_baseline_is_a_conflict_for_every_difference() -> None:
    m = merge(None, {"remediations": [entry("none_available", "x")]}, {"remediations": [entry("vendor_fix", "y")]})
    assert m.conflicts == ["remediations"] and m.taken == []


def test_merge_never_replaces_a_local_list_edit_without_a_choice() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    pool = [entry(c, d) for c in ("none_available", "vendor_fix", "mitigation") for d in ("a", "b")]
    lists = st.lists(st.sampled_from(pool), max_size=3, unique_by=lambda e: (e["category"], e["details"]))

    @given(base=lists, local=lists, incoming=lists)
    def check(base: list[dict[str, Any]], local: list[dict[str, Any]], incoming: list[dict[str, Any]]) -> None:
        m = merge({"remediations": base}, {"remediations": local}, {"remediations": incoming})
        merged = m.merged["remediations"]
        for e in local:  # an entry present here survives unless the partner removed or changed it
            if e in base and e not in incoming and "remediations" not in m.conflicts:
                continue
            if e not in base or e in incoming:
                assert e in merged
        for e in incoming:  # a partner's new entry arrives unless it contests a local edit (a conflict)
            if e not in base and e not in local and "remediations" not in m.conflicts:
                assert e in merged
        if base == local:
            assert merged == incoming or sorted(map(str, merged)) == sorted(map(str, incoming))

    check()


def test_an_entry_without_product_round_trips_unchanged(session, tmp_path) -> None:
    v = vs.create(session, Vulnerability(title="Safeguard bypass"))
    assert Partner(session, v, tmp_path).returned().kind is ActionKind.UNCHANGED


# -- bad returned advisories: a message naming the file, nothing recorded -----------------------

def _nothing_recorded(session: Any, vid: str, before: Vulnerability, history: int) -> None:
    assert vs.get(session, vid) == before and len(vs.history(session, vid)) == history


def test_returned_advisory_we_never_issued_is_refused(session, tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    partner.doc["document"]["tracking"]["id"] = "FRW-VULN-2026-0999"
    partner.vuln["ids"][0]["text"] = "FRW-VULN-2026-0999"
    partner.vuln["cve"] = "CVE-2026-49999"
    action = partner.returned()
    assert action.kind is ActionKind.INVALID
    assert action.file in action.message and "the register holds no such advisory" in action.message
    count = vs.count(session)
    result = csaf_merge.apply_import(session, csaf_merge.ImportPreview((action,), (action.file,)))
    assert result.created == [] and vs.count(session) == count


def test_malformed_returned_advisories_name_the_file_and_change_nothing(session, tmp_path) -> None:
    v = vs.create(session, rich(remediations=(NONE,)))
    partner = Partner(session, v, tmp_path)
    before, history = vs.get(session, v.id), len(vs.history(session, v.id))
    cases = {
        "truncated.json": json.dumps(partner.doc)[:-40],
        "bad-category.json": json.dumps({**partner.doc, "vulnerabilities": [{
            **partner.vuln, "remediations": [{"category": "patched", "details": "x", "product_ids": ["FRWP-1"]}]}]}),
        "bad-vector.json": json.dumps({**partner.doc, "vulnerabilities": [{**partner.vuln, "metrics": [{
            "content": {"cvss_v4": {"version": "4.0", "vectorString": "CVSS:4.0/AV:X", "baseScore": 1.0,
                                    "baseSeverity": "LOW"}}, "products": ["FRWP-1"]}]}]}),
    }
    paths = []
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        paths.append(path)
    preview = csaf_merge.preview_import(session, paths, Marking.parse("SECRET"))
    assert [a.kind for a in preview.actions] == [ActionKind.INVALID] * 3
    for action, path in zip(preview.actions, paths, strict=True):
        assert str(path) in action.message
    result = csaf_merge.apply_import(session, preview)
    assert len(result.skipped) == 3 and result.updated == []
    _nothing_recorded(session, v.id, before, history)


def test_returned_advisory_marked_above_its_media_is_kept_high_and_flagged(session, tmp_path) -> None:
    v = vs.create(session, rich(marking=Marking.parse("SECRET")))
    partner = Partner(session, v, tmp_path)
    partner.vuln["remediations"].append({"category": "mitigation", "details": "Block port 9000.",
                                         "product_ids": ["FRWP-1"]})
    tracking = partner.doc["document"]["tracking"]
    tracking["version"] = str(int(tracking["version"]) + 1)
    path = tmp_path / "returned.json"
    path.write_text(json.dumps(partner.doc))
    (action,) = csaf_merge.preview_import(session, [path], Marking.parse("CUI")).actions
    assert any("arrived on media labelled CUI; report the media" in w for w in action.warnings)
    assert action.file == str(path)
    partner.last = action
    got = partner.apply()
    assert got.marking.banner() == "SECRET"  # never lowered to the media's label
    assert rems(got)[-1] == ("mitigation", "Block port 9000.")


# -- the document title: the entry's title, written twice ----------------------------------------

def test_a_changed_document_title_is_offered_as_the_title(session, tmp_path) -> None:
    """An export writes the entry's title as document.title and as the vulnerability's title; a partner
    who changed only the document title changed the entry's title (it was silently ignored)."""
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    assert partner.doc["document"]["title"] == partner.vuln["title"] == v.title
    partner.doc["document"]["title"] = "Archive escape via symlinked members"
    action = partner.returned()
    assert (action.kind, action.taken, action.conflicts) == (ActionKind.UPDATE, ("title",), ())
    (change,) = action.changes
    assert (change.field, change.local, change.incoming) == ("title", v.title, "Archive escape via symlinked members")
    assert any(w.startswith("$.document.title changed") for w in action.warnings), action.warnings
    got = partner.apply()
    assert got.title == "Archive escape via symlinked members"
    again = Partner(session, got, tmp_path / "again")
    assert again.doc["document"]["title"] == again.vuln["title"] == got.title
    assert again.returned().kind is ActionKind.UNCHANGED


def test_a_document_title_changed_here_too_is_a_conflict(session, tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    edit_here(session, v.id, title="Our title")
    partner.doc["document"]["title"] = "Their title"
    action = partner.returned()
    assert (action.kind, action.conflicts) == (ActionKind.CONFLICT, ("title",))
    assert partner.apply({"title": "incoming"}).title == "Their title"


def test_document_and_vulnerability_titles_changed_differently_the_vulnerability_title_counts(session,
                                                                                              tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    partner.doc["document"]["title"] = "Advisory 7 for Acme"
    partner.vuln["title"] = "Archive escape via symlinked members"
    action = partner.returned()
    assert (action.kind, action.taken) == (ActionKind.UPDATE, ("title",))
    assert action.changes[0].incoming == "Archive escape via symlinked members"
    (note,) = [w for w in action.warnings if "document.title" in w]
    assert "not imported" in note and "Advisory 7 for Acme" in note
    assert partner.apply().title == "Archive escape via symlinked members"


def test_only_the_vulnerability_title_changed_says_nothing_about_the_document_title(session, tmp_path) -> None:
    v = vs.create(session, rich())
    partner = Partner(session, v, tmp_path)
    partner.vuln["title"] = "Their title"
    action = partner.returned()
    assert action.taken == ("title",) and not any("document.title" in w for w in action.warnings)
