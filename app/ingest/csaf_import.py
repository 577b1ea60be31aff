"""Read partner CSAF advisories (2.0 / 2.1 JSON) into register entries, bounded and strict.

Reading is separate from schema validation (reports/csaf_validate.py, which the service passes in
as `validate`): this module only imports app.model. Every failure is an IngestError naming the
file and the JSON path of the offending value. Nothing here touches the register.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from app.foundation.files import read_bounded, shown_name
from app.foundation.text import untrusted_text
from app.ingest import jsonread
from app.model.errors import IngestError, ValidationError
from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.vulnerabilities import (
    MAX_PRODUCTS,
    UNSPECIFIED_PRODUCT,
    AffectedProduct,
    CvssV4,
    Note,
    NoteCategory,
    Remediation,
    RemediationCategory,
    ReproStatus,
    Target,
    Tlp,
    Vulnerability,
    parse_cvss3,
)

MAX_BYTES = 16 * 1024 * 1024  # CSAF advisories are kilobytes; anything this large is not one
MAX_VULNERABILITIES = 5000
# Nesting levels accepted. A real advisory nests about 15 (product branches several deep); schema
# validation recurses through Python for each level and ended in RecursionError near 600.
MAX_DEPTH = 100
ID_SYSTEM = "Frontier Review Workstation register"  # the ids[] system our exports use

Validator = Callable[[Any], list[Any]]  # returns problems with str() "path: message"

_TLP = {"WHITE": Tlp.CLEAR, "CLEAR": Tlp.CLEAR, "GREEN": Tlp.GREEN, "AMBER": Tlp.AMBER,
        "AMBER+STRICT": Tlp.AMBER_STRICT, "RED": Tlp.RED}
_REMEDIATION = {c.value: c for c in RemediationCategory}
_CLASSIFICATION = re.compile(r"Classification: ([A-Z][A-Z /]*(?://[A-Z][A-Z ]*)*)\.")
_TLP_TEXT = re.compile(r"TLP 2\.0 label: (CLEAR|GREEN|AMBER\+STRICT|AMBER|RED)\.")
_EMBARGO = re.compile(r"Embargoed until (\d{4}-\d{2}-\d{2})")
_REPRO = re.compile(r"^Status: ([a-z ]+)(?:\n\n(.*))?$", re.S)


@dataclass(frozen=True)
class IncomingItem:
    index: int
    key: str  # identifies the vulnerability inside its document (our register id, CVE, or position)
    json_path: str
    vuln: Vulnerability
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class IncomingAdvisory:
    path: str
    sha256: str
    csaf_version: str
    tracking_id: str
    tracking_version: str
    publisher_name: str
    publisher_namespace: str
    title: str
    items: tuple[IncomingItem, ...] = field(default_factory=tuple)


def clean(text: Any) -> str:
    """Untrusted text from a partner (the one policy: app.foundation.text)."""
    return untrusted_text(text or "")


def _jp(*parts: str | int) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _finite(text: str) -> float:
    """A number too large for a float (1e999) would become infinity and break scoring and schema
    checks later; it is refused here, where the file is still named."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:40]} is out of range (not a finite number)")
    return value


def _in_float_range(text: str) -> int:
    """An integer beyond a float's range (10**400 is valid JSON) is refused like 1e999: the schema's
    checks (multipleOf) and scoring would fail on it with an exception instead of a message."""
    value = int(text)
    try:
        float(value)
    except OverflowError:
        raise ValueError(f"the number {text[:40]}... ({len(text):,} digits) is out of range") from None
    return value


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    return read_bounded(path, max_bytes, "CSAF advisory")


def parse_json(data: bytes, name: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise IngestError(name, f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    if jsonread.too_deep(text, MAX_DEPTH):
        raise IngestError(name, f"JSON nested more than {MAX_DEPTH} levels deep; not a CSAF advisory")
    try:
        doc = json.loads(text, parse_constant=_no_constants, parse_float=_finite, parse_int=_in_float_range)
    except json.JSONDecodeError as exc:
        raise IngestError(name, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise IngestError(name, f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise IngestError(name, f"$: a CSAF document is a JSON object, found {type(doc).__name__}")
    # "\ud800" is valid JSON but no UTF-8 text: fields stored as they are (tracking id, publisher,
    # product identifier) failed at the database with UnicodeEncodeError
    return jsonread.without_lone_surrogates(doc, text)


def _date(value: Any, name: str, path: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise IngestError(name, f"{path}: '{value}' is not a date-time") from None


def _walk_branches(branches: list[Any], vendor: str = "", product_name: str = ""
                   ) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for b in branches or []:
        if not isinstance(b, dict):
            continue
        v = b.get("name", "") if b.get("category") == "vendor" else vendor
        p = b.get("name", "") if b.get("category") == "product_name" else product_name
        if isinstance(b.get("product"), dict):
            yield v, p, b["product"]
        yield from _walk_branches(b.get("branches") or [], v, p)


def _products(doc: dict[str, Any]) -> dict[str, AffectedProduct]:
    """product_id -> the product as the register names it (vendor and product from the branches)."""
    tree = doc.get("product_tree") or {}
    found: dict[str, AffectedProduct] = {}
    entries = list(_walk_branches(tree.get("branches") or []))
    entries += [("", fp.get("name", ""), fp) for fp in tree.get("full_product_names") or [] if isinstance(fp, dict)]
    for vendor, product, fp in entries:
        helper = fp.get("product_identification_helper") or {}
        ident = helper.get("cpe") or helper.get("purl") or next(iter(helper.get("purls") or []), "")
        name = product or fp.get("name", "")
        if name == UNSPECIFIED_PRODUCT and not vendor and not ident:
            name = ""  # our own placeholder for "no product named" comes back as no product
        found[str(fp.get("product_id", ""))] = AffectedProduct(clean(vendor), clean(name), str(ident or ""))
    return found


_AFFECTED = ("known_affected", "first_affected", "last_affected")  # what the register counts as affected


def _affected(raw: dict[str, Any], products: dict[str, AffectedProduct], base: str,
              warnings: list[str]) -> tuple[AffectedProduct, tuple[AffectedProduct, ...], dict[str, int]]:
    """The entry's affected products: the first (the first named one its product_status lists, else the
    tree's first product), the further ones (each once, at most MAX_PRODUCTS in all), and each product
    reference's place among them (a product listed twice, or unnamed, is the first's)."""
    status = raw.get("product_status") or {}
    refs = [r for r in dict.fromkeys(str(r) for key in _AFFECTED for r in status.get(key) or []) if r in products]
    named = [r for r in refs if products[r].identity]
    first_ref = (named or refs or list(products) or [""])[0]
    first = products.get(first_ref, AffectedProduct())
    place = dict.fromkeys([first_ref, *refs], 0)
    seen = {first.identity.casefold(): 0}
    more: list[AffectedProduct] = []
    for ref in named:
        key = products[ref].identity.casefold()
        if key not in seen:
            if len(more) + 1 >= MAX_PRODUCTS:
                warnings.append(f"{base}.product_status: more than {MAX_PRODUCTS} affected products; the "
                                f"register keeps the first {MAX_PRODUCTS}")
                break
            more.append(products[ref])
            seen[key] = len(more)
        place[ref] = seen[key]
    return first, tuple(more), place


def _note(notes: list[Any], used: set[int], title: str | None = None, category: str | None = None) -> str | None:
    """The first note matching title/category; its index goes into `used` (the rest are kept as notes)."""
    for k, n in enumerate(notes or []):
        if not isinstance(n, dict) or k in used:
            continue
        if (title is None or n.get("title") == title) and (category is None or n.get("category") == category):
            used.add(k)
            return str(n.get("text", ""))
    return None


def _remediations(raw: dict[str, Any], name: str, base: str, products: dict[str, AffectedProduct],
                  place: dict[str, int], identities: tuple[str, ...]) -> tuple[Remediation, ...]:
    """Every remediation entry, each with its own category, products, date and URL. Its products are
    named as the register names the affected ones (`identities`, by `place`); one that lists them all
    keeps () ("every affected product")."""
    out: list[Remediation] = []
    for k, r in enumerate(raw.get("remediations") or []):
        if not isinstance(r, dict):
            continue
        where = f"{base}.remediations[{k}]"
        category = _REMEDIATION.get(str(r.get("category")))
        if category is None:
            raise IngestError(name, f"{where}.category: '{r.get('category')}' is not a CSAF remediation category")
        named: list[str] = []
        for ref in r.get("product_ids") or []:
            ref = str(ref)
            if ref in place:  # an affected product (none named at all: the entry's unnamed product)
                named += identities[place[ref]:place[ref] + 1]
            else:  # a product only this remediation names (a fix for another version)
                named.append(clean(products.get(ref, AffectedProduct()).identity or ref))
        ids = tuple(dict.fromkeys(named))
        out.append(Remediation(category, clean(r.get("details", "")), () if set(ids) == set(identities) else ids,
                               _date(r.get("date"), name, f"{where}.date"), clean(r.get("url", ""))))
    return tuple(out)


def _item(doc: dict[str, Any], i: int, raw: dict[str, Any], name: str, products: dict[str, AffectedProduct],
          dist_text: str, tlp: Tlp, marking: Marking) -> IncomingItem:
    base = _jp("vulnerabilities", i)
    warnings: list[str] = []
    notes = raw.get("notes") or []
    first, more, place = _affected(raw, products, base, warnings)
    # Scores: CVSS v4 (2.1 metrics) and v3.1 (2.0 scores / 2.1 metrics).
    v4 = v3 = ""
    contents: list[tuple[str, dict[str, Any]]] = []
    for j, m in enumerate(raw.get("metrics") or []):
        contents.append((f"{base}.metrics[{j}].content", (m or {}).get("content") or {}))
    for j, s in enumerate(raw.get("scores") or []):
        contents.append((f"{base}.scores[{j}]", s or {}))
    for where, content in contents:
        c4 = content.get("cvss_v4")
        if isinstance(c4, dict) and not v4:
            try:
                parsed = CvssV4.parse(str(c4.get("vectorString", "")), "vectorString")
            except ValidationError as exc:
                raise IngestError(name, f"{where}.cvss_v4.{exc}") from None
            v4 = parsed.vector
            stated = c4.get("baseScore")
            if stated is not None and abs(float(stated) - parsed.score) > 0.05:
                warnings.append(f"{where}.cvss_v4.baseScore: stated {stated}, computed {parsed.score} (kept computed)")
        c3 = content.get("cvss_v3")
        if isinstance(c3, dict) and not v3:
            vs = str(c3.get("vectorString", ""))
            if vs.startswith("CVSS:3.1/"):
                try:
                    v3 = parse_cvss3(vs, "vectorString")[0]
                except ValidationError as exc:
                    raise IngestError(name, f"{where}.cvss_v3.{exc}") from None
            else:
                warnings.append(f"{where}.cvss_v3: CVSS {c3.get('version')} is not kept (the register holds 3.1)")
    cwe = ""
    if isinstance(raw.get("cwe"), dict):
        cwe = str(raw["cwe"].get("id", ""))
    elif raw.get("cwes"):
        cwe = str((raw["cwes"][0] or {}).get("id", ""))
    repro_status, evidence = ReproStatus.NOT_ATTEMPTED, ""
    used: set[int] = set()
    repro_text = _note(notes, used, title="Reproduction", category="details")
    if repro_text is not None:
        m = _REPRO.match(repro_text)
        if m and m.group(1) in {r.value for r in ReproStatus}:
            repro_status, evidence = ReproStatus(m.group(1)), m.group(2) or ""
        else:
            evidence = repro_text
    target_text = _note(notes, used, title="Affected target")
    target = Target(target_text) if target_text in {t.value for t in Target} else Target.SOFTWARE
    vendor_notified = None
    for k, inv in enumerate(raw.get("involvements") or []):
        if isinstance(inv, dict) and inv.get("party") == "vendor" and inv.get("date"):
            vendor_notified = _date(inv["date"], name, f"{base}.involvements[{k}].date")
            break
    own_id = next((str(x.get("text", "")) for x in raw.get("ids") or []
                   if isinstance(x, dict) and x.get("system_name") == ID_SYSTEM), "")
    cve = str(raw.get("cve", "") or "")
    key = own_id or (f"cve:{cve}" if cve else f"index:{i}")
    embargo = _EMBARGO.search(dist_text)
    description = _note(notes, used, category="description")
    if description is None:
        description = _note(notes, used, category="summary") or ""
    others = tuple(Note(NoteCategory(n["category"]), clean(n.get("title", "")), clean(n.get("text", "")))
                   for k, n in enumerate(notes) if k not in used and isinstance(n, dict)
                   and n.get("category") in {c.value for c in NoteCategory})
    title = str(raw.get("title") or (doc.get("document") or {}).get("title") or "")
    vuln = Vulnerability(
        title=clean(title), description=clean(description), target=target, vendor=first.vendor,
        product=first.product, product_id=first.product_id, more_products=more, cwe=cwe, cve=cve,
        cvss_vector=v4, cvss_v3_vector=v3,
        repro_status=repro_status, repro_evidence=clean(evidence),
        discovered=_date(raw.get("discovery_date"), name, f"{base}.discovery_date"),
        vendor_notified=vendor_notified,
        embargo_until=_date(embargo.group(1), name, "$.document.distribution.text: embargo") if embargo else None,
        published=_date(raw.get("disclosure_date") or raw.get("release_date"), name, f"{base}.disclosure_date"),
        tlp=tlp, remediations=(), notes=others, marking=marking,
    )
    try:
        vuln = vuln.validate()
        # remediation entries name the affected products the way the register does (normalised identities)
        remediations = _remediations(raw, name, base, products, place, vuln.product_identities)
        vuln = dataclasses.replace(vuln, remediations=remediations).validate()
    except ValidationError as exc:
        raise IngestError(name, f"{base}: {exc}") from None
    return IncomingItem(i, key, base, vuln, tuple(warnings))


def parse_advisory(doc: dict[str, Any], name: str, default_marking: Marking = UNCLASSIFIED,
                   sha256: str = "") -> IncomingAdvisory:
    """Map a schema-valid CSAF document to register entries (one per vulnerabilities[] item)."""
    document = doc.get("document") or {}
    tracking = document.get("tracking") or {}
    publisher = document.get("publisher") or {}
    dist = document.get("distribution") or {}
    dist_text = str(dist.get("text", ""))
    label = str((dist.get("tlp") or {}).get("label", ""))
    strict = _TLP_TEXT.search(dist_text)
    # A document without TLP is handled as AMBER: sharing limited until a person decides otherwise.
    tlp = Tlp(strict.group(1)) if strict else _TLP.get(label, Tlp.AMBER)
    # `default_marking` is the label of the media the file came on: it marks content that states no
    # classification. A stated marking is kept; one above the media label is a handling incident
    # (the media was under-labelled): kept at the higher of the two and flagged.
    marking = default_marking
    doc_warnings: list[str] = []
    cls = _CLASSIFICATION.search(dist_text)
    if cls:
        try:
            stated = Marking.parse(cls.group(1))
        except ValidationError as exc:
            raise IngestError(name, f"$.document.distribution.text: {exc}") from None
        marking = stated
        if not default_marking.dominates(stated):
            marking = rollup([stated, default_marking])
            doc_warnings.append(f"$.document.distribution.text: the advisory is marked {stated.banner()} but "
                                f"arrived on media labelled {default_marking.banner()}; report the media")
    raws = doc.get("vulnerabilities") or []
    if len(raws) > MAX_VULNERABILITIES:
        raise IngestError(name, f"$.vulnerabilities: {len(raws):,} entries; at most {MAX_VULNERABILITIES:,}")
    if not raws:
        raise IngestError(name, "$.vulnerabilities: the advisory lists no vulnerabilities; nothing to import")
    products = _products(doc)
    items = tuple(_item(doc, i, r, name, products, dist_text, tlp, marking)
                  for i, r in enumerate(raws) if isinstance(r, dict))
    if doc_warnings:
        items = tuple(dataclasses.replace(it, warnings=(*doc_warnings, *it.warnings)) for it in items)
    return IncomingAdvisory(
        path=name, sha256=sha256, csaf_version=str(document.get("csaf_version", "")),
        tracking_id=str(tracking.get("id", "")), tracking_version=str(tracking.get("version", "")),
        publisher_name=str(publisher.get("name", "")), publisher_namespace=str(publisher.get("namespace", "")),
        title=str(document.get("title", "")), items=items,
    )


def read_advisory(path: Path, validate: Validator, default_marking: Marking = UNCLASSIFIED,
                  max_bytes: int = MAX_BYTES) -> IncomingAdvisory:
    """Read, schema-validate and map one CSAF file; IngestError names the file and JSON path."""
    data = read_bytes(path, max_bytes)
    name = shown_name(str(path))  # stored and audited as the advisory's file: it may not be UTF-8
    doc = parse_json(data, name)
    version = str((doc.get("document") or {}).get("csaf_version", "")) if isinstance(doc.get("document"), dict) else ""
    if version not in ("2.0", "2.1"):
        raise IngestError(name, f"$.document.csaf_version: '{version}' is not a CSAF version this "
                                "workstation reads (2.0 or 2.1)")
    problems = validate(doc)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise IngestError(name, f"not a valid CSAF {version} document: "
                                + "; ".join(str(p) for p in problems[:3]) + more)
    return parse_advisory(doc, name, default_marking, hashlib.sha256(data).hexdigest())
