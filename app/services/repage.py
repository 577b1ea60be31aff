"""Rewrite this workstation's database at the new SQLCipher page size (workstations set up before
32 KiB pages keep 4 KiB pages until an administrator runs this; storage/repage.py does the work
and its docstring says what a crash at each step leaves).

The rewrite needs the database to itself, so the session that asks for it ends: the caller gets a
new session of the same person on the rewritten database (same keys, no second key derivation).
The audit log records it twice: `storage.repage` before the copy (so the copy holds it), then
`storage.repage_done` on the new database or `storage.repage_failed` on the old one.
"""

from __future__ import annotations

import contextlib

from app.model.accounts import Permission
from app.model.errors import ValidationError
from app.model.repage import RepageResult
from app.services import workstation
from app.services.session import Session
from storage import repage as store
from storage.keys import NEW_PAGE_SIZE

__all__ = ["repage"]


def repage(session: Session, passphrase: str, page_size: int = NEW_PAGE_SIZE,
           step: store.Step | None = None) -> tuple[RepageResult, Session]:
    """Administrators only, passphrase asked again first (a wrong one changes nothing). Returns what
    was done and the session to go on with; `session` is closed either way."""
    session.require(Permission.MANAGE_SETTINGS)
    key = session.reauthenticate(passphrase).data_key
    header = session.credentials.read()
    if header.page_size == page_size:
        raise ValidationError("page_size", f"this workstation's database already has {page_size}-byte pages")
    with session.transaction() as conn:
        session.audit(conn, "storage.repage", "workstation", header.db_id,
                      {"from_page_size": header.page_size, "to_page_size": page_size})
    session.close()
    try:
        result = store.rewrite(workstation.db_path(session.data_dir), key, session.credentials, page_size,
                               step or store.no_step)
    except Exception as exc:
        again = _reopen(session, key)
        try:
            with contextlib.suppress(Exception), again.transaction() as conn:
                again.audit(conn, "storage.repage_failed", "workstation", header.db_id,
                            {"to_page_size": page_size, "error": str(exc)})
        finally:
            again.close()
        raise
    again = _reopen(session, key)
    with again.transaction() as conn:
        again.audit(conn, "storage.repage_done", "workstation", header.db_id, {
            "from_page_size": result.old_page_size, "to_page_size": result.new_page_size, "tables": result.tables,
            "rows": result.rows, "old_bytes": result.old_bytes, "new_bytes": result.new_bytes,
            "audit_seq_verified": result.audit_seq})
    return result, again


def _reopen(old: Session, key: bytes) -> Session:
    """The same person's session on the database as it now stands (its page size from the header)."""
    fresh = Session(old.data_dir, workstation.open_database(old.data_dir, key), old.account, old.header_path,
                    old.clock, db_id=old.db_id, unlocked=old.unlocked)
    fresh.personal = old.personal
    return fresh
