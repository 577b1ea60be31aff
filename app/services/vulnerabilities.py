"""Vulnerability register use cases: record, list, create from findings/samples, CSAF exchange.

Imports are two steps: `preview_import` reads, validates and diffs against the register without
changing anything; `apply_import` applies what the preview showed, in one transaction. Conflicts
with local edits are never overwritten silently: they need an explicit per-field resolution.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app import __version__
from app.ingest import csaf_import
from app.ingest.csaf_import import IncomingAdvisory, IncomingItem
from app.model.accounts import Permission
from app.model.errors import Cancelled, IngestError, IntegrityError, NotFound, ValidationError
from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.report import VulnerabilityRow
from app.model.vulnerabilities import (
    EXCHANGED_FIELDS,
    DiscoveryContext,
    Filters,
    Severity,
    Vulnerability,
    VulnStatus,
    default_embargo,
    three_way,
)
from app.services import derivation, egress
from app.services.session import Session
from reports import csaf as csaf_report
from reports import csaf_validate
from storage import submissions_repo
from storage import vulns_repo as repo
from storage.atomic import atomic_write
from storage.vulns_repo import ExchangeState, HistoryEntry

Progress = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]
OBJECT = "vulnerability"


# -- register --------------------------------------------------------------------------------

def _check_duplicate_cve(conn: Any, v: Vulnerability) -> None:
    if v.cve:
        other = repo.find_by_cve(conn, v.cve)
        if other is not None and other.id != v.id:
            raise ValidationError("cve", f"{v.cve} is already recorded as {other.id} ('{other.title}'); "
                                         "duplicate CVE ids are refused")


def _check_submission(conn: Any, v: Vulnerability) -> None:
    sid = v.context.submission_id
    if sid is not None:
        try:
            submissions_repo.get(conn, sid)
        except NotFound:
            raise ValidationError("submission_id", f"no submission with id {sid}") from None


def _settle_marking(session: Session, conn: Any, v: Vulnerability, floor: Marking, lower_reason: str) -> Vulnerability:
    """A vulnerability is marked at least as high as the submission it was found in (issue 11): lower only
    as an explicit, audited act with a reason."""
    if v.context.submission_id is not None:
        floor = rollup([floor, submissions_repo.get(conn, v.context.submission_id).marking])
    return replace(v, marking=derivation.settle(session, conn, v.marking, floor, lower_reason,
                                                f"the vulnerability {v.title!r}", OBJECT, v.id))


def marking_floor(session: Session, v: Vulnerability) -> Marking:
    """Where the vulnerability's marking starts: its stored marking and its submission's (editors ask for a
    reason below this)."""
    conn = session.db.conn
    found = [repo.get(conn, v.id).marking] if v.id else []
    if v.context.submission_id is not None:
        found.append(submissions_repo.get(conn, v.context.submission_id).marking)
    return rollup(found)


def create(session: Session, v: Vulnerability, lower_reason: str = "") -> Vulnerability:
    """Record a new vulnerability; the embargo defaults to the linked submission's planned release."""
    session.require(Permission.MANAGE_VULNS)
    v = v.validate()
    with session.transaction() as conn:
        _check_submission(conn, v)
        _check_duplicate_cve(conn, v)
        v = _settle_marking(session, conn, v, UNCLASSIFIED, lower_reason)
        if v.embargo_until is None and v.context.submission_id is not None:
            sub = submissions_repo.get(conn, v.context.submission_id)
            v = replace(v, embargo_until=default_embargo(sub.planned_release, v.discovered))
        if v.discovered is None:
            v = replace(v, discovered=session.today())
        vid = repo.insert(conn, v, session.account.username, session.now())
        stored = repo.get(conn, vid)
        session.audit(conn, "vulnerability.create", OBJECT, vid, {
            "title": stored.title, "severity": stored.severity.value if stored.severity else "",
            "cvss": stored.cvss_vector, "marking": stored.marking.banner(), "tlp": stored.tlp.value,
            "context": _context(stored.context),
        })
        return stored


def update(session: Session, v: Vulnerability, lower_reason: str = "") -> Vulnerability:
    """Save an edit made on revision `v.revision`; refuses if someone saved in between."""
    session.require(Permission.MANAGE_VULNS)
    v = v.validate()
    with session.transaction() as conn:
        _check_submission(conn, v)
        _check_duplicate_cve(conn, v)
        if v.id:
            v = _settle_marking(session, conn, v, repo.get(conn, v.id).marking, lower_reason)
        stored, changes = repo.update(conn, v, session.account.username, session.now(), v.revision)
        if changes:
            session.audit(conn, "vulnerability.update", OBJECT, v.id, {"changes": changes})
        return stored


def get(session: Session, vid: str) -> Vulnerability:
    session.require(Permission.VIEW_CONTENT)
    return repo.get(session.db.conn, vid)


def history(session: Session, vid: str) -> list[HistoryEntry]:
    session.require(Permission.VIEW_CONTENT)
    return repo.history(session.db.conn, vid)


def filters(session: Session, severities: Sequence[Severity] = (), statuses: Sequence[VulnStatus] = (),
            embargo_within_days: int | None = None, search: str = "", submission_id: int | None = None,
            open_only: bool = False) -> Filters:
    """Filters relative to the session's clock ("embargo ending within N days" counts from today)."""
    if embargo_within_days is not None and embargo_within_days < 0:
        raise ValidationError("embargo_within_days", "must be zero or more days")
    return Filters(tuple(severities), tuple(statuses), embargo_within_days, session.today(), search.strip(),
                   submission_id, open_only)


def count(session: Session, f: Filters | None = None) -> int:
    session.require(Permission.VIEW_CONTENT)
    return repo.count(session.db.conn, f or Filters(today=session.today()))


def page(session: Session, f: Filters | None, offset: int, limit: int, sort: str = "id",
         descending: bool = False) -> list[Vulnerability]:
    session.require(Permission.VIEW_CONTENT)
    return repo.page(session.db.conn, f or Filters(today=session.today()), offset, limit, sort, descending)


def list_all(session: Session, f: Filters | None = None, sort: str = "id", descending: bool = False,
             limit: int = 100_000) -> list[Vulnerability]:
    return page(session, f, 0, limit, sort, descending)


def _context(c: DiscoveryContext) -> dict[str, Any]:
    return {"submission_id": c.submission_id, "run_id": c.run_id, "sample_id": c.sample_id,
            "finding_id": c.finding_id}


# -- from a finding or a sample (keeping the link) ------------------------------------------

def draft_from_finding(session: Session, finding: Any) -> Vulnerability:
    """An unsaved vulnerability prefilled from a finding; the editor shows it for completion."""
    session.require(Permission.MANAGE_VULNS)
    fid = getattr(finding, "id", None)
    if fid in (None, ""):
        raise ValidationError("finding_id", "the finding has no id yet; save it first")
    sid = getattr(finding, "submission_id", None)
    title = str(getattr(finding, "title", "") or "")
    description = str(getattr(finding, "description", "") or getattr(finding, "statement", "") or "")
    marking = getattr(finding, "marking", UNCLASSIFIED)
    run_id, sample_id = str(getattr(finding, "run_id", "") or ""), str(getattr(finding, "sample_id", "") or "")
    for ev in getattr(finding, "evidence", ()) or ():
        # findings cite samples as EvidenceRef(kind="sample", ref="RUN:SAMPLE"): keep the first
        if getattr(ev, "kind", "") == "sample" and ":" in str(getattr(ev, "ref", "")) and not sample_id:
            run_id, sample_id = str(ev.ref).split(":", 1)
        elif getattr(ev, "kind", "") == "run" and not run_id:
            run_id = str(ev.ref)
    ctx = DiscoveryContext(submission_id=sid, run_id=run_id, sample_id=sample_id, finding_id=str(fid))
    return _draft(session, title, description, ctx, marking if isinstance(marking, Marking) else UNCLASSIFIED)


def draft_from_sample(session: Session, submission_id: int | None, run_id: str, sample_id: str,
                      title: str = "", excerpt: str = "", marking: Marking = UNCLASSIFIED) -> Vulnerability:
    """An unsaved vulnerability prefilled from a transcript sample (run id + sample id kept)."""
    session.require(Permission.MANAGE_VULNS)
    if not run_id or not sample_id:
        raise ValidationError("sample_id", "a run id and a sample id are needed to link the sample")
    ctx = DiscoveryContext(submission_id=submission_id, run_id=str(run_id), sample_id=str(sample_id))
    title = title or f"Vulnerability found in sample {sample_id} of run {run_id}"
    description = f"Observed in evaluation run {run_id}, sample {sample_id}."
    if excerpt:
        description += "\n\nTranscript excerpt:\n" + excerpt[:5000]
    return _draft(session, title, description, ctx, marking)


def _draft(session: Session, title: str, description: str, ctx: DiscoveryContext,
           marking: Marking) -> Vulnerability:
    embargo = None
    if ctx.submission_id is not None:
        try:
            sub = submissions_repo.get(session.db.conn, ctx.submission_id)
        except NotFound:
            raise ValidationError("submission_id", f"no submission with id {ctx.submission_id}") from None
        embargo = default_embargo(sub.planned_release, session.today())
        marking = rollup([marking, sub.marking])
    return Vulnerability(title=title[:500], description=description, context=ctx, discovered=session.today(),
                         embargo_until=embargo, marking=marking)


def create_from_finding(session: Session, finding: Any, **overrides: Any) -> Vulnerability:
    return create(session, replace(draft_from_finding(session, finding), **overrides))


def create_from_sample(session: Session, submission_id: int | None, run_id: str, sample_id: str,
                       **overrides: Any) -> Vulnerability:
    return create(session, replace(draft_from_sample(session, submission_id, run_id, sample_id), **overrides))


# -- findings report annex ------------------------------------------------------------------

def annex_rows(session: Session, submission_id: int) -> tuple[VulnerabilityRow, ...]:
    """Vulnerabilities found while testing a submission, most severe first, for the findings
    report's annex (ReportInput.vulnerabilities); each row keeps its own portion marking."""
    session.require(Permission.VIEW_CONTENT)
    rows = []
    for v in repo.for_submission(session.db.conn, submission_id):
        sev = v.severity
        vector = v.cvss_vector or v.cvss_v3_vector
        status = f"{v.status.value}; TLP:{v.tlp.value}"
        if v.embargo_until:
            status += f"; embargo until {v.embargo_until.isoformat()}"
        # Only what is known is printed: no "(product not named)" placeholder in the report.
        named = ", ".join(p for p in (" ".join(x for x in (v.vendor, v.product) if x), v.cve) if p)
        rows.append(VulnerabilityRow(
            id=v.id, title=f"{v.title} ({named})" if named else v.title,
            severity=sev.value if sev else "not scored", score=f"{v.score} ({vector})" if vector else "",
            status=status, cwe=v.cwe, marking=v.marking,
        ))
    return tuple(rows)


# -- CSAF export ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportResult:
    folder: Path
    files: list[Path]
    versions: dict[str, str]  # register id -> "csaf 2.x, tracking version N"
    package: Any = None  # the reports package writer's result, when packaged


def default_publisher(session: Session) -> csaf_report.Publisher:
    name = session.settings.workstation_name or "Review workstation"
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workstation"
    # .invalid (RFC 2606) never resolves: the namespace only names the issuer.
    return csaf_report.Publisher(f"AI Cybersecurity Clearinghouse ({name})", f"https://{slug}.clearinghouse.invalid")


def _revision_summary(state: ExchangeState, now_values: dict[str, Any]) -> str:
    if state.version == 0 or state.baseline is None:
        return "Initial release."
    changed = [k for k in EXCHANGED_FIELDS if state.baseline.get(k) != now_values.get(k)]
    return "Updated: " + ", ".join(changed) + "."


_Plan = tuple[Vulnerability, dict[str, Any], ExchangeState]


def _build_advisories(session: Session, conn: Any, vuln_ids: Sequence[str], publisher: csaf_report.Publisher,
                      now: str, media_marking: Marking | None, progress: Progress | None,
                      cancel: CancelCheck | None) -> list[_Plan]:
    """Validated CSAF documents and the exchange state each export leaves behind (nothing written)."""
    if not vuln_ids:
        raise ValidationError("vulnerabilities", "select at least one vulnerability to export")
    ids = list(dict.fromkeys(vuln_ids))
    plans: list[_Plan] = []
    for i, vid in enumerate(ids):
        if cancel and cancel():
            raise Cancelled("CSAF export")
        v = repo.get(conn, vid)
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
                   publisher: csaf_report.Publisher, media_marking: Marking | None) -> dict[str, str]:
    versions: dict[str, str] = {}
    for v, doc, state in plans:
        name = csaf_report.filename(state.tracking_id)
        repo.set_exchange_state(conn, v.id, state)
        repo.record_event(conn, v.id, session.account.username, now, "export csaf",
                          {"file": name, "tracking_id": state.tracking_id, "version": state.version,
                           "to": where})
        versions[v.id] = f"CSAF {doc['document']['csaf_version']}, tracking version {state.version}"
    session.audit(conn, "vulnerability.export_csaf", OBJECT, ",".join(versions), {
        "destination": where, "files": [csaf_report.filename(s.tracking_id) for _, _, s in plans],
        "versions": versions, "publisher": publisher.namespace,
        "media_marking": media_marking.banner() if media_marking else "",
    })
    return versions


def export_csaf(session: Session, vuln_ids: Sequence[str], folder: Path,
                publisher: csaf_report.Publisher | None = None, media_marking: Marking | None = None,
                progress: Progress | None = None, cancel: CancelCheck | None = None) -> ExportResult:
    """Write one validated CSAF advisory per vulnerability into `folder` (atomically, per file).

    The tracking version increases only when exchanged content changed since the last export.
    For media leaving the workstation prefer `export_csaf_package` (signed manifest).
    """
    session.require(Permission.MANAGE_VULNS)
    session.require(Permission.EXPORT)
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationError("folder", f"{folder} is not a folder")
    publisher = publisher or default_publisher(session)
    now = session.now()
    written: list[Path] = []
    media = egress.media_label(media_marking)
    content = rollup(repo.get(session.db.conn, vid).marking for vid in vuln_ids)
    cleared = egress.clear(session, "the advisories", content, media, folder,
                           refused_as=("vulnerability.export_refused", OBJECT, ",".join(vuln_ids)))
    with session.transaction() as conn:
        plans = _build_advisories(session, conn, vuln_ids, publisher, now, media, progress, cancel)
        for _v, doc, state in plans:
            path = folder / csaf_report.filename(state.tracking_id)
            atomic_write(path, csaf_report.to_bytes(doc), mode=0o640)
            written.append(path)
        egress.write_marking_file(folder, cleared)
        versions = _record_export(session, conn, plans, now, str(folder), publisher, media)
        egress.record(session, conn, cleared, files=[p.name for p in written])
    return ExportResult(folder, written, versions, None)


def export_csaf_package(session: Session, vuln_ids: Sequence[str], destination: Path, media_label: str,
                        passphrase: str, pin: str | None = None, publisher: csaf_report.Publisher | None = None,
                        progress: Progress | None = None, cancel: CancelCheck | None = None) -> ExportResult:
    """CSAF advisories in the reports' signed-manifest package (SHA256SUMS + SHA256SUMS.p7s + ca.pem).

    The package is written all at once or not at all (reports/package.py); the exchange state is
    recorded only after it is on the media.
    """
    from app.services import pki as pki_service
    from reports.package import write_package

    session.require(Permission.MANAGE_VULNS)
    session.require(Permission.EXPORT)
    media = egress.media_label(media_label)
    publisher = publisher or default_publisher(session)
    now = session.now()
    plans = _build_advisories(session, session.db.conn, vuln_ids, publisher, now, None, progress, cancel)
    content = rollup(v.marking for v, _, _ in plans)
    cleared = egress.clear(session, "the advisories", content, media, destination,
                           refused_as=("vulnerability.export_refused", OBJECT, ",".join(v.id for v, _, _ in plans)))
    session.reauthenticate(passphrase)
    sign_manifest, ca_pem = pki_service.manifest_signer(session, pin)
    # The package allows [A-Za-z0-9._-] only; CSAF file names may also hold '+'.
    files = {re.sub(r"[^A-Za-z0-9._-]", "_", csaf_report.filename(state.tracking_id)): csaf_report.to_bytes(doc)
             for _, doc, state in plans}
    files.update(pki_service.revocation_files(session))
    stamp = now[:19].replace("-", "").replace(":", "").replace("T", "-")
    name = f"CSAF-{stamp}-{plans[0][0].id}" + (f"-and-{len(plans) - 1}-more" if len(plans) > 1 else "")
    package = write_package(Path(destination), name, files, content, media, sign_manifest, ca_pem)
    with session.transaction() as conn:
        versions = _record_export(session, conn, plans, now, str(package.path), publisher, media)
        egress.record(session, conn, cleared, files=sorted(files))
    return ExportResult(package.path, [package.path / f for f in files], versions, package)


# -- CSAF import: preview, then apply -------------------------------------------------------

class ActionKind(enum.StrEnum):
    NEW = "new"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"
    INVALID = "invalid"


@dataclass(frozen=True)
class FieldChange:
    field: str
    local: Any
    incoming: Any
    baseline: Any
    conflict: bool


@dataclass(frozen=True)
class ImportAction:
    kind: ActionKind
    file: str
    message: str
    json_path: str = "$"
    key: str = ""
    tracking_id: str = ""
    tracking_version: str = ""
    publisher: str = ""
    incoming: Vulnerability | None = None
    local_id: str = ""
    local_revision: int = 0
    changes: tuple[FieldChange, ...] = ()
    taken: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    sha256: str = ""

    @property
    def title(self) -> str:
        return self.incoming.title if self.incoming else ""


@dataclass(frozen=True)
class ImportPreview:
    actions: tuple[ImportAction, ...]
    files: tuple[str, ...]

    def of(self, kind: ActionKind) -> list[ImportAction]:
        return [a for a in self.actions if a.kind is kind]

    @property
    def summary(self) -> dict[str, int]:
        return {k.value: len(self.of(k)) for k in ActionKind if self.of(k)}


@dataclass(frozen=True)
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_local: list[str] = field(default_factory=list)  # conflicts left unresolved: local record untouched
    skipped: list[str] = field(default_factory=list)  # invalid files, duplicates


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _classify(conn: Any, adv: IncomingAdvisory, item: IncomingItem) -> ImportAction:
    common: dict[str, Any] = {
        "file": adv.path, "json_path": item.json_path, "key": item.key, "tracking_id": adv.tracking_id,
        "tracking_version": adv.tracking_version, "publisher": adv.publisher_namespace, "incoming": item.vuln,
        "warnings": item.warnings, "sha256": adv.sha256,
    }
    by_tracking = repo.find_by_tracking(conn, adv.tracking_id, item.key)
    by_cve = repo.find_by_cve(conn, item.vuln.cve)
    if by_tracking and by_cve and by_tracking.id != by_cve.id:
        return ImportAction(ActionKind.CONFLICT, message=(
            f"tracking id {adv.tracking_id} matches {by_tracking.id} but {item.vuln.cve} is recorded as "
            f"{by_cve.id}; resolve by hand (nothing will be changed)"), **common)
    local = by_tracking or by_cve
    if local is None:
        return ImportAction(ActionKind.NEW, message="new to this register", **common)
    state = repo.exchange_state(conn, local.id)
    same_lineage = state.tracking_id == adv.tracking_id and state.tracking_key == item.key
    baseline = state.baseline if same_lineage else None
    inc_v, known_v = _int(adv.tracking_version), state.version
    if same_lineage and inc_v is not None and inc_v < known_v:
        return ImportAction(ActionKind.UNCHANGED, local_id=local.id, local_revision=local.revision, message=(
            f"version {inc_v} is older than version {known_v} already exchanged; ignored"), **common)
    local_vals, inc_vals = local.exchanged(), item.vuln.exchanged()
    _merged, taken, conflicts = three_way(baseline, local_vals, inc_vals)
    changes = tuple(
        FieldChange(k, local_vals[k], inc_vals[k], None if baseline is None else baseline.get(k), k in conflicts)
        for k in EXCHANGED_FIELDS if local_vals[k] != inc_vals[k]
    )
    base: dict[str, Any] = {"local_id": local.id, "local_revision": local.revision, "changes": changes,
                            "taken": tuple(taken), "conflicts": tuple(conflicts)}
    if not changes:
        return ImportAction(ActionKind.UNCHANGED, message=f"identical to {local.id}", **base, **common)
    if conflicts:
        why = "edited here and by the partner" if baseline is not None else "never exchanged before"
        return ImportAction(ActionKind.CONFLICT, message=(
            f"conflicts with {local.id} ({why}): {', '.join(conflicts)}"), **base, **common)
    if taken:
        kept = [c.field for c in changes if c.field not in taken]
        note = f"; local edits kept: {', '.join(kept)}" if kept else ""
        return ImportAction(ActionKind.UPDATE, message=f"updates {local.id}: {', '.join(taken)}{note}",
                            **base, **common)
    return ImportAction(ActionKind.UNCHANGED, message=(
        f"only local edits differ from {local.id}; they are kept"), **base, **common)


_REPORT_COMPANIONS = {"assessment-results.json", "findings.json"}


@dataclass(frozen=True)
class _Source:
    path: Path
    verified_by: str = ""  # manifest signer when the file came in a verified package
    sha256: str = ""  # the signed manifest's hash of the file
    error: str = ""


def _sources(session: Session, paths: Sequence[Path]) -> list[_Source]:
    """Files to read. A package folder (SHA256SUMS) is verified first (SI-7): its signature must chain
    to a root this workstation trusts and every file must match; only then are its advisories read."""
    from app.services import pki as pki_service
    from reports.package import MANIFEST
    from reports.verify_package import parse_manifest, verify_package

    out: list[_Source] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            out.append(_Source(path))
            continue
        if not (path / MANIFEST).is_file():
            out += [_Source(p) for p in sorted(path.glob("*.json"))]
            continue
        check = verify_package(path, pki_service.trusted_roots(session))
        problems = check.problems
        if problems or check.manifest_signer is None:
            why = "; ".join(problems) or "the manifest signature could not be verified"
            out.append(_Source(path, error=(
                f"the package fails verification, nothing in it is imported: {why}. A partner's CA is trusted "
                "once an administrator imports it (obtained separately, not from the package).")))
            continue
        signer = check.manifest_signer.describe()
        entries = parse_manifest((path / MANIFEST).read_bytes())
        out += [_Source(path / name, signer, digest) for name, digest in sorted(entries.items())
                if name.endswith(".json") and name not in _REPORT_COMPANIONS]
    return out


def preview_import(session: Session, paths: Sequence[Path], default_marking: Marking = UNCLASSIFIED,
                   progress: Progress | None = None, cancel: CancelCheck | None = None) -> ImportPreview:
    """Read, validate and diff partner advisories against the register. Changes nothing.

    `paths` are CSAF files, folders of them, or export packages (verified before reading)."""
    session.require(Permission.MANAGE_VULNS)
    if not paths:
        raise ValidationError("files", "choose at least one CSAF file to import")
    actions: list[ImportAction] = []
    seen_keys: dict[tuple[str, str], str] = {}
    seen_cves: dict[str, str] = {}
    conn = session.db.conn
    sources = _sources(session, paths)
    for n, src in enumerate(sources):
        if cancel and cancel():
            raise Cancelled("CSAF import preview")
        if src.error:
            actions.append(ImportAction(ActionKind.INVALID, str(src.path), f"{src.path}: {src.error}"))
            continue
        try:
            adv = csaf_import.read_advisory(src.path, csaf_validate.validate, default_marking)
        except IngestError as exc:
            actions.append(ImportAction(ActionKind.INVALID, str(src.path), str(exc)))
            continue
        if src.sha256 and adv.sha256 != src.sha256:  # swapped between verification and reading
            actions.append(ImportAction(ActionKind.INVALID, str(src.path),
                                        f"{src.path}: changed after the package was verified; not imported"))
            continue
        for item in adv.items:
            if src.verified_by:
                item = dataclasses.replace(item, warnings=(f"signed package: {src.verified_by}", *item.warnings))
            where = f"{adv.path} {item.json_path}"
            k = (adv.tracking_id, item.key)
            if k in seen_keys:
                actions.append(ImportAction(
                    ActionKind.DUPLICATE, adv.path, f"duplicate: tracking id {adv.tracking_id} entry {item.key} "
                    f"also in {seen_keys[k]}; only the first is imported", item.json_path, item.key,
                    adv.tracking_id, adv.tracking_version, adv.publisher_namespace, item.vuln))
                continue
            if item.vuln.cve and item.vuln.cve in seen_cves:
                actions.append(ImportAction(
                    ActionKind.DUPLICATE, adv.path, f"duplicate: {item.vuln.cve} also in "
                    f"{seen_cves[item.vuln.cve]}; only the first is imported", item.json_path, item.key,
                    adv.tracking_id, adv.tracking_version, adv.publisher_namespace, item.vuln))
                continue
            seen_keys[k] = where
            if item.vuln.cve:
                seen_cves[item.vuln.cve] = where
            actions.append(_classify(conn, adv, item))
        if progress:
            progress(n + 1, len(sources), f"Read {src.path.name}")
    return ImportPreview(tuple(actions), tuple(str(p) for p in paths))


Resolution = dict[str, str]  # field -> "local" | "incoming"


def apply_import(session: Session, preview: ImportPreview,
                 resolutions: dict[int, Resolution] | None = None) -> ImportResult:
    """Apply a preview in one transaction. `resolutions` maps an action index to per-field choices.

    A conflict without a choice for every conflicting field is not applied: the local record
    stays as it is. If the register changed since the preview, nothing is applied.
    """
    session.require(Permission.MANAGE_VULNS)
    resolutions = resolutions or {}
    result = ImportResult()
    actor, now = session.account.username, session.now()
    with session.transaction() as conn:
        for index, action in enumerate(preview.actions):
            if action.kind in (ActionKind.INVALID, ActionKind.DUPLICATE) or (
                    action.kind is ActionKind.CONFLICT and not action.local_id):  # ambiguous match: by hand
                result.skipped.append(f"{action.file} {action.json_path}: {action.message}")
                continue
            assert action.incoming is not None
            inc_vals = action.incoming.exchanged()
            inc_version = _int(action.tracking_version) or 0
            state = ExchangeState(inc_vals, inc_version, [], action.tracking_id, action.key)
            if action.kind is ActionKind.NEW:
                if (repo.find_by_tracking(conn, action.tracking_id, action.key)
                        or repo.find_by_cve(conn, action.incoming.cve)):
                    raise IntegrityError("The register changed since the preview (a matching entry now exists); "
                                         "preview the import again. Nothing was imported.")
                v = replace(action.incoming, status=VulnStatus.NEW, source=action.publisher,
                            tracking_id=action.tracking_id)
                vid = repo.insert(conn, v, actor, now, action="import csaf", tracking_key=action.key)
                repo.set_exchange_state(conn, vid, state)
                result.created.append(vid)
                session.audit(conn, "vulnerability.import", OBJECT, vid, {
                    "file": action.file, "sha256": action.sha256, "tracking_id": action.tracking_id,
                    "version": action.tracking_version, "publisher": action.publisher, "kind": "new"})
                continue
            local = repo.get(conn, action.local_id)
            if local.revision != action.local_revision:
                raise IntegrityError(f"{local.id} was edited since the preview; preview the import again. "
                                     "Nothing was imported.")
            if action.kind is ActionKind.UNCHANGED:
                old = repo.exchange_state(conn, local.id)
                if old.tracking_id in ("", action.tracking_id) and not action.changes:
                    repo.set_exchange_state(conn, local.id, replace(state, version=max(inc_version, old.version),
                                                                    history=old.history))
                result.unchanged.append(local.id)
                continue
            merged = dict(local.exchanged())
            for name in action.taken:
                merged[name] = inc_vals[name]
            if action.kind is ActionKind.CONFLICT:
                choice = resolutions.get(index, {})
                if not action.conflicts or any(choice.get(c) not in ("local", "incoming") for c in action.conflicts):
                    result.kept_local.append(local.id)
                    continue
                for c in action.conflicts:
                    if choice[c] == "incoming":
                        merged[c] = inc_vals[c]
            try:
                updated = local.with_exchanged(merged).validate()
            except ValidationError as exc:  # e.g. the partner cleared a date this record's status needs
                result.skipped.append(f"{action.file} {action.json_path}: not applied to {local.id}: {exc}")
                continue
            # An import never lowers a marking: a partner's lower marking leaves ours as it is.
            updated = replace(updated, marking=rollup([local.marking, updated.marking]))
            _stored, changes = repo.update(conn, updated, actor, now, local.revision, action="import csaf")
            old = repo.exchange_state(conn, local.id)
            repo.set_exchange_state(conn, local.id, replace(state, history=old.history))
            result.updated.append(local.id)
            session.audit(conn, "vulnerability.import", OBJECT, local.id, {
                "file": action.file, "sha256": action.sha256, "tracking_id": action.tracking_id,
                "version": action.tracking_version, "publisher": action.publisher, "kind": action.kind.value,
                "changes": changes, "resolutions": resolutions.get(index, {})})
        session.audit(conn, "csaf.import", "csaf", ",".join(sorted({a.file for a in preview.actions})), {
            "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
            "kept_local": result.kept_local, "skipped": len(result.skipped)})
    return result
