"""Comment threads on a checklist item, a finding, a vulnerability or a submission's coverage
determination: kept in the record (the table refuses edits and deletions) and audited.

Targets are named the same way in the UI and the CLI:
    item           SUBMISSION/ITEM, e.g. 12/CAP-02
    finding        the finding's id
    vulnerability  the vulnerability's id, e.g. VULN-2026-0003
    determination  the submission's id (the thread follows the submission's determination)
"""

from __future__ import annotations

from app.model.accounts import Permission
from app.model.discussion import Comment
from app.model.errors import NotFound, ValidationError
from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.workflow import Act
from app.services import workflow
from app.services.session import Session
from storage import assessment_repo, workflow_repo
from storage.db import Connection

TARGETS = ("item", "finding", "vulnerability", "determination")
MAX_COMMENT = 20_000


def item_ref(submission_id: int, item_id: str) -> str:
    return f"{submission_id}/{item_id}"


def _resolve(conn: Connection, target_type: str, ref: str) -> tuple[int | None, Marking, str]:
    """(submission id, the target's marking, a label) for a target; NotFound/ValidationError name it."""
    from app.services.assessment_templates import stored_template
    from storage import vulns_repo

    ref = ref.strip()
    if target_type not in TARGETS:
        raise ValidationError("target", f"{target_type!r} is not one of {', '.join(TARGETS)}")
    if target_type == "item":
        sub, sep, item_id = ref.partition("/")
        if not sep or not sub.isdigit():
            raise ValidationError("target", f"{ref!r}: an item is named SUBMISSION/ITEM, e.g. 12/CAP-02")
        row = assessment_repo.assessment_for_submission(conn, int(sub))
        if row is None:
            raise NotFound(f"Submission {sub} has no assessment yet, so item {item_id} has no thread.")
        stored_template(conn, row.template_pk).item(item_id)
        answer = assessment_repo.get_answer(conn, row.id, item_id)
        return int(sub), answer.marking if answer else UNCLASSIFIED, f"item {item_id} of submission {sub}"
    if target_type == "finding":
        if not ref.isdigit():
            raise ValidationError("target", f"{ref!r} is not a finding id")
        f = assessment_repo.get_finding(conn, int(ref))
        return f.submission_id, f.marking, f"finding {f.label}"
    if target_type == "vulnerability":
        v = vulns_repo.get(conn, ref)
        return v.context.submission_id, v.marking, f"vulnerability {v.id}"
    if not ref.isdigit():
        raise ValidationError("target", f"{ref!r} is not a submission id")
    det = assessment_repo.current_determination(conn, int(ref))
    if det is None:
        raise NotFound(f"Submission {ref} has no coverage determination yet.")
    return int(ref), det.marking, f"coverage determination of submission {ref}"


def add(session: Session, target_type: str, ref: str, body: str, marking: Marking = UNCLASSIFIED) -> Comment:
    """Add a comment. It is marked at least as high as what it discusses (it may quote it)."""
    session.require(Permission.ASSESS)
    body = body.strip()
    if not body:
        raise ValidationError("comment", "must not be empty")
    if len(body) > MAX_COMMENT:
        raise ValidationError("comment", f"must be at most {MAX_COMMENT:,} characters")
    submission_id, target_marking, label = _resolve(session.db.conn, target_type, ref)
    if submission_id is not None:
        workflow.require(session, submission_id, Act.COMMENT)
    marking = rollup([marking, target_marking])
    with session.transaction() as conn:
        cid = workflow_repo.add_comment(conn, submission_id, target_type, ref.strip(), body, marking,
                                        session.account.username, session.now())
        # The text stays in the (encrypted) thread; the audit event says who, where and how marked.
        session.audit(conn, "comment.add", target_type, ref.strip(),
                      {"comment": cid, "submission": submission_id, "about": label, "marking": marking.banner(),
                       "chars": len(body)})
        return next(c for c in workflow_repo.thread(conn, target_type, ref.strip()) if c.id == cid)


def thread(session: Session, target_type: str, ref: str) -> list[Comment]:
    session.require(Permission.VIEW_CONTENT)
    if target_type not in TARGETS:
        raise ValidationError("target", f"{target_type!r} is not one of {', '.join(TARGETS)}")
    return workflow_repo.thread(session.db.conn, target_type, ref.strip())


def for_submission(session: Session, submission_id: int) -> list[Comment]:
    session.require(Permission.VIEW_CONTENT)
    return workflow_repo.submission_comments(session.db.conn, submission_id)


def counts(session: Session, target_type: str, refs: list[str]) -> dict[str, int]:
    session.require(Permission.VIEW_CONTENT)
    return workflow_repo.comment_counts(session.db.conn, target_type, refs)
