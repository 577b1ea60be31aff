"""The signed-in session: database, account, settings, clock, authorisation and auditing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app.model.accounts import Account, Permission
from app.model.audit import AuditEvent
from app.model.errors import PermissionDenied
from app.model.settings import Settings
from storage import audit as audit_log
from storage import settings_repo
from storage.db import Connection, Database
from storage.keys import KeyHeader

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Session:
    data_dir: Path
    db: Database
    account: Account
    header_path: Path
    clock: Clock = utc_now
    locked: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    # -- time --------------------------------------------------------------------------------
    def now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="microseconds")

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    # -- settings ----------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = settings_repo.load(self.db.conn)
        return self._settings

    def reload_settings(self) -> None:
        self._settings = None

    # -- access control (AC-3): every service checks here, the UI only reflects it ------------
    def require(self, permission: Permission) -> None:
        if self.locked:
            raise PermissionDenied("The workstation is locked; unlock it first.")
        if not self.account.can(permission):
            raise PermissionDenied(
                f"Your role ({self.account.role.label}) does not allow this action ({permission.value})."
            )

    # -- writes ------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.db.transaction() as conn:
            yield conn
            head = audit_log.head(conn)
            extends = self._extends_recorded_head(conn)
        if extends:
            self._record_head(head)

    def audit(self, conn: Connection, action: str, object_type: str, object_id: object = None,
              details: dict[str, Any] | None = None) -> AuditEvent:
        return audit_log.append(conn, self.now(), self.account.username, action, object_type, object_id, details)

    def _extends_recorded_head(self, conn: Connection) -> bool:
        """Advance the recorded head only over a chain that still holds the recorded event:
        after a cut tail the old head must stay, so verification keeps reporting the cut."""
        try:
            known = KeyHeader.load(self.header_path).audit_head
        except Exception:
            return False
        seq = int(known.get("seq", 0) or 0)
        if seq == 0:
            return True
        row = conn.execute("SELECT hash FROM audit_events WHERE seq = ?", (seq,)).fetchone()
        return row is not None and row[0] == known.get("hash")

    def _record_head(self, head: tuple[int, str]) -> None:
        """Keep the chain head outside the database too, so deleting the tail is detectable."""
        if head[0] == 0:
            return
        try:
            header = KeyHeader.load(self.header_path)
            if header.audit_head.get("seq", 0) < head[0]:
                header.audit_head = {"seq": head[0], "hash": head[1]}
                header.save(self.header_path)
        except Exception:
            pass

    def reauthenticate(self, passphrase: str) -> None:
        """Sensitive actions (signing, export of keys) ask for the passphrase again."""
        from app.services import workstation

        workstation.check_passphrase(self, passphrase)

    def worker_db(self) -> Database:
        return self.db.another()

    def close(self) -> None:
        self.db.close()
