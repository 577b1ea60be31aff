"""Verify every signature in a report PDF, offline, against explicit trusted roots.

Per signature: intact (the signed bytes are unchanged), signer, chain to a trusted root, and
what happened to the document after signing (nothing; only further signatures or form
filling; or other changes). Nothing is fetched: no OCSP, no CRL, no AIA.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509

from app.model.errors import IntegrityError
from reports import pki
from reports.detached import run_sync, validation_context


@dataclass(frozen=True)
class SignatureCheck:
    field_name: str
    signer: str
    issuer: str
    fingerprint: str
    signing_time: datetime | None  # the signer's local clock
    intact: bool
    trusted: bool
    trust_problem: str
    after_signing: str  # "none", "signatures only", "changed"
    detail: str

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted and self.after_signing != "changed"

    def summary(self) -> str:
        when = f" at {self.signing_time:%Y-%m-%d %H:%M:%S %Z} (signer's local clock)" if self.signing_time else ""
        state = "VALID" if self.ok else "INVALID"
        parts = [f"{state}: {self.field_name} signed by {self.signer}{when}",
                 "signed content intact" if self.intact else "signed content CHANGED after signing",
                 "chains to a trusted root" if self.trusted else f"NOT trusted: {self.trust_problem}",
                 {"none": "no changes after signing",
                  "signatures only": "after signing only further signatures were added",
                  }.get(self.after_signing, f"document CHANGED after signing: {self.detail}")]
        return "; ".join(parts)


@dataclass(frozen=True)
class PdfVerification:
    path: str
    signatures: list[SignatureCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.signatures) and not self.problems and all(s.ok for s in self.signatures)

    def lines(self) -> list[str]:
        out = [f"{self.path}: {'all signatures valid' if self.ok else 'NOT VALID'}"]
        out += [f"  {s.summary()}" for s in self.signatures]
        out += [f"  problem: {p}" for p in self.problems]
        return out


def _after_signing(status: object) -> tuple[str, str]:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    coverage = getattr(status, "coverage", None)
    level = getattr(status, "modification_level", None)
    docmdp_ok = getattr(status, "docmdp_ok", None)
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return "none", ""
    if coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return "changed", "the signature does not cover its whole revision"
    if level is not None and level <= ModificationLevel.FORM_FILLING and docmdp_ok is not False:
        return "signatures only", ""
    diff = getattr(status, "diff_result", None)
    return "changed", str(diff or f"modification level {getattr(level, 'name', level)}")


def verify_pdf(data: bytes, trusted_roots: Sequence[x509.Certificate], name: str = "report.pdf",
               at: datetime | None = None) -> PdfVerification:
    """Check every signature; never raises for a bad signature (reported per signature), only
    for a file that is not a readable PDF."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:
        raise IntegrityError(f"{name}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    result = PdfVerification(name)
    if not embedded:
        result.problems.append("the PDF carries no signature")
        return result
    now = at or datetime.now(UTC)
    for sig in embedded:
        field_name = sig.field_name or "(unnamed)"
        try:
            ctx = validation_context(trusted_roots, [pki.from_asn1_cert(c) for c in sig.other_embedded_certs])
            status = run_sync(async_validate_pdf_signature(sig, ctx))
        except Exception as exc:
            result.problems.append(f"{field_name}: the signature cannot be checked ({type(exc).__name__}: {exc})")
            continue
        cert = pki.from_asn1_cert(status.signing_cert)
        intact = bool(status.intact and status.valid)
        trusted = bool(status.trusted)
        problem = ""
        if not trusted:
            problem = next((p for c in [cert, *[pki.from_asn1_cert(x) for x in sig.other_embedded_certs]]
                            if (p := pki.validity_problem(c, now))), "") or \
                f"issuer {cert.issuer.rfc4514_string()} is not a trusted root on this workstation"
        after, detail = _after_signing(status)
        result.signatures.append(SignatureCheck(
            field_name, pki.common_name(cert), cert.issuer.rfc4514_string(), pki.fingerprint(cert),
            status.signer_reported_dt, intact, trusted, problem, after, detail,
        ))
    return result
