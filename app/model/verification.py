"""What verifying a signed report or package found: each signature (signer, intact, trusted, what
changed after it), the report's state (final, awaiting countersignature, not valid) and a package's
manifest, files and problems. Filled by reports.verify and reports.verify_package; the Reports
screen and the CLI show them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509

# The report's two signature fields (reports.pdf lays them out; reports.verify checks them).
REVIEWER_FIELD = "ReviewerSignature"
LEAD_FIELD = "LeadCountersignature"

FINAL = "final"
AWAITING = "awaiting countersignature"
NOT_VALID = "not valid"


@dataclass(frozen=True)
class SignerInfo:
    """Who signed, when (the signer's local clock: no timestamp authority exists on an air gap)."""

    subject: str
    issuer: str
    serial: int
    fingerprint: str
    signing_time: datetime | None
    certificate: x509.Certificate

    def describe(self) -> str:
        when = f", signed {self.signing_time:%Y-%m-%d %H:%M:%S} UTC (signer's local clock)" if self.signing_time else ""
        return f"{self.subject} (issued by {self.issuer}){when}"


@dataclass(frozen=True)
class SignatureCheck:
    field_name: str
    signer: str
    issuer: str
    fingerprint: str
    signing_time: datetime | None  # the signer's local clock
    intact: bool
    trusted: bool  # the signer's certificate chains to a trusted root (checked on its own when not intact)
    trust_problem: str
    after_signing: str  # "none", "countersignature only", "changed"
    detail: str
    certification: str = ""  # the DocMDP permission of a certification signature, "" for an approval one
    subject: str = ""

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted and self.after_signing != "changed"

    def summary(self) -> str:
        when = f" at {self.signing_time:%Y-%m-%d %H:%M:%S %Z} (signer's local clock)" if self.signing_time else ""
        state = "VALID" if self.ok else "INVALID"
        kind = f" (certification: {self.certification})" if self.certification else ""
        if not self.intact:
            # The signature does not match the bytes it covers: that is the verdict. The certificate
            # is judged on its own (it says nothing about the file), and what later revisions did
            # is named only when the analysis found something.
            parts = [f"{state}: {self.field_name}{kind} signed by {self.signer}{when}",
                     "signed content CHANGED after signing (the signature does not match the file)",
                     "the signer's certificate chains to a trusted root" if self.trusted
                     else f"the signer's certificate is NOT trusted: {self.trust_problem}"]
            if self.detail:
                parts.append(f"also changed later: {self.detail}")
            return "; ".join(parts)
        parts = [f"{state}: {self.field_name}{kind} signed by {self.signer}{when}",
                 "signed content intact",
                 "chains to a trusted root" if self.trusted else f"NOT trusted: {self.trust_problem}",
                 {"none": "no changes after signing",
                  "countersignature only": "after signing only the lead's countersignature was added",
                  }.get(self.after_signing, f"document CHANGED after signing: {self.detail}")]
        return "; ".join(parts)


@dataclass
class PdfVerification:
    path: str
    signatures: list[SignatureCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        """FINAL (both signatures valid, nothing else changed), AWAITING (the reviewer's
        certification signature alone, valid and unchanged) or NOT_VALID."""
        if self.problems or not self.signatures or not all(s.ok for s in self.signatures):
            return NOT_VALID
        names = [s.field_name for s in self.signatures]
        if names == [REVIEWER_FIELD, LEAD_FIELD]:
            return FINAL
        return AWAITING if names == [REVIEWER_FIELD] else NOT_VALID

    @property
    def ok(self) -> bool:
        return self.state == FINAL

    def headline(self) -> str:
        return {FINAL: "FINAL: all signatures valid (reviewer's certification signature and lead's countersignature)",
                AWAITING: "NOT FINAL: awaiting countersignature (the reviewer's certification signature is valid)",
                }.get(self.state, "NOT VALID")

    def lines(self) -> list[str]:
        out = [f"{self.path}: {self.headline()}"]
        out += [f"  {s.summary()}" for s in self.signatures]
        out += [f"  problem: {p}" for p in self.problems]
        return out


@dataclass
class PackageVerification:
    path: Path
    manifest_signer: SignerInfo | None = None
    pdf: PdfVerification | None = None
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    package_cas: list[str] = field(default_factory=list)  # "common name (SHA-256 fingerprint)" per CA in ca.pem

    @property
    def ok(self) -> bool:
        return not self.problems and self.manifest_signer is not None and (self.pdf is None or self.pdf.ok)

    def lines(self) -> list[str]:
        out = [f"{self.path}: {'package VERIFIED' if self.ok else 'package NOT VALID'}"]
        if self.manifest_signer:
            out.append(f"  manifest signed by {self.manifest_signer.describe()}")
        out += [f"  ok: {name}" for name in self.checked]
        out += [f"  PROBLEM: {p}" for p in self.problems]
        if self.pdf:
            out += ["  " + line for line in self.pdf.lines()]
        out += [f"  package CA certificate: {ca}" for ca in self.package_cas]
        return out
