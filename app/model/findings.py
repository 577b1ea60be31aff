"""Findings register: what the review found, how serious, what is recommended, and what backs it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.model.errors import ValidationError
from app.model.markings import UNCLASSIFIED, Marking

MAX_TITLE = 300
MAX_TEXT = 50_000


class Severity(enum.StrEnum):
    """A finding's severity, the reviewer's judgement (stored as written here; `rank` 0 is the most
    severe). Used by the findings register and the report alike; CVSS scores have CvssSeverity."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFORMATIONAL = "informational"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class EvidenceRef:
    """A pointer to evidence: an imported run, one sample of it, or a stored file (by SHA-256)."""

    kind: str  # run | sample | blob
    ref: str  # run id, "run_id:sample_id", or sha256

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref}"

    @staticmethod
    def parse(text: str) -> EvidenceRef:
        kind, sep, ref = text.partition(":")
        if not sep or kind not in ("run", "sample", "blob") or not ref:
            raise ValidationError("evidence", f"{text!r} is not run:ID, sample:RUN:SAMPLE or blob:SHA256")
        return EvidenceRef(kind, ref)


@dataclass(frozen=True)
class Finding:
    submission_id: int
    title: str
    description: str
    severity: Severity
    recommendation: str = ""
    item_ids: tuple[str, ...] = ()
    evidence: tuple[EvidenceRef, ...] = ()
    marking: Marking = UNCLASSIFIED
    id: int | None = None
    number: int = 0  # F-1, F-2 ... per submission
    created_by: str = ""
    created_at: str = ""
    updated_at: str = ""
    impact: str = ""  # what the finding means for the decision maker (printed under the description)

    @property
    def label(self) -> str:
        return f"F-{self.number}" if self.number else "F-new"

    def validate(self) -> None:
        if not self.title.strip():
            raise ValidationError("title", "a finding needs a title")
        if len(self.title) > MAX_TITLE:
            raise ValidationError("title", f"must be at most {MAX_TITLE} characters")
        if not self.description.strip():
            raise ValidationError("description", "a finding needs a description")
        for name in ("description", "recommendation", "impact"):
            if len(getattr(self, name)) > MAX_TEXT:
                raise ValidationError(name, f"must be at most {MAX_TEXT:,} characters")
        if len(set(self.item_ids)) != len(self.item_ids):
            raise ValidationError("linked items", "an item is linked twice")
