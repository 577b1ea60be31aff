"""Every affected product of an incoming CSAF advisory, not only the first.

app/ingest/csaf_import.py maps each vulnerabilities[] item to a register entry carrying ONE affected
product (the first known/first/last-affected one) and names the others in a warning. This module
reads the same, already validated document again and completes each entry: the further affected
products (vendor / product split from the vendor and product_name branches, CPE or purl from the
identification helper) and the remediations' product lists against all of them (an entry for every
affected product keeps `product_ids` () as the register writes it).

It lives in the service layer only because the ingest module is frozen for other work; once that
ends, the mapping belongs in csaf_import._item.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.ingest import csaf_import
from app.ingest.csaf_import import IncomingAdvisory, IncomingItem, Validator
from app.model.errors import IngestError, ValidationError
from app.model.markings import UNCLASSIFIED, Marking
from app.model.vulnerabilities import MAX_PRODUCTS, UNSPECIFIED_PRODUCT, AffectedProduct, Remediation

_STATUSES = ("known_affected", "first_affected", "last_affected")  # what the register counts as affected


def read_advisory(path: Path, validate: Validator, default_marking: Marking = UNCLASSIFIED) -> IncomingAdvisory:
    """csaf_import.read_advisory with every affected product of each entry; IngestError names the file."""
    adv = csaf_import.read_advisory(path, validate, default_marking)
    data = csaf_import.read_bytes(path)
    if hashlib.sha256(data).hexdigest() != adv.sha256:
        raise IngestError(adv.path, "the file changed while it was being read; nothing imported")
    return with_every_product(adv, csaf_import.parse_json(data, adv.path))


def _walk(branches: Any, vendor: str = "", product: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    for b in branches or []:
        if not isinstance(b, dict):
            continue
        v = b.get("name", "") if b.get("category") == "vendor" else vendor
        p = b.get("name", "") if b.get("category") == "product_name" else product
        if isinstance(b.get("product"), dict):
            yield v, p, b["product"]
        yield from _walk(b.get("branches"), v, p)


def products(doc: dict[str, Any]) -> dict[str, AffectedProduct]:
    """CSAF product id -> the product as the register names it (as csaf_import reads the first one)."""
    tree = doc.get("product_tree") or {}
    entries = list(_walk(tree.get("branches")))
    entries += [("", fp.get("name", ""), fp) for fp in tree.get("full_product_names") or [] if isinstance(fp, dict)]
    found: dict[str, AffectedProduct] = {}
    for vendor, product, fp in entries:
        helper = fp.get("product_identification_helper") or {}
        ident = helper.get("cpe") or helper.get("purl") or next(iter(helper.get("purls") or []), "")
        name = product or fp.get("name", "")
        if name == UNSPECIFIED_PRODUCT and not vendor and not ident:
            name = ""  # our placeholder for "no product named"
        found[str(fp.get("product_id", ""))] = AffectedProduct(
            csaf_import.clean(vendor), csaf_import.clean(name), str(ident or ""))
    return found


def _affected_refs(raw: dict[str, Any], known: dict[str, AffectedProduct]) -> list[str]:
    status = raw.get("product_status") or {}
    refs = [str(r) for name in _STATUSES for r in status.get(name) or []]
    return [r for r in dict.fromkeys(refs) if r in known]


def _complete(item: IncomingItem, raw: dict[str, Any], known: dict[str, AffectedProduct],
              file: str) -> IncomingItem:
    v = item.vuln
    refs = _affected_refs(raw, known)
    if len(refs) < 2:
        return item
    warnings = [w for w in item.warnings if not w.startswith(f"{item.json_path}.product_status: several")]
    # ref -> identity: the first affected product as csaf_import named it, the others by their own
    identity_of = {refs[0]: v.product_identity}
    seen = {v.product_identity.casefold()}
    more: list[AffectedProduct] = []
    for ref in refs[1:]:
        p = known[ref]
        key = p.identity.casefold()
        if not p.identity or key in seen:
            identity_of.setdefault(ref, p.identity or v.product_identity)
            continue
        if len(more) + 1 >= MAX_PRODUCTS:
            warnings.append(f"{item.json_path}.product_status: more than {MAX_PRODUCTS} affected products; the "
                            f"register keeps the first {MAX_PRODUCTS}")
            break
        seen.add(key)
        identity_of[ref] = p.identity
        more.append(p)
    every = {p.identity for p in (v.first_product, *more)}
    remediations: list[Remediation] = []
    raw_entries = [r for r in raw.get("remediations") or [] if isinstance(r, dict)]
    for entry, r in zip(raw_entries, v.remediations, strict=True):
        ids: list[str] = []
        for ref in entry.get("product_ids") or []:
            ref = str(ref)
            if ref in identity_of:
                ids.append(identity_of[ref])
            else:  # a product only this remediation names (a partner's fix for another version)
                p = known.get(ref, AffectedProduct())
                ids.append(csaf_import.clean(p.identity or ref))
        unique = tuple(dict.fromkeys(ids))
        remediations.append(dataclasses.replace(r, product_ids=() if set(unique) == every else unique))
    try:
        vuln = dataclasses.replace(v, more_products=tuple(more), remediations=tuple(remediations)).validate()
    except ValidationError as exc:
        raise IngestError(file, f"{item.json_path}: {exc}") from None
    return dataclasses.replace(item, vuln=vuln, warnings=tuple(warnings))


def with_every_product(adv: IncomingAdvisory, doc: dict[str, Any]) -> IncomingAdvisory:
    """`adv` (read from `doc`) with each entry's further affected products and remediation products."""
    known = products(doc)
    raws = doc.get("vulnerabilities") or []
    items = tuple(_complete(item, raws[item.index], known, adv.path) for item in adv.items)
    return dataclasses.replace(adv, items=items)
