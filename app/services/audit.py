"""Audit trail queries and verification (auditor screen, `frontier-review audit verify`)."""

from __future__ import annotations

from app.model.accounts import Permission
from app.model.audit import AuditEvent, ChainVerification
from app.services import integrity
from app.services.session import Session
from storage import audit as audit_log


def verify(session: Session) -> ChainVerification:
    """The hash chain, each event's signature (by whom, valid or not), and the head recorded
    outside the database. Problems the signed-in person's own records show are added."""
    import dataclasses

    session.require(Permission.VIEW_AUDIT)
    known = session.credentials.read().audit_head
    check, per_event = integrity.event_checker(session.db.conn, session.db_id)
    result = audit_log.verify(session.db.conn, (int(known["seq"]), known["hash"]) if known else None, check)
    result = dataclasses.replace(result, signatures=per_event)
    with session.transaction() as conn:
        session.audit(conn, "audit.verify", "audit", None, {"ok": result.ok, "events": result.events})
    return result


def events(session: Session, limit: int = 200, offset: int = 0, actor: str | None = None,
           action_prefix: str | None = None, object_type: str | None = None,
           object_id: str | None = None) -> list[AuditEvent]:
    session.require(Permission.VIEW_AUDIT)
    return audit_log.list_events(session.db.conn, limit, offset, actor, action_prefix, object_type, object_id)


def count(session: Session) -> int:
    session.require(Permission.VIEW_AUDIT)
    return audit_log.count(session.db.conn)


def head(session: Session) -> tuple[int, str]:
    return audit_log.head(session.db.conn)


def object_history(session: Session, object_type: str, object_id: object) -> list[AuditEvent]:
    """History of one record, for anyone who may view content (AU-3 on the record itself)."""
    session.require(Permission.VIEW_CONTENT)
    return audit_log.list_events(session.db.conn, 500, 0, object_type=object_type, object_id=str(object_id))
