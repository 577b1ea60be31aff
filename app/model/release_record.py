"""A built releasable version of a findings report for one partner, and where it stands (built,
approved, exported): the read model of the releases table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredRelease:
    id: int
    submission_id: int
    partner_id: int
    partner_name: str
    own: bool
    control_number: str
    state: str  # built | approved | exported
    marking: str
    title: str
    full_sha256: str
    withheld: dict[str, Any]
    built_sha256: str
    sha256: str
    built_by: str
    built_at: str
    approved_by: str | None
    approved_at: str | None
    exported_by: str | None
    exported_at: str | None
    export_path: str | None
    manifest_sha256: str | None
    media_label: str | None
    dissemination_id: int | None
