"""Submission registry use cases."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.foundation.files import shown_name
from app.model.accounts import Permission
from app.model.errors import IngestError, ValidationError
from app.model.markings import Marking
from app.model.submissions import ARTIFACT_KINDS, Artifact, Submission, WindowState
from app.model.workflow import Stage
from app.services import egress, submission_signatures
from app.services.session import Session
from storage import blobs
from storage import submissions_repo as repo
from storage.atomic import atomic_write


def _diff(old: Submission, new: Submission) -> dict[str, list[str]]:
    changes = {}
    for f in dataclasses.fields(Submission):
        if f.name in ("updated_at", "created_by", "id"):
            continue
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a != b:
            changes[f.name] = [str(a), str(b)]
    return changes


def create(session: Session, submission: Submission) -> Submission:
    session.require(Permission.EDIT_SUBMISSIONS)
    submission.validate()
    with session.transaction() as conn:
        sid = repo.insert(conn, submission, session.account.username, session.now())
        session.audit(conn, "submission.create", "submission", sid,
                      {"developer": submission.developer, "model": submission.model_name,
                       "version": submission.version, "marking": submission.marking.banner()})
        submission_signatures.sign(session, conn, sid)
        return repo.get(conn, sid)


def update(session: Session, submission: Submission) -> Submission:
    session.require(Permission.EDIT_SUBMISSIONS)
    submission.validate()
    assert submission.id is not None
    with session.transaction() as conn:
        old = repo.get(conn, submission.id)
        changes = _diff(old, submission)
        if not changes:
            return old
        if not submission_signatures.standing_in(session, conn, submission.id).holds:
            # a save must not sign a marking that was lowered around the application
            floor = submission_signatures.marking_floor(session, conn, submission.id)
            if not submission.marking.dominates(floor):
                raise ValidationError("marking", f"this submission's marking was changed around the application; "
                                                 f"its editors signed {floor.banner()}: save it at that marking or "
                                                 "above (review it first)")
        repo.update(conn, submission, session.now())
        session.audit(conn, "submission.update", "submission", submission.id, {"changes": changes})
        submission_signatures.sign(session, conn, submission.id)
        return repo.get(conn, submission.id)


def delete(session: Session, submission_id: int, reason: str) -> None:
    session.require(Permission.EDIT_SUBMISSIONS)
    if not reason.strip():
        raise ValidationError("reason", "a reason is required to delete a submission")
    with session.transaction() as conn:
        old = repo.get(conn, submission_id)
        repo.mark_deleted(conn, submission_id, session.now())
        session.audit(conn, "submission.delete", "submission", submission_id,
                      {"reason": reason, "name": old.display_name})
        submission_signatures.sign(session, conn, submission_id)  # undeleting it in the database shows


def get(session: Session, submission_id: int) -> Submission:
    session.require(Permission.VIEW_CONTENT)
    return repo.get(session.db.conn, submission_id)


def count(session: Session, search: str = "", stage: str | None = None, open_only: bool = False) -> int:
    """Submissions matching the table's filters; `stage` (a Stage value) and `open_only` (not
    released or withdrawn) use the lifecycle stage computed from the work."""
    session.require(Permission.VIEW_CONTENT)
    return repo.count(session.db.conn, search, stage, open_only)


def page(session: Session, offset: int, limit: int, sort: str = "release", descending: bool = False,
         search: str = "", stage: str | None = None, open_only: bool = False,
         after_id: int | None = None) -> list[Submission]:
    """One page of the table; sort "status" orders by computed stage along the journey. `after_id`
    (the submission just before `offset`) lets the page be read by key instead of by offset."""
    session.require(Permission.VIEW_CONTENT)
    return repo.page(session.db.conn, offset, limit, sort, descending, search, stage, open_only, after_id)


@dataclass(frozen=True)
class DashboardRow:
    submission: Submission
    stage: Stage
    window: WindowState
    days: int


@dataclass(frozen=True)
class Dashboard:
    rows: list[DashboardRow]  # open reviews, most urgent first (at most `limit`)
    open_total: int  # every open review (lifecycle stage before released/withdrawn)
    counts: dict[WindowState, int]  # open reviews by window state
    stages: dict[Stage, int]  # every submission by lifecycle stage


def dashboard(session: Session, limit: int = 200) -> Dashboard:
    """Open reviews by their computed lifecycle stage, most urgent first; released and withdrawn
    work has left them. Counts cover every open review, not only the rows shown."""
    from app.services import workflow

    session.require(Permission.VIEW_CONTENT)
    today = session.today()
    at_risk = session.settings.at_risk_days
    stages = workflow.stages(session)
    open_ids = [sid for sid, st in stages.items() if st.is_open]
    subs = repo.many(session.db.conn, open_ids)
    rows = []
    for s in subs:
        days = s.days_remaining(today)
        window = WindowState.OVERDUE if days < 0 else WindowState.AT_RISK if days <= at_risk else WindowState.ON_TRACK
        rows.append(DashboardRow(s, stages[int(s.id or 0)], window, days))
    order = {WindowState.OVERDUE: 0, WindowState.AT_RISK: 1, WindowState.ON_TRACK: 2, WindowState.DONE: 3}
    rows.sort(key=lambda r: (order[r.window], r.days, -r.stage.rank))
    counts = dict.fromkeys(WindowState, 0)
    for r in rows:
        counts[r.window] += 1
    by_stage = dict.fromkeys(Stage, 0)
    for st in stages.values():
        by_stage[st] += 1
    return Dashboard(rows[:limit], len(rows), counts, by_stage)


def attach_artifact(session: Session, submission_id: int, path: Path, kind: str,
                    marking: Marking | None = None, lower_reason: str = "") -> Artifact:
    """Store a file as an encrypted evidence blob with its SHA-256; one transaction. The artifact
    starts at the submission's marking; a lower one needs `lower_reason` (audited `marking.lower`)."""
    session.require(Permission.EDIT_SUBMISSIONS)
    if kind not in ARTIFACT_KINDS:
        raise ValidationError("kind", f"must be one of {', '.join(ARTIFACT_KINDS)}")
    path = Path(path)
    if path.is_dir():
        raise IngestError(str(path), "is a directory, not a file")
    limit = session.settings.max_artifact_mb << 20
    try:
        size = path.stat().st_size
        if size > limit:
            raise ValidationError(
                "artifact",
                f"{path.name} is {size / (1 << 20):.0f} MB; the limit is {session.settings.max_artifact_mb} MB",
            )
        with open(path, "rb") as fh:  # a name that is not UTF-8 is stored as shown (r\\xe9sum\\xe9.pdf)
            return _store(session, submission_id, fh, shown_name(path.name), kind, marking, limit, lower_reason)
    except OSError as exc:
        raise IngestError(str(path), f"cannot be read ({exc.strerror or exc}); nothing was stored") from None


def _store(session: Session, submission_id: int, stream: BinaryIO, filename: str, kind: str,
           requested: Marking | None, limit: int, lower_reason: str = "") -> Artifact:
    from app.services import derivation

    with session.transaction() as conn:
        floor = submission_signatures.marking_floor(session, conn, submission_id)
        marking = derivation.settle(session, conn, requested, floor, lower_reason,
                                    f"The artifact {filename}", "submission", submission_id)
        sha, size = blobs.put_stream(conn, stream, limit, session.now(), filename)
        aid = repo.add_artifact(conn, submission_id, kind, filename, sha, size, marking,
                                session.account.username, session.now())
        session.audit(conn, "artifact.attach", "submission", submission_id,
                      {"artifact": aid, "file": filename, "sha256": sha, "size": size, "kind": kind})
        return repo.artifact(conn, aid)


def artifacts(session: Session, submission_id: int) -> list[Artifact]:
    session.require(Permission.VIEW_CONTENT)
    return repo.artifacts(session.db.conn, submission_id)


def read_artifact(session: Session, artifact_id: int) -> tuple[Artifact, bytes]:
    """Decrypt an artifact (checked against its SHA-256); opening it is audited."""
    session.require(Permission.VIEW_CONTENT)
    art = repo.artifact(session.db.conn, artifact_id)
    data = blobs.read(session.db.conn, art.sha256)
    with session.transaction() as conn:
        session.audit(conn, "artifact.open", "submission", art.submission_id,
                      {"artifact": artifact_id, "file": art.filename})
    return art, data


def save_artifact_copy(session: Session, artifact_id: int, destination: Path, media_label: str | Marking) -> Artifact:
    """Write a decrypted copy (checked against its SHA-256) to a file the reviewer chose, on media
    labelled at least as high as the artifact (egress check); MARKING.txt beside it; audited.

    Written atomically with mode 0600; an existing file is replaced only by the finished copy.
    """
    session.require(Permission.EXPORT)
    art = repo.artifact(session.db.conn, artifact_id)
    destination = Path(destination)
    cleared = egress.clear(session, f"the artifact {art.filename}", art.marking, media_label, destination)
    egress.check_folder(destination.parent)
    data = blobs.read(session.db.conn, art.sha256)
    atomic_write(destination, data)  # StorageError names the file if it cannot be written
    egress.write_marking_file(destination.parent, cleared)
    with session.transaction() as conn:
        session.audit(conn, "artifact.export", "submission", art.submission_id,
                      {"artifact": artifact_id, "file": art.filename, "sha256": art.sha256,
                       "destination": str(destination), "marking": art.marking.banner(),
                       "media": cleared.media.banner()})
        egress.record(session, conn, cleared)
    return art

