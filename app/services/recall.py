"""Recall (issue 16, point 4): tell every partner that received an entry, or anything it superseded,
to destroy or return it.

`recall(session, entry_id, reason, destination, media_label, passphrase)` builds one recall notice
package per partner (RECALL.json + RECALL.txt, in the reports' signed-manifest layout), marked at
the roll-up of what that partner received, sealed to the partner's encryption certificate
(reports/cms_seal.py via reports/sealed_package.py) when one is registered and plain signed
otherwise (said in the result and the audit event). Every package passes the egress check before
anything is written; all are written, or none; each is recorded in the dissemination log as kind
`recall`, superseding the newest entry that partner received, with the reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from app.model.accounts import Permission
from app.model.dissemination import CertificatePurpose, DisseminationEntry, DisseminationKind, Filters
from app.model.errors import ValidationError
from app.model.markings import Marking, rollup
from app.services import dissemination, egress, partners
from app.services.session import Session
from storage import partners_repo as repo

MAX_REASON = 2000


@dataclass(frozen=True)
class RecallNotice:
    partner: str
    entry_id: int  # the recall notice's own log entry
    recalled: tuple[int, ...]  # the partner's entries it recalls
    path: Path
    sealed: bool
    manifest_sha256: str
    marking: Marking


def affected(session: Session, entry_id: int) -> dict[int, list[DisseminationEntry]]:
    """Partner id -> the entries it received that a recall of `entry_id` covers: the entry, every
    entry it (transitively) superseded, and the same packages (same manifest) sent to others."""
    session.require(Permission.VIEW_CONTENT)
    entry = dissemination.checked(session, entry_id)
    if entry.kind is DisseminationKind.RECALL:
        raise ValidationError("entry", f"entry {entry.id} is itself a recall notice")
    if entry.recalled_by is not None:
        raise ValidationError("entry", f"entry {entry.id} was already recalled (recall notice {entry.recalled_by})")
    chain = set(repo.supersession_chain(session.db.conn, entry.id))
    same_object = dissemination.entries(session, Filters(object_type=entry.object_type, object_id=entry.object_id))
    manifests = {e.manifest_sha256 for e in same_object if e.id in chain}
    covered: dict[int, list[DisseminationEntry]] = {}
    for e in same_object:
        if e.kind is not DisseminationKind.RECALL and (e.id in chain or e.manifest_sha256 in manifests):
            covered.setdefault(e.partner_id, []).append(e)
    return covered


def _notice_files(session: Session, received: list[DisseminationEntry], reason: str,
                  marking: Marking) -> dict[str, bytes]:
    banner = marking.banner()
    items = [{"log_entry": e.id, "kind": e.kind.value, "object_type": e.object_type, "object_id": e.object_id,
              "revision": e.revision, "sent": e.created_at, "manifest_sha256": e.manifest_sha256,
              "marking": e.marking.banner()} for e in received]
    instructions = ("Destroy or return every copy of the packages listed (matched by manifest SHA-256), then send a "
                    "signed receipt for this notice's manifest (docs/PARTNERS.md).")
    notice = {"notice": "recall", "marking": banner, "workstation": session.settings.workstation_name,
              "partner": received[0].partner_name, "issued_at": session.now(), "issued_by": session.account.username,
              "reason": reason, "recalled": items, "instructions": instructions}
    lines = [banner, "", f"RECALL NOTICE from {session.settings.workstation_name} to {received[0].partner_name}",
             f"Issued {session.now()[:19]} UTC by {session.account.username}.", "", f"Reason: {reason}", "",
             "Recalled (destroy or return every copy):"]
    lines += [f"  - log entry {e.id}: {e.kind.label} {e.what}, sent {e.created_at[:10]}, manifest SHA-256 "
              f"{e.manifest_sha256}" for e in received]
    lines += ["", instructions, "", banner, ""]
    return {"RECALL.json": json.dumps(notice, indent=2, ensure_ascii=False).encode(),
            "RECALL.txt": "\n".join(lines).encode()}


def recall(session: Session, entry_id: int, reason: str, destination: Path | str, media_label: str,
           passphrase: str, pin: str | None = None) -> list[RecallNotice]:
    """Write a recall notice package for every partner that received the entry (see `affected`)."""
    from app.services import pki as pki_service
    from reports.package import MANIFEST, signed_content, write_folder
    from reports.sealed_package import write_sealed_package

    session.require(Permission.EXPORT)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValidationError("reason", f"say why it is recalled (1-{MAX_REASON} characters)")
    destination = Path(destination)
    covered = affected(session, entry_id)
    media = egress.media_label(media_label)
    plans = []
    for partner_id, received in sorted(covered.items()):
        marking = rollup(e.marking for e in received)
        cleared = egress.clear(session, f"the recall notice for {received[0].partner_name}", marking, media,
                               destination, refused_as=("dissemination.recall_refused", "dissemination", entry_id),
                               recipients=[partners.get(session, partner_id)])
        plans.append((partner_id, received, marking, cleared))
    egress.check_folder(destination)  # before the passphrase is re-checked and the notices signed
    session.reauthenticate(passphrase)
    sign_manifest, ca_pem = pki_service.manifest_signer(session, pin, "recall notices are signed")
    written: list[tuple[Path, bool, str]] = []
    stamp = session.now()[:19].replace("-", "").replace(":", "").replace("T", "-")
    try:
        for partner_id, received, marking, _ in plans:
            files = _notice_files(session, received, reason, marking)
            files.update(pki_service.revocation_files(session))
            content = signed_content(files, marking, sign_manifest, ca_pem)
            manifest = hashlib.sha256(content[MANIFEST]).hexdigest()
            slug = re.sub(r"[^A-Za-z0-9]+", "-", received[0].partner_name).strip("-")[:40] or str(partner_id)
            name = f"RECALL-{stamp}-{entry_id}-{slug}"
            certs = partners.certificates(session, partner_id, CertificatePurpose.ENCRYPTION)
            if certs:
                path = write_sealed_package(destination, name, content, certs, marking, media, session.clock()).path
            else:
                path = write_folder(destination, name, content)
            written.append((path, bool(certs), manifest))
        notices = []
        with session.transaction() as conn:
            for (partner_id, received, marking, cleared), (path, sealed, manifest) in zip(plans, written, strict=True):
                newest = received[-1]
                eid = dissemination.record(
                    session, conn, kind=DisseminationKind.RECALL, object_type=newest.object_type,
                    object_id=newest.object_id, revision=newest.revision, partner_id=partner_id, marking=marking,
                    tlp=None, embargo_until=None, manifest_sha256=manifest, media_label=media,
                    approved_by=session.account.username, supersedes=newest.id, reason=reason)
                recalled = tuple(e.id for e in received)
                session.audit(conn, "dissemination.recall", "dissemination", eid,
                              {"recalls": list(recalled), "partner": newest.partner_name, "path": str(path),
                               "sealed": sealed, "manifest_sha256": manifest, "marking": marking.banner()})
                egress.record(session, conn, cleared, sealed=sealed, manifest_sha256=manifest)
                notices.append(RecallNotice(newest.partner_name, eid, recalled, path, sealed, manifest, marking))
    except BaseException:
        for path, _, _ in written:  # all notices or none: a partner must not get a recall the log lacks
            with contextlib.suppress(OSError):
                shutil.rmtree(path)
        raise
    return notices
