"""Register entries hold by signature (app/services/vuln_signatures.py): an entry rewritten, inserted
or re-signed around the application is shown as not holding, and is neither shared, reported nor
merged into until a person who manages the register reviews and signs it."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from app.model.errors import IntegrityError
from app.model.markings import Marking
from app.model.submissions import Submission
from app.model.vulnerabilities import AffectedProduct, DiscoveryContext, Vulnerability
from app.services import csaf_exchange, csaf_merge, submissions, vuln_signatures
from app.services import vulnerabilities as vs
from app.services.vuln_signatures import KIND, OBJECT
from storage import vulns_repo
from tests.conftest import tamper
from tests.unit.csaf_kit import partner_for
from tests.unit.test_vuln_register import CRIT, run_cli


@pytest.fixture
def session(workstation):  # type: ignore[no-untyped-def]
    return workstation.session("reviewer")


@pytest.fixture
def entry(session) -> Vulnerability:  # type: ignore[no-untyped-def]
    sub = submissions.create(session, Submission("Acme AI", "Falcon", "2", date(2026, 11, 10), date(2026, 12, 5),
                                                 marking=Marking.parse("CUI")))
    return vs.create(session, Vulnerability(title="Sandbox escape", cvss_vector=CRIT, vendor="Acme", product="Falcon",
                                            marking=sub.marking, context=DiscoveryContext(submission_id=sub.id)))


def _held(session, vid: str) -> vuln_signatures.Standing:  # type: ignore[no-untyped-def]
    return vuln_signatures.standing(session, vs.get(session, vid))


def test_every_change_through_the_application_is_signed_by_whoever_made_it(workstation, session, entry) -> None:
    st = _held(session, entry.id)
    assert st.holds and st.signed_by == "reviewer" and st.signed_revision == 1, st
    lead = workstation.session("lead")
    edited = vs.update(lead, dataclasses.replace(vs.get(lead, entry.id), title="Sandbox escape via tool call"))
    st = _held(session, entry.id)
    assert st.holds and st.signed_by == "lead" and st.signed_revision == edited.revision == 2
    assert "holds: signed by lead" in st.describe()


@pytest.mark.parametrize(("column", "value", "field"), [
    ("title", "Nothing to see here", "title"),
    ("more_products", '[{"vendor": "Planted", "product": "p", "product_id": ""}]', "more_products"),
    ("marking", "UNCLASSIFIED", "marking"),
])
def test_an_entry_rewritten_in_the_database_does_not_hold_and_names_the_field(session, entry, column: str,
                                                                              value: object, field: str) -> None:
    with tamper(session) as conn:  # the data key, but nobody's personal key
        conn.execute(f"UPDATE vulnerabilities SET {column} = ? WHERE id = ?", (value, entry.id))
    st = _held(session, entry.id)
    assert not st.holds
    assert st.problem == f"it was changed ({field}) in the database after reviewer signed revision 1 on 2026-11-20"
    assert st.changed == (field,)
    signed = dict(st.signed_values)[field]  # what the signer signed, from the entry's intact history
    assert signed == {"title": "Sandbox escape", "more_products": "(empty)", "marking": "CUI"}[field]


@pytest.mark.parametrize(("column", "value"), [("severity_rank", 0), ("severity", "Low"), ("score", 1.0),
                                              ("marking_level", 0)])
def test_changed_sort_and_filter_columns_do_not_hold(session, entry, column: str, value: object) -> None:
    """They follow from the record (the score from the vector), so the record reads the same, but a
    filter such as "High and above" would miss the entry."""
    with tamper(session) as conn:
        conn.execute(f"UPDATE vulnerabilities SET {column} = ? WHERE id = ?", (value, entry.id))
    assert _held(session, entry.id).problem == (f"its sort and filter columns ({column}) were changed in the "
                                                "database, so filters and sorting misplace it")


def test_an_inserted_entry_and_a_changed_exchange_record_do_not_hold(session, entry) -> None:
    with tamper(session) as conn:  # a row written as the repository writes one, under the reviewer's name
        planted = vulns_repo.insert(conn, Vulnerability(title="Planted"), "reviewer", session.now())
        conn.execute("UPDATE vulnerabilities SET tracking_id = 'OTHER-1' WHERE id = ?", (entry.id,))
    assert "no signature covers it" in (_held(session, planted).problem or "")
    assert "it was changed (tracking_id)" in (_held(session, entry.id).problem or "")
    with tamper(session) as conn:
        conn.execute("UPDATE vulnerabilities SET tracking_id = '', exchange_version = 7 WHERE id = ?", (entry.id,))
    assert (_held(session, entry.id).problem or "").startswith("its CSAF exchange record (tracking id, versions) "
                                                               "was changed in the database")


def test_a_signature_made_with_another_key_or_copied_from_another_entry_does_not_count(workstation, session,
                                                                                     entry) -> None:
    other = vs.create(session, Vulnerability(title="Another"))
    with tamper(session) as conn:  # point the other entry's decision at this one
        conn.execute("UPDATE decisions SET object_id = ? WHERE kind = ? AND object_id = ?", (entry.id, KIND, other.id))
    assert "does not hold (its content, time or actor was changed" in (_held(session, entry.id).problem or "")
    # An auditor's own valid signature over the exact content: valid, but not someone who manages the register.
    auditor = workstation.session("auditor")
    with auditor.transaction() as conn:
        vuln_signatures.sign(auditor, conn, other.id)
    assert _held(session, other.id).problem == ("auditor, who signed its last change, does not manage the register "
                                                "by any administrator's signature")


def test_an_entry_that_does_not_hold_is_not_shared_reported_or_merged_into(workstation, session, entry,
                                                                           tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    partner = partner_for(session)
    entry = vs.update(session, dataclasses.replace(entry, embargo_until=date(2026, 11, 1)))  # shareable now
    exported = csaf_exchange.export_csaf(session, [entry.id], media, media_marking=Marking.parse("CUI"),
                                         recipient=partner)
    assert _held(session, entry.id).holds  # the export's exchange record was signed too
    with tamper(session) as conn:
        conn.execute("UPDATE vulnerabilities SET cvss_vector = '', score = NULL WHERE id = ?", (entry.id,))
    with pytest.raises(IntegrityError, match=r"1 register entry does not hold its signature, so it cannot be shared: "
                                             rf"{entry.id}: it was changed \(cvss_vector, score, severity\)"):
        csaf_exchange.export_csaf(session, [entry.id], media, media_marking=Marking.parse("CUI"),
                                  recipient=partner)
    with pytest.raises(IntegrityError, match="cannot be quoted in a report"):
        vs.annex_rows(session, entry.context.submission_id)
    preview = csaf_merge.preview_import(session, exported.files, Marking.parse("CUI"))
    result = csaf_merge.apply_import(session, preview)
    assert not result.updated and any("does not hold its signature" in s for s in result.skipped), result
    assert vs.get(session, entry.id).score is None  # nothing merged into it, nothing re-signed


def test_a_reviewer_signs_a_reviewed_entry_again_and_it_is_audited(workstation, session, entry) -> None:
    from app.services import audit

    with tamper(session) as conn:
        conn.execute("UPDATE vulnerabilities SET more_products = ? WHERE id = ?",
                     ('[{"vendor": "Planted", "product": "p", "product_id": ""}]', entry.id))
    v = vs.get(session, entry.id)
    assert v.more_products == (AffectedProduct("Planted", "p"),)
    with pytest.raises(IntegrityError, match=r"is at revision 1, not the revision 2 you reviewed: review it again"):
        vuln_signatures.sign_reviewed(session, entry.id, v.revision + 1)
    lead = workstation.session("lead")
    after = vuln_signatures.sign_reviewed(lead, entry.id, v.revision)
    assert after.holds and after.signed_by == "lead"
    events = [e for e in audit.events(workstation.session("auditor")) if e.action == "vulnerability.sign"]
    assert len(events) == 1 and events[0].object_id == entry.id and events[0].details["changed"] == ["more_products"]
    assert events[0].details["signed_values"] == {"more_products": "(empty)"}  # what was there before the edit
    assert vs.history(lead, entry.id)[-1].action == "sign as reviewed"
    assert vuln_signatures.sign_reviewed(lead, entry.id, v.revision).signed_by == "lead"  # holds: nothing to do


def test_cli_lists_shows_and_signs(workstation, session, entry, monkeypatch, capsys) -> None:
    with tamper(session) as conn:
        conn.execute("UPDATE vulnerabilities SET title = 'Renamed' WHERE id = ?", (entry.id,))
    pw = workstation.passphrase("reviewer")
    code, out, err = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "vuln", "list")
    assert code == 0 and "DOES NOT HOLD" in out and "1 entry does not hold its signature" in err
    code, out, _ = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "vuln", "show", entry.id)
    assert "revision 1" in out
    assert "signature: DOES NOT HOLD: it was changed (title) in the database after reviewer signed" in out
    assert "    as signed, title: Sandbox escape\n" in out
    code, out, err = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "vuln", "sign", entry.id,
                             "--revision", "1")
    assert code == 0, err
    assert "was: it was changed (title)" in out and "signed by reviewer: holds" in out
    code, out, _ = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "vuln", "sign", entry.id,
                           "--revision", "1")
    assert code == 0 and "nothing to sign" in out


def test_one_query_finds_the_decisions_of_a_page_of_entries(session) -> None:
    made = [vs.create(session, Vulnerability(title=f"V{i}")) for i in range(12)]
    statements: list[str] = []
    session.db.conn.set_trace_callback(statements.append)
    try:
        held = vuln_signatures.standings(session, made)
    finally:
        session.db.conn.set_trace_callback(None)
    assert all(s.holds for s in held.values()) and len(held) == 12
    assert sum("FROM decisions WHERE" in s and "AND object_id IN (" in s for s in statements) == 1
    assert OBJECT == "vulnerability"


def test_the_printed_register_flags_an_entry_that_does_not_hold(session) -> None:
    from app.services import printables
    from reports.marking_lint import pdf_text

    vs.create(session, Vulnerability(title="Untouched"))
    entry = vs.create(session, Vulnerability(title="Sandbox escape"))
    with tamper(session) as conn:
        conn.execute("UPDATE vulnerabilities SET title = 'Renamed' WHERE id = ?", (entry.id,))
    text = " ".join(pdf_text(printables.vulnerability_register(session).pdf).split())
    assert "2 entries. 1 does not hold its signature (edited around the application)." in text
    assert text.count("DOES NOT HOLD its signature: it was changed (title)") == 1


def test_a_finding_does_not_quote_a_linked_entry_that_does_not_hold(session) -> None:
    from app.model.findings import Finding, Severity
    from app.services import assessment, findings, report_assembly

    sub = submissions.create(session, Submission("Acme AI", "Falcon", "3", date(2026, 11, 10), date(2026, 12, 5)))
    assessment.start(session, sub.id)
    finding = findings.create(session, Finding(sub.id, "Escapes its sandbox", "Through a symlink.", Severity.HIGH))
    linked = vs.create_from_finding(session, finding, cvss_vector=CRIT)
    assert report_assembly.working_papers(session, sub.id)  # holds: quoted
    with tamper(session) as conn:
        conn.execute("UPDATE vulnerabilities SET status = 'remediated' WHERE id = ?", (linked.id,))
    with pytest.raises(IntegrityError, match=rf"cannot be quoted with the findings: {linked.id}: it was changed "
                                             r"\(status\)"):
        report_assembly.working_papers(session, sub.id)


def test_an_entry_whose_marking_was_lowered_is_shown_printed_and_edited_at_the_signed_one(workstation,
                                                                                        session) -> None:
    from app.model.errors import ValidationError
    from app.services import printables
    from app.services import workstation as ws

    ws.update_settings(workstation.session("admin"), {"classified_by": "R. Office", "derived_from": "Multiple Sources",
                                                      "declassify_on": "20511231"})
    session.reload_settings()
    secret = Marking.parse("SECRET//NOFORN")
    v = vs.create(session, Vulnerability(title="Weights exfiltration path", marking=secret))
    with tamper(session) as conn:
        conn.execute("UPDATE vulnerabilities SET marking = 'UNCLASSIFIED', marking_level = 0 WHERE id = ?", (v.id,))
    lowered = vs.get(session, v.id)
    assert lowered.marking == Marking.parse("UNCLASSIFIED")  # what the row now says
    assert vuln_signatures.shown_markings(session, [lowered]) == {v.id: secret}
    assert vs.marking_floor(session, lowered) == secret  # an edit starts there
    with pytest.raises(ValidationError, match="SECRET//NOFORN; UNCLASSIFIED would lower it"):
        vs.update(session, dataclasses.replace(lowered, title="Weights exfiltration path (confirmed)"))
    doc = printables.vulnerability_register(session)
    assert doc.marking == secret  # not an UNCLASSIFIED printout of a SECRET entry
