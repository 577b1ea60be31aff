"""Evidence on checklist items: imported runs or single samples, written observations and attached
files (encrypted blobs addressed by SHA-256), each with its own marking; listing, reading back and
removal with a reason. Every change writes an answer-history row and one audit event.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from app.foundation.files import shown_name
from app.model.accounts import Permission
from app.model.assessment_record import AssessmentRow, EvidenceLink
from app.model.checklist import MAX_JUSTIFICATION, Answer
from app.model.errors import IngestError, NotFound, ValidationError
from app.model.markings import Marking
from app.model.results import SampleFilter
from app.services import derivation, submission_signatures
from app.services.assessment import editable, editable_item
from app.services.session import Session
from storage import assessment_repo as repo
from storage import blobs, results_repo
from storage.db import Connection


def _evidence_history(session: Session, conn: Connection, assessment_id: int, item_id: str, what: str) -> None:
    current = repo.get_answer(conn, assessment_id, item_id) or Answer(item_id)
    repo.add_history(conn, assessment_id, current, {"evidence": ["", what]}, "", session.account.username,
                     session.now())
    repo.touch(conn, assessment_id, session.now())


def _check_run(conn: Connection, row: AssessmentRow, run_id: int) -> None:
    run = results_repo.get_run(conn, run_id, lambda task: "")
    if run.submission_id != row.submission_id:
        raise ValidationError("run", f"run {run_id} belongs to submission {run.submission_id}, "
                              f"not {row.submission_id}")


def _evidence_marking(session: Session, conn: Connection, row: AssessmentRow, requested: Marking | None,
                      lower_reason: str, what: str) -> Marking:
    """Evidence is about the submission (its runs carry the submission's marking): it starts there."""
    floor = submission_signatures.marking_floor(session, conn, row.submission_id)
    return derivation.settle(session, conn, requested, floor, lower_reason, what, "assessment", row.id)


def add_run_evidence(session: Session, assessment_id: int, item_id: str, run_id: int, note: str = "",
                     marking: Marking | None = None, sample_id: str | None = None, lower_reason: str = "") -> int:
    """Link an imported run (or one sample of it) to an item."""
    session.require(Permission.ASSESS)
    with session.transaction() as conn:
        row = editable_item(session, conn, assessment_id, item_id)
        _check_run(conn, row, run_id)
        if sample_id is not None and results_repo.count_samples(conn, run_id, SampleFilter(sample_id=sample_id)) == 0:
            raise NotFound(f"Run {run_id} has no sample {sample_id!r}.")
        kind = "run" if sample_id is None else "sample"
        marking = _evidence_marking(session, conn, row, marking, lower_reason, f"evidence on {item_id}")
        eid = repo.add_evidence(conn, assessment_id, item_id, kind, marking, session.account.username, session.now(),
                                run_id=run_id, sample_id=sample_id, text=note.strip())
        what = f"linked run {run_id}" + (f" sample {sample_id}" if sample_id else "")
        _evidence_history(session, conn, assessment_id, item_id, what)
        session.audit(conn, "assessment.evidence_add", "assessment", assessment_id,
                      {"item": item_id, "kind": kind, "run": run_id, "sample": sample_id})
        return eid


def add_observation(session: Session, assessment_id: int, item_id: str, text: str,
                    marking: Marking | None = None, lower_reason: str = "") -> int:
    session.require(Permission.ASSESS)
    if not text.strip():
        raise ValidationError("observation", "must not be empty")
    if len(text) > MAX_JUSTIFICATION:
        raise ValidationError("observation", f"must be at most {MAX_JUSTIFICATION:,} characters")
    with session.transaction() as conn:
        row = editable_item(session, conn, assessment_id, item_id)
        marking = _evidence_marking(session, conn, row, marking, lower_reason, f"the observation on {item_id}")
        eid = repo.add_evidence(conn, assessment_id, item_id, "observation", marking, session.account.username,
                                session.now(), text=text.strip())
        _evidence_history(session, conn, assessment_id, item_id, "added a written observation")
        session.audit(conn, "assessment.evidence_add", "assessment", assessment_id,
                      {"item": item_id, "kind": "observation"})
        return eid


def add_file_evidence(session: Session, assessment_id: int, item_id: str, path: Path,
                      marking: Marking | None = None, lower_reason: str = "") -> int:
    """Store a file as an encrypted blob (SHA-256 addressed, size-capped) and link it to the item."""
    session.require(Permission.ASSESS)
    path = Path(path)
    if path.is_dir():
        raise IngestError(str(path), "is a directory, not a file")
    limit = session.settings.max_artifact_mb << 20
    try:
        size = path.stat().st_size
        if size > limit:
            raise ValidationError("evidence", f"{path.name} is {size / (1 << 20):.0f} MB; the limit is "
                                  f"{session.settings.max_artifact_mb} MB")
        with open(path, "rb") as fh:
            # a name that is not UTF-8 is stored as shown (r\\xe9sum\\xe9.pdf): as it was, it failed to encode
            return add_stream_evidence(session, assessment_id, item_id, fh, shown_name(path.name), marking,
                                       lower_reason)
    except OSError as exc:
        raise IngestError(str(path), f"cannot be read ({exc.strerror or exc}); nothing was stored") from None


def add_stream_evidence(session: Session, assessment_id: int, item_id: str, stream: BinaryIO, filename: str,
                        marking: Marking | None = None, lower_reason: str = "") -> int:
    session.require(Permission.ASSESS)
    limit = session.settings.max_artifact_mb << 20
    with session.transaction() as conn:
        row = editable_item(session, conn, assessment_id, item_id)
        marking = _evidence_marking(session, conn, row, marking, lower_reason, f"the file evidence on {item_id}")
        sha, size = blobs.put_stream(conn, stream, limit, session.now(), filename)
        eid = repo.add_evidence(conn, assessment_id, item_id, "file", marking, session.account.username,
                                session.now(), sha256=sha, filename=filename, size=size)
        _evidence_history(session, conn, assessment_id, item_id, f"attached {filename} (sha256 {sha})")
        session.audit(conn, "assessment.evidence_add", "assessment", assessment_id,
                      {"item": item_id, "kind": "file", "file": filename, "sha256": sha, "size": size})
        return eid


def evidence(session: Session, assessment_id: int, item_id: str | None = None) -> list[EvidenceLink]:
    session.require(Permission.VIEW_CONTENT)
    return repo.evidence(session.db.conn, assessment_id, item_id)


def read_file_evidence(session: Session, evidence_id: int) -> tuple[str, bytes]:
    """(filename, bytes) of an attached file; IntegrityError if the stored bytes no longer match."""
    session.require(Permission.VIEW_CONTENT)
    _aid, link = repo.get_evidence(session.db.conn, evidence_id)
    if link.kind != "file" or not link.sha256:
        raise ValidationError("evidence", f"evidence {evidence_id} is not a file")
    return link.filename, blobs.read(session.db.conn, link.sha256)


def remove_evidence(session: Session, evidence_id: int, reason: str) -> None:
    session.require(Permission.ASSESS)
    if not reason.strip():
        raise ValidationError("reason", "a reason is required to remove evidence")
    with session.transaction() as conn:
        aid, link = repo.get_evidence(conn, evidence_id)
        editable(session, conn, aid)
        repo.remove_evidence(conn, evidence_id, session.account.username, session.now())
        current = repo.get_answer(conn, aid, link.item_id) or Answer(link.item_id)
        repo.add_history(conn, aid, current, {"evidence": [link.describe, ""]}, reason, session.account.username,
                         session.now())
        session.audit(conn, "assessment.evidence_remove", "assessment", aid,
                      {"item": link.item_id, "evidence": evidence_id, "reason": reason})
