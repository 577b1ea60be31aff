"""Three-way merge of CSAF-exchanged vulnerability fields: baseline (what was last exchanged), local
(the register now) and incoming (the partner's advisory).

Scalar fields: a change on one side is taken; a change on both sides to different values is a
conflict a person resolves. List fields (remediations, notes, further affected products) are merged
entry by entry, so a partner's vendor fix added next to our "none available" arrives as a second
entry with its own category instead of being glued onto ours; an entry changed differently on both
sides is a conflict of that field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.model.vulnerabilities import EXCHANGED_FIELDS, LIST_FIELDS

Entry = dict[str, Any]
# How entries are recognised across versions once no identical entry is left, in order: a remediation
# whose text changed keeps its category, one whose category changed keeps its text (likewise notes).
ENTRY_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "remediations": (("category", "details"), ("details",), ("category",)),
    "notes": (("category", "title"), ("title",), ("text",)),
    # further affected products: a product whose CPE/purl changed keeps its name, a renamed one its id
    "more_products": (("vendor", "product"), ("product_id",)),
}


@dataclass(frozen=True)
class Merge:
    merged: dict[str, Any]  # local values, with partner-only changes taken and conflicts left local
    taken: list[str]  # fields whose merged value came (partly) from the partner
    conflicts: list[str]  # fields changed on both sides: a person chooses
    # conflicting field -> its value when the person chooses the incoming side (for list fields the
    # merge of both sides with the partner's version of the contested entries)
    on_incoming: dict[str, Any] = field(default_factory=dict)


def _align(base: list[Entry], other: list[Entry], keys: tuple[tuple[str, ...], ...]) -> dict[int, int]:
    """base index -> other index: identical entries first, then entries agreeing on each key in turn."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for key in (None, *keys):
        for bi, b in enumerate(base):
            if bi in pairs:
                continue
            for oi, o in enumerate(other):
                if oi not in used and (o == b if key is None else all(o.get(k) == b.get(k) for k in key)):
                    pairs[bi] = oi
                    used.add(oi)
                    break
    return pairs


def merge_entries(base: list[Entry], local: list[Entry], incoming: list[Entry], keys: tuple[tuple[str, ...], ...]
                  ) -> tuple[list[Entry], list[Entry], bool]:
    """(merged keeping local on conflicts, merged taking incoming on conflicts, any conflict).

    Order: local entries as they stand, then entries only the partner added."""
    to_local, to_inc = _align(base, local, keys), _align(base, incoming, keys)
    local_of = {li: bi for bi, li in to_local.items()}
    keep_local: list[Entry] = []
    keep_inc: list[Entry] = []
    conflict = False

    def resolve(bi: int, lv: Entry | None, iv: Entry | None) -> None:
        nonlocal conflict
        b = base[bi]
        if lv == iv or iv == b:
            chosen_l = chosen_i = lv  # same on both sides, or changed only here
        elif lv == b:
            chosen_l = chosen_i = iv  # changed (or removed) only by the partner
        else:
            conflict = True
            chosen_l, chosen_i = lv, iv
        if chosen_l is not None:
            keep_local.append(chosen_l)
        if chosen_i is not None:
            keep_inc.append(chosen_i)

    for li, lv in enumerate(local):
        if li in local_of:
            bi = local_of[li]
            resolve(bi, lv, incoming[to_inc[bi]] if bi in to_inc else None)
        else:  # added here
            keep_local.append(lv)
            keep_inc.append(lv)
    for bi in range(len(base)):
        if bi not in to_local:  # removed here
            resolve(bi, None, incoming[to_inc[bi]] if bi in to_inc else None)
    matched_inc = set(to_inc.values())
    for ii, iv in enumerate(incoming):
        if ii not in matched_inc:  # added by the partner (once, if both sides added the same entry)
            if iv not in keep_local:
                keep_local.append(iv)
            if iv not in keep_inc:
                keep_inc.append(iv)
    return keep_local, keep_inc, conflict


def merge(baseline: dict[str, Any] | None, local: dict[str, Any], incoming: dict[str, Any]) -> Merge:
    """Merge exchanged fields. Without a baseline (the record was never exchanged), any difference is
    a conflict: the reviewer decides, nothing is overwritten silently."""
    merged = dict(local)
    taken: list[str] = []
    conflicts: list[str] = []
    on_incoming: dict[str, Any] = {}
    for name in EXCHANGED_FIELDS:
        lv, iv = local.get(name, ""), incoming.get(name, "")
        if lv == iv:
            continue
        bv = None if baseline is None else baseline.get(name, "")
        if baseline is not None and name in LIST_FIELDS and isinstance(bv, list):
            with_local, with_inc, conflict = merge_entries(bv, lv, iv, ENTRY_KEYS[name])
            merged[name] = with_local
            if conflict:
                conflicts.append(name)
                on_incoming[name] = with_inc
            elif with_local != lv:
                taken.append(name)
        elif baseline is not None and lv == bv:
            merged[name] = iv  # changed only by the partner
            taken.append(name)
        elif baseline is not None and iv == bv:
            continue  # changed only here: keep the local edit
        else:
            conflicts.append(name)
            on_incoming[name] = iv
    return Merge(merged, taken, conflicts, on_incoming)


def three_way(baseline: dict[str, Any] | None, local: dict[str, Any], incoming: dict[str, Any]
              ) -> tuple[dict[str, Any], list[str], list[str]]:
    """(merged, fields taken from incoming, conflicting fields): `merge` without the resolutions."""
    m = merge(baseline, local, incoming)
    return m.merged, m.taken, m.conflicts
