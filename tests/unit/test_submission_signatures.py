"""Submissions hold by signature (app/services/submission_signatures.py): a submission whose marking
or dates an insider rewrote in the database is named as such, no new record takes its marking, and
it is signed again only by a person who edits submissions, after review."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from app.model.errors import ValidationError
from app.model.findings import Finding, Severity
from app.model.markings import Marking
from app.model.submissions import Submission
from app.model.vulnerabilities import DiscoveryContext, Vulnerability
from app.services import findings, submission_signatures, submissions
from app.services import vulnerabilities as vs
from tests.conftest import tamper
from tests.unit.test_vuln_register import run_cli


@pytest.fixture
def session(workstation):  # type: ignore[no-untyped-def]
    return workstation.session("reviewer")


@pytest.fixture
def secret(session) -> Submission:  # type: ignore[no-untyped-def]
    return submissions.create(session, Submission("Acme AI", "Falcon", "2", date(2026, 11, 10), date(2026, 12, 5),
                                                  marking=Marking.parse("SECRET//NOFORN")))


def test_create_edit_and_delete_are_signed_by_whoever_made_them(workstation, session, secret) -> None:
    st = submission_signatures.standing(session, int(secret.id or 0))
    assert st.holds and st.signed_by == "reviewer" and st.describe().startswith("holds: signed by reviewer on")
    lead = workstation.session("lead")
    submissions.update(lead, dataclasses.replace(secret, planned_release=date(2026, 12, 7)))
    assert submission_signatures.standing(session, int(secret.id or 0)).signed_by == "lead"
    submissions.delete(lead, int(secret.id or 0), "registered twice")
    with tamper(session) as conn:  # brought back in the database
        conn.execute("UPDATE submissions SET deleted = 0 WHERE id = ?", (secret.id,))
    assert submission_signatures.standing(session, int(secret.id or 0)).problem == (
        "it was changed (deleted) in the database after lead signed it on 2026-11-20")


def test_a_lowered_marking_is_named_and_new_records_still_start_at_the_signed_one(session, secret,
                                                                                   tmp_path: Path) -> None:
    sid = int(secret.id or 0)
    with tamper(session) as conn:
        conn.execute("UPDATE submissions SET marking = 'UNCLASSIFIED', planned_release = '2027-06-01' WHERE id = ?",
                     (sid,))
    st = submission_signatures.standing(session, sid)
    assert st.problem == ("it was changed (marking, planned_release) in the database after reviewer signed it on "
                          "2026-11-20") and st.changed == ("marking", "planned_release")
    assert submissions.get(session, sid).marking == Marking.parse("UNCLASSIFIED")  # what the row now says
    with session.transaction() as conn:
        assert submission_signatures.marking_floor(session, conn, sid) == secret.marking
    below = "is about information marked SECRET//NOFORN; UNCLASSIFIED would lower it"
    with pytest.raises(ValidationError, match=below):
        findings.create(session, Finding(sid, "Sandbox escape", "It left the sandbox.", Severity.HIGH))
    with pytest.raises(ValidationError, match=below):
        vs.create(session, Vulnerability(title="Escape", context=DiscoveryContext(submission_id=sid)))
    card = tmp_path / "card.txt"
    card.write_text("model card")
    assert submissions.attach_artifact(session, sid, card, "model card").marking == secret.marking
    assert not findings.list_findings(session, sid)  # nothing was written at the lowered marking


def test_a_lower_marking_signed_with_an_uncertified_key_does_not_lower_the_floor(workstation, session,
                                                                               secret) -> None:
    """The insider registers a key of their own under the reviewer's name and signs the lowered row:
    the signature is valid for that key, but no administrator certified it."""
    import hashlib

    from app.services import decisions
    from reports import pki as pki_core
    from storage import submissions_repo

    sid = int(secret.id or 0)
    fake = pki_core.new_key()
    fp = pki_core.key_fingerprint(fake.public_key())
    with tamper(session) as conn:
        conn.execute("UPDATE submissions SET marking = 'UNCLASSIFIED' WHERE id = ?", (sid,))
        conn.execute("INSERT INTO personal_keys (username, fingerprint, public_der, wrap_salt, nonce, wrapped, origin,"
                     " created_at) VALUES ('reviewer', ?, ?, '', x'', x'', 'forged', ?)",
                     (fp, pki_core.public_der(fake.public_key()), session.now()))
        content = submission_signatures._content(sid, submissions_repo.signed_fields(conn, [sid])[sid])
        reg = decisions.Registry.load(conn, session.db_id)
        body = decisions.statement(submission_signatures.KIND, "submission", str(sid), "reviewer", session.now(),
                                   session.db_id, reg.ca_fingerprint, content)
        digest = hashlib.sha256(body).digest()
        conn.execute("INSERT INTO decisions (kind, object_type, object_id, actor, ts, content, digest, "
                     "key_fingerprint, signature) VALUES (?, 'submission', ?, 'reviewer', ?, ?, ?, ?, ?)",
                     (submission_signatures.KIND, str(sid), session.now(), decisions.canonical(content), digest.hex(),
                      fp, pki_core.sign_digest(fake, digest)))
    assert "has no certificate from this workstation's CA" in (submission_signatures.standing(session, sid).problem
                                                               or "")
    with session.transaction() as conn:
        assert submission_signatures.marking_floor(session, conn, sid) == secret.marking


def test_an_inserted_submission_or_one_signed_by_an_auditor_does_not_hold(workstation, session) -> None:
    from storage import submissions_repo

    with tamper(session) as conn:
        sid = submissions_repo.insert(conn, Submission("Planted", "M", "1", date(2026, 11, 1), date(2026, 11, 30)),
                                      "reviewer", session.now())
    assert "no signature covers it" in (submission_signatures.standing(session, sid).problem or "")
    auditor = workstation.session("auditor")
    with auditor.transaction() as conn:
        submission_signatures.sign(auditor, conn, sid)
    assert submission_signatures.standing(session, sid).problem == (
        "auditor, who signed its last change, does not edit submissions by any administrator's signature")


def test_signed_again_after_review_and_audited(workstation, session, secret) -> None:
    from app.services import audit

    sid = int(secret.id or 0)
    with tamper(session) as conn:
        conn.execute("UPDATE submissions SET version = '2.1' WHERE id = ?", (sid,))
    with pytest.raises(Exception, match="does not allow"):
        submission_signatures.sign_reviewed(workstation.session("auditor"), sid)
    after = submission_signatures.sign_reviewed(workstation.session("lead"), sid)
    assert after.holds and after.signed_by == "lead"
    events = [e for e in audit.events(workstation.session("auditor")) if e.action == "submission.sign"]
    assert len(events) == 1 and events[0].details["changed"] == ["version"]
    made = findings.create(session, Finding(sid, "Now allowed", "d", Severity.LOW, marking=secret.marking))
    assert made.marking == secret.marking  # holds again: records start from it


def test_cli_list_show_and_sign(workstation, session, secret, monkeypatch, capsys) -> None:
    sid = str(secret.id)
    with tamper(session) as conn:
        conn.execute("UPDATE submissions SET marking = 'CUI' WHERE id = ?", (secret.id,))
    pw = workstation.passphrase("reviewer")
    code, out, err = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "submission", "list")
    assert code == 0 and "DOES NOT HOLD" in out and "1 submission does not hold its signature" in err
    # shown (banners, the marking column) at the marking its editors signed, never the lowered row's
    assert out.startswith("SECRET//NOFORN\n") and "CUI" not in out
    code, out, _ = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "submission", "show", sid)
    assert "signature: DOES NOT HOLD: it was changed (marking) in the database after reviewer signed it" in out
    assert out.startswith("SECRET//NOFORN\n")
    code, out, err = run_cli(monkeypatch, capsys, workstation.data_dir, "reviewer", pw, "submission", "sign", sid)
    assert code == 0, err
    assert "was: it was changed (marking)" in out and "signed by reviewer: holds" in out


def test_a_save_does_not_sign_a_lowered_marking(session, secret) -> None:
    sid = int(secret.id or 0)
    with tamper(session) as conn:
        conn.execute("UPDATE submissions SET marking = 'CUI' WHERE id = ?", (sid,))
    lowered = submissions.get(session, sid)
    with pytest.raises(ValidationError, match="its editors signed SECRET//NOFORN: save it at that marking or above"):
        submissions.update(session, dataclasses.replace(lowered, notes="checked"))
    saved = submissions.update(session, dataclasses.replace(lowered, notes="checked", marking=secret.marking))
    assert saved.marking == secret.marking and submission_signatures.standing(session, sid).holds


def test_records_from_before_signing_are_signed_once_by_the_first_editor_who_signs_in(workstation, session,
                                                                                    secret, monkeypatch) -> None:
    """An upgraded workstation: its submissions and register entries carry no signature at all."""
    from app.services import audit, vuln_signatures
    from app.services import workstation as ws
    from tests.conftest import FIXED_NOW

    monkeypatch.setattr(ws, "_predates_signed_records", lambda conn: True)  # set up by an older release

    entry = vs.create(session, Vulnerability(title="Escape", marking=secret.marking,
                                             context=DiscoveryContext(submission_id=secret.id)))
    with tamper(session) as conn:
        conn.execute("DELETE FROM decisions WHERE kind IN (?, ?)", (submission_signatures.KIND, vuln_signatures.KIND))
    assert not submission_signatures.standing(session, int(secret.id or 0)).holds
    auditor = ws.sign_in(workstation.data_dir, "auditor", workstation.passphrase("auditor"), clock=lambda: FIXED_NOW)
    auditor.close()  # may not edit them: signs nothing
    assert not submission_signatures.standing(session, int(secret.id or 0)).holds
    lead = ws.sign_in(workstation.data_dir, "lead", workstation.passphrase("lead"), clock=lambda: FIXED_NOW)
    try:
        assert submission_signatures.standing(lead, int(secret.id or 0)).signed_by == "lead"
        assert vuln_signatures.standing(lead, vs.get(lead, entry.id)).holds
    finally:
        lead.close()
    actions = [e.action for e in audit.events(workstation.session("auditor"))]
    assert actions.count("submission.attest") == 1 and actions.count("vulnerability.attest") == 1
    # once: a row written around the application afterwards is not attested by the next sign-in
    from storage import submissions_repo

    with tamper(session) as conn:
        planted = submissions_repo.insert(conn, Submission("Planted", "M", "1", date(2026, 11, 1), date(2026, 11, 30)),
                                          "reviewer", session.now())
    ws.sign_in(workstation.data_dir, "reviewer", workstation.passphrase("reviewer"), clock=lambda: FIXED_NOW).close()
    assert "no signature covers it" in (submission_signatures.standing(session, planted).problem or "")


def test_signing_again_is_refused_when_it_changed_while_the_person_looked(session, secret) -> None:
    from app.model.errors import IntegrityError

    sid = int(secret.id or 0)
    with tamper(session) as conn:
        conn.execute("UPDATE submissions SET version = '2.1' WHERE id = ?", (sid,))
    shown = submission_signatures.standing(session, sid).problem
    with tamper(session) as conn:  # a second edit while the reviewer reads the first
        conn.execute("UPDATE submissions SET marking = 'CUI' WHERE id = ?", (sid,))
    with pytest.raises(IntegrityError, match=f"Submission {sid} changed while you reviewed it"):
        submission_signatures.sign_reviewed(session, sid, shown)
    assert not submission_signatures.standing(session, sid).holds
