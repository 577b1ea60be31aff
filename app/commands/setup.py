"""`init` and `gui`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.commands.common import data_dir, read_secret
from app.model.errors import ValidationError
from app.model.markings import Marking, parse_declassify_on
from app.model.settings import marking_block_fields
from app.services import workstation


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="set up a new workstation (first admin account, recovery key)")
    p.add_argument("--name", required=True, help="workstation name")
    p.add_argument("--system-high", default="UNCLASSIFIED", help="highest marking held, e.g. SECRET//NOFORN")
    p.add_argument("--admin", required=True, help="administrator account name")
    p.add_argument("--admin-name", help="administrator display name")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--keyring", dest="keyring", action="store_true", default=None,
                      help="require the OS keyring secret")
    mode.add_argument("--no-keyring", dest="keyring", action="store_false", help="passphrase-only mode")
    p.add_argument("--recovery-key-file", metavar="FILE",
                   help="write the recovery key to this new file (mode 0600) instead of the terminal; required "
                        "when standard output is not a terminal (the key is never printed to a pipe)")
    for key, label in AUTHORITY_OPTIONS.items():
        p.add_argument(f"--{key.replace('_', '-')}", dest=key, metavar="TEXT",
                       help=f"{label} (required when the system-high needs it, as in the setup wizard)")
    p.set_defaults(func=_init)

    g = sub.add_parser("gui", help="open the desktop application")
    g.add_argument("--demo", action="store_true", help="open a demo workstation in a temporary directory")
    g.set_defaults(func=_gui)


AUTHORITY_OPTIONS = {"classified_by": "Classified By line", "derived_from": "Derived From line",
                     "declassify_on": "Declassify On line", "cui_controlled_by": "CUI Controlled By line",
                     "cui_category": "CUI category", "cui_poc": "CUI point of contact"}


def _init(args: argparse.Namespace) -> int:
    # Everything that can be refused is refused before the workstation exists.
    key_file = Path(args.recovery_key_file).expanduser() if args.recovery_key_file else None
    if key_file is None and not sys.stdout.isatty():
        raise ValidationError("recovery key", "standard output is not a terminal, so the recovery key is not "
                              "printed; name a new file for it with --recovery-key-file FILE (written 0600)")
    if key_file is not None and (key_file.exists() or not key_file.parent.is_dir()):
        raise ValidationError("--recovery-key-file", f"{key_file}: " + ("already exists; it is never overwritten"
                              if key_file.exists() else "its folder does not exist"))
    level = Marking.parse(args.system_high).level
    authority = {k: getattr(args, k).strip() for k in AUTHORITY_OPTIONS if (getattr(args, k) or "").strip()}
    missing = [f"--{k.replace('_', '-')}" for k in marking_block_fields(level) if k not in authority]
    if missing:
        raise ValidationError("classification authority", f"a {args.system_high} workstation prints these on "
                              f"every report: give {', '.join(missing)}")
    if "declassify_on" in authority:
        authority["declassify_on"] = parse_declassify_on(authority["declassify_on"])
    passphrase = read_secret(f"New passphrase for {args.admin}: ")
    result = workstation.initialize(
        data_dir(args), workstation_name=args.name, system_high=args.system_high,
        admin_username=args.admin, admin_display_name=args.admin_name or args.admin,
        admin_passphrase=passphrase, use_keyring=args.keyring,
    )
    try:
        if authority:
            workstation.update_settings(result.session, authority)
    finally:
        result.session.close()
    print(f"Workstation initialised in {data_dir(args)}")
    print(f"Key protection: {result.keyring_mode} ({result.keyring_backend})")
    if key_file is not None:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(result.recovery_key + "\n")
        print(f"Recovery key written to {key_file} (mode 0600): print it, store it under the workstation's "
              "classification, then delete the file.")
    else:
        print("RECOVERY KEY (shown once: print it and store it under the workstation's classification):")
        print(f"  {result.recovery_key}")
    return 0


def _gui(args: argparse.Namespace) -> int:
    from ui.app import run_gui  # Qt is imported only when the GUI is asked for

    return run_gui(data_dir=data_dir(args) if args.data_dir else None, demo=bool(args.demo))
