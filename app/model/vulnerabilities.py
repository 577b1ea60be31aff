"""Vulnerability register of the AI cybersecurity clearinghouse: records, CVSS v4, TLP, identifiers.

A vulnerability is found while testing a model for cyber capability: in software the model
attacked, or in the model's own safeguards. CVSS v4 is stored natively (DOMAIN.md section 6) and
scored with the `cvss` package; the score and severity are always computed, never typed.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from cvss import CVSS3, CVSS4
from cvss.constants4 import METRICS_ABBREVIATIONS, METRICS_VALUE_NAMES
from cvss.exceptions import CVSSError

from app.model.errors import ValidationError
from app.model.markings import UNCLASSIFIED, Marking

ID_RE = re.compile(r"^FRW-VULN-(\d{4})-(\d{4,})$")
CWE_RE = re.compile(r"^CWE-[1-9]\d{0,5}$")
CVE_RE = re.compile(r"^CVE-\d{4}-\d{4,}$")
# Product identifiers: the patterns of the CSAF 2.1 schema (product_identification_helper).
CPE_RE = re.compile(
    r"^((cpe:2\.3:[aho\*\-](:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!\"#\$%&'\(\)\+,\/:;<=>@\[\]\^`\{\|\}~]))+"
    r"(\?*|\*?))|[\*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[\*\-]))(:(((\?*|\*?)([a-zA-Z0-9\-\._]|"
    r"(\\[\\\*\?!\"#\$%&'\(\)\+,\/:;<=>@\[\]\^`\{\|\}~]))+(\?*|\*?))|[\*\-])){4})|"
    r"([c][pP][eE]:\/[AHOaho]?(:[A-Za-z0-9\._\-~%]*){0,6}))$"
)
PURL_RE = re.compile(r"^pkg:[a-z][a-z0-9\.\-]*\/[^\s]+$")

MAX_TEXT = 100_000
MAX_SHORT = 500
MAX_PRODUCTS = 50  # affected products of one vulnerability, the first (vendor/product/product_id) included

# CVSS v4 metrics in specification order, grouped for the calculator.
BASE_METRICS = ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA")
THREAT_METRICS = ("E",)
ENVIRONMENTAL_METRICS = (
    "CR", "IR", "AR", "MAV", "MAC", "MAT", "MPR", "MUI", "MVC", "MVI", "MVA", "MSC", "MSI", "MSA",
)
SUPPLEMENTAL_METRICS = ("S", "AU", "R", "V", "RE", "U")
METRIC_NAMES: dict[str, str] = dict(METRICS_ABBREVIATIONS)
# value code -> label, per metric, in the specification's order
METRIC_VALUES: dict[str, dict[str, str]] = {m: dict(v) for m, v in METRICS_VALUE_NAMES.items()}


class CvssSeverity(enum.StrEnum):
    """The CVSS qualitative rating of a score (stored as written here; `rank` rises with severity).
    A finding's severity is a reviewer's judgement and has its own scale: app.model.findings.Severity."""

    NONE = "None"
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"

    @property
    def rank(self) -> int:
        return list(CvssSeverity).index(self)

    @staticmethod
    def for_score(score: float) -> CvssSeverity:
        """DOMAIN.md section 6 bands: 0 none, 0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10 critical."""
        if score <= 0.0:
            return CvssSeverity.NONE
        if score < 4.0:
            return CvssSeverity.LOW
        if score < 7.0:
            return CvssSeverity.MEDIUM
        if score < 9.0:
            return CvssSeverity.HIGH
        return CvssSeverity.CRITICAL


class VulnStatus(enum.StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    CONFIRMED = "confirmed"
    VENDOR_NOTIFIED = "vendor notified"
    REMEDIATED = "remediated"
    PUBLISHED = "published"
    CLOSED = "closed"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self not in (VulnStatus.CLOSED, VulnStatus.REJECTED, VulnStatus.PUBLISHED)


class ReproStatus(enum.StrEnum):
    NOT_ATTEMPTED = "not attempted"
    REPRODUCED = "reproduced"
    PARTIAL = "partially reproduced"
    NOT_REPRODUCED = "not reproduced"


class Tlp(enum.StrEnum):
    """TLP 2.0 labels (FIRST)."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class Target(enum.StrEnum):
    SOFTWARE = "software attacked by the model"
    MODEL_SAFEGUARD = "model safeguard"


class RemediationCategory(enum.StrEnum):
    VENDOR_FIX = "vendor_fix"
    MITIGATION = "mitigation"
    WORKAROUND = "workaround"
    NONE_AVAILABLE = "none_available"
    NO_FIX_PLANNED = "no_fix_planned"
    FIX_PLANNED = "fix_planned"  # CSAF 2.1 only
    OPTIONAL_PATCH = "optional_patch"  # CSAF 2.1 only


class NoteCategory(enum.StrEnum):
    """CSAF note categories (2.0 and 2.1)."""

    DESCRIPTION = "description"
    DETAILS = "details"
    FAQ = "faq"
    GENERAL = "general"
    LEGAL_DISCLAIMER = "legal_disclaimer"
    OTHER = "other"
    SUMMARY = "summary"


NO_REMEDIATION = "No remediation is available yet."
UNSPECIFIED_PRODUCT = "Unspecified product"  # the CSAF product name of an entry that names no product
URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


@dataclass(frozen=True)
class Remediation:
    """One CSAF remediation entry. A vulnerability keeps a list: a vendor fix arriving next to our
    "none available" is a second entry, never text appended to the first."""

    category: RemediationCategory
    details: str
    # Products it applies to (CPE, purl or name, as `AffectedProduct.identity`); () means every affected
    # product of the vulnerability.
    product_ids: tuple[str, ...] = ()
    issued: date | None = None  # CSAF `date`
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category.value, "details": self.details, "product_ids": list(self.product_ids),
                "date": self.issued.isoformat() if self.issued else "", "url": self.url}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Remediation:
        return Remediation(RemediationCategory(d["category"]), str(d.get("details", "")),
                           tuple(str(p) for p in d.get("product_ids") or ()),
                           date.fromisoformat(d["date"]) if d.get("date") else None, str(d.get("url", "")))

    def validate(self, n: int) -> Remediation:
        where = f"remediations[{n}]"
        details = self.details.strip()
        if not details:
            raise ValidationError(where, f"the {self.category.value} remediation needs its details")
        if len(details) > MAX_TEXT:
            raise ValidationError(where, f"details must be at most {MAX_TEXT:,} characters")
        url = self.url.strip()
        if url and not URL_RE.match(url):
            raise ValidationError(where, f"'{url[:80]}' is not a URL")
        products = tuple(dict.fromkeys(p.strip() for p in self.product_ids if p.strip()))
        return replace(self, category=RemediationCategory(self.category), details=details, url=url,
                       product_ids=products)


@dataclass(frozen=True)
class Note:
    """A CSAF note the partner (or a reviewer) added beyond description, reproduction and target."""

    category: NoteCategory
    title: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category.value, "title": self.title, "text": self.text}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Note:
        return Note(NoteCategory(d["category"]), str(d.get("title", "")), str(d.get("text", "")))

    def validate(self, n: int) -> Note:
        text = self.text.strip()
        if not text:
            raise ValidationError(f"notes[{n}]", "a note needs its text")
        if len(text) > MAX_TEXT or len(self.title) > MAX_SHORT:
            raise ValidationError(f"notes[{n}]", f"text at most {MAX_TEXT:,}, title at most {MAX_SHORT} characters")
        return replace(self, category=NoteCategory(self.category), title=self.title.strip(), text=text)


@dataclass(frozen=True)
class AffectedProduct:
    """One product a vulnerability affects. The first is kept in Vulnerability.vendor/product/product_id;
    further ones in Vulnerability.more_products (a model and the agent scaffold that ships it, two versions)."""

    vendor: str = ""
    product: str = ""
    product_id: str = ""  # CPE or purl

    @property
    def name(self) -> str:
        """Vendor and product as a person reads them ("" when neither is named)."""
        return " ".join(p for p in (self.vendor, self.product) if p)

    @property
    def identity(self) -> str:
        """How remediation entries name the product: its CPE/purl, else vendor and product."""
        return self.product_id or self.name

    @property
    def label(self) -> str:
        """One line for lists: name and id, e.g. "Northwind AI Aurora 4.2 (cpe:2.3:...)"."""
        if self.name and self.product_id:
            return f"{self.name} ({self.product_id})"
        return self.name or self.product_id or "(product not named)"

    def as_dict(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "product": self.product, "product_id": self.product_id}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> AffectedProduct:
        return AffectedProduct(str(d.get("vendor", "")), str(d.get("product", "")), str(d.get("product_id", "")))

    def validate(self, where: str) -> AffectedProduct:
        """Stripped names, a valid CPE/purl; ValidationError names `where` (e.g. more_products[0])."""
        vendor, product = self.vendor.strip(), self.product.strip()
        for name, value in (("vendor", vendor), ("product", product)):
            if len(value) > MAX_SHORT:
                raise ValidationError(f"{where}.{name}", f"must be at most {MAX_SHORT} characters")
        try:
            product_id = validate_product_id(self.product_id)
        except ValidationError as exc:
            raise ValidationError(f"{where}.product_id", exc.reason) from None
        return AffectedProduct(vendor, product, product_id)


def default_remediations() -> tuple[Remediation, ...]:
    return (Remediation(RemediationCategory.NONE_AVAILABLE, NO_REMEDIATION),)


def _metric_problem(vector: str, exc: Exception) -> tuple[str, str]:
    """Name the offending metric of a CVSS v4 vector: (metric, explanation)."""
    body = vector.split("/", 1)[1] if "/" in vector else ""
    seen: set[str] = set()
    for part in body.split("/") if body else []:
        if ":" not in part:
            return part or "?", f"'{part}' is not METRIC:VALUE"
        metric, value = part.split(":", 1)
        if metric not in METRIC_VALUES:
            return metric, f"unknown metric '{metric}'"
        if metric in seen:
            return metric, f"metric {metric} ({METRIC_NAMES[metric]}) appears twice"
        seen.add(metric)
        if value not in METRIC_VALUES[metric]:
            allowed = ", ".join(METRIC_VALUES[metric])
            return metric, f"{METRIC_NAMES[metric]} ({metric}) has invalid value '{value}'; allowed: {allowed}"
    missing = [m for m in BASE_METRICS if m not in seen]
    if missing:
        names = ", ".join(f"{m} ({METRIC_NAMES[m]})" for m in missing)
        return missing[0], f"missing mandatory base metric {names}"
    return "vector", str(exc)


@dataclass(frozen=True)
class CvssV4:
    """A parsed, scored CVSS v4.0 vector (canonical order, 'X' values dropped)."""

    vector: str
    score: float
    severity: CvssSeverity
    metrics: dict[str, str] = field(default_factory=dict, compare=False)

    @staticmethod
    def parse(vector: str, field_name: str = "cvss_vector") -> CvssV4:
        text = (vector or "").strip()
        if not text:
            raise ValidationError(field_name, "a CVSS v4.0 vector is required")
        if not text.startswith("CVSS:4.0/"):
            raise ValidationError(field_name, f"'{text[:60]}' must start with 'CVSS:4.0/'")
        if text.endswith("/"):
            raise ValidationError(field_name, "vector ends with '/' (empty metric)")
        try:
            c = CVSS4(text)
        except CVSSError as exc:
            metric, problem = _metric_problem(text, exc)
            raise ValidationError(f"{field_name} {metric}", problem) from None
        score = float(c.base_score)
        return CvssV4(c.clean_vector(), score, CvssSeverity.for_score(score), dict(c.original_metrics))

    @staticmethod
    def build(selection: dict[str, str]) -> CvssV4:
        """Vector from metric choices (the calculator); 'X' (not defined) values are left out."""
        order = [*BASE_METRICS, *THREAT_METRICS, *ENVIRONMENTAL_METRICS, *SUPPLEMENTAL_METRICS]
        parts = [f"{m}:{selection[m]}" for m in order if selection.get(m) and selection[m] != "X"]
        return CvssV4.parse("CVSS:4.0/" + "/".join(parts))

    @property
    def nomenclature(self) -> str:
        """CVSS-B, CVSS-BT, CVSS-BE or CVSS-BTE (specification section 1.3)."""
        threat = any(self.metrics.get(m, "X") != "X" for m in THREAT_METRICS)
        env = any(self.metrics.get(m, "X") != "X" for m in ENVIRONMENTAL_METRICS)
        return "CVSS-B" + ("T" if threat else "") + ("E" if env else "")


def parse_cvss3(vector: str, field_name: str = "cvss_v3_vector") -> tuple[str, float, CvssSeverity]:
    """Validate a CVSS v3.1 vector (partner advisories in CSAF 2.0 carry only v3)."""
    text = (vector or "").strip()
    if not text.startswith("CVSS:3.1/"):
        raise ValidationError(field_name, f"'{text[:60]}' must start with 'CVSS:3.1/'")
    try:
        c = CVSS3(text)
    except CVSSError as exc:
        raise ValidationError(field_name, str(exc)) from None
    score = float(c.base_score)
    return c.clean_vector(), score, CvssSeverity.for_score(score)


def validate_product_id(text: str) -> str:
    value = (text or "").strip()
    if not value:
        return ""
    if value.lower().startswith("cpe:"):
        if not CPE_RE.match(value):
            raise ValidationError(
                "product_id", f"'{value[:80]}' is not a valid CPE (expected cpe:2.3:part:vendor:product:... "
                "with 13 components, or a CPE 2.2 URI cpe:/...)"
            )
        return value
    if value.startswith("pkg:"):
        if not PURL_RE.match(value):
            raise ValidationError(
                "product_id", f"'{value[:80]}' is not a valid package URL (expected pkg:type/namespace/name@version)"
            )
        return value
    raise ValidationError("product_id", f"'{value[:80]}' must be a CPE (cpe:2.3:...) or a package URL (pkg:...)")


def product_id_kind(product_id: str) -> str:
    if product_id.lower().startswith("cpe:"):
        return "cpe"
    if product_id.startswith("pkg:"):
        return "purl"
    return ""


def format_id(year: int, number: int) -> str:
    return f"FRW-VULN-{year:04d}-{number:04d}"


def parse_id(text: str) -> tuple[int, int]:
    m = ID_RE.match((text or "").strip())
    if not m:
        raise ValidationError("id", f"'{text}' is not a register id (FRW-VULN-YYYY-NNNN)")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class DiscoveryContext:
    """Where the vulnerability was found: links to the local submission, run, sample and finding."""

    submission_id: int | None = None
    run_id: str = ""
    sample_id: str = ""
    finding_id: str = ""

    @property
    def is_empty(self) -> bool:
        return self.submission_id is None and not (self.run_id or self.sample_id or self.finding_id)


@dataclass(frozen=True)
class Filters:
    """Register filters; `today` anchors "embargo ending within N days"."""

    severities: tuple[CvssSeverity, ...] = ()
    statuses: tuple[VulnStatus, ...] = ()
    embargo_within_days: int | None = None  # embargo ends between today and today + N days
    today: date | None = None
    search: str = ""
    submission_id: int | None = None
    open_only: bool = False


# Fields that travel in CSAF advisories: the import diff and conflict detection compare these only;
# status, discovery context and audit data stay local to the workstation.
EXCHANGED_FIELDS = (
    "title", "description", "target", "vendor", "product", "product_id", "cwe", "cve", "cvss_vector",
    "cvss_v3_vector", "repro_status", "repro_evidence", "discovered", "vendor_notified", "embargo_until",
    "published", "tlp", "remediations", "notes", "marking", "more_products",
)
# Exchanged fields holding lists of entries (merged entry by entry, see app/model/exchange_merge.py).
LIST_FIELDS = ("remediations", "notes", "more_products")


@dataclass(frozen=True)
class Vulnerability:
    title: str
    description: str = ""
    target: Target = Target.SOFTWARE
    vendor: str = ""
    product: str = ""
    product_id: str = ""  # CPE or purl
    cwe: str = ""
    cve: str = ""
    cvss_vector: str = ""  # CVSS v4.0
    cvss_v3_vector: str = ""  # optional CVSS v3.1 (partner advisories, CSAF 2.0)
    context: DiscoveryContext = field(default_factory=DiscoveryContext)
    repro_status: ReproStatus = ReproStatus.NOT_ATTEMPTED
    repro_evidence: str = ""
    discovered: date | None = None
    vendor_notified: date | None = None
    embargo_until: date | None = None
    published: date | None = None
    tlp: Tlp = Tlp.AMBER
    remediations: tuple[Remediation, ...] = field(default_factory=default_remediations)
    notes: tuple[Note, ...] = ()
    # Affected products after the first (vendor, product, product_id above): see `products`.
    more_products: tuple[AffectedProduct, ...] = ()
    status: VulnStatus = VulnStatus.NEW
    marking: Marking = UNCLASSIFIED
    id: str = ""
    tracking_id: str = ""  # CSAF document tracking id it was exchanged under
    source: str = ""  # publisher namespace of an imported advisory; "" when found here
    revision: int = 0
    created_by: str = ""
    created_at: str = ""
    updated_at: str = ""

    # -- computed ---------------------------------------------------------------------------
    @functools.cached_property
    def cvss(self) -> CvssV4 | None:  # cached: table views ask for the severity on every paint
        return CvssV4.parse(self.cvss_vector) if self.cvss_vector else None

    @property
    def score(self) -> float | None:
        c = self.cvss
        if c is not None:
            return c.score
        if self.cvss_v3_vector:
            return parse_cvss3(self.cvss_v3_vector)[1]
        return None

    @property
    def severity(self) -> CvssSeverity | None:
        s = self.score
        return None if s is None else CvssSeverity.for_score(s)

    def embargo_days_left(self, today: date) -> int | None:
        return None if self.embargo_until is None else (self.embargo_until - today).days

    def exchanged(self) -> dict[str, Any]:
        """The CSAF-exchanged fields as plain JSON-able values (for diffs and the sync baseline)."""
        out: dict[str, Any] = {}
        for name in EXCHANGED_FIELDS:
            value = getattr(self, name)
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, Marking):
                value = value.banner()
            elif isinstance(value, enum.Enum):
                value = value.value
            elif value is None:
                value = ""
            elif name in LIST_FIELDS:
                value = [entry.as_dict() for entry in value]
            out[name] = value
        return out

    def with_exchanged(self, values: dict[str, Any]) -> Vulnerability:
        """A copy with exchanged fields set from `exchanged()`-style values."""
        return replace(self, **{k: _field_value(k, v) for k, v in values.items() if k in EXCHANGED_FIELDS})

    # -- rules ------------------------------------------------------------------------------
    def validate(self) -> Vulnerability:
        """Normalise and check; raises ValidationError naming the field. Returns the normalised copy."""
        v = self
        if not v.title.strip():
            raise ValidationError("title", "is required")
        if len(v.title) > MAX_SHORT:
            raise ValidationError("title", f"must be at most {MAX_SHORT} characters")
        for name in ("description", "repro_evidence"):
            if len(getattr(v, name)) > MAX_TEXT:
                raise ValidationError(name, f"must be at most {MAX_TEXT:,} characters")
        for name in ("vendor", "product"):
            if len(getattr(v, name)) > MAX_SHORT:
                raise ValidationError(name, f"must be at most {MAX_SHORT} characters")
        if v.id:
            parse_id(v.id)
        cwe = v.cwe.strip().upper()
        if cwe and not CWE_RE.match(cwe):
            raise ValidationError("cwe", f"'{v.cwe}' is not a CWE id (CWE-NNN)")
        cve = v.cve.strip().upper()
        if cve and not CVE_RE.match(cve):
            raise ValidationError("cve", f"'{v.cve}' is not a CVE id (CVE-YYYY-NNNN, four or more digits)")
        product_id = validate_product_id(v.product_id)
        more = _validate_more_products(AffectedProduct(v.vendor.strip(), v.product.strip(), product_id),
                                       v.more_products)
        vector = CvssV4.parse(v.cvss_vector).vector if v.cvss_vector.strip() else ""
        v3 = parse_cvss3(v.cvss_v3_vector)[0] if v.cvss_v3_vector.strip() else ""
        if v.vendor_notified and v.discovered and v.vendor_notified < v.discovered:
            raise ValidationError(
                "vendor_notified",
                f"vendor notified {v.vendor_notified.isoformat()} is before discovery {v.discovered.isoformat()}",
            )
        if v.published and v.discovered and v.published < v.discovered:
            raise ValidationError(
                "published", f"published {v.published.isoformat()} is before discovery {v.discovered.isoformat()}"
            )
        if v.status is VulnStatus.PUBLISHED and v.published is None:
            raise ValidationError("published", "a published vulnerability needs its publication date")
        if v.status is VulnStatus.VENDOR_NOTIFIED and v.vendor_notified is None:
            raise ValidationError("vendor_notified", "status 'vendor notified' needs the date the vendor was notified")
        return replace(v, title=v.title.strip(), cwe=cwe, cve=cve, product_id=product_id,
                       cvss_vector=vector, cvss_v3_vector=v3, vendor=v.vendor.strip(), product=v.product.strip(),
                       remediations=tuple(r.validate(n) for n, r in enumerate(v.remediations)),
                       notes=tuple(x.validate(n) for n, x in enumerate(v.notes)), more_products=more)

    @property
    def first_product(self) -> AffectedProduct:
        return AffectedProduct(self.vendor, self.product, self.product_id)

    @property
    def products(self) -> tuple[AffectedProduct, ...]:
        """Every affected product, the first (vendor, product, product_id) first; () when none is named."""
        first = self.first_product
        return (first, *self.more_products) if first.identity or self.more_products else ()

    @property
    def affected(self) -> str:
        """The first affected product's vendor and product (`affected_all` names every one)."""
        return self.first_product.name or "(product not named)"

    @property
    def named_in_rows(self) -> str:
        """What a printed row (the report annex, the printable register) names after the title: every
        affected product by vendor and product, then the CVE; only what is known, "" when nothing is."""
        return ", ".join(p for p in (*(x.name for x in self.products), self.cve) if p)

    @property
    def affected_all(self) -> str:
        """Every affected product by vendor and product (else its id), "; "-separated."""
        return "; ".join(p.name or p.product_id for p in self.products) or "(product not named)"

    @property
    def product_identity(self) -> str:
        """How remediation entries name the first affected product: its CPE/purl, else vendor and product."""
        return self.first_product.identity

    @property
    def product_identities(self) -> tuple[str, ...]:
        """Every affected product's identity, in order (remediation `product_ids` () means all of these)."""
        return tuple(p.identity for p in self.products)

    @property
    def remediation_summary(self) -> str:
        """One line per entry, for tables and the CLI."""
        return "\n".join(f"{r.category.value}: {r.details}" for r in self.remediations)


def _validate_more_products(first: AffectedProduct, more: tuple[AffectedProduct, ...]
                            ) -> tuple[AffectedProduct, ...]:
    """Further affected products, normalised: each named, none twice (nor the first again), at most
    MAX_PRODUCTS in all."""
    if not more:
        return ()
    if len(more) + 1 > MAX_PRODUCTS:
        raise ValidationError("more_products", f"at most {MAX_PRODUCTS} affected products ({len(more) + 1} given)")
    if not first.identity:
        raise ValidationError("more_products", "name the first affected product (vendor, product or CPE/purl) "
                                               "before further ones")
    seen = {first.identity.casefold(): "the first affected product"}
    out = []
    for n, p in enumerate(more):
        where = f"more_products[{n}]"
        p = p.validate(where)
        if not p.identity:
            raise ValidationError(where, "an affected product needs a vendor, a product name or a CPE/purl")
        key = p.identity.casefold()
        if key in seen:
            raise ValidationError(where, f"'{p.identity[:80]}' is already listed as {seen[key]}")
        seen[key] = f"more_products[{n}]"
        out.append(p)
    return tuple(out)


def _field_value(name: str, value: Any) -> Any:
    if name in ("discovered", "vendor_notified", "embargo_until", "published"):
        return date.fromisoformat(value) if value else None
    converters: dict[str, Any] = {
        "target": Target,
        "repro_status": ReproStatus,
        "tlp": Tlp,
        "marking": Marking.parse,
        "remediations": lambda xs: tuple(Remediation.from_dict(x) for x in xs),
        "notes": lambda xs: tuple(Note.from_dict(x) for x in xs),
        "more_products": lambda xs: tuple(AffectedProduct.from_dict(x) for x in xs),
    }
    conv = converters.get(name)
    return conv(value) if conv else value


def default_embargo(planned_release: date | None, discovered: date | None) -> date | None:
    """Embargo defaults to the model's planned public release date (the review window's end)."""
    if planned_release is None:
        return None
    if discovered is not None and planned_release < discovered:
        return discovered
    return planned_release


@dataclass(frozen=True)
class ExchangeState:
    """What was last sent or received for a record (CSAF), for versioning and three-way merges."""

    baseline: dict[str, Any] | None
    version: int
    history: list[dict[str, Any]]
    tracking_id: str
    tracking_key: str


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a register record's change history (what changed, and the record after it)."""

    vuln_id: str
    revision: int
    ts: str
    actor: str
    action: str
    changes: dict[str, list[Any]]
    snapshot: dict[str, Any]
