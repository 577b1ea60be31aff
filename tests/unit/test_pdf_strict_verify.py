"""Strict report verification (issue 11 point 5): the reviewer certifies (DocMDP P=2), the lead
countersigns in the reserved field, and any other change, including a cut-off countersignature,
makes the report not valid, named, in the library, the CLI and the service."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import ArrayObject, DictionaryObject, FloatObject, NameObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from app import cli
from app.model.verification import AWAITING, FINAL, LEAD_FIELD, NOT_VALID, REVIEWER_FIELD
from reports import pki
from reports.pdf import SIG_FIELD_LEAD, SIG_FIELD_REVIEWER
from reports.signing import SignatureRequest, sign_pdf, software_signer
from reports.verify import verify_pdf
from tests.conftest import tamper
from tests.unit import test_signing
from tests.unit.test_signing import _certify, _nss_db, _req

# The signing tests' module fixtures: a test CA with a reviewer and a lead, a built report, and
# that report certified by the reviewer and countersigned by the lead.
pkiset, built, countersigned = test_signing.pkiset, test_signing.built, test_signing.countersigned

OVERLAY = b"NO FINDINGS OF CONCERN"


def _overlay_stream(writer: IncrementalPdfFileWriter) -> generic.IndirectObject:
    """An appearance stream that blanks a band of the page and paints new text on it."""
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    stream = generic.StreamObject({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(460), FloatObject(60)]),
        NameObject("/Resources"): DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}),
    }, stream_data=b"1 1 1 rg 0 0 460 60 re f BT 0 0 0 rg /F1 24 Tf 10 20 Td (" + OVERLAY + b") Tj ET")
    return writer.add_object(stream)


def _write(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def overlay_attack(data: bytes) -> bytes:
    """The attack from the issue: an incremental update adding an unsigned text field whose widget
    appearance paints new text over page 1."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    widget = writer.add_object(DictionaryObject({
        NameObject("/FT"): NameObject("/Tx"), NameObject("/T"): generic.TextStringObject("Note"),
        NameObject("/V"): generic.TextStringObject(OVERLAY.decode()),
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
        NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (70, 600, 530, 660)]),
        NameObject("/P"): page_ref, NameObject("/F"): generic.NumberObject(4),
        NameObject("/AP"): DictionaryObject({NameObject("/N"): _overlay_stream(writer)}),
    }))
    page = page_ref.get_object()
    page[NameObject("/Annots")] = ArrayObject([*(page.get("/Annots") or []), widget])
    writer.update_container(page)
    form = writer.root["/AcroForm"]
    form["/Fields"].append(widget)
    writer.update_container(form)
    return _write(writer)


def paint_reserved_field(data: bytes) -> bytes:
    """The same through the lead's reserved, still unsigned signature field: give it an appearance."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    for ref in writer.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if str(field.get("/T")) == SIG_FIELD_LEAD:
            field[NameObject("/AP")] = DictionaryObject({NameObject("/N"): _overlay_stream(writer)})
            writer.update_container(field)
    return _write(writer)


def test_field_names_match_the_layout() -> None:
    assert (REVIEWER_FIELD, LEAD_FIELD) == (SIG_FIELD_REVIEWER, SIG_FIELD_LEAD)


def test_overlay_through_an_unsigned_form_field_fails(pkiset, countersigned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _signed, both = countersigned
    attacked = overlay_attack(both)
    result = verify_pdf(attacked, [pkiset["ca"].cert], "attacked.pdf")
    assert not result.ok and result.state == NOT_VALID
    assert result.lines()[0] == "attacked.pdf: NOT VALID"
    reviewer, lead = result.signatures
    assert reviewer.intact and lead.intact  # the signed bytes are untouched: only the diff analysis sees it
    assert lead.after_signing == "changed" and "'Note'" in lead.detail, lead.detail
    assert "document CHANGED after signing" in lead.summary()


def test_overlay_before_the_countersignature_fails_even_when_countersigned(pkiset, countersigned) -> None:  # type: ignore[no-untyped-def]
    signed, _both = countersigned
    attacked = overlay_attack(signed)
    result = verify_pdf(attacked, [pkiset["ca"].cert])
    assert result.state == NOT_VALID and "'Note'" in result.signatures[0].detail
    assert "changed after the reviewer signed, and it carries no countersignature" in " ".join(result.problems)
    lead = pkiset["lead"]
    laundered = sign_pdf(attacked, software_signer(lead.key, lead.cert, lead.chain),
                         SignatureRequest(SIG_FIELD_LEAD, "Lead reviewer", 1, None))
    result = verify_pdf(laundered, [pkiset["ca"].cert])
    assert result.state == NOT_VALID and not result.signatures[0].ok and result.signatures[1].ok
    assert "1 other revision(s) came between them" in " ".join(result.problems)


def test_appearance_given_to_the_reserved_field_fails(pkiset, countersigned) -> None:  # type: ignore[no-untyped-def]
    signed, _both = countersigned
    result = verify_pdf(paint_reserved_field(signed), [pkiset["ca"].cert])
    assert result.state == NOT_VALID
    assert result.signatures[0].after_signing == "changed"
    assert "a change other than signing a reserved field" in result.signatures[0].detail


def test_annotation_added_after_the_countersignature_fails(pkiset, countersigned) -> None:  # type: ignore[no-untyped-def]
    writer = IncrementalPdfFileWriter(io.BytesIO(countersigned[1]))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    note = writer.add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/FreeText"),
        NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (70, 600, 530, 660)]),
        NameObject("/Contents"): generic.TextStringObject("withdrawn"),
        NameObject("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g")}))
    page[NameObject("/Annots")] = ArrayObject([*(page.get("/Annots") or []), note])
    writer.update_container(page)
    result = verify_pdf(_write(writer), [pkiset["ca"].cert])
    assert result.state == NOT_VALID and all(s.after_signing == "changed" for s in result.signatures)


def test_truncated_after_the_first_revision_is_awaiting_not_final(pkiset, countersigned, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                    monkeypatch, capsys) -> None:
    signed, both = countersigned
    cut = both[:len(signed)]  # the file as it was before the lead's incremental update
    result = verify_pdf(cut, [pkiset["ca"].cert], "cut.pdf")
    assert result.state == AWAITING and not result.ok
    assert result.lines()[0] == ("cut.pdf: NOT FINAL: awaiting countersignature (the reviewer's certification "
                                 "signature is valid)")
    path, ca = tmp_path / "cut.pdf", tmp_path / "ca.pem"
    path.write_bytes(cut)
    ca.write_bytes(pki.cert_to_pem(pkiset["ca"].cert))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = cli.main(["--data-dir", str(tmp_path / "none"), "verify", str(path), "--ca", str(ca)])
    out = capsys.readouterr().out
    assert code == 1 and "NOT FINAL: awaiting countersignature" in out
    path.write_bytes(both)
    assert cli.main(["--data-dir", str(tmp_path / "none"), "verify", str(path), "--ca", str(ca)]) == 0
    assert "FINAL: all signatures valid" in capsys.readouterr().out
    path.write_bytes(overlay_attack(both))
    assert cli.main(["--data-dir", str(tmp_path / "none"), "verify", str(path), "--ca", str(ca)]) == 1
    out = capsys.readouterr().out
    assert "NOT VALID" in out and "'Note'" in out


def test_countersigned_report_still_verifies_with_pdfsig(pkiset, countersigned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = _nss_db(tmp_path, pkiset["ca"])
    path = tmp_path / "final.pdf"
    path.write_bytes(countersigned[1])
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{db}", str(path)], capture_output=True, text=True, check=False)
    assert out.stdout.count("Signature is Valid.") == 2, out.stdout
    assert out.stdout.count("Certificate is Trusted.") == 2, out.stdout


def test_an_approval_signature_or_one_person_signing_twice_is_not_final(pkiset, built) -> None:  # type: ignore[no-untyped-def]
    r, lead = pkiset["reviewer"], pkiset["lead"]
    approval = sign_pdf(built.data, software_signer(r.key, r.cert, r.chain), _req(built, SIG_FIELD_REVIEWER, "Reviewer"))
    both = sign_pdf(approval, software_signer(lead.key, lead.cert, lead.chain), _req(built, SIG_FIELD_LEAD, "Lead"))
    result = verify_pdf(both, [pkiset["ca"].cert])
    assert result.state == NOT_VALID and all(s.intact and s.trusted for s in result.signatures)
    assert "must certify the report" in " ".join(result.problems)
    certified = sign_pdf(built.data, software_signer(r.key, r.cert, r.chain), _certify(built))
    twice = sign_pdf(certified, software_signer(r.key, r.cert, r.chain), _req(built, SIG_FIELD_LEAD, "Lead"))
    result = verify_pdf(twice, [pkiset["ca"].cert])
    assert result.state == NOT_VALID and "two persons are required" in " ".join(result.problems)


def test_a_third_signature_after_the_countersignature_fails(pkiset, countersigned) -> None:  # type: ignore[no-untyped-def]
    lead = pkiset["lead"]
    third = sign_pdf(countersigned[1], software_signer(lead.key, lead.cert, lead.chain),
                     SignatureRequest("Extra", "Lead reviewer", 1, None))
    result = verify_pdf(third, [pkiset["ca"].cert])
    assert result.state == NOT_VALID
    assert "unexpected signature in field 'Extra'" in " ".join(result.problems)
    assert result.signatures[1].after_signing == "changed"


@pytest.mark.parametrize("cut", [1, 200])
def test_any_cut_inside_the_countersignature_revision_is_not_final(pkiset, countersigned, cut: int) -> None:  # type: ignore[no-untyped-def]
    signed, both = countersigned
    result = verify_pdf(both[:len(signed) + cut], [pkiset["ca"].cert])
    assert not result.ok


def test_stored_report_cut_back_to_the_reviewer_revision(workstation) -> None:  # type: ignore[no-untyped-def]
    """An insider with the data key replaces the countersigned PDF by its first revision: the file
    alone reads as awaiting countersignature, the report's record says it was countersigned."""
    from app.services import reports as report_service
    from tests.unit.test_signing_service import _approved_submission, _configure

    _configure(workstation.session("admin"))
    rev, lead = workstation.session("reviewer"), workstation.session("lead")
    report = report_service.build(rev, _approved_submission(workstation))
    signed = report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    check = report_service.verify(rev, report.id)
    assert check.state == AWAITING and not check.problems, check.lines()
    first = report_service.pdf_bytes(rev, report.id)
    report_service.countersign(lead, report.id, workstation.passphrase("lead"))
    assert report_service.verify(rev, report.id).state == FINAL
    with tamper(rev) as conn:
        conn.execute("UPDATE reports SET pdf = ?, sha256 = ? WHERE id = ?", (first, signed.sha256, report.id))
    check = report_service.verify(rev, report.id)
    assert not check.ok and check.state == NOT_VALID
    assert "the stored PDF carries no countersignature" in " ".join(check.lines())


def _flip_inside(data: bytes) -> bytes:
    """One byte flipped in the middle of the file (inside both signatures' signed ranges), as the walkthrough did."""
    out = bytearray(data)
    out[len(out) // 2] ^= 0x20
    return bytes(out)


def test_a_flipped_byte_is_named_as_a_change_not_as_an_untrusted_ca(pkiset, countersigned, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                      monkeypatch, capsys) -> None:
    """Walk 3 #2: pyHanko skips the chain of a signature whose digest does not match; that must not
    read as "issuer ... is not a trusted root" (the CA is trusted), nor as "no changes after signing"."""
    _signed, both = countersigned
    tampered = _flip_inside(both)
    result = verify_pdf(tampered, [pkiset["ca"].cert], "tampered.pdf")
    assert result.state == NOT_VALID and len(result.signatures) == 2
    for sig in result.signatures:
        text = sig.summary()
        assert not sig.intact and not sig.ok and sig.after_signing == "changed"
        assert sig.trusted and not sig.trust_problem, sig.trust_problem
        assert "signed content CHANGED after signing" in text
        assert "chains to a trusted root" in text
        for wrong in ("not a trusted root", "NOT trusted", "no changes after signing", "only the lead's countersignature"):
            assert wrong not in text, text
    # An untrusted signer of a changed file is still named as such, by its own check.
    stranger = pki.create_ca("Somewhere else", min(s.signing_time for s in result.signatures if s.signing_time))
    other = verify_pdf(tampered, [stranger.cert])
    assert all(not s.intact and not s.trusted and "does not chain to a trusted root" in s.trust_problem
               for s in other.signatures), [s.trust_problem for s in other.signatures]
    # The command line: still exit 1, and the same wording.
    path, ca = tmp_path / "tampered.pdf", tmp_path / "ca.pem"
    path.write_bytes(tampered)
    ca.write_bytes(pki.cert_to_pem(pkiset["ca"].cert))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(["--data-dir", str(tmp_path / "none"), "verify", str(path), "--ca", str(ca)]) == 1
    out = capsys.readouterr().out
    assert "NOT VALID" in out and "signed content CHANGED after signing" in out
    assert "not a trusted root" not in out and "no changes after signing" not in out
