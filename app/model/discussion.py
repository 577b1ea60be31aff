"""A comment in a discussion thread on a checklist item, a finding, a vulnerability or coverage."""

from __future__ import annotations

from dataclasses import dataclass

from app.model.markings import Marking


@dataclass(frozen=True)
class Comment:
    id: int
    submission_id: int | None
    target_type: str
    target_id: str
    body: str
    marking: Marking
    author: str
    created_at: str
