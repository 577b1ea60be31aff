"""Workstation lifecycle: setup, sign-in with lockout, lock/unlock, recovery."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import platformdirs

from app.model.accounts import DEFAULT_POLICY, Account, Role, check_passphrase_for, validate_username
from app.model.errors import (
    AuthError,
    IntegrityError,
    PassphraseChangeRequired,
    StorageError,
    ValidationError,
)
from app.model.keyring_status import KeyringStatus
from app.model.markings import Marking, parse_declassify_on
from app.model.settings import EDITABLE_SETTINGS, Settings
from app.services import decisions, identity, integrity, pki, revocation, settings_signatures
from app.services.session import Clock, Session, utc_now
from reports import pki as pki_core
from storage import accounts as accounts_repo
from storage import audit as audit_repo
from storage import decisions_repo, identity_repo, keyring_secret, pki_repo, settings_repo
from storage import repage as repage_store
from storage.atomic import atomic_write
from storage.credentials import Credentials, keyring_secret_for
from storage.db import Connection, Database, MigrationProgress
from storage.keys import KEYRING_MODE, PASSPHRASE_MODE, KeyHeader, new_data_key, seal

DB_NAME = "workstation.db"
HEADER_NAME = "workstation.keys.json"
# Shown before sign-in (banner, consent text): not secret, so kept outside the encrypted database.
PRELOGIN_NAME = "workstation.prelogin.json"
RECOVERY_HOLDER = "__recovery__"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("frontier-review", appauthor=False))


def db_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_NAME


def header_path(data_dir: Path) -> Path:
    return Path(data_dir) / HEADER_NAME


def open_database(data_dir: Path, key: bytes, progress: MigrationProgress | None = None) -> Database:
    """The workstation's database at the page size its key header records, once a page-size
    rewrite a crash interrupted is finished or undone (storage/repage.py). `progress(done, total,
    text)` hears of each schema update the open runs (the first sign-in after an upgrade)."""
    page_size = repage_store.settle(db_path(data_dir), key, Credentials(data_dir))
    return Database.open(db_path(data_dir), key, page_size=page_size, on_migration=progress)


def is_initialized(data_dir: Path) -> bool:
    return db_path(data_dir).exists() or header_path(data_dir).exists()


@dataclass(frozen=True)
class SetupResult:
    recovery_key: str
    keyring_mode: str
    keyring_backend: str
    session: Session


def keyring_status() -> KeyringStatus:
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
    written: list[Path] = []
    try:
        unlocked = header.set_passphrase_slot(admin_username, admin_passphrase, data_key, secret)
        recovery = header.set_recovery_slot(data_key)
        creds = Credentials(data_dir)
        hpath, dpath = creds.path, db_path(data_dir)
        creds.create(header)
        written.append(hpath)
        db = Database.open(dpath, data_key, create=True, page_size=header.page_size)  # runs the migrations
        written.append(dpath)
        # The first account does not exist yet: the session is the setup's, its person the one being
        # created. Everything below is one transaction on the session's one writer.
        setup_account = Account(0, admin_username, admin_display_name, Role.ADMIN, False, now)
        session = Session(data_dir, db, setup_account, hpath, clock, db_id=header.db_id, unlocked=unlocked)
        with session.transaction() as conn:
            account = accounts_repo.insert(conn, admin_username, admin_display_name, Role.ADMIN, now, "setup")
            session.account = account
            settings = Settings(workstation_name=workstation_name.strip(), system_high=system_high)
            if banner_text:
                settings = dataclasses.replace(settings, consent_banner=banner_text)
            settings_repo.save(conn, settings)
            # The administrator's own key first: every event and decision below is signed with it.
            session.personal = identity.create_personal_key(conn, header.db_id, admin_username, unlocked, now,
                                                            "setup")
            # The workstation CA is born with the workstation, in the same transaction; its key is
            # wrapped for this administrator and for the recovery key, never left under the data key.
            ca = pki.create_workstation_ca(conn, workstation_name.strip(), now, admin_username)
            identity.wrap_ca_for(conn, header.db_id, admin_username, unlocked, ca.key, now)
            _wrap_ca_for_recovery(conn, header, recovery, ca.key, now)
            cert = pki.certify_key(conn, ca, account, session.personal.key.public_key(), now, admin_username)
            ca_fp = pki_core.fingerprint(ca.cert)
            decisions.record(conn, session.personal, "workstation.init", "workstation", header.db_id, admin_username,
                             now, header.db_id, {"admin": admin_username, "ca": ca_fp, "name": workstation_name,
                                                 "system_high": system_high, "signed_records": True})
            settings_signatures.sign(session, conn, settings)
            decisions.record(conn, session.personal, "account.create", "account", admin_username, admin_username,
                             now, header.db_id, {"username": admin_username, "role": Role.ADMIN.value,
                                                 "display_name": admin_display_name})
            session.audit(conn, "workstation.init", "workstation", header.db_id,
                          {"name": workstation_name, "system_high": system_high, "keyring_mode": header.keyring_mode})
            session.audit(conn, "pki.ca_create", "certificate", ca_fp, {"subject": ca.cert.subject.rfc4514_string()})
            session.audit(conn, "account.create", "account", admin_username, {"role": "admin"})
            session.audit(conn, "pki.certificate_issue", "account", admin_username,
                          {"fingerprint": pki_core.fingerprint(cert), "key": session.personal.fingerprint})
        # The transaction recorded the chain head in the key header (workstation-wide and as this
        # administrator has seen it, signed).
    except BaseException:
        with contextlib.suppress(NameError):
            db.close()
        with contextlib.suppress(NameError):
            session.close()
        for p in (*written, db_path(data_dir).with_name(DB_NAME + "-wal"),
                  db_path(data_dir).with_name(DB_NAME + "-shm")):
            with contextlib.suppress(OSError):
                p.unlink()
        if secret is not None:
            keyring_secret.delete(header.db_id)
        if created:
            with contextlib.suppress(OSError):
                data_dir.rmdir()  # only when empty: nothing of anyone else's is removed
        raise
    if session.integrity_warnings:  # the head could not be written: setup must not end half-recorded
        session.close()
        raise StorageError(session.integrity_warnings[-1])
    integrity.save_local(session)
    _write_prelogin(data_dir, settings)
    return SetupResult(recovery, header.keyring_mode, status.backend, session)


def _wrap_ca_for_recovery(conn: Connection, header: KeyHeader, recovery: str, ca_key: object, now: str) -> None:
    """The recovery key (printed at setup, kept offline) also opens the CA key, so a workstation
    whose administrators all lost their passphrases can still certify people."""
    from storage.identity_repo import Wrapped

    nonce, ct = seal(header.recovery_wrap_key(recovery), pki_core.key_to_der(ca_key),  # type: ignore[arg-type]
                     f"frontier-review|{header.db_id}|ca|{RECOVERY_HOLDER}".encode())
    identity_repo.set_ca_wrap(conn, RECOVERY_HOLDER, Wrapped("recovery", nonce, ct), now)


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
    path = Path(data_dir) / PRELOGIN_NAME
    text = json.dumps(data, indent=1).encode()
    with contextlib.suppress(OSError):
        if path.read_bytes() == text:
            return  # unchanged: no write at every sign-in
    with contextlib.suppress(OSError, StorageError):  # a missing copy only means the default consent text
        atomic_write(path, text)




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
    if merged.receipt_overdue_days < 1 or merged.receipt_overdue_days > 365:
        raise ValidationError("receipt_overdue_days", "must be between 1 and 365")
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
        settings_signatures.sign(session, conn, merged)
    session.reload_settings()
    _write_prelogin(session.data_dir, merged)
    return merged


def sign_in(data_dir: Path, username: str, passphrase: str, clock: Clock = utc_now,
            progress: MigrationProgress | None = None, restoring: bool = False) -> Session:
    """`progress`: told of each schema update the first sign-in after an upgrade runs. `restoring`:
    the sign-in of a backup's restore (app.services.backup), which neither checks nor writes the
    person's records of the chain: the copy's own history begins with the restore event."""
    data_dir = Path(data_dir)
    if not db_path(data_dir).exists():
        raise StorageError(f"No workstation database in {data_dir}.")
    creds = Credentials(data_dir)
    now = clock().astimezone(UTC)
    header, unlocked = creds.unlock(username, passphrase, now)
    db = open_database(data_dir, unlocked.data_key, progress)
    try:
        account = accounts_repo.get(db.conn, username)
        session = Session(data_dir, db, account, creds.path, clock, db_id=header.db_id, unlocked=unlocked,
                          copy_of=None if restoring else "")
        if accounts_repo.must_change_passphrase(db.conn, username):
            raise PassphraseChangeRequired(username)
        _open_personal_key(session)
        _check_signed_account(session)
        findings = [] if restoring else integrity.check(session, creds.read().seen_heads.get(username))
        changed = session.settings_changed_outside
        if changed:
            findings.append(f"Workstation settings were changed in the database around the application "
                            f"({', '.join(changed)}): the values an administrator signed are used. An administrator "
                            "should review them (Settings) and save them.")
        failures = header.failures.get(username)
        with session.transaction() as conn:
            if failures:
                # Unauthenticated counts from the key header, reported by the person signing in.
                session.audit(conn, "auth.failures_reported", "account", username,
                              {"failed_attempts": int(failures.get("count", 0)), "last": failures.get("last"),
                               "source": "key header (written before anyone signed in)"})
            for finding in findings:
                session.audit(conn, "integrity.alarm", "workstation", header.db_id, {"finding": finding})
            session.audit(conn, "auth.sign_in", "account", username)
        session.integrity_warnings.extend(findings)
        with creds.update() as fresh:
            fresh.failures.pop(username, None)
        # Attesting unsigned records as they stand is only for a workstation from before they were
        # signed, and never after this sign-in found decisions or events missing: deleting every
        # signature must not get an edited record signed.
        attest = not findings and _predates_signed_records(session.db.conn)
        if account.role is Role.ADMIN:
            _administrator_duties(session, attest)
        if attest:
            _attest_records_from_before_signing(session)
        integrity.save_local(session)
        _write_prelogin(data_dir, session.settings)
        return session
    except BaseException:
        db.close()
        raise


def _open_personal_key(session: Session) -> None:
    """Open this person's key; migrate a key from before per-person keys, or make a new one
    (after a recovery) with a certificate request an administrator confirms."""
    assert session.unlocked is not None
    conn = session.db.conn
    username = session.account.username
    session.personal = identity.open_personal_key(conn, session.db_id, username, session.unlocked)
    if session.personal is not None:
        return
    now = session.now()
    with session.transaction() as tx:
        migrated = identity.migrate_legacy_key(tx, session.db_id, username, session.unlocked, now)
        session.personal = migrated or identity.create_personal_key(tx, session.db_id, username, session.unlocked,
                                                                    now, "sign-in")
        _reseal_legacy_pkcs12(session, tx)
        if migrated:
            session.audit(tx, "identity.key_migrate", "account", username,
                          {"key": migrated.fingerprint,
                           "note": "signing key moved under the owner's passphrase; until now the shared data key "
                                   "protected it"})
        else:
            identity.request_certificate(tx, session.account, session.personal, b"", now)
            session.audit(tx, "identity.key_create", "account", username, {"key": session.personal.fingerprint})


def _reseal_legacy_pkcs12(session: Session, conn: Connection) -> None:
    for ident in pki_repo.identities(conn, session.account.username):
        if ident.source == "pkcs12" and ident.key_der and not ident.key_der.startswith(pki.SEALED):
            sealed = pki._seal_identity_key(session, pki_core.key_from_der(ident.key_der))
            conn.execute("UPDATE signing_identities SET key_der = ? WHERE id = ?", (sealed, ident.id))


def _check_signed_account(session: Session) -> None:
    """The role and status in the accounts table count only as an administrator signed them."""
    conn = session.db.conn
    account = session.account
    if not decisions.has_signed_accounts(conn):
        if account.role is Role.ADMIN:
            return  # a workstation from before signed decisions: _administrator_duties attests it
        session.integrity_warnings.append("This workstation's accounts have not been attested with signatures yet: "
                                          "an administrator's next sign-in does it.")
        return
    reg = decisions.Registry.load(conn, session.db_id)
    try:
        state = decisions.account_state(conn, reg, account.username)
        problem = None
        if state.role is not account.role:
            problem = (f"your role in the database ({account.role.label}) is not the one an administrator signed "
                       f"({state.role.label})")
        elif state.disabled:
            problem = "an administrator disabled this account"
    except IntegrityError as exc:
        problem = str(exc)
    if problem:
        with session.transaction() as tx:
            session.audit(tx, "auth.refused_unsigned_role", "account", account.username, {"reason": problem})
        raise AuthError(f"Sign-in refused: {problem}. The accounts table was changed outside the application; "
                        "an administrator must review the audit trail.")


def _administrator_duties(session: Session, attest: bool = False) -> None:
    """At an administrator's sign-in: take over a CA key still under the data key, attest the
    accounts of a workstation from before signed decisions, issue proven certificate requests."""
    assert session.unlocked is not None and session.personal is not None
    conn = session.db.conn
    admins = [a.username for a in accounts_repo.list_all(conn) if a.role is Role.ADMIN and not a.disabled]
    _report_unknown_failures(session, {a.username for a in accounts_repo.list_all(conn)})
    stored = pki_repo.get_ca(conn)
    if stored is not None and stored.key_der:
        with session.transaction() as tx:
            erased = identity.migrate_legacy_ca(tx, session.db_id, session.account, session.unlocked, session.now(),
                                                admins)
            session.audit(tx, "pki.ca_key_wrap", "certificate", stored.fingerprint,
                          {"holder": session.account.username, "data_key_copy_erased": erased})
    if not decisions.has_signed_accounts(conn):
        _attest_legacy_workstation(session)
    if (attest and not settings_signatures.has_signed_settings(conn, session.db_id)
            and not audit_repo.has_action(conn, "settings.attest")):  # from before signed settings, once
        with session.transaction() as tx:
            settings_signatures.sign(session, tx, session.settings)
            session.audit(tx, "settings.attest", "settings", None,
                          {"note": "settings as they stood, signed at the first administrator sign-in since "
                                   "settings are signed"})
    pki.issue_pending(session)


def _predates_signed_records(conn: Connection) -> bool:
    """Set up before submissions, register entries and settings were signed: the setup decision its
    first administrator signed does not say `signed_records` (a workstation set up since does, so on
    it a record without a signature is always flagged, never attested)."""
    return not any(decisions.content_of(d).get("signed_records")
                   for d in decisions_repo.by_kind(conn, "workstation.init"))


def _attest_records_from_before_signing(session: Session) -> None:
    """A workstation upgraded from before submissions and register entries were signed: the first
    person who may edit them and signs in signs them as they stand (once: from then on every change
    is signed as it is made), so work on them goes on. Audited with how many."""
    from app.model.accounts import Permission
    from app.services import submission_signatures, vuln_signatures

    conn = session.db.conn
    kinds = ((Permission.EDIT_SUBMISSIONS, submission_signatures.OBJECT, submission_signatures.KIND,
              "submission.attest", "SELECT id FROM submissions", submission_signatures.sign),
             (Permission.MANAGE_VULNS, vuln_signatures.OBJECT, vuln_signatures.KIND, "vulnerability.attest",
              "SELECT id FROM vulnerabilities", vuln_signatures.sign))
    for permission, object_type, kind, action, query, sign in kinds:
        if (not session.account.can(permission) or session.personal is None
                or decisions_repo.any_of_kind(conn, object_type, kind) or audit_repo.has_action(conn, action)):
            continue
        ids = [r[0] for r in conn.execute(query)]
        if not ids:
            continue
        with session.transaction() as tx:
            for object_id in ids:
                sign(session, tx, object_id)
            session.audit(tx, action, "workstation", session.db_id,
                          {"count": len(ids), "note": "recorded before they were signed; signed as they stood at "
                                                      "this person's first sign-in since"})


def _report_unknown_failures(session: Session, accounts: set[str]) -> None:
    """Failed sign-ins under names that are not accounts: an administrator reports them (their
    names are untrusted and bounded), then they are cleared."""
    unknown = {n: e for n, e in session.credentials.read().failures.items() if n not in accounts}
    if not unknown:
        return
    with session.transaction() as conn:
        session.audit(conn, "auth.unknown_failures_reported", "workstation", session.db_id,
                      {"names": {n[:64]: int(e.get("count", 0)) for n, e in unknown.items()},
                       "source": "key header (written before anyone signed in)"})
    with session.credentials.update() as fresh:
        for n in unknown:
            fresh.failures.pop(n, None)


def _attest_legacy_workstation(session: Session) -> None:
    """First administrator sign-in after the upgrade to signed decisions: certify this
    administrator's key and sign the accounts as they stand (labelled as an attestation)."""
    assert session.personal is not None
    conn = session.db.conn
    ca = pki.load_ca(session)
    with session.transaction() as tx:
        mine = session.personal.fingerprint
        if not any(pki_core.key_fingerprint(pki_core.cert_from_bytes(i.cert_der).public_key()) == mine
                   for i in pki_repo.identities(tx, session.account.username)):
            pki.certify_key(tx, ca, session.account, session.personal.key.public_key(), session.now(),
                            session.account.username)
            identity_repo.discard_requests(tx, session.account.username)
        now = session.now()
        decisions.record(tx, session.personal, "workstation.migrate", "workstation", session.db_id,
                         session.account.username, now, session.db_id,
                         {"admin": session.account.username, "ca": pki_core.fingerprint(ca.cert)})
        for account in accounts_repo.list_all(conn):
            decisions.record(tx, session.personal, "account.attest", "account", account.username,
                             session.account.username, now, session.db_id,
                             {"username": account.username, "role": account.role.value,
                              "disabled": account.disabled, "display_name": account.display_name})
        session.audit(tx, "workstation.attest", "workstation", session.db_id,
                      {"accounts": [a.username for a in accounts_repo.list_all(conn)]})


def change_initial_passphrase(data_dir: Path, username: str, current: str, new: str,
                              clock: Clock = utc_now) -> Session:
    """First sign-in: replace the passphrase an administrator chose, create the person's own
    signing key under it and request its certificate (proven with the first passphrase)."""
    data_dir = Path(data_dir)
    creds = Credentials(data_dir)
    now = clock().astimezone(UTC)
    header, first = creds.unlock(username, current, now)
    DEFAULT_POLICY.check(new, username)
    if new == current:
        raise ValidationError("passphrase", "choose a passphrase other than the one the administrator gave you")
    db = open_database(data_dir, first.data_key)
    try:
        account = accounts_repo.get(db.conn, username)
        if not accounts_repo.must_change_passphrase(db.conn, username):
            raise ValidationError("passphrase", "this account already has its own passphrase; use Change passphrase")
        slot, mine = header.new_slot(username, new, first.data_key, keyring_secret_for(header))
        session = Session(data_dir, db, account, creds.path, clock, db_id=header.db_id, unlocked=mine)
        with session.transaction() as conn:
            stamp = session.now()
            session.personal = identity.create_personal_key(conn, header.db_id, username, mine, stamp,
                                                            "first-sign-in")
            if identity_repo.ca_wrap(conn, username) is not None:
                ca = identity.open_ca_key(conn, header.db_id, account, first)
                identity.wrap_ca_for(conn, header.db_id, username, mine, ca.key, stamp)
            identity.request_certificate(conn, account, session.personal, first.personal_wrap, stamp)
            accounts_repo.set_must_change_passphrase(conn, username, False)
            session.audit(conn, "account.passphrase_set", "account", username, {"first_sign_in": True})
            session.audit(conn, "identity.key_create", "account", username, {"key": session.personal.fingerprint})
            with creds.update() as fresh:
                fresh.slots[username] = slot
                fresh.failures.pop(username, None)
    finally:
        db.close()
    return sign_in(data_dir, username, new, clock)


def lock(session: Session, reason: str = "on demand") -> None:
    if session.locked:
        return
    with session.transaction() as conn:
        session.audit(conn, "session.lock", "account", session.account.username, {"reason": reason})
    integrity.save_local(session)
    session.locked = True


def unlock(session: Session, passphrase: str) -> None:
    session.reauthenticate(passphrase)
    session.locked = False
    with session.transaction() as conn:
        session.audit(conn, "session.unlock", "account", session.account.username)


def sign_out(session: Session) -> None:
    with contextlib.suppress(Exception):
        with session.transaction() as conn:
            session.audit(conn, "auth.sign_out", "account", session.account.username)
        integrity.save_local(session)
    session.close()


def recover(data_dir: Path, recovery_key: str, admin_username: str, new_passphrase: str,
            clock: Clock = utc_now, restoring: bool = False) -> Session:
    """Open with the recovery key and give an admin account a new passphrase.

    The administrator's earlier signing key was wrapped under the lost passphrase and is gone: a
    new key is made and certified with the CA key's recovery copy; the old certificate is revoked.
    On new hardware (keyring secret absent) the workstation moves to a fresh keyring secret or
    passphrase-only mode; other accounts' slots that depended on the old secret are removed and
    must be reset by the admin.
    """
    data_dir = Path(data_dir)
    creds = Credentials(data_dir)
    header = creds.read()
    key = header.unwrap_recovery(recovery_key)
    check_passphrase_for(new_passphrase, admin_username, f"the new administrator passphrase for {admin_username}")
    db = open_database(data_dir, key)
    try:
        account = accounts_repo.get(db.conn, admin_username)
        if account.role is not Role.ADMIN:
            raise AuthError(f"'{admin_username}' is not an administrator account.")
        secret: bytes | None = None
        dropped: list[str] = []
        keyring_mode = header.keyring_mode
        if header.keyring_mode == KEYRING_MODE:
            try:
                secret = keyring_secret.load(header.db_id)
            except StorageError:
                status = keyring_secret.status()
                secret = keyring_secret.create(header.db_id) if status.trusted else None
                if secret is None:
                    keyring_mode = PASSPHRASE_MODE
                dropped = [n for n, s in header.slots.items() if s.uses_keyring and n != admin_username]
        header.keyring_mode = keyring_mode
        slot, mine = header.new_slot(admin_username, new_passphrase, key, secret)
        session = Session(data_dir, db, account, creds.path, clock, db_id=header.db_id, unlocked=mine,
                          copy_of=None if restoring else integrity.newest_restore(db.conn, header.db_id)[0])
        ca = _recovery_ca(db.conn, header, recovery_key)
        with session.transaction() as conn:
            now = session.now()
            session.personal = identity.create_personal_key(conn, header.db_id, admin_username, mine, now, "recovery")
            revocation.revoke_account(session, conn, ca, admin_username, "recovery: passphrase lost",
                                      keep_key=session.personal.key_id)
            if ca is not None:
                identity.wrap_ca_for(conn, header.db_id, admin_username, mine, ca.key, now)
                pki.certify_key(conn, ca, account, session.personal.key.public_key(), now, admin_username)
            session.audit(conn, "workstation.recover", "account", admin_username,
                          {"slots_removed": dropped, "keyring_mode": keyring_mode,
                           "key": session.personal.fingerprint})
            with creds.update() as fresh:
                fresh.keyring_mode = keyring_mode
                for n in dropped:
                    fresh.slots.pop(n, None)
                fresh.slots[admin_username] = slot
                fresh.failures.pop(admin_username, None)
        integrity.save_local(session)
        return session
    except BaseException:
        db.close()
        raise


def _recovery_ca(conn: Connection, header: KeyHeader, recovery_key: str) -> pki_core.CertifiedKey | None:
    from storage.keys import unseal

    wrapped = identity_repo.ca_wrap(conn, RECOVERY_HOLDER)
    stored = pki_repo.get_ca(conn)
    if stored is None:
        return None
    if wrapped is None:
        if stored.key_der:  # a workstation from before per-person keys
            return pki_core.CertifiedKey(pki_core.key_from_der(stored.key_der),
                                         pki_core.cert_from_bytes(stored.cert_der), ())
        return None
    der = unseal(header.recovery_wrap_key(recovery_key), wrapped.nonce, wrapped.wrapped,
                 f"frontier-review|{header.db_id}|ca|{RECOVERY_HOLDER}".encode(), "The CA key's recovery copy")
    return pki_core.CertifiedKey(pki_core.key_from_der(der), pki_core.cert_from_bytes(stored.cert_der), ())


def account_of(session: Session, username: str) -> Account:
    return accounts_repo.get(session.db.conn, username)
