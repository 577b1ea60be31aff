"""The whole assessment as one JSON document (answers, history, evidence, findings, coverage),
marked at least as high as everything it quotes, and its export to labelled media.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

from app.model.accounts import Permission
from app.model.markings import Marking, rollup
from app.services import coverage, egress, findings
from app.services.assessment import get
from app.services.session import Session
from storage import assessment_repo as repo
from storage.atomic import atomic_write


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Marking):
        return value.banner()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def export(session: Session, assessment_id: int) -> dict[str, Any]:
    """The whole assessment as plain JSON-ready data (answers, history, evidence, findings, coverage)."""
    view = get(session, assessment_id)
    conn = session.db.conn
    t = view.template
    sections = []
    for s in t.sections:
        items = []
        for item in s.items:
            a = view.answer(item.id)
            items.append({
                "id": item.id, "title": item.title, "status": a.status.value, "complete": a.complete,
                "justification": a.justification, "marking": a.marking.banner(),
                "portion": a.marking.portion(),
                "risk_expiry": a.risk_expiry.isoformat() if a.risk_expiry else None,
                "risk_approved_by": a.risk_approved_by, "updated_by": a.updated_by, "updated_at": a.updated_at,
                "evidence": [_jsonable(e) | {"description": e.describe} for e in repo.evidence(conn, view.id, item.id)],
                "suggestion_decisions": repo.suggestion_decisions(conn, view.id, item.id),
            })
        p = view.sections[s.id]
        sections.append({"id": s.id, "title": s.title, "progress": {"done": p.done, "total": p.total},
                         "items": items})
    finds = findings.list_findings(session, view.submission_id)
    dets = coverage.determinations(session, view.submission_id)
    history = repo.history(conn, view.id)
    # Everything the export quotes: answers, the history of earlier answers, evidence, findings,
    # determinations, and the comments (unmarked text about the submission: its marking).
    overall = rollup([view.marking, view.submission_marking, *(f.marking for f in finds), *(d.marking for d in dets),
                      *(e.marking for e in repo.evidence(conn, view.id)), *(Marking.parse(h.marking) for h in history)])
    return {
        "format": "frontier-review/assessment-export", "format_version": 1,
        "marking": overall.banner(),
        "assessment": {"id": view.id, "submission_id": view.submission_id, "state": view.state.value,
                       "created_by": view.created_by, "submitted_by": view.submitted_by,
                       "submitted_at": view.submitted_at, "approved_by": view.approved_by,
                       "approved_at": view.approved_at},
        "template": {"template_id": t.template_id, "version": t.version, "sha256": t.sha256, "title": t.title},
        "progress": {"done": view.progress.done, "total": view.progress.total},
        "sections": sections,
        "history": [_jsonable(h) for h in history],
        "transitions": [_jsonable(x) for x in repo.transitions(conn, view.id)],
        "comments": [_jsonable(c) for c in repo.comments(conn, view.id)],
        "findings": [_jsonable(f) | {"label": f.label} for f in finds],
        "coverage": [_jsonable(d) for d in dets],
    }


def export_json(session: Session, assessment_id: int) -> str:
    return json.dumps(export(session, assessment_id), indent=2, ensure_ascii=False, default=str)


def export_to_file(session: Session, assessment_id: int, path: Path, media_label: str | Marking) -> Marking:
    """Write the JSON export to a file on media labelled at least as high as its content (egress
    check, MARKING.txt beside it, audited). Returns the content's marking."""
    session.require(Permission.EXPORT)
    doc = export(session, assessment_id)
    content = Marking.parse(doc["marking"])
    path = Path(path)
    cleared = egress.clear(session, f"the export of assessment {assessment_id}", content, media_label, path)
    egress.check_folder(path.parent)
    atomic_write(path, (json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n").encode(), mode=0o640)
    egress.write_marking_file(path.parent, cleared)
    with session.transaction() as conn:
        session.audit(conn, "assessment.export", "assessment", assessment_id,
                      {"destination": str(path), "marking": content.banner(), "media": cleared.media.banner()})
        egress.record(session, conn, cleared)
    return content
