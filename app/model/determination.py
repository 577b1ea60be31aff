"""A recorded coverage determination: the rule set it applied (id, version, hash), the inputs and
their fingerprint, the evaluation rule by rule, the outcome and rationale, who recorded and who
approved it. Filled by storage.assessment_repo by column name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.model.markings import Marking


@dataclass(frozen=True)
class Determination:
    id: int
    submission_id: int
    ruleset_pk: int
    ruleset_id: str
    ruleset_version: int
    ruleset_sha256: str
    inputs: dict[str, Any]
    inputs_fingerprint: str
    evaluation: dict[str, Any]
    outcome: str
    rationale: str
    marking: Marking
    recorded_by: str
    recorded_at: str
    approved_by: str | None
    approved_at: str | None
    superseded_at: str | None


@dataclass(frozen=True)
class DeterminationReview:
    """A lead keeping a flagged determination: the flags as reviewed (and their hash) and why."""

    determination_id: int
    flags_sha256: str
    flags: list[str]
    reason: str
    reviewed_by: str
    reviewed_at: str
