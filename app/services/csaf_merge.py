"""CSAF advisories coming back from partners: `preview_import` reads, validates and diffs against
the register without changing anything; `apply_import` applies what the preview showed, in one
transaction. Conflicts with local edits are never overwritten silently: they need an explicit
per-field resolution.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.ingest import csaf_import
from app.ingest.csaf_import import IncomingAdvisory, IncomingItem
from app.model.accounts import Permission
from app.model.errors import Cancelled, IngestError, IntegrityError, ValidationError
from app.model.exchange_merge import merge
from app.model.markings import Marking, rollup
from app.model.vulnerabilities import EXCHANGED_FIELDS, AffectedProduct, ExchangeState, Vulnerability, VulnStatus
from app.services import csaf_exchange, vuln_signatures
from app.services.session import Session
from reports import csaf_validate
from storage import vulns_repo as repo

Progress = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]
OBJECT = "vulnerability"

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
    merged: Any = None  # what apply writes for this field when no choice is needed


def shown(value: Any) -> str:
    """A field value as a person reads it: list fields one entry per line."""
    if not isinstance(value, list):
        return str(value)
    lines = []
    for e in value:
        if "category" not in e and "product_id" in e:  # a further affected product
            lines.append(AffectedProduct.from_dict(e).label)
            continue
        head = e.get("category", "")
        if e.get("title"):
            head += f" ({e['title']})"
        body = e.get("details", e.get("text", ""))
        extra = "".join(f"; {k} {', '.join(x) if isinstance(x, list) else x}"
                        for k in ("product_ids", "date", "url") if (x := e.get(k)))
        lines.append(f"{head}: {body}{extra}")
    return "\n".join(lines) or "(none)"


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
    merged: dict[str, Any] = field(default_factory=dict)  # what apply writes, conflicts kept local
    on_incoming: dict[str, Any] = field(default_factory=dict)  # conflicting field -> value if "incoming"

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


def _classify(conn: Any, adv: IncomingAdvisory, item: IncomingItem, own_namespace: str = "") -> ImportAction:
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
    if local is None and own_namespace and adv.publisher_namespace == own_namespace:
        # "Returned" under our own name, yet we never issued it: a forgery or another workstation's file.
        return ImportAction(ActionKind.INVALID, message=(
            f"{adv.path}: claims to be advisory {adv.tracking_id} published by this workstation "
            f"({own_namespace}), but the register holds no such advisory; nothing imported"), **common)
    if local is None:
        return ImportAction(ActionKind.NEW, message="new to this register", **common)
    state = repo.exchange_state(conn, local.id)
    same_lineage = state.tracking_id == adv.tracking_id and state.tracking_key == item.key
    baseline = state.baseline if same_lineage else None
    inc_v, known_v = _int(adv.tracking_version), state.version
    if same_lineage and inc_v is not None and inc_v < known_v:
        return ImportAction(ActionKind.UNCHANGED, local_id=local.id, local_revision=local.revision, message=(
            f"version {inc_v} is older than version {known_v} already exchanged; ignored"), **common)
    incoming, note = _document_title(adv, item, baseline.get("title", local.title) if baseline else local.title)
    if note:
        common.update(incoming=incoming, warnings=(*item.warnings, note))
    local_vals, inc_vals = local.exchanged(), incoming.exchanged()
    m = merge(baseline, local_vals, inc_vals)
    taken, conflicts = m.taken, m.conflicts
    changes = tuple(
        FieldChange(k, local_vals[k], inc_vals[k], None if baseline is None else baseline.get(k), k in conflicts,
                    m.merged[k])
        for k in EXCHANGED_FIELDS if local_vals[k] != inc_vals[k]
    )
    base: dict[str, Any] = {"local_id": local.id, "local_revision": local.revision, "changes": changes,
                            "taken": tuple(taken), "conflicts": tuple(conflicts), "merged": m.merged,
                            "on_incoming": m.on_incoming}
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


def _document_title(adv: IncomingAdvisory, item: IncomingItem, known: str) -> tuple[Vulnerability, str]:
    """The entry's title as the partner sent it, and a preview note when `document.title` says otherwise.

    An export writes the entry's one title twice, as `document.title` and `vulnerabilities[0].title`.
    In an advisory of a single vulnerability, a partner who changed only the document title (the
    vulnerability's still reads `known`, the title last exchanged or, never exchanged, the local one)
    changed the entry's title: it is offered like any title change. Changed differently in both places,
    the vulnerability's own title counts and the preview says the document title was not imported.
    The document title of an advisory of several vulnerabilities names the advisory, no one entry."""
    doc_title = csaf_import.clean(adv.title).strip()
    vuln = item.vuln
    if len(adv.items) != 1 or not doc_title or doc_title in (vuln.title, known):
        return vuln, ""  # one title, or the document title as last exchanged: nothing to say
    if vuln.title == known:
        try:
            return replace(vuln, title=doc_title).validate(), (
                "$.document.title changed (the vulnerability's own title did not): offered as the title")
        except ValidationError as exc:
            return vuln, f"$.document.title not imported: {exc}"
    return vuln, (f"$.document.title differs from {item.json_path}.title; the entry's title is read from the "
                  f"vulnerability's own title, so the document title \"{doc_title[:120]}\" is not imported")


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


def preview_import(session: Session, paths: Sequence[Path], default_marking: Marking,
                   progress: Progress | None = None, cancel: CancelCheck | None = None) -> ImportPreview:
    """Read, validate and diff partner advisories against the register. Changes nothing.

    `paths` are CSAF files, folders of them, or export packages (verified before reading).
    `default_marking` is the label of the media they came on, as the person gives it (no default: it
    marks every advisory that states no marking, and one marked above it is a handling incident)."""
    session.require(Permission.MANAGE_VULNS)
    if not paths:
        raise ValidationError("files", "choose at least one CSAF file to import")
    actions: list[ImportAction] = []
    seen_keys: dict[tuple[str, str], str] = {}
    seen_cves: dict[str, str] = {}
    conn = session.db.conn
    own_namespace = csaf_exchange.default_publisher(session).namespace
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
            actions.append(_classify(conn, adv, item, own_namespace))
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
                vuln_signatures.sign(session, conn, vid)
                result.created.append(vid)
                session.audit(conn, "vulnerability.import", OBJECT, vid, {
                    "file": action.file, "sha256": action.sha256, "tracking_id": action.tracking_id,
                    "version": action.tracking_version, "publisher": action.publisher, "kind": "new"})
                continue
            local = repo.get(conn, action.local_id)
            if local.revision != action.local_revision:
                raise IntegrityError(f"{local.id} was edited since the preview; preview the import again. "
                                     "Nothing was imported.")
            held = vuln_signatures.standing_in(session, conn, local)
            if not held.holds:  # a partner's update merged into it would sign what an insider wrote
                result.skipped.append(f"{action.file} {action.json_path}: not applied to {local.id}: it does not "
                                      f"hold its signature ({held.problem}); {vuln_signatures.REVIEW_HINT}")
                continue
            if action.kind is ActionKind.UNCHANGED:
                old = repo.exchange_state(conn, local.id)
                if old.tracking_id in ("", action.tracking_id) and not action.changes:
                    repo.set_exchange_state(conn, local.id, replace(state, version=max(inc_version, old.version),
                                                                    history=old.history))
                    vuln_signatures.sign(session, conn, local.id)
                result.unchanged.append(local.id)
                continue
            # The merge the preview showed: partner-only changes taken, list fields merged entry by entry.
            merged = dict(action.merged or local.exchanged())
            if action.kind is ActionKind.CONFLICT:
                choice = resolutions.get(index, {})
                if not action.conflicts or any(choice.get(c) not in ("local", "incoming") for c in action.conflicts):
                    result.kept_local.append(local.id)
                    continue
                for c in action.conflicts:
                    if choice[c] == "incoming":
                        merged[c] = action.on_incoming.get(c, inc_vals[c])
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
            vuln_signatures.sign(session, conn, local.id)
            result.updated.append(local.id)
            session.audit(conn, "vulnerability.import", OBJECT, local.id, {
                "file": action.file, "sha256": action.sha256, "tracking_id": action.tracking_id,
                "version": action.tracking_version, "publisher": action.publisher, "kind": action.kind.value,
                "changes": changes, "resolutions": resolutions.get(index, {})})
        session.audit(conn, "csaf.import", "csaf", ",".join(sorted({a.file for a in preview.actions})), {
            "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
            "kept_local": result.kept_local, "skipped": len(result.skipped)})
    return result
