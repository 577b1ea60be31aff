"""`backup create DEST | verify PATH | restore PATH --data-dir NEW`."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.common import data_dir, read_secret, signed_in, username
from app.services import backup, workstation


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="encrypted, signed backups of this workstation")
    s = p.add_subparsers(dest="backup_command", required=True)

    c = s.add_parser("create", help="write a signed backup folder into DEST (admin)")
    c.add_argument("dest", help="folder on the backup medium")
    c.add_argument("--media-label", required=True, metavar="LABEL",
                   help="classification label of the medium; it must be at least the workstation's system-high")
    c.set_defaults(func=_create)

    v = s.add_parser("verify", help="check a backup without restoring it; exit 1 when it fails")
    v.add_argument("path", help="the backup folder (frontier-backup-...)")
    v.add_argument("--trust-ca", action="append", default=[], metavar="FINGERPRINT",
                   help="also trust this workstation CA (SHA-256 fingerprint)")
    v.add_argument("--offline", action="store_true",
                   help="do not sign in: check files and signature only (no workstation needed)")
    v.set_defaults(func=_verify)

    r = s.add_parser("restore", help="restore a backup into a new, empty data directory")
    r.add_argument("path", help="the backup folder")
    r.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS, required=True,
                   help="the new data directory (must not exist or be empty)")
    r.add_argument("--recovery-key", action="store_true",
                   help="open with the recovery key (read from the terminal/stdin), then set a new admin passphrase")
    r.add_argument("--trust-ca", action="append", default=[], metavar="FINGERPRINT",
                   help="trust the backup's workstation CA with this SHA-256 fingerprint")
    r.set_defaults(func=_restore)


def _progress(done: int, total: int, what: str) -> None:
    del done, total, what  # the CLI stays quiet; the UI shows progress


def _create(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        result = backup.create(session, Path(args.dest), args._passphrase, media_label=args.media_label)
    print(f"backup written: {result.folder}")
    print(f"signed by: {result.signer}; CA fingerprint {result.meta.ca_fingerprint}")
    if not result.verified:
        print("VERIFICATION FAILED: " + "; ".join(result.problems))
        return 1
    print("verified: database decrypted from the medium, integrity and audit chain intact")
    return 0


def _verify(args: argparse.Namespace) -> int:
    if args.offline or not workstation.is_initialized(data_dir(args)):
        report = backup.inspect(Path(args.path), args.trust_ca)
    else:
        with signed_in(args) as session:
            report = backup.verify(session, Path(args.path), args._passphrase, args.trust_ca)
    print(report.summary())
    if report.ca_fingerprint:
        print(f"CA fingerprint: {report.ca_fingerprint}")
    return 0 if report.ok else 1


def _restore(args: argparse.Namespace) -> int:
    user = username(args)
    if args.recovery_key:
        key = read_secret("Recovery key: ")
        new = read_secret(f"New passphrase for {user}: ")
        result = backup.restore(Path(args.path), Path(args.data_dir), admin_username=user, recovery_key=key,
                                new_passphrase=new, trust_ca=args.trust_ca)
    else:
        passphrase = read_secret(f"Passphrase for {user}: ")
        result = backup.restore(Path(args.path), Path(args.data_dir), admin_username=user, passphrase=passphrase,
                                trust_ca=args.trust_ca)
    print(f"restored workstation '{result.meta.workstation_name}' (backup of {result.meta.created_at[:19]} UTC) "
          f"into {result.data_dir}; {result.audit_events} audit events, chain verified")
    return 0
