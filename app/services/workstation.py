"""Workstation lifecycle: setup, sign-in with lockout, lock/unlock, recovery."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import platformdirs

from app.model.accounts import DEFAULT_POLICY, Role, lockout_delay, validate_username
from app.model.errors import AuthError, LockedOutError, StorageError, ValidationError
from app.model.markings import Marking, parse_declassify_on
from app.model.settings import Settings
from app.services import pki
from app.services.session import Clock, Session, utc_now
from storage import accounts as accounts_repo
from storage import audit as audit_log
from storage import keyring_secret, settings_repo
from storage.atomic import atomic_write
from storage.db import Database
from storage.keys import KEYRING_MODE, PASSPHRASE_MODE, KeyHeader, new_data_key

DB_NAME = "workstation.db"
HEADER_NAME = "workstation.keys.json"
# Shown before sign-in (banner, consent text): not secret, so kept outside the encrypted database.
PRELOGIN_NAME = "workstation.prelogin.json"
MAX_PENDING_EVENTS = 1000



def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("frontier-review", appauthor=False))


def db_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_NAME


def header_path(data_dir: Path) -> Path:
    return Path(data_dir) / HEADER_NAME


def is_initialized(data_dir: Path) -> bool:
    return db_path(data_dir).exists() or header_path(data_dir).exists()


@dataclass(frozen=True)
class SetupResult:
    recovery_key: str
    keyring_mode: str
    keyring_backend: str
    session: Session


def keyring_status() -> keyring_secret.KeyringStatus:
    return keyring_secret.status()


def initialize(
    data_dir: Path,
    *,
    workstation_name: str,
    system_high: str,
    admin_username: str,
    admin_display_name: str,
    admin_passphrase: str,
    use_keyring: bool | None = None,
    banner_text: str | None = None,
    clock: Clock = utc_now,
) -> SetupResult:
    """Create the key header, the encrypted database and the first (admin) account."""
    data_dir = Path(data_dir)
    validate_username(admin_username)
    DEFAULT_POLICY.check(admin_passphrase, admin_username)
    if not workstation_name.strip():
        raise ValidationError("workstation_name", "is required")
    Marking.parse(system_high)
    if is_initialized(data_dir):
        raise StorageError(f"{data_dir} already holds a workstation; refusing to overwrite it.")
    # Refusals come before the data directory exists, so a refused init leaves nothing behind.
    status = keyring_secret.status()
    if use_keyring is None:
        use_keyring = status.trusted
    if use_keyring and not status.trusted:
        raise StorageError(f"No secure OS keyring is available ({status.reason}); use passphrase-only mode.")
    created = not data_dir.exists()
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StorageError(f"Cannot create data directory {data_dir}: {exc.strerror}") from exc
    if not os.access(data_dir, os.W_OK):
        raise StorageError(f"The data directory {data_dir} is read-only; choose a writable folder.")

    now = clock().astimezone(UTC).isoformat(timespec="microseconds")
    header = KeyHeader.new(KEYRING_MODE if use_keyring else PASSPHRASE_MODE, now)
    data_key = new_data_key()
    try:
        secret = keyring_secret.create(header.db_id) if use_keyring else None
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                data_dir.rmdir()
        raise
    header.set_passphrase_slot(admin_username, admin_passphrase, data_key, secret)
    recovery = header.set_recovery_slot(data_key)
    hpath, dpath = header_path(data_dir), db_path(data_dir)
    header.save(hpath)
    try:
        db = Database.open(dpath, data_key, create=True)
        with db.transaction() as conn:
            account = accounts_repo.insert(conn, admin_username, admin_display_name, Role.ADMIN, now, "setup")
            settings = Settings(workstation_name=workstation_name.strip(), system_high=system_high)
            if banner_text:
                settings = dataclasses.replace(settings, consent_banner=banner_text)
            settings_repo.save(conn, settings)
            session = Session(data_dir, db, account, hpath, clock)
            session.audit(conn, "workstation.init", "workstation", header.db_id,
                          {"name": workstation_name, "system_high": system_high, "keyring_mode": header.keyring_mode})
            session.audit(conn, "account.create", "account", admin_username, {"role": "admin"})
            # The workstation CA is born with the workstation, in the same transaction.
            pki.setup_hook(session, conn)
            pki.account_hook(session, conn, account)
            head = audit_log.head(conn)
    except BaseException:
        with contextlib.suppress(NameError):
            db.close()
        for p in (dpath, hpath, dpath.with_name(DB_NAME + "-wal"), dpath.with_name(DB_NAME + "-shm")):
            with contextlib.suppress(OSError):
                p.unlink()
        if secret is not None:
            keyring_secret.delete(header.db_id)
        if created:
            with contextlib.suppress(OSError):
                data_dir.rmdir()  # only when empty: nothing of anyone else's is removed
        raise
    header.audit_head = {"seq": head[0], "hash": head[1]}
    header.save(hpath)
    _write_prelogin(data_dir, settings)
    return SetupResult(recovery, header.keyring_mode, status.backend, session)


def key_protection(data_dir: Path) -> str:
    """One line for the UI status bar: which key-protection mode this workstation uses."""
    header = KeyHeader.load(header_path(data_dir))
    if header.keyring_mode == KEYRING_MODE:
        return "Key protection: passphrase + OS keyring secret"
    return "Key protection: passphrase only (no trusted OS keyring)"


def prelogin_settings(data_dir: Path) -> Settings:
    """Name, system-high and consent text for the sign-in window (defaults if never written)."""
    try:
        data = json.loads((Path(data_dir) / PRELOGIN_NAME).read_text(encoding="utf-8"))
        keep = ("workstation_name", "system_high", "consent_banner")
        return Settings.from_dict({k: str(v) for k, v in data.items() if k in keep})
    except (OSError, ValueError, AttributeError, ValidationError):
        return Settings()


def _write_prelogin(data_dir: Path, settings: Settings) -> None:
    data = {"workstation_name": settings.workstation_name, "system_high": settings.system_high,
            "consent_banner": settings.consent_banner}
    with contextlib.suppress(OSError):  # a missing copy only means the default consent text is shown
        atomic_write(Path(data_dir) / PRELOGIN_NAME, json.dumps(data, indent=1).encode())


# Settings an administrator may change after setup. The workstation name and system-high stay as
# set up: records and banners already carry them.
EDITABLE_SETTINGS = ("consent_banner", "idle_lock_minutes", "backup_reminder_days", "max_artifact_mb",
                     "at_risk_days", "classified_by", "derived_from", "declassify_on", "cui_controlled_by",
                     "cui_category", "cui_poc")


def update_settings(session: Session, changes: dict[str, object]) -> Settings:
    """Validate, store and audit settings changes (admin, MANAGE_SETTINGS); one transaction."""
    from app.model.accounts import Permission

    session.require(Permission.MANAGE_SETTINGS)
    unknown = [k for k in changes if k not in EDITABLE_SETTINGS]
    if unknown:
        raise ValidationError(unknown[0], "cannot be changed after setup")
    current = session.settings
    merged = Settings.from_dict({**current.to_dict(), **changes})  # type checks and ranges
    if merged.at_risk_days < 0 or merged.at_risk_days > 30:
        raise ValidationError("at_risk_days", "must be between 0 and 30")
    if merged.max_artifact_mb < 1 or merged.max_artifact_mb > 4096:
        raise ValidationError("max_artifact_mb", "must be between 1 and 4096")
    if not merged.consent_banner.strip():
        raise ValidationError("consent_banner", "is required (AC-8)")
    if merged.declassify_on.strip() and merged.declassify_on != current.declassify_on:
        merged = dataclasses.replace(merged, declassify_on=parse_declassify_on(merged.declassify_on))
    diff = {k: [getattr(current, k), getattr(merged, k)] for k in EDITABLE_SETTINGS
            if getattr(current, k) != getattr(merged, k)}
    if not diff:
        return current
    with session.transaction() as conn:
        settings_repo.save(conn, merged)
        session.audit(conn, "settings.update", "settings", None, {"changes": diff})
    session.reload_settings()
    _write_prelogin(session.data_dir, merged)
    return merged


def _keyring_secret_for(header: KeyHeader) -> bytes | None:
    return keyring_secret.load(header.db_id) if header.keyring_mode == KEYRING_MODE else None


def _check_lockout(header: KeyHeader, username: str, now: datetime) -> None:
    entry = header.failures.get(username)
    if not entry:
        return
    delay = lockout_delay(int(entry.get("count", 0)))
    last = datetime.fromisoformat(entry["last"])
    remaining = (last + timedelta(seconds=delay) - now).total_seconds()
    if remaining > 0:
        raise LockedOutError(username, remaining)


def _record_failure(header: KeyHeader, hpath: Path, username: str, now: datetime, action: str) -> None:
    entry = header.failures.setdefault(username, {"count": 0, "last": now.isoformat()})
    entry["count"] = int(entry["count"]) + 1
    entry["last"] = now.isoformat()
    if len(header.pending_events) < MAX_PENDING_EVENTS:
        header.pending_events.append({"ts": now.isoformat(timespec="microseconds"), "actor": username,
                                      "action": action, "count": entry["count"]})
    header.save(hpath)


def _unwrap(data_dir: Path, header: KeyHeader, username: str, passphrase: str, now: datetime,
            action: str) -> bytes:
    hpath = header_path(data_dir)
    _check_lockout(header, username, now)
    secret = _keyring_secret_for(header)
    try:
        return header.unwrap_passphrase(username, passphrase, secret)
    except AuthError:
        _record_failure(header, hpath, username, now, action)
        _check_lockout(header, username, now)
        raise


def sign_in(data_dir: Path, username: str, passphrase: str, clock: Clock = utc_now) -> Session:
    data_dir = Path(data_dir)
    if not db_path(data_dir).exists():
        raise StorageError(f"No workstation database in {data_dir}.")
    hpath = header_path(data_dir)
    header = KeyHeader.load(hpath)
    now = clock().astimezone(UTC)
    key = _unwrap(data_dir, header, username, passphrase, now, "auth.failed")
    db = Database.open(db_path(data_dir), key)
    try:
        account = accounts_repo.get(db.conn, username)
        session = Session(data_dir, db, account, hpath, clock)
        with session.transaction() as conn:
            for ev in header.pending_events:
                audit_log.append(conn, ev["ts"], ev["actor"], ev["action"], "account", ev["actor"],
                                 {"consecutive_failures": ev.get("count", 0), "recorded_offline": True})
            if account.disabled:
                session.audit(conn, "auth.refused_disabled", "account", username)
            else:
                session.audit(conn, "auth.sign_in", "account", username)
        fresh = KeyHeader.load(hpath)  # the transaction above advanced the recorded audit head
        fresh.pending_events = []
        fresh.failures.pop(username, None)
        fresh.save(hpath)
        if account.disabled:
            raise AuthError(f"Account '{username}' is disabled; ask an administrator.")
        _write_prelogin(data_dir, session.settings)
        return session
    except BaseException:
        db.close()
        raise


def check_passphrase(session: Session, passphrase: str) -> None:
    header = KeyHeader.load(session.header_path)
    now = session.clock().astimezone(UTC)
    try:
        _unwrap(session.data_dir, header, session.account.username, passphrase, now, "auth.reauth_failed")
    except LockedOutError:
        raise  # says how long to wait: even the right passphrase is refused until then
    except AuthError:
        raise AuthError("Wrong passphrase.") from None


def lock(session: Session, reason: str = "on demand") -> None:
    if session.locked:
        return
    with session.transaction() as conn:
        session.audit(conn, "session.lock", "account", session.account.username, {"reason": reason})
    session.locked = True


def unlock(session: Session, passphrase: str) -> None:
    check_passphrase(session, passphrase)
    session.locked = False
    with session.transaction() as conn:
        session.audit(conn, "session.unlock", "account", session.account.username)


def sign_out(session: Session) -> None:
    with contextlib.suppress(Exception):
        with session.transaction() as conn:
            session.audit(conn, "auth.sign_out", "account", session.account.username)
    session.close()


def data_key_for(session: Session, passphrase: str) -> bytes:
    """Unwrap the data key again (sensitive actions that add or replace key slots)."""
    header = KeyHeader.load(session.header_path)
    now = session.clock().astimezone(UTC)
    return _unwrap(session.data_dir, header, session.account.username, passphrase, now, "auth.reauth_failed")


def recover(data_dir: Path, recovery_key: str, admin_username: str, new_passphrase: str,
            clock: Clock = utc_now) -> Session:
    """Open with the recovery key and give an admin account a new passphrase.

    On new hardware (keyring secret absent) the workstation moves to a fresh keyring secret or
    passphrase-only mode; other accounts' slots that depended on the old secret are removed and
    must be reset by the admin.
    """
    data_dir = Path(data_dir)
    hpath = header_path(data_dir)
    header = KeyHeader.load(hpath)
    key = header.unwrap_recovery(recovery_key)
    DEFAULT_POLICY.check(new_passphrase, admin_username)
    db = Database.open(db_path(data_dir), key)
    try:
        account = accounts_repo.get(db.conn, admin_username)
        if account.role is not Role.ADMIN:
            raise AuthError(f"'{admin_username}' is not an administrator account.")
        secret: bytes | None = None
        dropped: list[str] = []
        if header.keyring_mode == KEYRING_MODE:
            try:
                secret = keyring_secret.load(header.db_id)
            except StorageError:
                status = keyring_secret.status()
                secret = keyring_secret.create(header.db_id) if status.trusted else None
                if secret is None:
                    header.keyring_mode = PASSPHRASE_MODE
                dropped = [n for n, s in header.slots.items() if s.uses_keyring and n != admin_username]
                for n in dropped:
                    header.slots.pop(n)
        header.set_passphrase_slot(admin_username, new_passphrase, key, secret)
        header.failures.pop(admin_username, None)
        header.save(hpath)
        session = Session(data_dir, db, account, hpath, clock)
        with session.transaction() as conn:
            session.audit(conn, "workstation.recover", "account", admin_username,
                          {"slots_removed": dropped, "keyring_mode": header.keyring_mode})
        return session
    except BaseException:
        db.close()
        raise
