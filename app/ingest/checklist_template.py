"""Checklist template reader: versioned JSON (docs/CHECKLIST_FORMAT.md) -> app.model.checklist.Template.

Errors are IngestError naming the file and the field path (e.g. `sections[2].items[4].id`).
The template's SHA-256 is taken over the exact bytes read, so it matches the detached signature.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from app.foundation.files import read_bounded
from app.ingest.jsonread import loads_object
from app.ingest.versioned_json import Fields
from app.model.checklist import Section, Template, TemplateItem
from app.model.errors import IngestError

FORMAT = "frontier-review/checklist"
FORMAT_VERSION = 1
MAX_BYTES = 5 << 20
MAX_ITEMS = 5000


def parse(data: bytes, path: str) -> Template:
    if len(data) > MAX_BYTES:
        raise IngestError(path, f"is larger than {MAX_BYTES >> 20} MB; not a checklist template")
    doc = Fields(loads_object(data, path), path, "")
    doc.only({"format", "format_version", "template_id", "version", "title", "description", "sections"})
    doc.format_header(FORMAT, FORMAT_VERSION)
    template_id = doc.ident("template_id")
    version = doc.integer("version")
    title = doc.text("title", max_len=300)
    description = doc.text("description", required=False)
    raw_sections = doc.array("sections")
    if not raw_sections:
        raise doc.fail("sections", "a template needs at least one section")
    seen_sections: dict[str, str] = {}
    seen_items: dict[str, str] = {}
    sections = []
    for si, raw in enumerate(raw_sections):
        sec = Fields(raw, path, f"sections[{si}]")
        sec.only({"id", "title", "description", "items"})
        sid = sec.ident("id")
        if sid in seen_sections:
            raise sec.fail("id", f"duplicate section id {sid!r} (first at {seen_sections[sid]})")
        seen_sections[sid] = sec.where
        raw_items = sec.array("items")
        if not raw_items:
            raise sec.fail("items", "a section needs at least one item")
        items = []
        for ii, raw_item in enumerate(raw_items):
            it = Fields(raw_item, path, f"{sec.where}.items[{ii}]")
            it.only({"id", "title", "guidance", "prefill"})
            iid = it.ident("id")
            if iid in seen_items:
                raise it.fail("id", f"duplicate item id {iid!r} (first at {seen_items[iid]})")
            seen_items[iid] = it.where
            prefill = it.text("prefill", required=False) or None
            if prefill is not None and not prefill.replace("_", "").isalnum():
                raise it.fail("prefill", f"{prefill!r} is not an indicator name (letters, digits, '_')")
            items.append(TemplateItem(iid, it.text("title", max_len=300), it.text("guidance"), prefill))
        sections.append(Section(sid, sec.text("title", max_len=300), tuple(items), sec.text("description",
                                                                                              required=False)))
    if len(seen_items) > MAX_ITEMS:
        raise doc.fail("sections", f"{len(seen_items)} items; at most {MAX_ITEMS} are accepted")
    return Template(template_id, version, title, tuple(sections), description, hashlib.sha256(data).hexdigest())


def load(path: Path) -> Template:
    path = Path(path)
    return parse(read_bounded(path, MAX_BYTES, "checklist template"), str(path))
