"""The whole database's structural check, run after sign-in instead of before it.

Sign-in checks every table except the imported results' bulk (storage/db.py DEFERRED_CHECK: a run's
samples, transcripts and full-text index, 2 of the 2.1 s a 1,000,000-sample database took, growing
with every import). This check reads every page on a connection of its own, off the GUI thread, so
a damaged file is still reported at the start of the session, before anyone relies on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from storage.db import DatabaseError

if TYPE_CHECKING:
    from app.services.session import Session

STEPS = 10_000  # SQLite steps between looks at `cancelled`


def check(session: Session, cancelled: Callable[[], bool] | None = None) -> list[str] | None:
    """The problems SQLite's quick_check finds in the whole database ([] when it is sound), or
    None when `cancelled` became true first (sign-out, quitting)."""
    db = session.db.reader()
    try:
        try:
            return db.quick_check(cancelled, STEPS)
        except DatabaseError as exc:  # interrupted, or a page too damaged to walk
            if cancelled is not None and cancelled():
                return None
            return [str(exc)]
    finally:
        db.close()


def describe(problems: list[str], session: Session) -> str:
    """What to tell the person about `problems` found in `session`'s database."""
    path = session.db.path
    shown = "\n".join(f"- {p}" for p in problems[:5])
    more = f"\n(and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return (f"The database {path} fails its integrity check:\n{shown}{more}\n\nNothing was changed by this "
            "check. Stop work on this workstation, restore it from a backup, and tell your security officer.")
