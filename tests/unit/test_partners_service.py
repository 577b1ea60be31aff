"""Partner register service and repository (issue 16, point 1): admin-only, audited, signed; an
insider's edit of a partner row is refused when the partner is used."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from app.model.dissemination import CertificatePurpose
from app.model.errors import IntegrityError, NotFound, PermissionDenied, ValidationError
from app.model.markings import Level
from app.model.partners import Contact, Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from app.services import partners
from storage import partners_repo
from tests.conftest import FIXED_NOW, tamper
from tests.unit.partner_kit import make_cert

UKAISI = Partner(name="UK AI Security Institute", kind=PartnerKind.ALLIED, codes=("GBR", "FVEY"),
                 max_level=Level.SECRET, tlp=Tlp.AMBER, contacts=(Contact("Pat Jones", "pat@example.gov.uk"),))
ACME = Partner(name="Acme AI", kind=PartnerKind.DEVELOPER, codes=("USA",), max_level=Level.CUI, tlp=Tlp.AMBER,
               developer="Acme AI Labs")


def audit_actions(session) -> list[str]:  # type: ignore[no-untyped-def]
    return [r[0] for r in session.db.conn.execute("SELECT action FROM audit_events ORDER BY seq")]


def test_admin_adds_updates_deactivates_and_each_change_is_signed_and_audited(workstation) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    p = partners.add(admin, UKAISI)
    assert p.id is not None and p.codes == ("GBR", "FVEY") and p.active
    assert partners.get(admin, p.id).contacts[0].email == "pat@example.gov.uk"
    p2 = partners.update(admin, p.id, replace(UKAISI, max_level=Level.TOP_SECRET, accesses=("SI",)))
    assert p2.max_level is Level.TOP_SECRET and p2.accesses == ("SI",)
    partners.deactivate(admin, p.id)
    assert not partners.get(admin, p.id).active
    partners.reactivate(admin, p.id)
    assert partners.get(admin, p.id).active
    kinds = [d.kind for d in partners.decisions.decisions_repo.for_object(admin.db.conn, "partner", str(p.id))]
    assert kinds == ["partner.add", "partner.update", "partner.deactivate", "partner.reactivate"]
    assert [a for a in audit_actions(admin) if a.startswith("partner.")] == kinds
    assert partners.problem(admin, p.id) is None
    assert partners.find(admin, "uk ai security institute").id == p.id
    assert partners.find(admin, str(p.id)).name == UKAISI.name
    with pytest.raises(NotFound, match="No partner named"):
        partners.find(admin, "Nobody")


def test_only_an_administrator_changes_partners_others_read(workstation) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    p = partners.add(admin, UKAISI)
    for name in ("reviewer", "lead", "auditor"):
        s = workstation.session(name)
        with pytest.raises(PermissionDenied):
            partners.add(s, ACME)
        with pytest.raises(PermissionDenied):
            partners.update(s, p.id, UKAISI)
        with pytest.raises(PermissionDenied):
            partners.deactivate(s, p.id)
        assert partners.get(s, p.id).name == UKAISI.name
        assert [x.name for x in partners.list_all(s)] == [UKAISI.name]


def test_duplicate_names_and_developers_are_refused(workstation) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    partners.add(admin, ACME)
    with pytest.raises(ValidationError, match="already exists"):
        partners.add(admin, replace(UKAISI, name="ACME ai"))
    with pytest.raises(ValidationError, match="already the partner for developer"):
        partners.add(admin, replace(ACME, name="Acme AI (second)"))
    found = partners.for_developer(admin, "acme ai labs")
    assert found is not None and found.name == "Acme AI"
    assert partners.for_developer(admin, "Other Labs") is None


@pytest.mark.parametrize("column, value", [
    ("max_level", int(Level.TOP_SECRET)),
    ("codes", '["GBR", "FVEY", "NATO"]'),
    ("tlp", "RED"),
    ("accesses", '["SI", "TK"]'),
    ("active", 1),
    ("name", "Someone Else"),
])
def test_insider_edit_of_a_partner_row_is_refused_as_not_signed(workstation, column: str, value: object) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    p = partners.add(admin, UKAISI)
    if column == "active":
        partners.deactivate(admin, p.id)
    reviewer = workstation.session("reviewer")
    with tamper(reviewer) as conn:  # the data key, but no administrator's passphrase
        conn.execute(f"UPDATE partners SET {column} = ? WHERE id = ?", (value, p.id))
    with pytest.raises(IntegrityError, match="is not signed: it was changed in the database after admin signed it"):
        partners.get(reviewer, p.id)
    with pytest.raises(IntegrityError, match="not signed"):
        partners.certificates(reviewer, p.id, CertificatePurpose.RECEIPT)
    assert "changed in the database" in (partners.problem(reviewer, p.id) or "")


def test_partner_inserted_without_a_decision_or_signed_by_a_non_admin_is_refused(workstation) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    lead = workstation.session("lead")
    with tamper(lead) as conn:
        pid = partners_repo.insert_partner(conn, ACME, "admin", lead.now())
    with pytest.raises(IntegrityError, match="no administrator signed it"):
        partners.get(lead, pid)
    with pytest.raises(IntegrityError, match="not signed"):
        partners.for_developer(lead, "Acme AI Labs")
    # A lead signs the partner's content with their own key: a valid signature, but not an administrator's.
    with lead.transaction() as conn:
        partners._decide(lead, conn, "partner.add", pid)
    with pytest.raises(IntegrityError, match="lead, who signed its last change, is not an administrator"):
        partners.get(admin, pid)


def test_forged_decision_content_is_refused(workstation) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    p = partners.add(admin, UKAISI)
    reviewer = workstation.session("reviewer")
    with tamper(reviewer) as conn:
        conn.execute("UPDATE partners SET max_level = ? WHERE id = ?", (int(Level.TOP_SECRET), p.id))
        row = conn.execute("SELECT id, content FROM decisions WHERE object_type = 'partner' ORDER BY id DESC").fetchone()
        conn.execute("UPDATE decisions SET content = ? WHERE id = ?",
                     (row[1].replace('"SECRET"', '"TOP SECRET"'), row[0]))
    with pytest.raises(IntegrityError, match="signature on its last change by admin does not hold"):
        partners.get(reviewer, p.id)


def test_certificates_are_checked_on_import_and_kept_signed(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    p = partners.add(admin, UKAISI)
    receipt = make_cert(tmp_path, "UK AISI", "receipt")
    enc = make_cert(tmp_path, "UK AISI", "encryption", rsa_bits=3072)
    rec = partners.add_certificate(admin, p.id, receipt.cert_path, CertificatePurpose.RECEIPT)
    assert rec.fingerprint == partners.pki.fingerprint(receipt.cert) and rec.not_after > FIXED_NOW
    partners.add_certificate(admin, p.id, enc.cert_path, "encryption")
    assert partners.certificates(admin, p.id, "receipt") == [receipt.cert]
    assert partners.certificates(admin, p.id, CertificatePurpose.ENCRYPTION) == [enc.cert]
    assert partners.problem(admin, p.id) is None
    with pytest.raises(ValidationError, match="already registered"):
        partners.add_certificate(admin, p.id, receipt.cert_path, "receipt")
    # Swapping the stored certificate for the insider's own is refused: the signed content names the DER's hash.
    insider = make_cert(tmp_path / "insider", "UK AISI", "receipt")
    with tamper(admin) as conn:
        conn.execute("UPDATE partner_certificates SET der = ? WHERE partner_id = ? AND purpose = 'receipt'",
                     (partners.pki.cert_to_der(insider.cert), p.id))
    with pytest.raises(IntegrityError, match="changed in the database"):
        partners.certificates(admin, p.id, "receipt")
    assert "partner.certificate_add" in audit_actions(admin)


def test_bad_certificate_files_are_refused_naming_the_file(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    p = partners.add(admin, UKAISI)
    expired = make_cert(tmp_path / "old", "UK AISI", not_before=FIXED_NOW - timedelta(days=400), days=30)
    future = make_cert(tmp_path / "future", "UK AISI", not_before=FIXED_NOW + timedelta(days=3))
    ca = make_cert(tmp_path / "ca", "UK AISI root", ca=True)
    weak = make_cert(tmp_path / "weak", "UK AISI", rsa_bits=2048)
    wrong_use = make_cert(tmp_path / "enc", "UK AISI", "encryption")
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    huge = tmp_path / "huge.pem"
    huge.write_bytes(b"0" * (partners.MAX_CERT_BYTES + 1))
    cases = [(expired.cert_path, "expired on"), (future.cert_path, "not valid before"),
             (ca.cert_path, "CA certificate"), (weak.cert_path, "too short"),
             (wrong_use.cert_path, "does not allow signing"), (garbage, "not a readable X.509 certificate"),
             (huge, "bytes"), (tmp_path / "missing.pem", "cannot be read")]
    for path, message in cases:
        with pytest.raises(ValidationError, match=message) as err:
            partners.add_certificate(admin, p.id, path, "receipt")
        assert str(path) in str(err.value)
    signing_only = make_cert(tmp_path / "sig", "UK AISI", "receipt")
    with pytest.raises(ValidationError, match="lacks keyAgreement"):
        partners.add_certificate(admin, p.id, signing_only.cert_path, "encryption")
    assert partners.certificate_records(admin, p.id) == []
    assert partners.problem(admin, p.id) is None


def test_a_certificate_file_that_grows_after_its_size_check_is_not_read_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The size is checked first, then the file read: one that grows in between (a file still being
    copied, or swapped) is read only up to the bound and refused, not read whole into memory."""
    grown = tmp_path / "grown.pem"
    grown.write_bytes(b"0" * (4 * partners.MAX_CERT_BYTES))
    real_open = Path.open
    reads: list[int] = []

    class Counting:
        def __init__(self, fh):  # type: ignore[no-untyped-def]
            self.fh = fh

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            self.fh.close()

        def read(self, n: int = -1) -> bytes:
            data = self.fh.read(n)
            reads.append(len(data))
            return data

    monkeypatch.setattr(partners, "regular_file", lambda *a: None)
    monkeypatch.setattr(Path, "stat", lambda self, **k: type("S", (), {"st_size": 100})())
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: Counting(real_open(self, *a, **k)))
    with pytest.raises(ValidationError, match="grew past") as err:
        partners.read_certificate(grown, CertificatePurpose.RECEIPT, FIXED_NOW)
    assert str(grown) in str(err.value) and reads == [partners.MAX_CERT_BYTES + 1]


def test_expired_certificates_are_left_out_when_used(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    p = partners.add(admin, UKAISI)
    short = make_cert(tmp_path, "UK AISI", days=40)  # from 30 days ago: 10 days left
    partners.add_certificate(admin, p.id, short.cert_path, "receipt")
    assert partners.certificates(admin, p.id, "receipt") == [short.cert]
    admin.clock = lambda: FIXED_NOW + timedelta(days=11)
    assert partners.certificates(admin, p.id, "receipt") == []
    assert partners.certificate_records(admin, p.id)[0].expired(admin.clock())


def test_repo_round_trips_every_field(workstation) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    full = Partner(name="NATO CERT", kind=PartnerKind.CERT, codes=("BEL", "NATO"), max_level=Level.CONFIDENTIAL,
                   tlp=Tlp.AMBER_STRICT, accesses=("SI",),
                   contacts=(Contact("A", "a@nato.int", "+32 1", "duty officer"), Contact("B")))
    with tamper(admin) as conn:
        pid = partners_repo.insert_partner(conn, full, "admin", admin.now())
        back = partners_repo.get_partner(conn, pid)
    assert back == replace(full, id=pid)
    assert partners_repo.all_partners(admin.db.conn) == [back]
