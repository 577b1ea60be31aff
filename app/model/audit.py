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
    signer: str      # fingerprint of the actor's personal key ("" before events were signed)
    signature: str   # base64 ECDSA signature over the event hash


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    events: int
    head_hash: str
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None
    unsigned_legacy: int = 0  # events from before events were signed (schema < 6)
    # (seq, actor, signed by, status) per event when verified with signatures
    signatures: list[tuple[int, str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok:
            legacy = f"; {self.unsigned_legacy} early events predate signing" if self.unsigned_legacy else ""
            signed = " and signed" if self.signatures or self.unsigned_legacy < self.events else ""
            return f"Audit chain intact{signed}: {self.events} events, head {self.head_hash[:16]}…{legacy}"
        return "Audit chain BROKEN: " + self.problems[0]
