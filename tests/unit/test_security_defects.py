"""Regression tests for the smaller defects of issue 11 point 7, each tried as an insider would."""

from __future__ import annotations

import stat
from pathlib import Path

import keyring
import keyring.backend
import pytest
from keyring.backends.chainer import ChainerBackend

from app.model.errors import StorageError
from app.model.markings import UNCLASSIFIED
from app.services import backup
from app.services import workstation as ws_service
from storage import keyring_secret
from tests.conftest import PASSPHRASES, MemoryKeyring, tamper
from tests.unit.test_signing import softhsm  # noqa: F401  (session fixture: one SoftHSM2 token per run)


class PlaintextFileKeyring(keyring.backend.KeyringBackend):
    """Stands in for keyrings.alt's file backends (a plaintext or weakly encrypted file)."""

    priority = 0.5  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        pass

    def delete_password(self, service: str, username: str) -> None:
        pass


PlaintextFileKeyring.__module__ = "keyrings.alt.file"


class FixedChainer(ChainerBackend):
    """keyring's own ChainerBackend over a chosen list (the real one lists installed backends)."""

    def __init__(self, chained: list[keyring.backend.KeyringBackend]) -> None:
        super().__init__()
        self._chained = chained

    @property
    def backends(self) -> list[keyring.backend.KeyringBackend]:  # type: ignore[override]
        return self._chained


def test_keyrings_alt_reached_through_the_chainer_is_refused(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    try:
        keyring.set_keyring(FixedChainer([MemoryKeyring()]))
        assert keyring_secret.status().trusted  # a chain of trusted stores only is fine
        keyring.set_keyring(FixedChainer([MemoryKeyring(), PlaintextFileKeyring()]))
        status = keyring_secret.status()
        assert not status.trusted
        assert "keyrings.alt.file.PlaintextFileKeyring" in status.reason and "ChainerBackend" in status.reason
        with pytest.raises(StorageError, match="keyrings.alt"):
            ws_service.initialize(tmp_path / "ws", workstation_name="W", system_high="SECRET",
                                  admin_username="admin", admin_display_name="A",
                                  admin_passphrase=PASSPHRASES["admin"], use_keyring=True)
        keyring.set_keyring(FixedChainer([]))
        assert not keyring_secret.status().trusted
        keyring.set_keyring(PlaintextFileKeyring())
        assert not keyring_secret.status().trusted
    finally:
        keyring.set_keyring(previous)


def test_init_refused_for_the_keyring_leaves_no_data_directory(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    try:
        keyring.set_keyring(PlaintextFileKeyring())
        target = tmp_path / "new" / "workstation"
        with pytest.raises(StorageError, match="No secure OS keyring"):
            ws_service.initialize(target, workstation_name="W", system_high="SECRET", admin_username="admin",
                                  admin_display_name="A", admin_passphrase=PASSPHRASES["admin"], use_keyring=True)
        assert not target.exists()
    finally:
        keyring.set_keyring(previous)


def test_init_whose_keyring_write_fails_leaves_no_data_directory(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(db_id: str) -> bytes:
        raise StorageError("The OS keyring refused to store the workstation secret: locked")

    monkeypatch.setattr(keyring_secret, "create", refuse)
    target = tmp_path / "ws"
    with pytest.raises(StorageError, match="refused to store"):
        ws_service.initialize(target, workstation_name="W", system_high="SECRET", admin_username="admin",
                              admin_display_name="A", admin_passphrase=PASSPHRASES["admin"], use_keyring=True)
    assert not target.exists()


def test_backup_files_are_written_0600(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dest = tmp_path / "media"
    dest.mkdir()
    result = backup.create(workstation.session("admin"), dest, PASSPHRASES["admin"], media_label="SECRET//NOFORN")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in result.folder.iterdir()}
    assert modes and all(mode == 0o600 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}


def test_csaf_base_score_1e999_is_an_error_naming_the_file(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json
    import re

    from app.ingest import csaf_import
    from app.model.errors import IngestError
    from app.services import csaf_merge
    from app.services.csaf_merge import ActionKind
    from reports import csaf, csaf_validate
    from tests.unit.test_csaf import rich

    doc = csaf.advisory(rich(id="FRW-VULN-2026-0009").validate(), csaf.Publisher("P", "https://p.example"),
                        csaf.AdvisoryMeta("T-1", 1, (csaf.Revision("2026-11-20T00:00:00Z", "1", "Initial"),),
                                          "2026-11-20T00:00:00Z"))
    text, n = re.subn(r'"baseScore": [0-9.]+', '"baseScore": 1e999', json.dumps(doc), count=1)
    assert n == 1
    path = tmp_path / "partner-advisory.json"
    path.write_text(text)
    with pytest.raises(IngestError, match=r"partner-advisory\.json: invalid JSON: the number 1e999 is out of range"):
        csaf_import.read_advisory(path, csaf_validate.validate)
    (action,) = csaf_merge.preview_import(workstation.session("reviewer"), [path], UNCLASSIFIED).actions
    assert action.kind is ActionKind.INVALID and str(path) in action.message and "1e999" in action.message


def _cert_with_usage(ca, name: str, digital_signature: bool, non_repudiation: bool):  # type: ignore[no-untyped-def]
    """A signing certificate issued by `ca` with exactly the given key usages."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    from reports import pki

    key = pki.new_key()
    now = datetime.now(UTC) - timedelta(minutes=5)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=digital_signature, content_commitment=non_repudiation,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(ca.key, hashes.SHA256()))
    return pki.CertifiedKey(key, cert, (ca.cert,))


def test_rule_set_certificate_without_non_repudiation_names_the_key_usage() -> None:
    from datetime import UTC, datetime, timedelta

    from app.model.errors import IntegrityError
    from reports import pki
    from reports.detached import sign_detached, verify_detached

    ca = pki.create_ca("Agency rules authority", datetime.now(UTC) - timedelta(days=1))
    data = b'{"id": "rules", "version": 3}'
    weak = _cert_with_usage(ca, "Rules Signer", digital_signature=True, non_repudiation=False)
    signature = sign_detached(data, weak.key, weak.cert, weak.chain)
    with pytest.raises(IntegrityError) as caught:
        verify_detached(data, signature, [ca.cert], what="rules.json.p7s (coverage rule set signature)")
    message = str(caught.value)
    assert "lacks the key usage nonRepudiation" in message and "Rules Signer" in message, message
    assert "allows only digitalSignature" in message and "does not chain" not in message
    good = _cert_with_usage(ca, "Rules Signer", digital_signature=True, non_repudiation=True)
    assert verify_detached(data, sign_detached(data, good.key, good.cert, good.chain), [ca.cert]).subject == \
        "Rules Signer"
    stranger = pki.create_ca("Somewhere else", datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(IntegrityError, match="does not chain to a trusted root"):  # untrusted stays untrusted
        verify_detached(data, signature, [stranger.cert])


def test_report_signed_with_a_certificate_lacking_non_repudiation_names_the_key_usage() -> None:
    from datetime import UTC, datetime, timedelta

    from reports import pki
    from reports.pdf import build_pdf
    from reports.sample import sample_input
    from reports.signing import reviewer_request, sign_pdf, software_signer
    from reports.verify import verify_pdf

    ca = pki.create_ca("Key usage tests", datetime.now(UTC) - timedelta(days=1))
    weak = _cert_with_usage(ca, "Rita Reviewer", digital_signature=True, non_repudiation=False)
    built = build_pdf(sample_input(2))
    signed = sign_pdf(built.data, software_signer(weak.key, weak.cert, weak.chain),
                      reviewer_request(built.signature_page, built.signature_boxes))
    (check,) = verify_pdf(signed, [ca.cert]).signatures
    assert check.intact and not check.trusted
    assert "lacks the key usage nonRepudiation" in check.trust_problem, check.trust_problem


def test_package_countersigned_with_a_smart_card_carries_the_token_ca_chain(  # type: ignore[no-untyped-def]
        workstation, softhsm, tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: F811
    """The lead's card is issued by an agency CA the workstation trusts; the exported package must
    verify from its own ca.pem (workstation CA plus the card's CA chain), with no workstation."""
    import io
    import sys

    from app import cli
    from app.services import pki as pki_service
    from app.services import reports as report_service
    from reports import pki
    from tests.unit.test_signing_service import _approved_submission, _configure

    admin = workstation.session("admin")
    _configure(admin)
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    agency = tmp_path / "agency-ca.pem"
    agency.write_bytes(pki.cert_to_pem(softhsm["ca"].cert))
    pki_service.import_trusted_root(admin, agency, workstation.passphrase("admin"))
    pki_service.register_token(lead, workstation.passphrase("lead"), softhsm["module"], softhsm["token"],
                               softhsm["key"], softhsm["pin"])
    assert pki_service.load_identity(lead, "lead").chain == (softhsm["ca"].cert,)
    report = report_service.build(rev, _approved_submission(workstation))
    report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    report_service.countersign(lead, report.id, workstation.passphrase("lead"), pin=softhsm["pin"])
    usb = tmp_path / "usb"
    usb.mkdir()
    pkg = report_service.export(rev, report.id, usb, "SECRET//NOFORN", workstation.passphrase("reviewer")).package.path
    shipped = pki.certs_from_pem((pkg / "ca.pem").read_bytes())
    assert pki_service.workstation_ca(admin) in shipped and softhsm["ca"].cert in shipped
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = cli.main(["--data-dir", str(tmp_path / "elsewhere"), "verify", str(pkg), "--ca", str(pkg / "ca.pem")])
    out = capsys.readouterr().out
    assert code == 0 and "package VERIFIED" in out, out
    assert out.count("package CA certificate: ") == 2 and "FINAL: all signatures valid" in out
    # Trusting only the workstation CA is not enough for the agency-issued countersignature: named.
    ws_ca = tmp_path / "ws-ca.pem"
    ws_ca.write_bytes(pki.cert_to_pem(pki_service.workstation_ca(admin)))
    code = cli.main(["--data-dir", str(tmp_path / "elsewhere"), "verify", str(pkg), "--ca", str(ws_ca)])
    out = capsys.readouterr().out
    assert code == 1 and "LeadCountersignature" in out and "not a trusted root" in out


def _attachment_bomb(source: Path, target: Path, references: int) -> None:
    """The fixture log with one sample whose single 1 MiB attachment is referenced `references` times."""
    import json
    import zipfile

    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        first = next(n for n in src.namelist() if n.startswith("samples/"))
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == first:
                sample = json.loads(data)
                sample["attachments"] = {"0123456789abcdef0123456789abcdef": "A" * (1 << 20)}
                sample["messages"] = [{"role": "user", "content": "attachment://0123456789abcdef0123456789abcdef"}
                                      for _ in range(references)]
                data = json.dumps(sample).encode()
            dst.writestr(info.filename, data)


def test_attachment_referenced_thousands_of_times_is_refused_naming_the_file(workstation,  # type: ignore[no-untyped-def]
                                                                            tmp_path: Path) -> None:
    from datetime import date

    from app.ingest.inspect_log import MAX_EXPANDED
    from app.model.submissions import Submission
    from app.services import results, submissions

    source = Path(__file__).parents[1] / "fixtures" / "inspect" / "intercode_deflate.eval"
    bomb = tmp_path / "bomb.eval"
    _attachment_bomb(source, bomb, 5000)  # 5,000 x 1 MiB = 5 GiB if expanded
    assert bomb.stat().st_size < 2 << 20
    rev = workstation.session("reviewer")
    sid = submissions.create(rev, Submission(developer="Acme AI", model_name="Falcon", version="2.1",
                                             received=date(2026, 11, 2), planned_release=date(2026, 12, 1))).id
    (outcome,) = results.import_files(rev, [bomb], sid)
    assert outcome.status == "failed"
    assert str(bomb) in outcome.message and "samples/ctf-1_epoch_1.json" in outcome.message
    assert "referenced 5,000 times" in outcome.message and f"at most {MAX_EXPANDED:,}" in outcome.message
    assert results.list_runs(rev, sid) == []  # nothing kept
    ok = tmp_path / "fine.eval"
    _attachment_bomb(source, ok, 20)  # 20 MiB of expanded text is an ordinary long transcript
    (outcome,) = results.import_files(rev, [ok], sid)
    assert outcome.status == "imported", outcome.message


def test_resolving_a_stored_transcript_is_bounded_too() -> None:
    from app.ingest.inspect_log import resolve
    from app.model.errors import IngestError

    attachments = {"k": "B" * 1000}
    assert resolve(["attachment://k"] * 3, attachments, limit=3000) == ["B" * 1000] * 3
    with pytest.raises(IngestError, match=r"sample 7 transcript: .*referenced 4 times"):
        resolve({"messages": ["attachment://k"] * 4}, attachments, limit=3000, name="sample 7 transcript")


def test_run_cited_by_an_approved_assessment_cannot_be_deleted_or_moved(workstation, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from app.model.errors import ValidationError
    from app.model.submissions import Submission
    from app.services import assessment, assessment_evidence, assessment_review, results, submissions
    from tests.unit.test_signing_service import _approved_submission

    real_submit = assessment_review.submit

    def submit_citing_a_run(session, assessment_id, *args, **kwargs):  # type: ignore[no-untyped-def]
        view = assessment.get(session, assessment_id)
        run = results.list_runs(session, view.submission_id)[0]
        assessment_evidence.add_run_evidence(session, assessment_id, "CAP-02", run.id, "CTF solve rates")
        return real_submit(session, assessment_id, *args, **kwargs)

    monkeypatch.setattr(assessment_review, "submit", submit_citing_a_run)
    sid = _approved_submission(workstation, with_results=True)
    rev = workstation.session("reviewer")
    cited, uncited = results.list_runs(rev, sid)
    other = submissions.create(rev, Submission(developer="Other", model_name="M", version="1",
                                               received=date(2026, 11, 2), planned_release=date(2026, 12, 1))).id
    with pytest.raises(ValidationError, match=rf"run {cited.id} is cited as evidence by an approved assessment "
                                              r"\(CAP-02 \(assessment \d+\)\) and cannot be deleted"):
        results.delete_run(rev, cited.id, "duplicate import")
    with pytest.raises(ValidationError, match="cannot be moved to another submission"):
        results.move_run(rev, cited.id, other, "wrong submission")
    assert [r.id for r in results.list_runs(rev, sid)] == [cited.id, uncited.id]
    # Another writer on the database meets the same rule (triggers), whatever the service says.
    for sql in ("DELETE FROM eval_runs WHERE id = ?", "DELETE FROM eval_samples WHERE run_id = ?",
                f"UPDATE eval_runs SET submission_id = {other} WHERE id = ?"):
        with pytest.raises(StorageError, match="cited as evidence"), tamper(rev) as conn:
            conn.execute(sql, (cited.id,))
    # The uncited run goes as before.
    assert results.delete_run(rev, uncited.id, "duplicate import") > 0
