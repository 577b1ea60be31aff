"""Read models of an assessment's record: stored template and rule set versions, the assessment
row, its workflow transitions, the append-only answer history, evidence links and review comments.
Filled by storage.assessment_repo by column name; services hand them to the UI and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from app.model.checklist import State
from app.model.markings import Marking


@dataclass(frozen=True)
class StoredDocument:
    """A stored template or rule set: the exact bytes plus bookkeeping."""

    pk: int
    doc_id: str
    version: int
    title: str
    sha256: str
    content: bytes
    origin: str
    signer: str
    imported_by: str
    imported_at: str
    label: str = ""  # rule sets only
    active: bool = False  # rule sets only



@dataclass(frozen=True)
class AssessmentRow:
    id: int
    submission_id: int
    template_pk: int
    state: State
    created_by: str
    created_at: str
    updated_at: str
    submitted_by: str | None
    submitted_at: str | None
    approved_by: str | None
    approved_at: str | None



@dataclass(frozen=True)
class Transition:
    id: int
    action: str
    from_state: str
    to_state: str
    actor: str
    at: str
    comment: str



@dataclass(frozen=True)
class HistoryEntry:
    id: int
    item_id: str
    changed_by: str
    changed_at: str
    status: str
    justification: str
    marking: str
    risk_expiry: str | None
    risk_approved_by: str | None
    changes: dict[str, list[str]]
    reason: str



@dataclass(frozen=True)
class EvidenceLink:
    id: int
    item_id: str
    kind: str  # run | sample | file | observation
    run_id: int | None
    sample_id: str | None
    sha256: str | None
    filename: str
    size: int | None
    text: str
    marking: Marking
    added_by: str
    added_at: str

    @property
    def describe(self) -> str:
        if self.kind == "run":
            return f"Run {self.run_id}" + (f": {self.text}" if self.text else "")
        if self.kind == "sample":
            return f"Run {self.run_id}, sample {self.sample_id}" + (f": {self.text}" if self.text else "")
        if self.kind == "file":
            return f"File {self.filename} ({self.size or 0:,} bytes, SHA-256 {(self.sha256 or '')[:16]}…)"
        return "Observation: " + self.text



@dataclass(frozen=True)
class Comment:
    id: int
    transition_id: int | None
    item_id: str | None
    comment: str
    author: str
    created_at: str
