"""A built version of a submission's findings report and its signing state: what the Reports
screen lists, what signing and export act on (read model of the reports table)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoredReport:
    id: int
    submission_id: int
    version: int
    control_number: str
    state: str  # built | signed | countersigned
    marking: str
    title: str
    built_sha256: str
    sha256: str
    audit_head: str
    built_by: str
    built_at: str
    signed_by: str | None
    signed_at: str | None
    countersigned_by: str | None
    countersigned_at: str | None
