"""Marking inheritance for new and edited records (issue 12, point 1).

Every record starts at the marking of what it is about; lowering it is an explicit act with a
reason, audited here in the same transaction as the write.
"""

from __future__ import annotations

from typing import Any

from app.model.markings import Marking, settle_marking
from app.services.session import Session


def settle(session: Session, conn: Any, requested: Marking | None, floor: Marking, reason: str, what: str,
           target_type: str, target_id: int | str | None) -> Marking:
    """Return the marking to store; audit `marking.lower` when the writer lowered it with a reason."""
    marking, lowered = settle_marking(requested, floor, reason, what)
    if lowered:
        session.audit(conn, "marking.lower", target_type, target_id,
                      {"record": what, "from": floor.banner(), "to": marking.banner(), "reason": reason.strip()})
    return marking
