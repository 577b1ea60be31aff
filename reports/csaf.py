"""CSAF advisories for the vulnerability register (OASIS CSAF 2.0 and 2.1).

One advisory per register entry. CSAF 2.1 when a CVSS v4 vector is present (2.1 adds CVSS v4
and TLP 2.0); CSAF 2.0 otherwise (CVSS v3.1 at most, TLP 1.0 labels). What CSAF has no field for
(classification marking, embargo, reproduction) travels in distribution text and notes that
app/ingest/csaf_import.py reads back, so an export re-imports without loss.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.model.csaf_publisher import Publisher
from app.model.vulnerabilities import (
    NO_REMEDIATION,
    UNSPECIFIED_PRODUCT,
    Tlp,
    Vulnerability,
    parse_cvss3,
    product_id_kind,
)
from reports.csaf_validate import CSAF_21_ID, csaf_package_dir

ENGINE = "Frontier Review Workstation"
PRODUCT_REF = "FRWP-1"
ID_SYSTEM = "Frontier Review Workstation register"
REPRO_TITLE = "Reproduction"
TARGET_TITLE = "Affected target"
HANDLING_TITLE = "Handling"
TLP_URL = "https://www.first.org/tlp/"
# TLP 2.0 -> TLP 1.0 (CSAF 2.0). AMBER+STRICT has no 1.0 label: AMBER, with the strict label in text.
_TLP_20 = {Tlp.CLEAR: "WHITE", Tlp.GREEN: "GREEN", Tlp.AMBER: "AMBER", Tlp.AMBER_STRICT: "AMBER", Tlp.RED: "RED"}
# CSAF 2.0 has fewer remediation categories than 2.1.
_REMEDIATION_20 = {"fix_planned": "none_available", "optional_patch": "vendor_fix"}


@dataclass(frozen=True)
class Revision:
    date: str  # ISO date-time
    number: str
    summary: str


@dataclass(frozen=True)
class AdvisoryMeta:
    tracking_id: str
    version: int
    history: tuple[Revision, ...]
    generated: str  # ISO date-time
    engine_version: str = "0"
    extra_distribution_text: str = field(default="")
    # Identifies the entry inside its tracking lineage (ids[].text): our register id for entries found
    # here, the partner's key for imported ones, so a partner re-importing our export matches its own.
    entry_key: str = ""


def csaf_version_for(v: Vulnerability) -> str:
    return "2.1" if v.cvss_vector else "2.0"


def filename(tracking_id: str) -> str:
    """CSAF file name rule: lower-case tracking id, other characters than [+-a-z0-9] become '_'."""
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


def _dt(d: date | str) -> str:
    if isinstance(d, date):
        return f"{d.isoformat()}T00:00:00.000Z"
    return d.replace("+00:00", "Z")


@functools.cache
def _cwe_catalog() -> tuple[str, dict[str, tuple[str, str]]]:
    """(latest catalog version, id -> (name, version it is named in)) from the MITRE CWE list in the
    `csaf` package. A weakness later removed from the list keeps its last name and that version."""
    root = csaf_package_dir()
    try:
        if root is None:
            raise FileNotFoundError("csaf package")
        data = json.loads((root / "csaf/v21/cwe/catalog.json").read_text(encoding="utf-8"))
        latest = str(data["latest_version"])
        out: dict[str, tuple[str, str]] = {}
        for key, entry in data["weaknesses"].items():
            history = entry.get("history") or []
            named = [(v, n) for v, n in history if n]
            if not named:
                continue
            current = history[-1][1] is not None
            out[key] = (named[-1][1], latest if current else str(named[-1][0]))
        return latest, out
    except (ModuleNotFoundError, FileNotFoundError, OSError, ValueError, KeyError, TypeError):
        return "4.0", {}


def cwe_entry(cwe: str) -> tuple[str, str]:
    """(name, catalog version) for a CWE id; the id itself when the catalog does not know it."""
    latest, names = _cwe_catalog()
    name, version = names.get(cwe.removeprefix("CWE-"), (cwe, latest))
    # CSAF 2.1: a name may not start or end with white space, '-', '_' or '.'.
    return name.strip(" \t-_.") or cwe, version


def cwe_name(cwe: str) -> str:
    return cwe_entry(cwe)[0]


def distribution_text(v: Vulnerability, csaf_version: str, extra: str = "") -> str:
    parts = [f"Classification: {v.marking.banner()}."]
    parts.append(f"TLP 2.0 label: {v.tlp.value}.")
    if v.embargo_until:
        parts.append(f"Embargoed until {v.embargo_until.isoformat()}: do not publish or share beyond the "
                     "recipients before that date.")
    if extra:
        parts.append(extra)
    return " ".join(parts)


def _cvss4_json(v: Vulnerability) -> dict[str, Any]:
    c = v.cvss
    assert c is not None
    return {"version": "4.0", "vectorString": c.vector, "baseScore": c.score,
            "baseSeverity": c.severity.value.upper()}


def _cvss3_json(v: Vulnerability) -> dict[str, Any]:
    vector, score, severity = parse_cvss3(v.cvss_v3_vector)
    return {"version": "3.1", "vectorString": vector, "baseScore": score, "baseSeverity": severity.value.upper()}


def _helper(identity: str, csaf_version: str) -> dict[str, Any] | None:
    kind = product_id_kind(identity)
    if kind == "cpe":
        return {"cpe": identity}
    if kind == "purl":
        return {"purls": [identity]} if csaf_version == "2.1" else {"purl": identity}
    return None


def product_refs(v: Vulnerability) -> dict[str, str]:
    """Product identity -> CSAF product id: the affected products are FRWP-1, FRWP-2... in order (the
    first always FRWP-1); products that only remediation entries name (a partner's fix for another
    version) follow."""
    refs = {v.product_identity: PRODUCT_REF}
    for p in v.more_products:
        refs.setdefault(p.identity, f"FRWP-{len(refs) + 1}")
    for r in v.remediations:
        for identity in r.product_ids:
            refs.setdefault(identity, f"FRWP-{len(refs) + 1}")
    return refs


def affected_refs(v: Vulnerability) -> list[str]:
    """The CSAF product ids of every affected product (known_affected, scores, "all" remediations)."""
    refs = product_refs(v)
    return [PRODUCT_REF, *(refs[p.identity] for p in v.more_products)]


def _full_product(name: str, ref: str, product_id: str, csaf_version: str) -> dict[str, Any]:
    prod: dict[str, Any] = {"name": name, "product_id": ref}
    helper = _helper(product_id, csaf_version)
    if helper:
        prod["product_identification_helper"] = helper
    return prod


def _product(v: Vulnerability, csaf_version: str) -> dict[str, Any]:
    refs = product_refs(v)
    vendors: dict[str, list[dict[str, Any]]] = {}  # vendor -> its product_name branches, in order
    loose: list[dict[str, Any]] = []  # products without a vendor
    for n, p in enumerate((v.first_product, *v.more_products)):
        name = p.name if (p.vendor or p.product) else UNSPECIFIED_PRODUCT
        prod = _full_product(name, PRODUCT_REF if n == 0 else refs[p.identity], p.product_id, csaf_version)
        if p.vendor:
            # Vendor / product name branches keep vendor and product apart for the round trip.
            vendors.setdefault(p.vendor, []).append(
                {"category": "product_name", "name": p.product or name, "product": prod})
        else:
            loose.append(prod)
    affected = set(affected_refs(v))
    loose += [_full_product(identity, ref, identity, csaf_version)
              for identity, ref in refs.items() if ref not in affected]
    tree: dict[str, Any] = {}
    if vendors:
        tree["branches"] = [{"category": "vendor", "name": vendor, "branches": branches}
                            for vendor, branches in vendors.items()]
    if loose:
        tree["full_product_names"] = loose
    return tree


def _vulnerability(v: Vulnerability, csaf_version: str, entry_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {"title": v.title, "ids": [{"system_name": ID_SYSTEM, "text": entry_key or v.id}]}
    if v.cve:
        out["cve"] = v.cve
    if v.cwe:
        name, version = cwe_entry(v.cwe)
        if csaf_version == "2.1":
            out["cwes"] = [{"id": v.cwe, "name": name, "version": version}]
        else:
            out["cwe"] = {"id": v.cwe, "name": name}
    notes = []
    if v.description:
        notes.append({"category": "description", "title": "Description", "text": v.description})
    repro = f"Status: {v.repro_status.value}"
    if v.repro_evidence:
        repro += "\n\n" + v.repro_evidence
    notes.append({"category": "details", "title": REPRO_TITLE, "text": repro})
    notes.append({"category": "other", "title": TARGET_TITLE, "text": v.target.value})
    notes += [{"category": n.category.value, "title": n.title, "text": n.text} if n.title else
              {"category": n.category.value, "text": n.text} for n in v.notes]
    out["notes"] = notes
    if v.discovered:
        out["discovery_date"] = _dt(v.discovered)
    if v.published:
        out["disclosure_date" if csaf_version == "2.1" else "release_date"] = _dt(v.published)
    if v.vendor_notified:
        out["involvements"] = [{
            "party": "vendor", "status": "in_progress", "date": _dt(v.vendor_notified),
            "summary": "Vendor notified by the clearinghouse.",
        }]
    affected = affected_refs(v)
    out["product_status"] = {"known_affected": affected}
    if csaf_version == "2.1":
        content: dict[str, Any] = {}
        if v.cvss_vector:
            content["cvss_v4"] = _cvss4_json(v)
        if v.cvss_v3_vector:
            content["cvss_v3"] = _cvss3_json(v)
        if content:
            out["metrics"] = [{"content": content, "products": affected}]
    elif v.cvss_v3_vector:
        out["scores"] = [{"products": affected, "cvss_v3": _cvss3_json(v)}]
    refs = product_refs(v)
    remediations = []
    for r in v.remediations:  # every entry, each with its own category, products, date and URL
        category = r.category.value
        if csaf_version == "2.0":
            category = _REMEDIATION_20.get(category, category)
        entry: dict[str, Any] = {"category": category, "details": r.details or NO_REMEDIATION,
                                 "product_ids": [refs[p] for p in r.product_ids] or affected}
        if r.issued:
            entry["date"] = _dt(r.issued)
        if r.url:
            entry["url"] = r.url
        remediations.append(entry)
    if remediations:
        out["remediations"] = remediations
    return out


def advisory(v: Vulnerability, publisher: Publisher, meta: AdvisoryMeta) -> dict[str, Any]:
    """The CSAF document for one register entry (validate with reports.csaf_validate)."""
    version = csaf_version_for(v)
    tlp_label = v.tlp.value if version == "2.1" else _TLP_20[v.tlp]
    dist_text = distribution_text(v, version, meta.extra_distribution_text)
    history = [{"date": _dt(r.date), "number": r.number, "summary": r.summary} for r in meta.history]
    document: dict[str, Any] = {
        "category": "csaf_security_advisory",
        "csaf_version": version,
        "distribution": {"tlp": {"label": tlp_label, "url": TLP_URL}, "text": dist_text},
        "lang": "en",
        "notes": [
            {"category": "summary", "title": "Summary",
             "text": f"{v.title} ({v.affected_all}; {v.target.value})."},
            {"category": "legal_disclaimer", "title": HANDLING_TITLE, "text": dist_text},
        ],
        "publisher": {"category": publisher.category, "name": publisher.name, "namespace": publisher.namespace},
        "references": [{
            "category": "self", "summary": "This advisory",
            "url": f"{publisher.namespace.rstrip('/')}/csaf/{filename(meta.tracking_id)}",
        }],
        "title": v.title,
        "tracking": {
            "current_release_date": history[-1]["date"],
            "generator": {"date": _dt(meta.generated), "engine": {"name": ENGINE, "version": meta.engine_version}},
            "id": meta.tracking_id,
            "initial_release_date": history[0]["date"],
            "revision_history": history,
            "status": "final" if v.published else "interim",
            "version": str(meta.version),
        },
    }
    doc: dict[str, Any] = {}
    if version == "2.1":
        doc["$schema"] = CSAF_21_ID
    doc["document"] = document
    doc["product_tree"] = _product(v, version)
    doc["vulnerabilities"] = [_vulnerability(v, version, meta.entry_key)]
    return doc


def to_bytes(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

