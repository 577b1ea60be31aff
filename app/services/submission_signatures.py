"""Submissions that hold by their last editor's signature (the core: app/services/record_signatures.py).

A submission is what everything else is about: its marking is where every answer, piece of
evidence, finding, determination and register entry about it starts, and its dates set the review
clock and the embargoes. So each create, edit and delete made through the application is a decision
signed by the person who made it, over a digest of every stored column (and one per column, so a
change can be named). Where a submission is relied on, it must hold:

- `marking_floor`: a record about it starts at its marking, never below a marking its editors
  signed (an insider who lowered it in the database would otherwise have new work start below its
  real classification);
- a report or a release about it is not signed, approved or exported while it does not hold.

The submissions screen, its overview and `submission list` / `show` show a submission that does not
hold, with why; a person who edits submissions signs it again after review (`sign_reviewed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.model.accounts import Permission
from app.model.errors import IntegrityError
from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import decisions, record_signatures
from app.services.record_signatures import Standing, digest
from app.services.session import Session
from storage import submissions_repo as repo
from storage.db import Connection

KIND = "submission.record"
OBJECT = "submission"
REVIEW_HINT = ("a person who edits submissions must review it (its overview) and sign it "
               "(`frontier-review submission sign ID`)")


def _content(sid: int, fields: dict[str, Any]) -> dict[str, Any]:
    # the marking in clear as well: marking_floor reads it from every signature it can verify
    return {"submission": sid, "sha256": digest(fields), "marking": fields.get("marking"),
            "fields": {name: digest(value)[:16] for name, value in fields.items()}}


def sign(session: Session, conn: Connection, sid: int) -> None:
    """Sign the submission as it now stands (last in the transaction that created, edited or deleted it)."""
    fields = repo.signed_fields(conn, [sid])[sid]
    record_signatures.sign(session, conn, KIND, OBJECT, sid, _content(sid, fields))


def _standing(conn: Connection, reg: decisions.Registry, sid: int, fields: dict[str, Any] | None,
              d: Any) -> Standing:
    oid = str(sid)
    refused = record_signatures.signer_problem(conn, reg, oid, d, Permission.EDIT_SUBMISSIONS, "edit submissions")
    if refused is not None or d is None:
        return refused or Standing(oid, None)
    signed = decisions.content_of(d)
    now = _content(sid, fields or {})
    if signed == now:
        return Standing(oid, None, d.actor, d.ts)
    raw = signed.get("fields")
    before: dict[str, Any] = raw if isinstance(raw, dict) else {}
    changed = tuple(sorted(k for k in set(before) | set(now["fields"]) if before.get(k) != now["fields"].get(k)))
    what = f" ({', '.join(changed)})" if changed else ""
    return Standing(oid, f"it was changed{what} in the database after {d.actor} signed it on {d.ts[:10]}",
                    d.actor, d.ts, None, changed)


def _standings(session: Session, sids: Iterable[int], conn: Connection) -> dict[int, Standing]:
    ids = list(dict.fromkeys(int(s) for s in sids))
    if not ids:
        return {}
    reg = decisions.Registry.load(conn, session.db_id)
    latest = record_signatures.newest(conn, OBJECT, [str(i) for i in ids], KIND)
    fields = repo.signed_fields(conn, ids)
    return {i: _standing(conn, reg, i, fields.get(i), latest.get(str(i))) for i in ids}


def standings(session: Session, submissions: Iterable[Submission]) -> dict[int, Standing]:
    """Each submission's standing, by id: one registry of keys and one query for the lot."""
    return _standings(session, (s.id for s in submissions if s.id is not None), session.db.conn)


def standing(session: Session, submission_id: int) -> Standing:
    return _standings(session, [submission_id], session.db.conn)[submission_id]


def standing_in(session: Session, conn: Connection, submission_id: int) -> Standing:
    """`standing` on a connection the caller holds (a writer's transaction, a gate's read)."""
    return _standings(session, [submission_id], conn)[submission_id]


def require_holding(session: Session, conn: Connection, submission_id: int, use: str) -> None:
    """IntegrityError when the submission does not hold its signature, before it is `use`d."""
    st = _standings(session, [submission_id], conn)[submission_id]
    if not st.holds:
        raise IntegrityError(f"Submission {submission_id} does not hold its signature, so {use}: {st.problem}. "
                             f"Before that, {REVIEW_HINT}.")


def marking_floor(session: Session, conn: Connection, submission_id: int) -> Marking:
    """Where a record about the submission starts: its marking, never below one its editors signed
    (record_signatures.signed_marking). Why not simply refuse a submission that does not hold: a new
    reviewer's signatures count only once an administrator has issued their certificate, and their
    work must not stop until then."""
    marking = repo.get(conn, submission_id).marking  # NotFound first, for an unknown or deleted one
    return record_signatures.signed_marking(conn, decisions.Registry.load(conn, session.db_id), OBJECT,
                                            str(submission_id), KIND, Permission.EDIT_SUBMISSIONS, marking)


def shown_marking(session: Session, submission_id: int) -> Marking:
    """The marking to show the submission under: its own, raised to what its editors signed when the
    row says less (a lowered marking is never what the screen or a banner shows)."""
    return marking_floor(session, session.db.conn, submission_id)


def shown_markings(session: Session, submissions: Iterable[Submission]) -> dict[int, Marking]:
    """`shown_marking` of each (one registry of keys for the lot: a table page of them)."""
    conn = session.db.conn
    reg: decisions.Registry | None = None
    out: dict[int, Marking] = {}
    for s in submissions:
        reg = reg or decisions.Registry.load(conn, session.db_id)
        out[int(s.id or 0)] = record_signatures.signed_marking(conn, reg, OBJECT, str(s.id), KIND,
                                                               Permission.EDIT_SUBMISSIONS, s.marking)
    return out


def sign_reviewed(session: Session, submission_id: int, seen: str | None = None) -> Standing:
    """Sign a submission that does not hold, as it now stands, after the person reviewed it; `seen`:
    the problem they were shown (refused if it is another now: it changed while they looked). Audited."""
    session.require(Permission.EDIT_SUBMISSIONS)
    with session.transaction() as conn:
        repo.get(conn, submission_id)  # NotFound for a deleted or unknown one
        before = _standings(session, [submission_id], conn)[submission_id]
        if seen is not None and before.problem != seen:
            raise IntegrityError(f"Submission {submission_id} changed while you reviewed it (now: "
                                 f"{before.problem or 'it holds'}); review it again.")
        if not record_signatures.sign_again(session, conn, before, lambda: sign(session, conn, submission_id),
                                            "submission.sign", OBJECT, submission_id):
            return before
        return _standings(session, [submission_id], conn)[submission_id]
