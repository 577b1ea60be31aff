"""Verify a findings report PDF, offline, against explicit trusted roots, strictly.

A final report carries exactly two signatures: the reviewer's certification signature (DocMDP,
permitting only form filling and signing, P=2) and, in the very next revision, the lead's
countersignature in its reserved field, covering the whole file. Whatever else happened after
the reviewer signed (page content, annotations, other form fields or their appearances, a
revision after the countersignature, a file cut before it) is named and makes the report not
valid. pyHanko's difference analysis decides what changed; nothing here parses PDF by hand.
Per signature: intact, signer, chain to a trusted root. Nothing is fetched: no OCSP, CRL or AIA.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from app.model.errors import IntegrityError
from app.model.verification import (
    LEAD_FIELD,
    REVIEWER_FIELD,
    PdfVerification,
    SignatureCheck,
)
from reports import pki
from reports.detached import key_usage_problem, run_sync, validation_context


def _changes(status: Any, allowed_fields: frozenset[str]) -> str:
    """What changed in the revisions after a signature, beyond filling `allowed_fields`; "" if nothing."""
    from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    coverage = status.coverage
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return ""
    if coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return "the signature does not cover its whole revision (bytes outside the signed range)"
    diff = status.diff_result
    if diff is None:
        return "later revisions could not be analysed"
    if not isinstance(diff, DiffResult):  # pyHanko's SuspiciousModification: not explainable as signing
        why = " ".join(str(diff).split())
        return f"a change other than signing a reserved field was made ({why[:300]}{'…' if len(why) > 300 else ''})"
    found = []
    level = diff.modification_level
    if level >= ModificationLevel.OTHER:
        found.append("page content or document structure changed")
    elif level >= ModificationLevel.ANNOTATIONS:
        found.append("annotations were added or changed")
    others = sorted(set(diff.changed_form_fields) - allowed_fields)
    if others:
        found.append("form field(s) " + ", ".join(repr(f) for f in others) + " filled or their appearance changed")
    if status.docmdp_ok is False and not found:
        found.append(f"changes beyond what the certification permits ({level.name.lower()})")
    if not found and not allowed_fields:
        found.append(f"a later revision was added ({level.name.lower().replace('_', ' ')})")
    return "; ".join(found)


def _certification(sig: Any) -> str:
    from pyhanko.sign.fields import MDPPerm

    level = sig.docmdp_level
    if level is None:
        return ""
    return {MDPPerm.NO_CHANGES: "no changes permitted", MDPPerm.FILL_FORMS: "form filling and signing only",
            MDPPerm.ANNOTATE: "form filling, signing and annotations"}.get(level, str(level))


def _check_one(sig: Any, trusted_roots: Sequence[x509.Certificate], now: datetime, allowed: frozenset[str]
               ) -> SignatureCheck:
    ctx = validation_context(trusted_roots, [pki.from_asn1_cert(c) for c in sig.other_embedded_certs])
    status = run_sync(_validate(sig, ctx))
    cert = pki.from_asn1_cert(status.signing_cert)
    intact = bool(status.intact and status.valid)
    embedded = [pki.from_asn1_cert(x) for x in sig.other_embedded_certs]
    usage = key_usage_problem(cert, set(type(status).key_usage))
    if intact:
        trusted = bool(status.trusted)
        problem = ""
        if not trusted:
            problem = next((p for c in [cert, *embedded] if (p := pki.validity_problem(c, now))), "") or \
                (usage if usage and pki.chain_problem(cert, embedded, trusted_roots, now) is None else "") or \
                f"issuer {cert.issuer.rfc4514_string()} is not a trusted root on this workstation"
    else:
        # pyHanko does not validate the chain of a signature whose digest does not match the file
        # (its status then says "not trusted" whatever the certificate): the signer's certificate is
        # judged on its own here, so a changed file is not also blamed on the sender's CA.
        problem = pki.chain_problem(cert, embedded, trusted_roots, now) or usage or ""
        trusted = not problem
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    detail = _changes(status, allowed)
    if not intact:
        after = "changed"  # the signed bytes themselves: never "no changes after signing"
    else:
        after = "changed" if detail else "none" if status.coverage == SignatureCoverageLevel.ENTIRE_FILE \
            else "countersignature only"
    return SignatureCheck(sig.field_name or "(unnamed)", pki.common_name(cert), cert.issuer.rfc4514_string(),
                          pki.fingerprint(cert), status.signer_reported_dt, intact, trusted, problem, after, detail,
                          _certification(sig), cert.subject.rfc4514_string())


async def _validate(sig: Any, ctx: Any) -> Any:
    from pyhanko.sign.validation import async_validate_pdf_signature

    return await async_validate_pdf_signature(sig, ctx)


def _structure(embedded: list[Any], checks: list[SignatureCheck], total_revisions: int) -> list[str]:
    """The report's own rules on top of each signature's checks."""
    from pyhanko.sign.fields import MDPPerm

    problems = []
    names = [c.field_name for c in checks]
    for name in names:
        if name not in (REVIEWER_FIELD, LEAD_FIELD):
            problems.append(f"unexpected signature in field '{name}': a report carries only the reviewer's "
                            "signature and the lead's countersignature")
    if names.count(REVIEWER_FIELD) != 1 or (names and names[0] != REVIEWER_FIELD):
        problems.append(f"the reviewer's signature ({REVIEWER_FIELD}) must be the first and only one of its kind")
        return problems
    first = embedded[0]
    if first.docmdp_level != MDPPerm.FILL_FORMS:
        got = _certification(first) or "an approval signature, not a certification"
        problems.append(f"the reviewer's signature must certify the report permitting only the countersignature "
                        f"(DocMDP form filling and signing); it is {got}, so later changes are not bounded")
    if LEAD_FIELD in names:
        lead = embedded[names.index(LEAD_FIELD)]
        if lead.signed_revision != first.signed_revision + 1:
            problems.append("the countersignature is not in the revision right after the reviewer's signature: "
                            f"{lead.signed_revision - first.signed_revision - 1} other revision(s) came between them")
        reviewer, countersigner = checks[0], checks[names.index(LEAD_FIELD)]
        if reviewer.subject == countersigner.subject or reviewer.fingerprint == countersigner.fingerprint:
            problems.append(f"the same person ({reviewer.signer}) signed and countersigned: two persons are required")
    elif total_revisions > first.signed_revision + 1:
        # Only the countersignature may follow; the per-signature check names what this revision did.
        problems.append("the report was changed after the reviewer signed, and it carries no countersignature")
    return problems


def verify_pdf(data: bytes, trusted_roots: Sequence[x509.Certificate], name: str = "report.pdf",
               at: datetime | None = None) -> PdfVerification:
    """Check every signature and the report's signature structure; never raises for a bad
    signature or a change (reported), only for a file that is not a readable PDF."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
        total_revisions = reader.xrefs.total_revisions
    except Exception as exc:
        raise IntegrityError(f"{name}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    result = PdfVerification(name)
    if not embedded:
        result.problems.append("the PDF carries no signature")
        return result
    now = at or datetime.now(UTC)
    checked: list[Any] = []
    for sig in embedded:
        # After the reviewer's signature only the countersignature may be filled in; after the
        # countersignature nothing at all.
        allowed = frozenset({LEAD_FIELD}) if sig.field_name == REVIEWER_FIELD else frozenset()
        try:
            result.signatures.append(_check_one(sig, trusted_roots, now, allowed))
            checked.append(sig)
        except Exception as exc:
            result.problems.append(f"{sig.field_name or '(unnamed)'}: the signature cannot be checked "
                                   f"({type(exc).__name__}: {exc})")
    if len(checked) == len(embedded):
        result.problems += _structure(checked, result.signatures, total_revisions)
    return result


def signature_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate embedded in the PDF's signatures (signers and the chains they carry)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        embedded = list(PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures)
    except Exception as exc:
        raise IntegrityError(f"not a readable PDF ({type(exc).__name__}: {exc})") from None
    out: list[x509.Certificate] = []
    for sig in embedded:
        out += [pki.from_asn1_cert(sig.signer_cert), *(pki.from_asn1_cert(c) for c in sig.other_embedded_certs)]
    return pki.dedupe(out)


def apply_revocations(result: PdfVerification, revoked: dict[str, datetime],
                      legacy: frozenset[str] = frozenset()) -> PdfVerification:
    """Signatures made after their certificate was revoked do not count (the CRL travels with the
    package; the workstation keeps the list); signatures by a key that once lived under the
    shared data key are named as such. `revoked`: certificate fingerprint -> revocation time."""
    for sig in result.signatures:
        when = revoked.get(sig.fingerprint)
        if when is not None and (sig.signing_time is None or sig.signing_time > when):
            result.problems.append(f"{sig.field_name} was signed by {sig.signer} after that certificate was revoked "
                                   f"on {when:%Y-%m-%d %H:%M:%S %Z}: it does not count")
        if sig.fingerprint in legacy:
            result.problems.append(f"{sig.field_name}: the key of {sig.signer} was stored under the workstation's "
                                   "shared data key when it signed (before per-person keys); it cannot be attributed "
                                   "to that person alone")
    return result


def revoked_in_crl(crl_data: bytes, trusted_roots: Sequence[x509.Certificate],
                   certs: Sequence[x509.Certificate]) -> dict[str, datetime]:
    """fingerprint -> revocation time for those of `certs` a CRL (signed by one of the roots) lists."""
    try:
        crl = (x509.load_pem_x509_crl(crl_data) if crl_data.lstrip().startswith(b"-----")
               else x509.load_der_x509_crl(crl_data))
    except ValueError:
        return {}
    issuer = next((r for r in trusted_roots if r.subject == crl.issuer
                   and crl.is_signature_valid(r.public_key())), None)  # type: ignore[arg-type]
    if issuer is None:
        return {}
    out: dict[str, datetime] = {}
    for cert in certs:
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None and cert.issuer == crl.issuer:
            out[pki.fingerprint(cert)] = entry.revocation_date_utc
    return out
