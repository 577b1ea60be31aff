"""CSAF advisories leaving the workstation: one validated advisory per register entry, written to a
folder or inside a signed-manifest package, with the exchange state (tracking id, version, the
baseline later three-way merges start from) recorded once the files are on the media.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import __version__
from app.foundation.oserrors import capitalised, os_error_problem
from app.model.accounts import Permission
from app.model.csaf_publisher import Publisher
from app.model.errors import Cancelled, FrontierError, IntegrityError, StorageError, ValidationError
from app.model.markings import Marking, rollup
from app.model.vulnerabilities import EXCHANGED_FIELDS, ExchangeState, Vulnerability
from app.services import csaf_sharing, egress, vuln_signatures
from app.services.session import Session
from reports import csaf as csaf_report
from reports import csaf_validate
from storage import vulns_repo as repo
from storage.atomic import atomic_write

Progress = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]
OBJECT = "vulnerability"

@dataclass(frozen=True)
class ExportResult:
    folder: Path
    files: list[Path]
    versions: dict[str, str]  # register id -> "csaf 2.x, tracking version N"
    package: Any = None  # the reports package writer's result, when packaged
    recipient: str = ""
    overridden: tuple[str, ...] = ()  # entries that went only by a lead's override of embargo or TLP


def default_publisher(session: Session) -> Publisher:
    name = session.settings.workstation_name or "Review workstation"
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workstation"
    # .invalid (RFC 2606) never resolves: the namespace only names the issuer.
    return Publisher(f"AI Cybersecurity Clearinghouse ({name})", f"https://{slug}.clearinghouse.invalid")


def _revision_summary(state: ExchangeState, now_values: dict[str, Any]) -> str:
    if state.version == 0 or state.baseline is None:
        return "Initial release."
    changed = [k for k in EXCHANGED_FIELDS if state.baseline.get(k) != now_values.get(k)]
    return "Updated: " + ", ".join(changed) + "."


_Plan = tuple[Vulnerability, dict[str, Any], ExchangeState]


def _build_advisories(session: Session, conn: Any, vuln_ids: Sequence[str], publisher: Publisher,
                      now: str, media_marking: Marking | None, progress: Progress | None,
                      cancel: CancelCheck | None) -> list[_Plan]:
    """Validated CSAF documents and the exchange state each export leaves behind (nothing written)."""
    if not vuln_ids:
        raise ValidationError("vulnerabilities", "select at least one vulnerability to export")
    ids = list(dict.fromkeys(vuln_ids))
    vulns = [repo.get(conn, vid) for vid in ids]
    vuln_signatures.require_holding(session, conn, vulns, "shared")  # one pass: every entry that fails is named
    plans: list[_Plan] = []
    for i, (vid, v) in enumerate(zip(ids, vulns, strict=True)):
        if cancel and cancel():
            raise Cancelled("CSAF export")
        if media_marking is not None and not media_marking.dominates(v.marking):
            raise ValidationError("media_marking", f"{vid} is marked {v.marking.banner()}; it may not be "
                                                   f"written to media marked {media_marking.banner()}")
        state = repo.exchange_state(conn, vid)
        values = v.exchanged()
        tracking_id = state.tracking_id or v.tracking_id or v.id
        tracking_key = state.tracking_key or v.id
        version, hist = state.version, list(state.history)
        if state.baseline != values or version == 0 or not hist:
            version += 1
            hist.append({"date": now, "number": str(version), "summary": _revision_summary(state, values)})
        meta = csaf_report.AdvisoryMeta(
            tracking_id, version, tuple(csaf_report.Revision(h["date"], h["number"], h["summary"]) for h in hist),
            now, __version__, entry_key=tracking_key,
        )
        doc = csaf_report.advisory(v, publisher, meta)
        problems = csaf_validate.validate(doc)
        if problems:  # a bug here, never the user's: refuse to write an invalid advisory
            raise IntegrityError(f"CSAF advisory for {vid} fails the CSAF {doc['document']['csaf_version']} "
                                 f"schema: {problems[0]}")
        plans.append((v, doc, ExchangeState(values, version, hist, tracking_id, tracking_key)))
        if progress:
            progress(i + 1, len(ids), f"Built advisory for {vid}")
    names = [csaf_report.filename(doc["document"]["tracking"]["id"]) for _, doc, _ in plans]
    if len(set(names)) != len(names):
        raise ValidationError("vulnerabilities", "two selected entries share a CSAF tracking id")
    return plans


def _record_export(session: Session, conn: Any, plans: list[_Plan], now: str, where: str,
                   publisher: Publisher, media_marking: Marking | None) -> dict[str, str]:
    versions: dict[str, str] = {}
    for v, doc, state in plans:
        name = csaf_report.filename(state.tracking_id)
        repo.set_exchange_state(conn, v.id, state)
        repo.record_event(conn, v.id, session.account.username, now, "export csaf",
                          {"file": name, "tracking_id": state.tracking_id, "version": state.version,
                           "to": where})
        vuln_signatures.sign(session, conn, v.id)  # its exchange record changed
        versions[v.id] = f"CSAF {doc['document']['csaf_version']}, tracking version {state.version}"
    session.audit(conn, "vulnerability.export_csaf", OBJECT, ",".join(versions), {
        "destination": where, "files": [csaf_report.filename(s.tracking_id) for _, _, s in plans],
        "versions": versions, "publisher": publisher.namespace,
        "media_marking": media_marking.banner() if media_marking else "",
    })
    return versions


def _shipped(plans: list[_Plan], names: Sequence[str]) -> list[csaf_sharing.Shipped]:
    return [csaf_sharing.Shipped(v, state.tracking_id, state.version, name,
                                 hashlib.sha256(csaf_report.to_bytes(doc)).hexdigest())
            for (v, doc, state), name in zip(plans, names, strict=True)]


def _export_error(message: str) -> FrontierError:
    from reports.package import ExportError

    return ExportError(message)


def export_csaf(session: Session, vuln_ids: Sequence[str], folder: Path,
                publisher: Publisher | None = None, media_marking: Marking | None = None,
                progress: Progress | None = None, cancel: CancelCheck | None = None, *, recipient: str | int,
                override_reason: str = "") -> ExportResult:
    """Write one validated CSAF advisory per vulnerability into `folder` (atomically, per file), for
    `recipient` (a partner's name or id) under the sharing rules of app/services/csaf_sharing.py.

    The tracking version increases only when exchanged content changed since the last export.
    For media leaving the workstation prefer `export_csaf_package` (signed manifest).
    """
    session.require(Permission.MANAGE_VULNS)
    session.require(Permission.EXPORT)
    folder = Path(folder)
    egress.check_folder(folder)
    publisher = publisher or default_publisher(session)
    now = session.now()
    written: list[Path] = []
    media = egress.media_label(media_marking)
    content = rollup(repo.get(session.db.conn, vid).marking for vid in vuln_ids)
    cleared = egress.clear(session, "the advisories", content, media, folder,
                           refused_as=("vulnerability.export_refused", OBJECT, ",".join(vuln_ids)))
    sharing = csaf_sharing.clear(session, vuln_ids, recipient, override_reason)
    with session.transaction() as conn:
        plans = _build_advisories(session, conn, vuln_ids, publisher, now, media, progress, cancel)
        try:
            for _v, doc, state in plans:
                path = folder / csaf_report.filename(state.tracking_id)
                atomic_write(path, csaf_report.to_bytes(doc), mode=0o640)
                written.append(path)
            egress.write_marking_file(folder, cleared)
        except StorageError as exc:
            if not isinstance(exc.__cause__, OSError):
                raise
            for done in written:  # the export is not recorded: leave none of it behind
                done.unlink(missing_ok=True)
            raise _export_error(f"{capitalised(os_error_problem(exc.__cause__, folder))}; no advisory was "
                                "left behind and the export was not recorded.") from None
        versions = _record_export(session, conn, plans, now, str(folder), publisher, media)
        csaf_sharing.record(session, conn, sharing, _shipped(plans, [p.name for p in written]), media, folder)
        egress.record(session, conn, cleared, files=[p.name for p in written])
    return ExportResult(folder, written, versions, None, sharing.partner.name,
                        tuple(w.vuln_id for w in sharing.overridden))


def export_csaf_package(session: Session, vuln_ids: Sequence[str], destination: Path, media_label: str,
                        passphrase: str, pin: str | None = None, publisher: Publisher | None = None,
                        progress: Progress | None = None, cancel: CancelCheck | None = None, *,
                        recipient: str | int, override_reason: str = "") -> ExportResult:
    """CSAF advisories in the reports' signed-manifest package (SHA256SUMS + SHA256SUMS.p7s + ca.pem),
    for `recipient` under the sharing rules (app/services/csaf_sharing.py).

    The package is written all at once or not at all (reports/package.py); the exchange state is
    recorded only after it is on the media.
    """
    from app.services import pki as pki_service
    from reports.package import MANIFEST, write_package

    session.require(Permission.MANAGE_VULNS)
    session.require(Permission.EXPORT)
    media = egress.media_label(media_label)
    publisher = publisher or default_publisher(session)
    now = session.now()
    plans = _build_advisories(session, session.db.conn, vuln_ids, publisher, now, None, progress, cancel)
    content = rollup(v.marking for v, _, _ in plans)
    cleared = egress.clear(session, "the advisories", content, media, destination,
                           refused_as=("vulnerability.export_refused", OBJECT, ",".join(v.id for v, _, _ in plans)))
    egress.check_folder(destination)  # before the passphrase is re-checked and the package signed
    sharing = csaf_sharing.clear(session, [v.id for v, _, _ in plans], recipient, override_reason)
    session.reauthenticate(passphrase)
    sign_manifest, ca_pem = pki_service.manifest_signer(session, pin)
    # The package allows [A-Za-z0-9._-] only; CSAF file names may also hold '+'.
    names = [re.sub(r"[^A-Za-z0-9._-]", "_", csaf_report.filename(state.tracking_id)) for _, _, state in plans]
    files = {name: csaf_report.to_bytes(doc) for name, (_, doc, _) in zip(names, plans, strict=True)}
    files.update(pki_service.revocation_files(session))
    stamp = now[:19].replace("-", "").replace(":", "").replace("T", "-")
    name = f"CSAF-{stamp}-{plans[0][0].id}" + (f"-and-{len(plans) - 1}-more" if len(plans) > 1 else "")
    package = write_package(Path(destination), name, files, content, media, sign_manifest, ca_pem)
    manifest_sha256 = hashlib.sha256((package.path / MANIFEST).read_bytes()).hexdigest()
    with session.transaction() as conn:
        versions = _record_export(session, conn, plans, now, str(package.path), publisher, media)
        csaf_sharing.record(session, conn, sharing, _shipped(plans, names), media, package.path, manifest_sha256)
        egress.record(session, conn, cleared, files=sorted(files))
    return ExportResult(package.path, [package.path / f for f in files], versions, package, sharing.partner.name,
                        tuple(w.vuln_id for w in sharing.overridden))
