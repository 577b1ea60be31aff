"""Who works on which part of a review: a reviewer assigned by a lead to a whole submission or to
one checklist section (read model of the assignments table)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    id: int
    submission_id: int
    username: str
    section_id: str  # '' = the whole checklist
    assigned_by: str
    assigned_at: str

    @property
    def scope(self) -> str:
        return f"section {self.section_id}" if self.section_id else "whole checklist"
