"""Backup, verification and restore of a whole workstation (issue 8).

A backup is signed like an export package: SHA256SUMS over the files, a detached CMS signature
by a certificate of the workstation CA. Restore refuses a backup whose CA the target does not
know unless the operator names its fingerprint explicitly (read off paper, not off the medium).
Every create, verify and restore is audited; a failed create is audited too.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cryptography import x509

from app import __version__
from app.foundation.files import shown_name
from app.model.accounts import Permission, check_passphrase_for
from app.model.backup import FORMAT, BackupMeta, BackupRecord
from app.model.errors import AuthError, FrontierError, IntegrityError, StorageError, ValidationError
from app.model.markings import Marking
from app.model.verification import SignerInfo
from app.services import egress, workstation
from app.services.session import Clock, Session, utc_now
from reports import detached, pki
from storage import backup as store
from storage import keyring_secret
from storage.atomic import fsync_dir
from storage.keys import KEYRING_MODE, KeyHeader

Progress = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]


# -- who signs: pluggable so the PKI can change (token, agency identity) without touching backup ---


@dataclass(frozen=True)
class BackupSigner:
    ca_cert: x509.Certificate
    subject: str
    sign: Callable[[bytes], bytes]


class BackupPKI(Protocol):
    def signer(self, session: Session) -> BackupSigner: ...

    def trusted_roots(self, session: Session) -> list[x509.Certificate]: ...


class WorkstationPKI:
    """Signs with the acting person's own key and its workstation certificate (every account has
    one: it also signs their audit events)."""

    def signer(self, session: Session) -> BackupSigner:
        from app.services import pki as pki_service

        loaded = pki_service.load_identity(session, session.account.username)
        ca = pki_service.workstation_ca(session)
        if loaded.key is None or loaded.cert.issuer != ca.subject:
            raise ValidationError("signing certificate", "backups are signed with your workstation certificate; "
                                  "yours is on a token or from another CA")
        ident = pki.CertifiedKey(loaded.key, loaded.cert, (ca,))

        def sign(data: bytes) -> bytes:
            return detached.sign_detached(data, ident.key, ident.cert, ident.chain)

        return BackupSigner(ca, pki.common_name(ident.cert), sign)

    def trusted_roots(self, session: Session) -> list[x509.Certificate]:
        from app.services import pki as pki_service

        return pki_service.trusted_roots(session)


PKI: BackupPKI = WorkstationPKI()


def normalise_fingerprint(text: str) -> str:
    cleaned = "".join(ch for ch in text.lower() if ch in "0123456789abcdef")
    if len(cleaned) != 64:
        raise ValidationError("trust-ca", f"'{text}' is not a SHA-256 fingerprint (64 hex digits)")
    return cleaned


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    meta: BackupMeta
    verified: bool
    problems: list[str]
    signer: str


@dataclass(frozen=True)
class VerifyReport:
    path: Path
    ok: bool
    problems: list[str]
    meta: BackupMeta | None = None
    signer: str = ""
    ca_fingerprint: str = ""
    ca_trusted: bool = False
    contents_checked: bool = False

    def summary(self) -> str:
        if not self.ok:
            return f"Backup {self.path} FAILED verification: " + "; ".join(self.problems)
        depth = ("database decrypted, integrity and audit chain checked" if self.contents_checked
                 else "files and signature checked (database not decrypted)")
        assert self.meta is not None
        return (f"Backup {self.path} is intact: workstation '{self.meta.workstation_name}', made "
                f"{self.meta.created_at[:19]} UTC by {self.meta.created_by}, signed by {self.signer}; {depth}.")


@dataclass(frozen=True)
class RestoreResult:
    data_dir: Path
    meta: BackupMeta
    signer: str
    ca_fingerprint: str
    trusted_explicitly: bool
    audit_events: int


# -- signature and trust -------------------------------------------------------------------------


def _ca_of(contents: store.BackupContents) -> x509.Certificate:
    where = f"{contents.path}/{store.CA_FILE}"
    try:
        ca = pki.cert_from_bytes(contents.ca_pem, where)
    except ValidationError as exc:
        raise IntegrityError(str(exc)) from None
    if pki.fingerprint(ca) != contents.meta.ca_fingerprint:
        raise IntegrityError(f"{where} is not the CA recorded in {store.META_FILE}")
    return ca


def _check_signature(contents: store.BackupContents, ca: x509.Certificate) -> SignerInfo:
    try:
        at = datetime.fromisoformat(contents.meta.created_at)
    except ValueError:
        raise IntegrityError(f"{contents.path}/{store.META_FILE}: created_at is not a date") from None
    return detached.verify_detached(contents.manifest, contents.signature, [ca],
                                    what=f"{contents.path}/{store.SIGNATURE_FILE}",
                                    at=at if at.tzinfo else at.replace(tzinfo=UTC))


def _untrusted_message(contents: store.BackupContents, ca: x509.Certificate) -> str:
    fp = pki.fingerprint(ca)
    return (f"{contents.path}: signed under workstation CA '{pki.common_name(ca)}' (fingerprint {fp}), which is "
            f"not trusted here. Compare the fingerprint with the one on record for workstation "
            f"'{contents.meta.workstation_name}' and, if it matches, pass --trust-ca {fp}.")


# -- create --------------------------------------------------------------------------------------


def create(session: Session, dest: Path, passphrase: str, progress: Progress | None = None,
           cancel: CancelCheck | None = None, *, media_label: str | Marking) -> BackupResult:
    """Snapshot the open workstation into a signed backup folder in `dest`, then verify the copy.

    A backup holds everything, so it is marked at the workstation's system-high: the medium's
    label must be at least that (egress check), and MARKING.txt on the medium says so."""
    session.require(Permission.BACKUP)
    dest = Path(dest)
    cleared = egress.clear(session, "a backup of the whole workstation", Marking.parse(session.settings.system_high),
                           media_label, dest)
    data_key = session.reauthenticate(passphrase).data_key  # re-authentication (sensitive action)
    signer = PKI.signer(session)
    header = KeyHeader.load(session.header_path)
    ca_fp = pki.fingerprint(signer.ca_cert)

    def make_meta(version: int, head: tuple[int, str], size: int) -> BackupMeta:
        return BackupMeta(FORMAT, header.db_id, session.settings.workstation_name, session.now(),
                                session.account.username, version, head[0], head[1], ca_fp, size, __version__)

    # The snapshot reads committed WAL frames too; checkpointing first keeps the WAL bounded and the
    # copy reading from the database file (the runtime does not checkpoint inside a commit).
    session.runtime.checkpoint()
    try:
        folder, meta, manifest = store.write_backup(dest, session.db, data_key, header, make_meta,
                                                    pki.cert_to_pem(signer.ca_cert), signer.sign, progress, cancel)
    except FrontierError as exc:
        with contextlib.suppress(FrontierError), session.transaction() as conn:
            session.audit(conn, "backup.failed", "backup", str(dest), {"destination": str(dest), "error": str(exc)})
        raise
    if progress is not None:
        progress(0, 1, "Verifying the written backup")
    problems: list[str] = []
    try:
        contents = store.read_backup(folder, cancel)
        _check_signature(contents, _ca_of(contents))
        problems = store.check_snapshot(contents, data_key).problems
    except FrontierError as exc:
        problems = [str(exc)]
    egress.write_marking_file(dest, cleared)
    with session.transaction() as conn:
        egress.record(session, conn, cleared, folder=folder.name)
        session.audit(conn, "backup.create", "backup", folder.name, {
            "folder": shown_name(str(folder)), "verified": not problems, "problems": problems[:3],
            "manifest_sha256": hashlib.sha256(manifest).hexdigest(), "db_bytes": meta.db_bytes,
            "audit_seq": meta.audit_seq, "ca_fingerprint": ca_fp, "signer": signer.subject,
        })
    return BackupResult(folder, meta, not problems, problems, signer.subject)


# -- verify --------------------------------------------------------------------------------------


def inspect(path: Path, trusted_fingerprints: Iterable[str] = (), key: bytes | None = None,
            cancel: CancelCheck | None = None, key_db_id: str | None = None) -> VerifyReport:
    """Check a backup without a session (the manifest, the signature, trust; contents if `key`,
    and, when `key_db_id` is given, only if the backup comes from that workstation)."""
    path = Path(path)
    trusted = {normalise_fingerprint(f) for f in trusted_fingerprints}
    try:
        contents = store.read_backup(path, cancel)
        ca = _ca_of(contents)
        info = _check_signature(contents, ca)
    except FrontierError as exc:
        return VerifyReport(path, False, [str(exc)])
    fp = pki.fingerprint(ca)
    problems = [] if fp in trusted else [_untrusted_message(contents, ca)]
    checked = False
    if key_db_id is not None and contents.meta.db_id != key_db_id:
        key = None  # another workstation's backup: its data key is not ours
    if key is not None and not problems:
        result = store.check_snapshot(contents, key)
        problems += result.problems
        checked = True
    return VerifyReport(path, not problems, problems, contents.meta, info.subject, fp, fp in trusted, checked)


def verify(session: Session, path: Path, passphrase: str | None = None, trust_ca: Iterable[str] = (),
           cancel: CancelCheck | None = None) -> VerifyReport:
    """Verify a backup from this workstation's point of view (trusted roots, and, with the
    passphrase, the database decrypted and its audit chain checked). Audited."""
    session.require(Permission.BACKUP)
    trusted = {pki.fingerprint(c) for c in PKI.trusted_roots(session)} | {normalise_fingerprint(f) for f in trust_ca}
    key = session.reauthenticate(passphrase).data_key if passphrase is not None else None
    report = inspect(path, trusted, key, cancel, key_db_id=KeyHeader.load(session.header_path).db_id)
    with session.transaction() as conn:
        session.audit(conn, "backup.verify", "backup", shown_name(Path(path).name), {
            "folder": shown_name(str(path)), "ok": report.ok, "contents_checked": report.contents_checked,
            "problems": report.problems[:3],
        })
    return report


def backup_status(session: Session) -> tuple[str | None, bool]:
    """(time of the last backup whose contents were verified, whether a reminder is due)."""
    session.require(Permission.VIEW_CONTENT)
    last = store.last_verified(session.db.conn)
    if last is None:
        return None, True
    try:
        when = datetime.fromisoformat(last)
    except ValueError:
        return None, True
    age = session.clock().astimezone(UTC) - when.astimezone(UTC)
    return last, age.total_seconds() > session.settings.backup_reminder_days * 86400


def history(session: Session, limit: int = 20) -> list[BackupRecord]:
    session.require(Permission.BACKUP)
    return store.history(session.db.conn, limit)


# -- restore -------------------------------------------------------------------------------------


def _check_target(data_dir: Path) -> None:
    if data_dir.exists():
        if not data_dir.is_dir():
            raise StorageError(f"{data_dir} is a file; restore needs a new, empty folder.")
        if any(data_dir.iterdir()):
            raise StorageError(f"{data_dir} is not empty; refusing to overwrite it. Restore into a new folder.")
    if not data_dir.parent.is_dir():
        raise StorageError(f"The folder {data_dir.parent} does not exist.")


def restore(backup_path: Path, data_dir: Path, *, admin_username: str, passphrase: str | None = None,
            recovery_key: str | None = None, new_passphrase: str | None = None,
            trust_ca: Iterable[str] = (), known_cas: Iterable[str] = (), clock: Clock = utc_now) -> RestoreResult:
    """Restore a backup onto a fresh data directory, opened with the recovery key (plus a new
    admin passphrase) or an admin passphrase. Nothing appears at `data_dir` unless it all worked."""
    backup_path, data_dir = Path(backup_path), Path(data_dir).absolute()
    if (passphrase is None) == (recovery_key is None):
        raise ValidationError("restore", "give either an admin passphrase or the recovery key")
    if recovery_key is not None:
        if not new_passphrase:
            raise ValidationError("passphrase", "a new admin passphrase is required with the recovery key")
        # Before the long verification, not after; the refusal names the passphrase being chosen.
        check_passphrase_for(new_passphrase, admin_username, f"the new administrator passphrase for {admin_username}")
    _check_target(data_dir)
    known = {normalise_fingerprint(f) for f in known_cas}
    explicit = {normalise_fingerprint(f) for f in trust_ca} - known
    trusted = explicit | known
    contents = store.read_backup(backup_path)
    ca = _ca_of(contents)
    info = _check_signature(contents, ca)
    fp = pki.fingerprint(ca)
    if fp not in trusted:
        raise IntegrityError(_untrusted_message(contents, ca))
    header = contents.header
    if recovery_key is not None:
        key = header.unwrap_recovery(recovery_key)
    else:
        assert passphrase is not None
        secret = keyring_secret.load(header.db_id) if header.keyring_mode == KEYRING_MODE else None
        key = header.unwrap_passphrase(admin_username, passphrase, secret)
    check = store.check_snapshot(contents, key)
    if not check.ok:
        raise IntegrityError("; ".join(check.problems))
    tmp = data_dir.parent / f".{data_dir.name}.restoring-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        store.install(contents, tmp)
        if recovery_key is not None:
            assert new_passphrase is not None
            session = workstation.recover(tmp, recovery_key, admin_username, new_passphrase, clock, restoring=True)
        else:
            assert passphrase is not None
            session = workstation.sign_in(tmp, admin_username, passphrase, clock, restoring=True)
        try:
            if not session.account.can(Permission.BACKUP):
                raise AuthError(f"'{admin_username}' is not an administrator; only an administrator may restore.")
            with session.transaction() as conn:
                session.audit(conn, "backup.restore", "backup", shown_name(backup_path.name), {
                    "folder": shown_name(str(backup_path)), "data_dir": shown_name(str(data_dir)),
                    "source_db_id": contents.meta.db_id,
                    "backup_created_at": contents.meta.created_at, "backup_created_by": contents.meta.created_by,
                    "ca_fingerprint": fp, "trusted_explicitly": fp in explicit,
                    "signer": info.subject, "method": "recovery key" if recovery_key else "admin passphrase",
                })
            events = int(session.db.query_one("SELECT count(*) FROM audit_events")[0])
        finally:
            session.close()
        if data_dir.exists():
            data_dir.rmdir()
        os.rename(tmp, data_dir)
        fsync_dir(data_dir.parent)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise StorageError(f"Restore into {data_dir} failed ({exc.strerror or exc}); nothing was kept.") from None
        raise
    return RestoreResult(data_dir, contents.meta, info.subject, fp, fp in explicit, events)
