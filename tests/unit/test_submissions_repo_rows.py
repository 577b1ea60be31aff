"""submissions_repo reads submissions and artifacts by column name (issue 18 point 3): what goes in
comes back field for field, and a renamed or missing column fails loudly instead of shifting values."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date

import pytest

from app.model.markings import Marking
from app.model.submissions import (
    AccessMethod,
    Artifact,
    ComputeEstimate,
    Contact,
    Modality,
    Submission,
    SubmissionStatus,
)
from storage import blobs
from storage import submissions_repo as repo
from tests.conftest import tamper

# Every field differs from its default, so a field read from the wrong column or left at its default shows.
SUB = Submission(
    developer="Acme", model_name="Frontier-9", version="2.1", received=date(2026, 11, 3),
    planned_release=date(2026, 11, 28), modality=Modality.AGENTIC, access_method=AccessMethod.HOSTED,
    training_flop=3.5e25, compute_estimate=ComputeEstimate.HARDWARE_HOURS, status=SubmissionStatus.IN_REVIEW,
    marking=Marking.parse("CUI"), notes="weights arrive on media 7", notes_marking=Marking.parse("CUI"),
    contacts=(Contact("Ana", "Acme", "ana@acme.test", "+1 555", "safety lead"), Contact("Bo")),
)


@pytest.fixture
def stored(workstation):  # type: ignore[no-untyped-def]
    s = workstation.session("reviewer")
    user = s.account.username  # created_by and added_by reference accounts
    with tamper(s) as conn:
        sid = repo.insert(conn, SUB, user, "2026-11-04T08:00:00")
        sha = blobs.put_bytes(conn, b"x" * 4096, "2026-11-04T09:00:00")
        aid = repo.add_artifact(conn, sid, "model card", "card.pdf", sha, 4096, Marking.parse("CUI"),
                                user, "2026-11-04T09:00:00")
    return s.db.conn, sid, aid, user


def test_a_submission_and_its_artifacts_come_back_field_for_field(stored) -> None:  # type: ignore[no-untyped-def]
    conn, sid, aid, user = stored
    want = replace(SUB, id=sid, created_by=user, updated_at="2026-11-04T08:00:00")
    assert repo.get(conn, sid) == want
    assert repo.many(conn, [sid]) == [want]
    assert want in repo.page(conn, 0, 50)
    art = Artifact(aid, sid, "model card", "card.pdf", hashlib.sha256(b"x" * 4096).hexdigest(), 4096, user,
                   "2026-11-04T09:00:00", Marking.parse("CUI"))
    assert repo.artifact(conn, aid) == art and repo.artifacts(conn, sid) == [art]


def test_a_renamed_or_missing_column_fails_loudly(stored, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conn, sid, aid, _ = stored
    with monkeypatch.context() as m:
        m.setattr(repo, "_COLS", repo._COLS.replace("model_name,", "model_name AS model,"))
        with pytest.raises(TypeError, match="Submission has no field for column.*model"):
            repo.get(conn, sid)
        with pytest.raises(TypeError, match="Submission has no field for column.*model"):
            repo.page(conn, 0, 50)
    with monkeypatch.context() as m:  # notes has a default: only the complete check notices it gone
        m.setattr(repo, "_COLS", repo._COLS.replace(" notes,", ""))
        with pytest.raises(TypeError, match="Submission has no column for field.*notes"):
            repo.many(conn, [sid])
    with monkeypatch.context() as m:
        m.setattr(repo, "_ART", repo._ART.replace(", marking", ""))
        with pytest.raises(TypeError, match="Artifact has no column for field.*marking"):
            repo.artifact(conn, aid)
    assert repo.get(conn, sid).notes == SUB.notes
