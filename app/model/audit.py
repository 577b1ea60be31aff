"""Audit events and the result of verifying their hash chain (AU-2, AU-3, AU-9)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    ts: str
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    events: int
    head_hash: str
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None

    def summary(self) -> str:
        if self.ok:
            return f"Audit chain intact: {self.events} events, head {self.head_hash[:16]}…"
        return "Audit chain BROKEN: " + self.problems[0]
