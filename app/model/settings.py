"""Workstation settings, declared once with types and defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from app.model.errors import ValidationError


@dataclass(frozen=True)
class Settings:
    workstation_name: str = "Review workstation"
    system_high: str = "UNCLASSIFIED"  # banner text of the highest marking this workstation holds
    consent_banner: str = (
        "You are accessing a U.S. Government information system. Use may be monitored, recorded "
        "and audited. Unauthorized use is prohibited and subject to criminal and civil penalties. "
        "By signing in you consent to these terms."
    )
    idle_lock_minutes: int = 10
    backup_reminder_days: int = 7
    max_artifact_mb: int = 256
    at_risk_days: int = 7
    receipt_overdue_days: int = 7  # a partner's receipt is overdue after this many days (issue 16)
    classified_by: str = ""
    derived_from: str = ""
    declassify_on: str = ""
    cui_controlled_by: str = ""
    cui_category: str = ""
    cui_poc: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue  # settings of a newer version are kept in storage, ignored here
            default = getattr(cls(), key)
            if isinstance(default, int) and not isinstance(value, int):
                raise ValidationError(key, "must be a whole number")
            values[key] = value
        s = cls(**values)
        if s.idle_lock_minutes < 1 or s.idle_lock_minutes > 120:
            raise ValidationError("idle_lock_minutes", "must be between 1 and 120")
        return s


# Settings an administrator may change after setup. The workstation name and system-high stay as
# set up: records and banners already carry them.
EDITABLE_SETTINGS = ("consent_banner", "idle_lock_minutes", "backup_reminder_days", "max_artifact_mb",
                     "at_risk_days", "classified_by", "derived_from", "declassify_on", "cui_controlled_by",
                     "cui_category", "cui_poc", "receipt_overdue_days")
CLASSIFICATION_BLOCK = ("classified_by", "derived_from", "declassify_on")
CUI_BLOCK = ("cui_controlled_by", "cui_category")


def marking_block_fields(system_high_level: int) -> tuple[str, ...]:
    """Settings a workstation of this system-high level must have before any report can be built:
    the classification authority block (CONFIDENTIAL and above) and the CUI designation block (CUI
    and above; a classified report carries it when it holds CUI portions). Asked at setup."""
    confidential, cui = 2, 1  # markings.Level values, kept numeric: the settings model stays standalone
    return ((CLASSIFICATION_BLOCK if system_high_level >= confidential else ())
            + (CUI_BLOCK if system_high_level >= cui else ()))
