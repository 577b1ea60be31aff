"""Small builders shared by the reliability tests (real services, no mocks)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import submissions
from app.services import workstation as workstation_service
from app.services.session import Session


def add_submission(session: Session, n: int = 1) -> Submission:
    return submissions.create(session, Submission(
        developer=f"Developer {n}", model_name=f"Model {n}", version=f"v{n}",
        received=date(2026, 11, 10), planned_release=date(2026, 12, 5),
        marking=Marking.parse("SECRET//NOFORN"), notes_marking=Marking.parse("SECRET//NOFORN"),
    ))


def attach(session: Session, submission_id: int, folder: Path, size: int, name: str = "card.bin") -> bytes:
    """Attach `size` random bytes as an evidence file; returns the bytes."""
    data = os.urandom(size)
    path = folder / name
    path.write_bytes(data)
    submissions.attach_artifact(session, submission_id, path, "model card", Marking.parse("SECRET//NOFORN"))
    return data


def tree(folder: Path) -> list[str]:
    """Every path under `folder` (hidden ones too), relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def configure_for_reports(admin: Session) -> None:
    """Classification authority block (needed for classified reports) and the workstation CA."""

    from app.services import pki as pki_service

    pki_service.ensure_ready(admin)
    workstation_service.update_settings(admin, {"classified_by": "Rita Reviewer, Review Office",
                                                "derived_from": "Multiple Sources", "declassify_on": "20511231"})


def started_assessment(reviewer: Session) -> tuple[int, int, tuple[str, ...]]:
    """(submission id, assessment id, item ids) of a fresh assessment."""
    from app.services import assessment

    sid = add_submission(reviewer, 900).id
    assert sid is not None
    view = assessment.start(reviewer, sid)
    return sid, view.id, tuple(view.template.item_ids)


def approved_submission(reviewer: Session, lead: Session) -> int:
    """A submission whose assessment a lead approved: ready for report signing."""
    from app.model.checklist import Status
    from app.services import assessment, assessment_review, coverage

    sid, aid, items = started_assessment(reviewer)
    for item_id in items:
        assessment.answer(reviewer, aid, item_id, status=Status.SATISFIED, justification=f"Checked {item_id}.")
    assessment_review.submit(reviewer, aid)
    det = coverage.record_determination(reviewer, sid, "Declared compute below every reference threshold.")
    coverage.approve_determination(lead, det.id)
    assessment_review.approve(lead, aid, "Agreed.")
    return sid
