"""Model submissions and the hard clock of their review window (EO of June 2026: <= 30 days)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from app.model.errors import ValidationError
from app.model.markings import UNCLASSIFIED, Marking

if TYPE_CHECKING:
    from app.model.workflow import Stage

MAX_WINDOW_DAYS = 30


class Modality(enum.StrEnum):
    TEXT = "text"
    MULTIMODAL = "multimodal"
    CODE = "code"
    AGENTIC = "agentic"
    OTHER = "other"


class AccessMethod(enum.StrEnum):
    WEIGHTS_ON_MEDIA = "weights on media"
    ENCLAVE_ENDPOINT = "endpoint inside the enclave"
    HOSTED = "hosted"


class SubmissionStatus(enum.StrEnum):
    RECEIVED = "received"
    IN_REVIEW = "in review"
    DETERMINATION = "determination"
    FINDINGS_ISSUED = "findings issued"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self not in (SubmissionStatus.CLOSED, SubmissionStatus.WITHDRAWN)


class ComputeEstimate(enum.StrEnum):
    DEVELOPER_DECLARED = "developer declared"
    HARDWARE_HOURS = "hardware-hours estimate"
    PARAMETERS_TOKENS = "6 x parameters x tokens"
    UNKNOWN = "unknown"


class WindowState(enum.StrEnum):
    ON_TRACK = "on track"
    AT_RISK = "at risk"
    OVERDUE = "overdue"
    DONE = "done"


@dataclass(frozen=True)
class Contact:
    name: str
    organisation: str = ""
    email: str = ""
    phone: str = ""
    role: str = ""


@dataclass(frozen=True)
class Submission:
    developer: str
    model_name: str
    version: str
    received: date
    planned_release: date
    modality: Modality = Modality.TEXT
    access_method: AccessMethod = AccessMethod.WEIGHTS_ON_MEDIA
    training_flop: float | None = None
    compute_estimate: ComputeEstimate = ComputeEstimate.UNKNOWN
    status: SubmissionStatus = SubmissionStatus.RECEIVED
    marking: Marking = UNCLASSIFIED
    notes: str = ""
    notes_marking: Marking = UNCLASSIFIED
    contacts: tuple[Contact, ...] = field(default_factory=tuple)
    id: int | None = None
    created_by: str = ""
    updated_at: str = ""

    @property
    def window_days(self) -> int:
        return (self.planned_release - self.received).days

    @property
    def window_flags(self) -> list[str]:
        """Warnings that do not block saving (a window over 30 days is allowed but flagged)."""
        flags = []
        if self.window_days > MAX_WINDOW_DAYS:
            flags.append(
                f"Review window is {self.window_days} days; the order provides for at most {MAX_WINDOW_DAYS}."
            )
        return flags

    def days_remaining(self, today: date) -> int:
        return (self.planned_release - today).days

    def window_state(self, today: date, at_risk_days: int = 7, stage: Stage | None = None) -> WindowState:
        """On track / at risk / overdue, or done once the review is released or withdrawn. The
        lifecycle stage is computed from the work (app.services.workflow.stages); the stored status
        column does not end the clock (a stored "findings issued" or "closed" is not done). Without
        `stage`, only a stored withdrawal counts as done."""
        if stage is not None:
            if not stage.is_open:
                return WindowState.DONE
        elif self.status is SubmissionStatus.WITHDRAWN:
            return WindowState.DONE
        remaining = self.days_remaining(today)
        if remaining < 0:
            return WindowState.OVERDUE
        if remaining <= at_risk_days:
            return WindowState.AT_RISK
        return WindowState.ON_TRACK

    @property
    def display_name(self) -> str:
        return f"{self.developer} {self.model_name} {self.version}".strip()

    def validate(self) -> Submission:
        for name in ("developer", "model_name", "version"):
            value = getattr(self, name)
            if not value or not value.strip():
                raise ValidationError(name, "is required")
            if len(value) > 200:
                raise ValidationError(name, "must be at most 200 characters")
        if self.planned_release < self.received:
            raise ValidationError(
                "planned_release",
                f"planned public release {self.planned_release.isoformat()} is before the "
                f"received date {self.received.isoformat()}",
            )
        if self.training_flop is not None and not (0 < self.training_flop < 1e35):
            raise ValidationError("training_flop", "must be a positive number of operations below 1e35")
        if len(self.notes) > 100_000:
            raise ValidationError("notes", "must be at most 100,000 characters")
        for c in self.contacts:
            if not c.name.strip():
                raise ValidationError("contacts", "every point of contact needs a name")
        return self


def parse_date(field_name: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValidationError(field_name, f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_flop(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationError("training_flop", f"{text!r} is not a number (e.g. 3.2e25)") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValidationError("training_flop", "must be a finite number")
    return value


@dataclass(frozen=True)
class Artifact:
    id: int
    submission_id: int
    kind: str  # model card, system card, developer report, other
    filename: str
    sha256: str
    size: int
    added_by: str
    added_at: str
    marking: Marking = UNCLASSIFIED


ARTIFACT_KINDS = ("model card", "system card", "developer report", "safety framework", "other")
