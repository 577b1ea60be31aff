"""An insider: a reviewer with an account (so the data key) and file access to the data directory.

Each test is an attack from issue 11; each must fail by cryptography or be detected, with the
message a person sees. The reviewer opens the database directly with the data key their own
passphrase unwraps, exactly as a person with file access and a Python prompt would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.model.errors import AuthError, IntegrityError, PermissionDenied
from app.services import assessment, assessment_review, audit, decisions, identity, pki, users
from app.services import workstation as ws_service
from reports import pki as pki_core
from storage import audit as audit_log
from storage.db import Database
from storage.keys import KeyHeader
from tests.conftest import FIXED_NOW, PASSPHRASES, derive_template, restore_template

HEADER = "workstation.keys.json"


def _insider_db(ws) -> Database:  # type: ignore[no-untyped-def]
    """The reviewer's own passphrase unwraps the shared data key: open the file directly."""
    header = KeyHeader.load(ws.data_dir / HEADER)
    from storage import keyring_secret

    secret = keyring_secret.load(header.db_id) if header.keyring_mode == "os-keyring" else None
    key = header.unwrap_passphrase("reviewer", PASSPHRASES["reviewer"], secret)
    db = Database.open(ws.data_dir / "workstation.db", key, page_size=header.page_size)
    # The insider also drops the append-only triggers: nothing in the file stops them.
    db.conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    db.conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    return db


# -- keys ------------------------------------------------------------------------------------------


def test_insider_cannot_read_another_persons_or_the_ca_private_key(workstation) -> None:  # type: ignore[no-untyped-def]
    db = _insider_db(workstation)
    try:
        rows = db.conn.execute("SELECT username, wrapped, nonce FROM personal_keys WHERE username = 'lead'").fetchall()
        assert rows, "the lead has a personal key"
        # Nothing in the database is a usable private key: not under the data key, not in clear.
        assert db.conn.execute("SELECT count(*) FROM signing_identities WHERE key_der IS NOT NULL").fetchone()[0] == 0
        assert db.conn.execute("SELECT key_der FROM pki_ca").fetchone()[0] == b""
        header = KeyHeader.load(workstation.data_dir / HEADER)
        # Try every key the insider has: their own wrapping key and the data key.
        from storage import keyring_secret

        secret = keyring_secret.load(header.db_id)
        mine = header.unlock("reviewer", PASSPHRASES["reviewer"], secret)
        for candidate in (mine.personal_wrap, mine.data_key):
            for _, wrapped, nonce in rows:
                with pytest.raises(InvalidTag):
                    AESGCM(candidate).decrypt(bytes(nonce), bytes(wrapped), None)
        ca_wraps = db.conn.execute("SELECT username FROM ca_key_wraps").fetchall()
        assert {r[0] for r in ca_wraps} == {"admin", "__recovery__"}  # administrators and the recovery key only
    finally:
        db.close()
    # Through the services too: nobody loads another person's key.
    with pytest.raises(PermissionDenied):
        pki.load_identity(workstation.session("reviewer"), "lead")
    with pytest.raises(PermissionDenied, match="Only an administrator"):
        pki.load_ca(workstation.session("reviewer"))


# -- roles and accounts ------------------------------------------------------------------------------


def test_insider_raising_own_role_is_refused_at_sign_in_and_audited(workstation) -> None:  # type: ignore[no-untyped-def]
    db = _insider_db(workstation)
    db.conn.execute("UPDATE accounts SET role = 'admin' WHERE username = 'reviewer'")
    db.conn.commit()
    db.close()
    with pytest.raises(AuthError, match="not the one an administrator signed"):
        workstation.session("reviewer")
    events = audit.events(workstation.session("auditor"), 50, action_prefix="auth.refused_unsigned_role")
    assert events and events[0].actor == "reviewer" and "(Admin)" in events[0].details["reason"]


def test_insider_forged_account_decision_is_refused(workstation) -> None:  # type: ignore[no-untyped-def]
    """A decision row 'signed' with the insider's own key under the admin's name does not count."""
    reviewer = workstation.session("reviewer")
    db = _insider_db(workstation)
    ts = "2026-11-21T00:00:00+00:00"
    content = {"username": "reviewer", "role": "admin", "display_name": "Rita"}
    body = decisions.statement("account.create", "account", "reviewer", "admin", ts, reviewer.db_id,
                               decisions.Registry.load(db.conn, reviewer.db_id).ca_fingerprint, content)
    digest = hashlib.sha256(body).digest()
    sig = reviewer.personal.sign(digest)
    db.conn.execute("INSERT INTO decisions (kind, object_type, object_id, actor, ts, content, digest, key_fingerprint,"
                    " signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    ("account.create", "account", "reviewer", "admin", ts, decisions.canonical(content),
                     digest.hex(), reviewer.personal.fingerprint, sig))
    db.conn.execute("UPDATE accounts SET role = 'admin' WHERE username = 'reviewer'")
    db.conn.commit()
    db.close()
    with pytest.raises(AuthError, match="reviewer's key, not admin's"):
        workstation.session("reviewer")


def test_disabled_account_cannot_reenable_itself(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old_header = (workstation.data_dir / HEADER).read_bytes()
    admin = workstation.session("admin")
    users.set_disabled(admin, "reviewer2", True, workstation.passphrase("admin"))
    # The insider flips the flag back and even restores the old key header (with the removed slot).
    db = _insider_db(workstation)
    db.conn.execute("UPDATE accounts SET disabled = 0 WHERE username = 'reviewer2'")
    db.conn.commit()
    db.close()
    with pytest.raises(AuthError, match="wrong passphrase"):
        workstation.session("reviewer2")  # the slot is gone: the passphrase opens nothing
    current = json.loads((workstation.data_dir / HEADER).read_bytes())
    current["slots"]["reviewer2"] = json.loads(old_header)["slots"]["reviewer2"]
    (workstation.data_dir / HEADER).write_text(json.dumps(current))
    with pytest.raises(AuthError, match="administrator disabled this account"):
        workstation.session("reviewer2")


# -- the two-person rule --------------------------------------------------------------------------


def _review(workstation, approve: bool = False, marking: str = "UNCLASSIFIED") -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A submission with a submitted assessment and an approved coverage determination; the
    assessment approved by the lead when `approve`."""
    from datetime import date

    from app.model.checklist import Status
    from app.model.submissions import Submission
    from app.services import coverage, submissions
    from tests.unit.test_signing_service import _configure

    _configure(workstation.session("admin"))
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    from app.model.markings import Marking

    sid = submissions.create(rev, Submission(developer="Acme AI", model_name="Falcon", version="2.1",
                                             received=date(2026, 11, 2), planned_release=date(2026, 12, 1),
                                             marking=Marking.parse(marking))).id
    view = assessment.start(rev, sid)
    for item_id in view.template.item_ids:
        assessment.answer(rev, view.id, item_id, status=Status.SATISFIED, justification=f"Checked {item_id}.")
    assessment_review.submit(rev, view.id)
    det = coverage.record_determination(rev, sid, "Declared compute above the reference presumption.")
    coverage.approve_determination(lead, det.id)
    if approve:
        assessment_review.approve(lead, view.id, "Agreed.")
    return sid, view.id


@pytest.fixture(scope="module")
def submitted_template(tmp_path_factory, workstation_template):  # type: ignore[no-untyped-def]
    """A submitted, not yet approved assessment (~0.8 s of CPU): made once per module, (template, (sid, aid))."""
    return derive_template(tmp_path_factory.mktemp("insider-submitted"), workstation_template, _review)


def _submitted(workstation, submitted_template, memory_keyring):  # type: ignore[no-untyped-def]
    template, ids = submitted_template
    restore_template(workstation, template, memory_keyring)
    return ids


def test_inserted_approval_row_does_not_count(workstation, submitted_template, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    from app.services import reports

    sid, aid = _submitted(workstation, submitted_template, memory_keyring)
    db = _insider_db(workstation)
    db.conn.execute("UPDATE assessments SET state = 'approved', approved_by = 'lead', approved_at = ? WHERE id = ?",
                    (FIXED_NOW.isoformat(), aid))
    db.conn.commit()
    db.close()
    reviewer = workstation.session("reviewer")
    report = reports.build(reviewer, sid)
    with pytest.raises(IntegrityError, match="no signed approval by a lead"):
        reports.sign(reviewer, report.id, workstation.passphrase("reviewer"))


def test_approval_signed_by_an_uncertified_key_does_not_count(workstation, submitted_template,  # type: ignore[no-untyped-def]
                                                              memory_keyring) -> None:
    """The insider makes a key, registers it as the lead's and signs an approval with it."""
    from app.services import approvals, reports

    sid, aid = _submitted(workstation, submitted_template, memory_keyring)
    reviewer = workstation.session("reviewer")
    fake = pki_core.new_key()
    db = _insider_db(workstation)
    fp = pki_core.key_fingerprint(fake.public_key())
    db.conn.execute("INSERT INTO personal_keys (username, fingerprint, public_der, wrap_salt, nonce, wrapped, origin,"
                    " created_at) VALUES ('lead', ?, ?, '', x'', x'', 'forged', ?)",
                    (fp, pki_core.public_der(fake.public_key()), FIXED_NOW.isoformat()))
    row = assessment.repo.get_assessment(db.conn, aid)
    content = approvals.assessment_content(db.conn, row, "approved")
    reg = decisions.Registry.load(db.conn, reviewer.db_id)
    ts = FIXED_NOW.isoformat()
    body = decisions.statement("assessment.approve", "assessment", str(aid), "lead", ts, reviewer.db_id,
                               reg.ca_fingerprint, content)
    digest = hashlib.sha256(body).digest()
    db.conn.execute("INSERT INTO decisions (kind, object_type, object_id, actor, ts, content, digest, key_fingerprint,"
                    " signature) VALUES ('assessment.approve', 'assessment', ?, 'lead', ?, ?, ?, ?, ?)",
                    (str(aid), ts, decisions.canonical(content), digest.hex(), fp, pki_core.sign_digest(fake, digest)))
    db.conn.execute("UPDATE assessments SET state = 'approved', approved_by = 'lead' WHERE id = ?", (aid,))
    db.conn.commit()
    db.close()
    report = reports.build(reviewer, sid)
    with pytest.raises(IntegrityError, match="no certificate from this workstation's CA"):
        reports.sign(reviewer, report.id, workstation.passphrase("reviewer"))


def test_answers_changed_after_approval_void_it(workstation) -> None:  # type: ignore[no-untyped-def]
    from app.services import reports

    sid, aid = _review(workstation, approve=True)
    db = _insider_db(workstation)
    db.conn.execute("DROP TRIGGER IF EXISTS answer_history_no_update")
    db.conn.execute("UPDATE answer_history SET justification = 'softened' WHERE assessment_id = ? AND id = "
                    "(SELECT max(id) FROM answer_history WHERE assessment_id = ?)", (aid, aid))
    db.conn.commit()
    db.close()
    reviewer = workstation.session("reviewer")
    report = reports.build(reviewer, sid)
    with pytest.raises(IntegrityError, match="changed after the lead signed"):
        reports.sign(reviewer, report.id, workstation.passphrase("reviewer"))


@pytest.mark.parametrize("edit", [
    "UPDATE findings SET severity = 'low', title = 'Minor quirk' WHERE submission_id = ?",
    "UPDATE findings SET deleted = 1 WHERE submission_id = ?",
    "INSERT INTO findings (submission_id, number, title, description, severity, recommendation, item_ids, evidence, "
    "marking, created_by, created_at, updated_at, impact) SELECT submission_id, 2, 'Planted', 'x', 'low', '', '[]', "
    "'[]', marking, 'lead', created_at, updated_at, '' FROM findings WHERE submission_id = ?",
])
def test_findings_changed_after_approval_void_it(workstation, edit: str) -> None:  # type: ignore[no-untyped-def]
    """Findings lock with the approval; a lead's signature over the answers alone let an insider soften,
    hide or add a finding before the report was signed."""
    from app.model.findings import Finding, Severity
    from app.services import findings, reports

    sid, aid = _review(workstation)
    reviewer, lead = workstation.session("reviewer"), workstation.session("lead")
    findings.create(reviewer, Finding(sid, "Sandbox escape", "The agent left its sandbox.", Severity.HIGH))
    assessment_review.approve(lead, aid, "Agreed.")
    db = _insider_db(workstation)
    db.conn.execute(edit, (sid,))
    db.conn.commit()
    db.close()
    report = reports.build(reviewer, sid)
    with pytest.raises(IntegrityError, match="the findings were changed after the lead signed the approval"):
        reports.sign(reviewer, report.id, workstation.passphrase("reviewer"))


def test_a_submission_rewritten_after_approval_is_not_reported_or_released(workstation) -> None:  # type: ignore[no-untyped-def]
    """The report quotes the submission (its marking, its dates): lowered in the database, it would be
    signed at the lower marking."""
    from app.services import releases, reports

    sid, _aid = _review(workstation, approve=True, marking="SECRET")
    db = _insider_db(workstation)
    db.conn.execute("UPDATE submissions SET marking = 'UNCLASSIFIED' WHERE id = ?", (sid,))
    db.conn.commit()
    db.close()
    reviewer = workstation.session("reviewer")
    report = reports.build(reviewer, sid)
    with pytest.raises(IntegrityError, match=r"the submission it is about does not hold its signature \(it was "
                                             r"changed \(marking\) in the database"):
        reports.sign(reviewer, report.id, workstation.passphrase("reviewer"))
    assert "does not hold its signature" in (releases.build_problem(reviewer, sid) or "")


def _sign_in(ws, name: str):  # type: ignore[no-untyped-def]
    from app.services import workstation as workstation_service

    return workstation_service.sign_in(ws.data_dir, name, ws.passphrase(name), clock=lambda: FIXED_NOW)


@pytest.mark.parametrize("who", ["lead", "auditor-first"])
def test_deleting_every_record_signature_does_not_get_an_edited_record_signed(workstation, who: str) -> None:  # type: ignore[no-untyped-def]
    """Records without any signature are attested only on a workstation set up before records were
    signed. Here (set up since) an insider edits an entry and a submission, deletes every signature of
    both kinds and every settings signature, and waits for the next sign-in: nothing is attested."""
    from app.model.vulnerabilities import Vulnerability
    from app.services import settings_signatures, submission_signatures, vuln_signatures
    from app.services import vulnerabilities as vs

    sid, _aid = _review(workstation)
    reviewer = workstation.session("reviewer")
    v = vs.create(reviewer, Vulnerability(title="Real"))
    db = _insider_db(workstation)
    db.conn.execute("UPDATE vulnerabilities SET title = 'Forged' WHERE id = ?", (v.id,))
    db.conn.execute("UPDATE submissions SET marking = 'UNCLASSIFIED' WHERE id = ?", (sid,))
    db.conn.execute("UPDATE settings SET value = '120' WHERE key = 'idle_lock_minutes'")
    db.conn.execute("DELETE FROM decisions WHERE kind IN (?, ?, ?)",
                    (vuln_signatures.KIND, submission_signatures.KIND, settings_signatures.KIND))
    db.conn.commit()
    db.close()
    if who == "auditor-first":  # someone whose own record would not show the deletion signs in first
        _sign_in(workstation, "auditor").close()
    for name in ("lead", "admin"):
        _sign_in(workstation, name).close()
    lead = _sign_in(workstation, "lead")
    try:
        assert "no signature covers it" in (vuln_signatures.standing(lead, vs.get(lead, v.id)).problem or "")
        assert "no signature covers it" in (submission_signatures.standing(lead, sid).problem or "")
        # no signed settings left: the defaults, not the rewritten row, reported as changed
        assert lead.settings.idle_lock_minutes == 10 and "idle_lock_minutes" in lead.settings_changed_outside
    finally:
        lead.close()


# -- the audit trail ------------------------------------------------------------------------------


def _rechain(db: Database) -> None:
    """What the insider does after deleting or editing events: recompute every hash and link."""
    from app.model.audit import GENESIS

    rows = db.conn.execute("SELECT seq, ts, actor, action, object_type, object_id, details, signer, signature "
                           "FROM audit_events ORDER BY seq").fetchall()
    db.conn.execute("DELETE FROM audit_events")
    prev = GENESIS
    for new_seq, (_, ts, actor, action, ot, oid, details, signer, sig) in enumerate(rows, start=1):
        h = audit_log.event_hash(new_seq, ts, actor, action, ot, oid, details, prev)
        db.conn.execute("INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (new_seq, ts, actor, action, ot, oid, details, prev, h, signer, sig))
        prev = h
    db.conn.commit()


def _rewrite_header_head(ws, db: Database) -> None:  # type: ignore[no-untyped-def]
    seq, h = audit_log.head(db.conn)
    data = json.loads((ws.data_dir / HEADER).read_bytes())
    data["audit_head"] = {"seq": seq, "hash": h}
    (ws.data_dir / HEADER).write_text(json.dumps(data))


def test_deleted_and_rechained_audit_events_are_detected(workstation) -> None:  # type: ignore[no-untyped-def]
    workstation.session("lead").close()
    db = _insider_db(workstation)
    db.conn.execute("DELETE FROM audit_events WHERE seq = 5")
    _rechain(db)
    _rewrite_header_head(workstation, db)
    db.close()
    result = audit.verify(workstation.session("auditor"))
    assert not result.ok
    assert "the signature does not match the content" in result.problems[0]


def test_rewritten_event_resigned_by_the_insider_is_detected(workstation) -> None:  # type: ignore[no-untyped-def]
    """Even re-signing with their own key does not help: the event's actor is someone else."""
    reviewer = workstation.session("reviewer")
    db = _insider_db(workstation)
    row = db.conn.execute("SELECT seq, ts, actor, action, object_type, object_id, details, prev_hash FROM audit_events "
                          "WHERE actor = 'lead' ORDER BY seq LIMIT 1").fetchone()
    seq = row[0]
    details = json.dumps({"note": "rewritten"})
    h = audit_log.event_hash(seq, row[1], row[2], row[3], row[4], row[5], details, row[7])
    sig = base64.b64encode(reviewer.personal.sign(bytes.fromhex(h))).decode()
    db.conn.execute("UPDATE audit_events SET details = ?, hash = ?, signer = ?, signature = ? WHERE seq = ?",
                    (details, h, reviewer.personal.fingerprint, sig, seq))
    _rechain(db)
    _rewrite_header_head(workstation, db)
    db.close()
    result = audit.verify(workstation.session("auditor"))
    assert not result.ok and "reviewer's key, not lead's" in " ".join(result.problems)


def test_reordered_events_are_detected(workstation) -> None:  # type: ignore[no-untyped-def]
    db = _insider_db(workstation)
    rows = db.conn.execute("SELECT seq FROM audit_events ORDER BY seq").fetchall()
    a, b = rows[3][0], rows[4][0]
    db.conn.execute("UPDATE audit_events SET seq = -1 WHERE seq = ?", (a,))
    db.conn.execute("UPDATE audit_events SET seq = ? WHERE seq = ?", (a, b))
    db.conn.execute("UPDATE audit_events SET seq = ? WHERE seq = -1", (b,))
    _rechain(db)
    _rewrite_header_head(workstation, db)
    db.close()
    assert not audit.verify(workstation.session("auditor")).ok


def test_injected_pending_events_never_become_audit_events(workstation) -> None:  # type: ignore[no-untyped-def]
    path = workstation.data_dir / HEADER
    data = json.loads(path.read_bytes())
    data["pending_events"] = [{"ts": "2026-01-01T00:00:00+00:00", "actor": "lead", "action": "assessment.approve",
                               "count": 1}]
    path.write_text(json.dumps(data))
    auditor = workstation.session("auditor")
    assert not audit.events(auditor, 500, action_prefix="assessment.approve")
    assert all(e.actor != "lead" or e.action != "assessment.approve" for e in audit.events(auditor, 500))
    assert "pending_events" not in json.loads(path.read_bytes())


def test_audit_verify_names_the_signer_of_each_event(workstation) -> None:  # type: ignore[no-untyped-def]
    result = audit.verify(workstation.session("auditor"))
    assert result.ok and result.unsigned_legacy == 0
    assert result.signatures and all(status.startswith("valid") for *_, status in result.signatures)
    assert {actor for _, actor, signer, _ in result.signatures if signer == actor} >= {"admin", "reviewer", "lead"}


# -- rollback ---------------------------------------------------------------------------------------


def test_rolled_back_database_is_reported_and_audited(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    saved = tmp_path / "old.db"
    shutil.copy2(workstation.data_dir / "workstation.db", saved)
    lead = workstation.session("lead")
    assessment_count = audit_log.count(lead.db.conn)
    ws_service.sign_out(lead)
    workstation.sessions.remove(lead)
    shutil.copy2(saved, workstation.data_dir / "workstation.db")  # the database alone goes back
    again = workstation.session("lead")
    assert any("rolled back" in w for w in again.integrity_warnings), again.integrity_warnings
    alarms = audit.events(workstation.session("auditor"), 50, action_prefix="integrity.alarm")
    assert alarms and alarms[0].actor == "lead" and assessment_count > 0


def test_rolled_back_data_directory_is_reported(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    saved = tmp_path / "old"
    shutil.copytree(workstation.data_dir, saved)
    lead = workstation.session("lead")
    ws_service.sign_out(lead)
    workstation.sessions.remove(lead)
    shutil.rmtree(workstation.data_dir)
    shutil.copytree(saved, workstation.data_dir)  # database and key header both go back
    again = workstation.session("lead")
    assert any("rolled back" in w or "ends before event" in w for w in again.integrity_warnings)


def test_replaced_ca_is_reported(workstation) -> None:  # type: ignore[no-untyped-def]
    workstation.session("lead").close()
    db = _insider_db(workstation)
    other = pki_core.create_ca("Forged", FIXED_NOW)
    db.conn.execute("UPDATE pki_ca SET cert_der = ?, fingerprint = ?", (pki_core.cert_to_der(other.cert),
                                                                       pki_core.fingerprint(other.cert)))
    db.conn.commit()
    db.close()
    with pytest.raises(AuthError):  # every signed role now fails: nothing chains to the forged CA
        workstation.session("lead")


# -- key header: one owner, bounded, no lost updates ---------------------------------------------------


def test_oversized_names_at_sign_in_cannot_lock_everyone_out(workstation) -> None:  # type: ignore[no-untyped-def]
    for i in range(16):
        with pytest.raises(AuthError):
            ws_service.sign_in(workstation.data_dir, chr(97 + i) * 32_000, "whatever-passphrase")
    for i in range(100):
        with pytest.raises(AuthError):
            ws_service.sign_in(workstation.data_dir, f"nobody{i}", "whatever-passphrase")
    size = (workstation.data_dir / HEADER).stat().st_size
    assert size < 64_000, size
    workstation.session("reviewer").close()
    ws_service.recover(workstation.data_dir, workstation.recovery_key, "admin", "a-recovered-passphrase-1").close()


_RACE = """
import sys
from datetime import UTC, datetime
from storage.credentials import Credentials
creds = Credentials(sys.argv[1])
for i in range(int(sys.argv[3])):
    with creds.update() as h:
        h.record_failure(sys.argv[2], datetime.now(UTC).isoformat())
"""


def test_concurrent_header_updates_lose_nothing(workstation) -> None:  # type: ignore[no-untyped-def]
    """Two processes counting failures for two names while this one rewrites a slot."""
    procs = [subprocess.Popen([sys.executable, "-c", _RACE, str(workstation.data_dir), name, "25"],
                              cwd=Path(__file__).resolve().parents[2])
             for name in ("nobody1", "nobody2")]
    admin = workstation.session("admin")
    users.reset_passphrase(admin, workstation.passphrase("admin"), "reviewer2", "fresh-first-passphrase-8")
    for p in procs:
        assert p.wait(timeout=280) == 0
    header = KeyHeader.load(workstation.data_dir / HEADER)
    assert header.failures["nobody1"]["count"] == 25 and header.failures["nobody2"]["count"] == 25
    with pytest.raises(Exception, match="first passphrase"):  # the reset held: the new slot is there
        ws_service.sign_in(workstation.data_dir, "reviewer2", "fresh-first-passphrase-8")


def test_first_sign_in_makes_a_key_the_administrator_never_held(tmp_path: Path) -> None:
    from app.model.accounts import Role

    result = ws_service.initialize(tmp_path / "ws", workstation_name="Solo", system_high="SECRET",
                                   admin_username="admin", admin_display_name="A",
                                   admin_passphrase=PASSPHRASES["admin"])
    admin = result.session
    users.add_user(admin, PASSPHRASES["admin"], "rita", "Rita", Role.REVIEWER, "given-by-admin-42x")
    with pytest.raises(AuthError, match="first passphrase"):
        ws_service.sign_in(tmp_path / "ws", "rita", "given-by-admin-42x")
    rita = ws_service.change_initial_passphrase(tmp_path / "ws", "rita", "given-by-admin-42x", "my-own-phrase-7x")
    # The administrator's knowledge of the first passphrase opens neither the slot nor the key now.
    with pytest.raises(AuthError):
        ws_service.sign_in(tmp_path / "ws", "rita", "given-by-admin-42x")
    header = KeyHeader.load(tmp_path / "ws" / HEADER)
    from storage import keyring_secret

    stale = header.new_slot("rita", "given-by-admin-42x", b"\0" * 32, keyring_secret.load(header.db_id))[1]
    assert identity.open_personal_key(rita.db.conn, header.db_id, "rita", stale) is None
    assert pki.issue_pending(admin) == ["rita"]
    rita.close()
    admin.close()


def test_request_without_enrolment_proof_is_not_issued_automatically(workstation) -> None:  # type: ignore[no-untyped-def]
    """An insider files a certificate request for the lead's name with their own key."""
    reviewer = workstation.session("reviewer")
    fake = pki_core.new_key()
    db = _insider_db(workstation)
    fp = pki_core.key_fingerprint(fake.public_key())
    db.conn.execute("UPDATE personal_keys SET retired_at = 'x' WHERE username = 'lead'")
    db.conn.execute("INSERT INTO personal_keys (username, fingerprint, public_der, wrap_salt, nonce, wrapped, origin,"
                    " created_at) VALUES ('lead', ?, ?, '', x'', x'', 'forged', ?)",
                    (fp, pki_core.public_der(fake.public_key()), FIXED_NOW.isoformat()))
    db.conn.execute("INSERT INTO certificate_requests (username, key_fingerprint, csr_der, proof, requested_at) "
                    "VALUES ('lead', ?, ?, ?, ?)", (fp, pki_core.make_request(fake, "Lee", "lead"), "00" * 32,
                                                   FIXED_NOW.isoformat()))
    db.conn.commit()
    db.close()
    reviewer.close()
    admin = workstation.session("admin")
    assert pki.issue_pending(admin) == []
    refused = audit.events(admin, 20, action_prefix="pki.request_refused")
    assert refused and "lead" == refused[0].object_id


def test_inserted_trusted_root_is_not_trusted(workstation) -> None:  # type: ignore[no-untyped-def]
    """A root the insider writes into trusted_roots (to get their own rule set or template
    accepted) counts only with an administrator's signed decision."""
    mine = pki_core.create_ca("Insider agency", FIXED_NOW)
    db = _insider_db(workstation)
    db.conn.execute("INSERT INTO trusted_roots (fingerprint, subject, origin, cert_der, added_by, added_at) "
                    "VALUES (?, 'CN=Insider agency', 'imported', ?, 'admin', ?)",
                    (pki_core.fingerprint(mine.cert), pki_core.cert_to_der(mine.cert), FIXED_NOW.isoformat()))
    db.conn.commit()
    db.close()
    roots = pki.trusted_roots(workstation.session("reviewer"))
    assert pki_core.fingerprint(mine.cert) not in {pki_core.fingerprint(c) for c in roots}
    assert len(roots) == 1  # the workstation's own CA only


def test_lowered_report_marking_row_does_not_reach_lower_media(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The insider lowers the stored marking of a countersigned SECRET report to export it onto
    UNCLASSIFIED media: the export compares with what the lead countersigned and refuses."""
    from app.services import reports

    sid, _aid = _review(workstation, approve=True, marking="SECRET")
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    report = reports.build(rev, sid)
    assert report.marking.startswith("SECRET")
    reports.sign(rev, report.id, workstation.passphrase("reviewer"))
    reports.countersign(lead, report.id, workstation.passphrase("lead"))
    db = _insider_db(workstation)
    db.conn.execute("UPDATE reports SET marking = 'UNCLASSIFIED' WHERE id = ?", (report.id,))
    db.conn.commit()
    db.close()
    media = tmp_path / "usb"
    media.mkdir()
    with pytest.raises(IntegrityError, match="not the one the lead countersigned"):
        reports.export(rev, report.id, media, "UNCLASSIFIED", workstation.passphrase("reviewer"))
    assert list(media.iterdir()) == []


def test_the_signers_registry_checks_the_signers_key_exactly_as_the_full_one(workstation) -> None:  # type: ignore[no-untyped-def]
    """`decisions.record` loads only the signer's key (bulk signing stays cheap); what it holds for
    that key, and a forged key under the same name, is what the full registry holds."""
    from app.services import pki as pki_service

    lead, admin = workstation.session("lead"), workstation.session("admin")
    pki_service.ensure_ready(admin)
    pki_service.issue_pending(admin)  # certificates issued: the certified case is compared too
    db = _insider_db(workstation)
    fake = pki_core.new_key()
    forged = pki_core.key_fingerprint(fake.public_key())
    db.conn.execute("INSERT INTO personal_keys (username, fingerprint, public_der, wrap_salt, nonce, wrapped, origin,"
                    " created_at) VALUES ('lead', ?, ?, '', x'', x'', 'forged', ?)",
                    (forged, pki_core.public_der(fake.public_key()), FIXED_NOW.isoformat()))
    db.conn.commit()
    full = decisions.Registry.load(db.conn, lead.db_id)
    for fp in (lead.personal.fingerprint, forged):
        one = decisions.Registry.load(db.conn, lead.db_id, only=fp)
        assert set(one.keys) == {fp} and one.ca_fingerprint == full.ca_fingerprint
        mine, theirs = one.keys[fp], full.keys[fp]
        assert (mine.username, mine.certified_by, mine.revoked_at, mine.legacy) == \
               (theirs.username, theirs.certified_by, theirs.revoked_at, theirs.legacy)
    assert full.keys[lead.personal.fingerprint].certified_by is not None and full.keys[forged].certified_by is None
    db.close()
