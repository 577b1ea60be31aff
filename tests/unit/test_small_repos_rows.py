"""csaf_recipients_repo, decisions_repo and printers_repo read by column name into app.model types
(issue 18 point 3): what goes in comes back field for field, and a renamed or missing column fails
loudly instead of shifting values."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.model.csaf_recipients import RecipientRow
from app.model.decision_record import StoredDecision
from app.model.printer_record import PrinterRow
from storage import csaf_recipients_repo, decisions_repo, printers_repo
from tests.conftest import tamper

NOW = "2026-11-08T13:00:00"


@pytest.fixture
def stored(workstation):  # type: ignore[no-untyped-def]
    s = workstation.session("reviewer")
    # The rows referenced here (accounts, vulnerabilities, partners) are not what is tested.
    with tamper(s, foreign_keys=False) as c:
        did = decisions_repo.insert(c, "csaf.export", "vulnerability", "V-3", "lena", NOW, "{\"a\": 1}", "d1" * 32,
                                    "fp:01", b"\x00sig\xff")
        sent = RecipientRow(0, "V-3", "FR-CSAF-3", 2, "Ally CERT", 4, "AMBER", "CUI", date(2026, 12, 1), "CUI",
                            "/media/usb", "fr-csaf-3.json", "e1" * 32, "e2" * 32, "urgent", "lena", did, "lena", NOW)
        rid = csaf_recipients_repo.insert(c, sent)
        open_row = RecipientRow(0, "V-3", "FR-CSAF-3", 1, "Public", None, "CLEAR", "U", None, "U", "/media/usb",
                                "fr-csaf-3-v1.json", "e3" * 32, "e4" * 32, "", "", did, "sam", NOW)
        oid = csaf_recipients_repo.insert(c, open_row)
        printer = printers_repo.insert(c, "hp-3", "SECRET", "Room 4", "admin", NOW)
    return s.db.conn, did, (rid, sent), (oid, open_row), printer


def test_recipients_decisions_and_printers_come_back_field_for_field(stored) -> None:  # type: ignore[no-untyped-def]
    conn, did, (rid, sent), (oid, open_row), printer = stored
    assert csaf_recipients_repo.for_vuln(conn, "V-3") == [replace(open_row, id=oid), replace(sent, id=rid)]
    decision = StoredDecision(did, "csaf.export", "vulnerability", "V-3", "lena", NOW, "{\"a\": 1}", "d1" * 32,
                              "fp:01", b"\x00sig\xff")
    assert decisions_repo.for_object(conn, "vulnerability", "V-3") == [decision]
    assert decisions_repo.for_object(conn, "vulnerability", "V-3", ("other",)) == []
    assert decisions_repo.by_kind(conn, "csaf.export") == [decision]
    assert type(decisions_repo.by_kind(conn, "csaf.export")[0].signature) is bytes
    assert printer == PrinterRow(printer.id, "hp-3", "SECRET", "Room 4", "admin", NOW)
    assert printers_repo.get(conn, "hp-3") == printer and printers_repo.all_printers(conn) == [printer]
    assert printers_repo.find(conn, "nope") is None


def test_a_renamed_or_missing_column_fails_loudly(stored, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conn, *_ = stored
    with monkeypatch.context() as m:
        m.setattr(csaf_recipients_repo, "_COLS", csaf_recipients_repo._COLS.replace(" tlp,", " tlp AS label,"))
        with pytest.raises(TypeError, match="RecipientRow has no field for column.*label"):
            csaf_recipients_repo.for_vuln(conn, "V-3")
    with monkeypatch.context() as m:
        m.setattr(csaf_recipients_repo, "_COLS", csaf_recipients_repo._COLS.replace(" override_by,", ""))
        with pytest.raises(TypeError, match="RecipientRow has no column for field.*override_by"):
            csaf_recipients_repo.for_vuln(conn, "V-3")
    with monkeypatch.context() as m:
        m.setattr(decisions_repo, "_COLS", decisions_repo._COLS.replace(" digest,", " digest AS hash,"))
        with pytest.raises(TypeError, match="StoredDecision has no field for column.*hash"):
            decisions_repo.by_kind(conn, "csaf.export")
    with monkeypatch.context() as m:
        m.setattr(decisions_repo, "_COLS", decisions_repo._COLS.replace(", signature", ""))
        with pytest.raises(TypeError, match="StoredDecision has no column for field.*signature"):
            decisions_repo.for_object(conn, "vulnerability", "V-3")
    with monkeypatch.context() as m:
        m.setattr(printers_repo, "_COLS", printers_repo._COLS.replace(" location,", ""))
        with pytest.raises(TypeError, match="PrinterRow has no column for field.*location"):
            printers_repo.all_printers(conn)
