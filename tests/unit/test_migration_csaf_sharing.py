"""Migration 0026: the single remediation of each record (and of its exchange baseline) becomes one
entry of the remediation list; the CSAF recipients log is append-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.model.vulnerabilities import NO_REMEDIATION, Remediation, RemediationCategory
from storage import vulns_repo
from storage.db import Database

KEY = bytes.fromhex("00112233445566778899aabbccddeeff" * 2)
OLD_BASELINE = {"title": "Old", "remediation_category": "vendor_fix", "remediation": "Upgrade to 2.4.2.",
                "cvss_vector": ""}


def _old_row(db: Database, vid: str, seq: int, category: str, text: str, baseline: dict[str, str] | None) -> None:
    db.conn.execute(
        "INSERT INTO vulnerabilities (id, year, seq, title, target, repro_status, tlp, remediation_category, "
        "remediation, status, marking, created_by, created_at, updated_by, updated_at, exchange_baseline) "
        "VALUES (?, 2026, ?, 'Old', 'software attacked by the model', 'not attempted', 'AMBER', ?, ?, 'new', "
        "'UNCLASSIFIED', 'rita', '2026-11-01T00:00:00+00:00', 'rita', '2026-11-01T00:00:00+00:00', ?)",
        (vid, seq, category, text, json.dumps(baseline) if baseline else None))


def test_single_remediations_become_one_entry_each(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database.open(path, KEY, create=True, migrate_to=25)
    _old_row(db, "FRW-VULN-2026-0001", 1, "vendor_fix", "Upgrade to 2.4.2.", OLD_BASELINE)
    _old_row(db, "FRW-VULN-2026-0002", 2, "none_available", "", {**OLD_BASELINE, "remediation": "",
                                                                   "remediation_category": "none_available"})
    db.close()

    db = Database.open(path, KEY)  # migrates to the latest schema
    try:
        first = vulns_repo.get(db.conn, "FRW-VULN-2026-0001")
        assert first.remediations == (Remediation(RemediationCategory.VENDOR_FIX, "Upgrade to 2.4.2."),)
        assert first.notes == ()
        second = vulns_repo.get(db.conn, "FRW-VULN-2026-0002")
        # empty text was exported as the "none available" sentence: the entry says so now
        assert second.remediations == (Remediation(RemediationCategory.NONE_AVAILABLE, NO_REMEDIATION),)
        # the exchange baseline is converted alike, so the next merge compares like with like
        state = vulns_repo.exchange_state(db.conn, first.id)
        assert state.baseline is not None
        assert "remediation" not in state.baseline and "remediation_category" not in state.baseline
        assert state.baseline["remediations"] == first.exchanged()["remediations"]
        assert state.baseline["notes"] == []
        assert vulns_repo.exchange_state(db.conn, second.id).baseline["remediations"] == (  # type: ignore[index]
            second.exchanged()["remediations"])
        columns = {r[1] for r in db.conn.execute("PRAGMA table_info(vulnerabilities)")}
        assert {"remediations", "notes"} <= columns and not {"remediation", "remediation_category"} & columns
        assert db.integrity_check() == []
    finally:
        db.close()


def test_recipients_log_is_append_only(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "new.db", KEY, create=True)
    try:
        _new = ("INSERT INTO csaf_recipients (vuln_id, tracking_id, version, recipient, tlp, marking, media_marking, "
                "destination, file, sha256, decision_id, exported_by, exported_at) VALUES "
                "(?, 'T', 1, 'CERT', 'AMBER', 'CUI', 'CUI', '/media', 'f.json', 'ab', 1, 'rita', 'now')")
        db.conn.execute("PRAGMA foreign_keys = OFF")
        db.conn.execute(_new, ("FRW-VULN-2026-0001",))
        for statement in ("UPDATE csaf_recipients SET recipient = 'someone else'", "DELETE FROM csaf_recipients"):
            with pytest.raises(Exception, match="append-only"):
                db.conn.execute(statement)
    finally:
        db.close()
