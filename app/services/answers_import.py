"""`assess answers import FILE`: a batch of checklist answers in the shape `assess export --json`
writes (sections -> items with status, justification, marking, risk_expiry). One transaction: a
bad item names the file and the item, and nothing of the batch is kept. The same rules as one
answer at a time (overriding a suggestion needs a justification; the state must allow edits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from app.foundation.files import regular_file, shown_name
from app.ingest import jsonread
from app.model.accounts import Permission
from app.model.checklist import Answer, Status
from app.model.errors import FrontierError, IngestError
from app.model.markings import Marking
from app.model.results import INT64_MAX
from app.services import assessment
from app.services.session import Session
from storage import assessment_repo as repo

MAX_BYTES = 50 << 20
_FIELDS = ("status", "justification", "marking", "risk_expiry")


@dataclass(frozen=True)
class AnswersImport:
    assessment_id: int
    changed: tuple[str, ...]
    unchanged: int


def _items(doc: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("sections"), list):
        raise IngestError(where, "not an assessment export: no 'sections' list (write one with "
                          "`assess export ID --json`)")
    items = []
    for si, section in enumerate(doc["sections"]):
        if not isinstance(section, dict) or not isinstance(section.get("items"), list):
            raise IngestError(where, f"sections[{si}]: no 'items' list")
        for ii, item in enumerate(section["items"]):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise IngestError(where, f"sections[{si}].items[{ii}]: an item needs an 'id'")
            items.append(item)
    return items


def _changes(item: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        if "status" in item:
            out["status"] = Status.parse(str(item["status"]))
        if "justification" in item:
            if not isinstance(item["justification"], str):
                raise ValueError("justification must be text")
            out["justification"] = item["justification"]
        if item.get("marking"):
            out["marking"] = Marking.parse(str(item["marking"]))
        if "risk_expiry" in item:
            out["risk_expiry"] = date.fromisoformat(item["risk_expiry"]) if item["risk_expiry"] else None
    except (ValueError, TypeError, FrontierError) as exc:
        raise IngestError(where, f"item {item['id']}: {exc}") from None
    return out


def import_answers(session: Session, path: Path, assessment_id: int | None = None) -> AnswersImport:
    session.require(Permission.ASSESS)
    path = Path(path)
    where = str(path)
    try:
        regular_file(path, "checklist answers file")
        if path.stat().st_size > MAX_BYTES:
            raise IngestError(where, f"is larger than {MAX_BYTES >> 20} MB; not an answers file")
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(where, f"cannot be read ({exc.strerror or exc})") from None
    # the bounded reader: nesting that json.loads met with RecursionError, and lone surrogates
    # ("\ud800", valid JSON) that failed at the database, are refused or replaced with a message
    doc = jsonread.loads(data, where)
    items = _items(doc, where)
    if assessment_id is None:
        meta = doc.get("assessment") if isinstance(doc, dict) else None
        number = meta.get("id") if isinstance(meta, dict) else None
        # an id beyond 64 bits reached SQLite (OverflowError); true is not a number either
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= INT64_MAX:
            raise IngestError(where, "names no assessment ('assessment': {'id': N}); give --assessment ID")
        assessment_id = number
    planned = [(item["id"], _changes(item, where)) for item in items]
    changed: list[str] = []
    with session.transaction() as conn:
        row = assessment.editable(session, conn, assessment_id)
        for item_id, changes in planned:
            before = repo.get_answer(conn, assessment_id, item_id)
            try:
                after = assessment.answer_in(session, conn, row, item_id,
                                             reason=f"imported from {shown_name(path.name)}", **changes)
            except FrontierError as exc:
                raise IngestError(where, f"item {item_id}: {exc}; nothing was imported") from None
            if (before or Answer(item_id)).content_differs(after):
                changed.append(item_id)
        session.audit(conn, "assessment.answers_import", "assessment", assessment_id,
                      {"file": shown_name(path.name), "items": len(planned), "changed": changed})
    return AnswersImport(assessment_id, tuple(changed), len(planned) - len(changed))
