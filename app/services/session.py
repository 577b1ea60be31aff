"""The signed-in session: database, account, settings, clock, authorisation and auditing."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app.model.accounts import Account, Permission
from app.model.audit import AuditEvent
from app.model.errors import AuthError, LockedOutError, PermissionDenied, StorageError
from app.model.settings import Settings
from app.services.runtime import ChangeSet, Runtime, changes_since
from app.services.seen_heads import signed_record
from storage import audit as audit_log
from storage.credentials import Credentials
from storage.db import Connection, Database
from storage.keys import Unlocked

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Session:
    """`main_db` is the connection opened at sign-in; it becomes the runtime's one writer, open for
    writes only inside `transaction()`. `db` is the calling thread's connection, handed out by the
    session's runtime (app/services/runtime.py): the writer inside a transaction, else the thread's
    own read-only connection, so code in a job uses `session.db` like any other code."""

    data_dir: Path
    main_db: Database
    account: Account
    header_path: Path
    clock: Clock = utc_now
    locked: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    # This person's own signing key and wrapping key: every audit event and decision is signed
    # with the first; the second opens the CA key for administrators. Held for the session only.
    personal: Any = field(default=None, repr=False)  # app.services.identity.PersonalKey
    unlocked: Unlocked | None = field(default=None, repr=False)
    db_id: str = ""
    # Which copy of the workstation this is (app.services.integrity.newest_restore): "" as created, a
    # restore's id, None during the restore itself (its sign-in keeps no record of the chain).
    copy_of: str | None = ""
    # What sign-in found that the person must see (rolled-back data, unsigned roles, ...).
    integrity_warnings: list[str] = field(default_factory=list)
    # What sign-in found that the person should know and that is no alarm (a restored copy).
    notices: list[str] = field(default_factory=list)
    _settings_changed: list[str] = field(default_factory=list, repr=False)
    runtime: Runtime = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.runtime = Runtime(self.main_db)

    @property
    def db(self) -> Database:
        return self.runtime.database()

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.data_dir)

    # -- time --------------------------------------------------------------------------------
    def now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="microseconds")

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    # -- settings ----------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        """The settings as an administrator signed them (app/services/settings_signatures.py)."""
        if self._settings is None:
            from app.services import settings_signatures

            self._settings, self._settings_changed = settings_signatures.load(self.db.conn, self.db_id)
        return self._settings

    @property
    def settings_changed_outside(self) -> list[str]:
        """The settings whose stored value no administrator signed (the signed one is used)."""
        _ = self.settings
        return list(self._settings_changed)

    def reload_settings(self) -> None:
        self._settings = None

    # -- access control (AC-3): every service checks here, the UI only reflects it ------------
    def require(self, permission: Permission) -> None:
        # The lock stops what the person does at the screen (the owner thread); work already handed
        # to a job runs on to the end (a lock never cancels running work).
        if self.locked and self.runtime.on_owner_thread:
            raise PermissionDenied("The workstation is locked; unlock it first.")
        if not self.account.can(permission):
            raise PermissionDenied(
                f"Your role ({self.account.role.label}) does not allow this action ({permission.value})."
            )

    # -- writes ------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The only write path. Takes the runtime's write gate (waiting for another thread's
        transaction), runs one transaction on the runtime's one writer connection (`session.db` is
        that connection meanwhile, so the body reads its own writes), commits, records the audit
        head outside the database, releases the gate and broadcasts what changed. Nested on the
        same thread it is a savepoint of the outer transaction, which commits and broadcasts."""
        with self.runtime.writing(_caller()) as nested:
            writer = self.runtime.writer
            if nested:
                with writer.savepoint(f"nested_{nested}") as conn:
                    yield conn
                return
            with writer.transaction() as conn:
                before = audit_log.head(conn)[0]
                yield conn
                head = audit_log.head(conn)
                changes = changes_since(conn, before) if head[0] > before else ChangeSet(())
                extends = self._extends_recorded_head(conn)
            if extends:
                self._record_head(head)  # under the gate, so heads are recorded in commit order
        self.runtime.publish(changes)

    def audit(self, conn: Connection, action: str, object_type: str, object_id: object = None,
              details: dict[str, Any] | None = None) -> AuditEvent:
        """Append an event signed with this person's key (unsigned only where no key exists yet:
        workstations from before schema 6, until the person's next sign-in)."""
        return audit_log.append(conn, self.now(), self.account.username, action, object_type, object_id, details,
                                signer=self._sign_event if self.personal is not None else None)

    def _sign_event(self, event_hash: str) -> tuple[str, str]:
        import base64

        return self.personal.fingerprint, base64.b64encode(self.personal.sign(bytes.fromhex(event_hash))).decode()

    def _extends_recorded_head(self, conn: Connection) -> bool:
        """Advance the recorded head only over a chain that still holds the recorded event:
        after a cut tail the old head must stay, so verification keeps reporting the cut."""
        try:
            known = self.credentials.read().audit_head
        except Exception:
            return False
        seq = int(known.get("seq", 0) or 0)
        if seq == 0:
            return True
        row = conn.execute("SELECT hash FROM audit_events WHERE seq = ?", (seq,)).fetchone()
        return row is not None and row[0] == known.get("hash")

    def _record_head(self, head: tuple[int, str]) -> None:
        """Keep the chain head outside the database too (workstation-wide, and as the head this
        person has seen, signed with their key), so deleting or rewriting the tail is detectable."""
        if head[0] == 0:
            return
        try:
            with self.credentials.update() as header:
                if header.audit_head.get("seq", 0) < head[0]:
                    header.audit_head = {"seq": head[0], "hash": head[1]}
                if self.personal is not None:
                    header.seen_heads[self.account.username] = signed_record(self.db.conn, self.account.username,
                                                                             self.personal, head)
        except StorageError as exc:
            # The change itself is committed; failing it now would report a failure that did not
            # happen. The person is told (status bar, CLI) that the outside record is behind.
            self.integrity_warnings.append(f"The audit trail's head could not be recorded outside the database "
                                           f"({exc}); the next successful change records it.")

    def reauthenticate(self, passphrase: str) -> Unlocked:
        """Sensitive actions (signing, key slots, backups) ask for the passphrase again: returns the
        data key and this person's wrapping key. A wrong one counts toward the lockout and is
        audited, signed by the person whose session it is."""
        try:
            return self.credentials.unlock(self.account.username, passphrase, self.clock().astimezone(UTC))[1]
        except AuthError as exc:
            with contextlib.suppress(Exception), self.transaction() as conn:
                self.audit(conn, "auth.reauth_failed", "account", self.account.username,
                           {"locked_out": isinstance(exc, LockedOutError)})
            if isinstance(exc, LockedOutError):
                if exc.after_failure:  # the account is known here: it was the passphrase
                    raise LockedOutError(exc.username, exc.seconds, True, "Wrong passphrase.") from None
                raise
            raise AuthError("Wrong passphrase.") from None

    def close(self) -> None:
        self.runtime.close()


def _caller() -> str:
    """Who is writing, for "the database is busy" (the first frame outside this module and contextlib)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename in (__file__, contextlib.__file__):
        frame = frame.f_back  # type: ignore[assignment]
    name = frame.f_code.co_qualname if frame is not None else "?"
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    return f"{module}.{name} on thread {threading.current_thread().name}"
