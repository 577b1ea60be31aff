"""Small builders shared by the reliability tests (real services, no mocks)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import submissions
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
