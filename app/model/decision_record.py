"""A signed decision as stored: what was decided, by whom, over which content, and the signature.

A record proves nothing by itself: app.services.decisions verifies its signature against the
actor's certified personal key before it counts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoredDecision:
    id: int
    kind: str
    object_type: str
    object_id: str
    actor: str
    ts: str
    content: str
    digest: str
    key_fingerprint: str
    signature: bytes
