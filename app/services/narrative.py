"""The report narrative: the reviewer writes the bottom line, key judgments and recommendations;
a lead comments on a part or returns it, as with checklist items. Locked with the assessment.

Text is plain structured text (app.model.narrative); nothing in it is ever rendered as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.model.accounts import Permission
from app.model.checklist import State
from app.model.errors import PermissionDenied, ValidationError
from app.model.narrative import Narrative, NarrativeComment
from app.services.session import Session
from storage import assessment_repo, submissions_repo
from storage import narrative_repo as repo
from storage.narrative_repo import PARTS

PART_LABELS = {"bottom_line": "Bottom line", "judgments": "Key judgments", "recommendations": "Recommendations"}
MAX_COMMENT = 4000


@dataclass(frozen=True)
class NarrativeView:
    submission_id: int
    narrative: Narrative
    updated_by: str
    updated_at: str
    comments: tuple[NarrativeComment, ...]
    locked: bool  # the assessment is approved: the narrative is locked with it

    def returned(self, part: str) -> list[NarrativeComment]:
        """Open returns on a part: what the lead asked to change and the reviewer has not yet edited."""
        return [c for c in self.comments if c.part == part and c.open_return]


def _locked(session: Session, submission_id: int) -> bool:
    row = assessment_repo.assessment_for_submission(session.db.conn, submission_id)
    return row is not None and row.state is State.APPROVED


def get(session: Session, submission_id: int) -> NarrativeView:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    submissions_repo.get(conn, submission_id)
    stored = repo.get(conn, submission_id)
    narrative = stored.narrative if stored else Narrative()
    return NarrativeView(submission_id, narrative, stored.updated_by if stored else "",
                         stored.updated_at if stored else "", tuple(repo.comments(conn, submission_id)),
                         _locked(session, submission_id))


def _changed_parts(old: Narrative, new: Narrative) -> list[str]:
    parts = []
    if (old.bottom_line, old.bottom_line_marking) != (new.bottom_line, new.bottom_line_marking):
        parts.append("bottom_line")
    if old.judgments != new.judgments:
        parts.append("judgments")
    if (old.recommendations, old.recommendations_marking) != (new.recommendations, new.recommendations_marking):
        parts.append("recommendations")
    return parts


def save(session: Session, submission_id: int, narrative: Narrative) -> NarrativeView:
    """Store the narrative (one transaction, audited with the parts changed); editing a returned
    part answers the lead's return."""
    session.require(Permission.ASSESS)
    narrative.validate()
    with session.transaction() as conn:
        submissions_repo.get(conn, submission_id)
        if _locked(session, submission_id):
            raise PermissionDenied(f"The assessment of submission {submission_id} is approved and locked; a lead must "
                                   "reopen it before the narrative can change.")
        stored = repo.get(conn, submission_id)
        parts = _changed_parts(stored.narrative if stored else Narrative(), narrative)
        if not parts:
            return get(session, submission_id)
        repo.save(conn, submission_id, narrative, session.account.username, session.now())
        resolved = repo.resolve_returns(conn, submission_id, parts, session.account.username, session.now())
        session.audit(conn, "narrative.save", "submission", submission_id,
                      {"parts": parts, "returns_answered": resolved, "judgments": len(narrative.judgments),
                       "markings": sorted({m.banner() for m in narrative.markings()})})
    return get(session, submission_id)


def comment(session: Session, submission_id: int, part: str, text: str, return_part: bool = False) -> NarrativeView:
    """A lead comments on a part, or returns it for changes (never their own writing)."""
    session.require(Permission.APPROVE)
    if part not in PARTS:
        raise ValidationError("part", f"must be one of {', '.join(PARTS)}")
    if not text.strip():
        raise ValidationError("comment", "say what must change")
    if len(text) > MAX_COMMENT:
        raise ValidationError("comment", f"must be at most {MAX_COMMENT:,} characters")
    with session.transaction() as conn:
        stored = repo.get(conn, submission_id)
        if stored is None:
            raise ValidationError("narrative", f"submission {submission_id} has no narrative to review yet")
        if return_part and stored.updated_by == session.account.username:
            raise PermissionDenied("You wrote this narrative last; another lead must return it (two-person rule).")
        action = "return" if return_part else "comment"
        repo.add_comment(conn, submission_id, part, action, text.strip(), session.account.username, session.now())
        session.audit(conn, f"narrative.{action}", "submission", submission_id, {"part": part})
    return get(session, submission_id)
