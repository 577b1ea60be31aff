"""A vulnerability affects any number of products: the first in vendor/product/product_id (as before),
further ones in `more_products`. Model rules, storage, the migration of an older database, the service
(history, audit, search) and the report rows."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from app.model.errors import ValidationError
from app.model.vulnerabilities import (
    MAX_PRODUCTS,
    AffectedProduct,
    Remediation,
    RemediationCategory,
    Vulnerability,
)
from app.services import vulnerabilities as vs
from storage import vulns_repo
from storage.db import Database

KEY = bytes.fromhex("00112233445566778899aabbccddeeff" * 2)
CPE_41 = "cpe:2.3:a:northwind_ai:aurora:4.1-preview:*:*:*:*:*:*:*"
CPE_42 = "cpe:2.3:a:northwind_ai:aurora:4.2:*:*:*:*:*:*:*"
SCAFFOLD = "pkg:pypi/aurora-agent@1.3.0"
AURORA_42 = AffectedProduct("Northwind AI", "Aurora 4.2", CPE_42)
AGENT = AffectedProduct("Northwind AI", "Aurora agent scaffold", SCAFFOLD)


def aurora(**changes: object) -> Vulnerability:
    v = Vulnerability(title="Sandbox escape via tool call", vendor="Northwind AI", product="Aurora 4.1-preview",
                      product_id=CPE_41, more_products=(AURORA_42, AGENT))
    return dataclasses.replace(v, **changes)


@pytest.fixture
def session(workstation):  # type: ignore[no-untyped-def]
    return workstation.session("reviewer")


# -- model ------------------------------------------------------------------------------------

def test_products_list_the_first_then_the_further_ones() -> None:
    v = aurora().validate()
    assert [p.identity for p in v.products] == [CPE_41, CPE_42, SCAFFOLD]
    assert v.products[0] == v.first_product == AffectedProduct("Northwind AI", "Aurora 4.1-preview", CPE_41)
    assert v.product_identity == CPE_41 and v.product_identities == (CPE_41, CPE_42, SCAFFOLD)
    assert v.affected == "Northwind AI Aurora 4.1-preview"  # the first, as before
    assert v.affected_all == ("Northwind AI Aurora 4.1-preview; Northwind AI Aurora 4.2; "
                              "Northwind AI Aurora agent scaffold")
    # a record naming one product (every existing one) is unchanged
    one = Vulnerability(title="t", vendor="Acme", product="Widget").validate()
    assert one.more_products == () and one.products == (AffectedProduct("Acme", "Widget"),)
    assert one.affected_all == one.affected == "Acme Widget"
    assert Vulnerability(title="t").products == () and Vulnerability(title="t").affected_all == "(product not named)"


def test_further_products_are_normalised() -> None:
    v = aurora(more_products=(AffectedProduct("  Northwind AI ", " Aurora 4.2\t", f" {CPE_42} "),)).validate()
    assert v.more_products == (AURORA_42,)
    named_only = aurora(more_products=(AffectedProduct("", "Aurora agent", ""),)).validate()
    assert named_only.more_products[0].identity == "Aurora agent"


@pytest.mark.parametrize(("more", "field", "fragment"), [
    ((AffectedProduct("Northwind AI", "Aurora 4.2", "cpe:2.3:a:northwind"),), "more_products[0].product_id",
     "not a valid CPE"),
    ((AURORA_42, AffectedProduct("", "", "pkg:PyPI")), "more_products[1].product_id", "not a valid package URL"),
    ((AffectedProduct("x", "y", "aurora 4.2"),), "more_products[0].product_id", "must be a CPE"),
    ((AffectedProduct(" ", " ", ""),), "more_products[0]", "needs a vendor, a product name or a CPE/purl"),
    ((AffectedProduct("Someone", "Aurora", CPE_41),), "more_products[0]", "already listed as the first"),
    ((AffectedProduct("", "Aurora agent", ""), AffectedProduct("", "AURORA AGENT ", "")), "more_products[1]",
     "already listed as more_products[0]"),  # names compare without case
    ((AffectedProduct("v" * 501, "p", ""),), "more_products[0].vendor", "at most 500"),
])
def test_bad_further_products_are_refused_naming_the_field(more, field, fragment) -> None:
    with pytest.raises(ValidationError) as info:
        aurora(more_products=more).validate()
    assert info.value.field == field and fragment in str(info.value)


def test_at_most_fifty_products_and_the_first_comes_first() -> None:
    many = tuple(AffectedProduct("Northwind AI", f"Aurora {n}") for n in range(MAX_PRODUCTS - 1))
    assert len(aurora(more_products=many).validate().products) == MAX_PRODUCTS
    with pytest.raises(ValidationError, match=f"more_products: at most {MAX_PRODUCTS} affected products"):
        aurora(more_products=(*many, AffectedProduct("Northwind AI", "one too many"))).validate()
    with pytest.raises(ValidationError, match="name the first affected product"):
        Vulnerability(title="t", more_products=(AURORA_42,)).validate()


def test_further_products_travel_in_the_exchanged_fields() -> None:
    v = aurora().validate()
    values = v.exchanged()
    assert values["more_products"] == [AURORA_42.as_dict(), AGENT.as_dict()]
    assert Vulnerability(title="t").with_exchanged(values).more_products == (AURORA_42, AGENT)


# -- storage ----------------------------------------------------------------------------------

def test_stored_and_read_back_with_history_and_audit(session) -> None:
    from storage import audit

    v = vs.create(session, aurora(more_products=(AURORA_42,)))
    assert vs.get(session, v.id).more_products == (AURORA_42,)
    edited = vs.update(session, dataclasses.replace(v, more_products=(AURORA_42, AGENT)))
    assert edited.more_products == (AURORA_42, AGENT) and edited.revision == 2
    entries = vs.history(session, v.id)
    assert entries[0].changes["more_products"] == [None, [AURORA_42.as_dict()]]
    assert entries[1].changes == {"more_products": [[AURORA_42.as_dict()], [AURORA_42.as_dict(), AGENT.as_dict()]]}
    assert entries[1].snapshot["more_products"][1]["product_id"] == SCAFFOLD
    event = audit.list_events(session.db.conn, object_type="vulnerability", object_id=v.id)[0]
    assert event.action == "vulnerability.update"
    assert event.details["changes"]["more_products"][1][1] == AGENT.as_dict()
    removed = vs.update(session, dataclasses.replace(edited, more_products=()))
    assert removed.more_products == () and vs.get(session, v.id).products == (v.first_product,)


def test_search_finds_a_further_product_by_its_values_not_its_keys(session) -> None:
    vs.create(session, aurora())
    vs.create(session, Vulnerability(title="other", vendor="Acme", product="Widget"))

    def titles(text: str) -> list[str]:
        return [v.title for v in vs.list_all(session, vs.filters(session, search=text))]

    assert titles("scaffold") == ["Sandbox escape via tool call"]
    assert titles("aurora-agent@1.3") == ["Sandbox escape via tool call"]
    assert titles("Widget") == ["other"]
    assert titles("product_id") == []  # a key of the stored JSON is no match
    assert vs.count(session) == 2


def test_report_rows_name_every_product(session) -> None:
    from app.services import printables

    v = vs.create(session, aurora(cve="CVE-2026-4242"))
    row = printables._row(v)
    assert row.title == ("Sandbox escape via tool call (Northwind AI Aurora 4.1-preview, Northwind AI Aurora 4.2, "
                         "Northwind AI Aurora agent scaffold, CVE-2026-4242)")


def test_a_remediation_may_name_any_affected_product(session) -> None:
    fix = Remediation(RemediationCategory.VENDOR_FIX, "Upgrade the scaffold to 1.3.1.", (SCAFFOLD,))
    v = vs.create(session, aurora(remediations=(fix,)))
    assert vs.get(session, v.id).remediations[0].product_ids == (SCAFFOLD,)


# -- migration of an older database --------------------------------------------------------------

def test_an_older_database_migrates_with_no_further_products(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database.open(path, KEY, create=True, migrate_to=42)
    db.conn.execute(
        "INSERT INTO vulnerabilities (id, year, seq, title, target, vendor, product, product_id, repro_status, tlp, "
        "status, marking, created_by, created_at, updated_by, updated_at, exchange_baseline) VALUES "
        "('FRW-VULN-2026-0001', 2026, 1, 'Old', 'software attacked by the model', 'Acme', 'Widget', ?, "
        "'not attempted', 'AMBER', 'new', 'UNCLASSIFIED', 'rita', '2026-11-01T00:00:00+00:00', 'rita', "
        "'2026-11-01T00:00:00+00:00', ?)", (CPE_41, json.dumps({"title": "Old", "vendor": "Acme"})))
    db.conn.execute(
        "INSERT INTO vulnerabilities (id, year, seq, title, target, repro_status, tlp, status, marking, created_by, "
        "created_at, updated_by, updated_at) VALUES ('FRW-VULN-2026-0002', 2026, 2, 'Never sent', "
        "'software attacked by the model', 'not attempted', 'AMBER', 'new', 'UNCLASSIFIED', 'rita', "
        "'2026-11-01T00:00:00+00:00', 'rita', '2026-11-01T00:00:00+00:00')")
    db.close()

    db = Database.open(path, KEY)  # migrates to the latest schema
    try:
        old = vulns_repo.get(db.conn, "FRW-VULN-2026-0001")
        assert old.more_products == () and old.products == (AffectedProduct("Acme", "Widget", CPE_41),)
        # the exchange baseline gains the empty list: the next export is no change, the next merge like with like
        state = vulns_repo.exchange_state(db.conn, old.id)
        assert state.baseline == {"title": "Old", "vendor": "Acme", "more_products": []}
        assert vulns_repo.exchange_state(db.conn, "FRW-VULN-2026-0002").baseline is None
        assert vulns_repo.get(db.conn, "FRW-VULN-2026-0002").more_products == ()
        assert db.integrity_check() == []
    finally:
        db.close()


# -- command line -------------------------------------------------------------------------------

def test_cli_adds_shows_and_edits_further_products(workstation, monkeypatch, capsys) -> None:
    from tests.unit.test_vuln_register import run_cli

    pw = workstation.passphrase("reviewer")

    def vuln(*args: str) -> tuple[int, str, str]:
        return run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "vuln", *args)

    code, out, err = vuln("add", "--title", "Sandbox escape", "--vendor", "Northwind AI", "--product",
                          "Aurora 4.1-preview", "--product-id", CPE_41, "--add-product", f"Northwind AI|Aurora 4.2|{CPE_42}",
                          "--add-product", "|Aurora eval harness")
    assert code == 0, err
    vid = out.split()[0]
    code, out, _ = vuln("show", vid)
    assert f"  affected product 1: Northwind AI Aurora 4.1-preview ({CPE_41})" in out
    assert f"  affected product 2: Northwind AI Aurora 4.2 ({CPE_42})" in out
    assert "  affected product 3: Aurora eval harness" in out

    code, out, err = vuln("update", vid, "--remove-product", "3", "--add-product", f"Northwind AI|Aurora agent|{SCAFFOLD}")
    assert code == 0, err
    assert vs.get(workstation.session("reviewer"), vid).more_products == (
        AURORA_42, AffectedProduct("Northwind AI", "Aurora agent", SCAFFOLD))
    code, out, _ = vuln("show", vid)
    assert "affected product 3: Northwind AI Aurora agent (pkg:pypi/aurora-agent@1.3.0)" in out
    assert "eval harness" not in out.split("history:")[0] and "more_products" in out.split("history:")[1]

    code, _, err = vuln("update", vid, "--remove-product", "1")
    assert code == 2 and "--remove-product" in err and "products 2 to 3" in err
    code, _, err = vuln("update", vid, "--add-product", f"Someone|Dup|{CPE_42}")
    assert code == 2 and "more_products[2]" in err and "already listed" in err
    code, _, err = vuln("update", vid, "--add-product", "no separators")
    assert code == 2 and "VENDOR|PRODUCT|CPE-OR-PURL" in err
