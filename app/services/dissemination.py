"""The dissemination log (issue 16, point 4): every package, release, CSAF advisory revision and
recall notice that left the workstation, to whom, at which marking, TLP and embargo, its manifest
hash, the media label and who approved it.

API for the writers (release, CSAF sharing, report packages):

    from app.services import dissemination
    with session.transaction() as conn:
        ...write the package through the egress check...
        entry_id = dissemination.record(
            session, conn, kind=DisseminationKind.RELEASE, object_type="release", object_id=release_id,
            revision="1", partner_id=partner.id, marking=overall_marking, tlp=None, embargo_until=None,
            manifest_sha256=sha256_of_signed_manifest, media_label="CUI", approved_by="lead",
            supersedes=previous_entry_id_or_None)

`record` runs inside the writer's transaction, so the package's other records, the log entry, its
signed decision and its audit event land together or not at all. It refuses (ValidationError /
IntegrityError, nothing recorded): a partner whose register row is not signed or is inactive, a
marking the partner may not receive (`app.model.partners.withholding` on the marking alone; TLP and
embargo are the writer's call, which may carry a lead's override), a media label lower than the
marking, a malformed manifest hash, and a `supersedes` that names an entry about another object.

Readers: `entries(session, filters)`, `get(session, entry_id)`, `overdue(session)`; the printed log:
`log_pdf(session, filters)` and `save_log_pdf(session, filters, path, media_label)` (egress check).
Each entry is also a decision signed by the person who recorded it (`verify_entry` checks it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.model.accounts import Permission
from app.model.dissemination import SHA256_HEX, DisseminationEntry, DisseminationKind, Filters
from app.model.errors import IntegrityError, ValidationError
from app.model.markings import Marking
from app.model.partners import withholding
from app.model.vulnerabilities import Tlp
from app.services import decisions, egress, partners
from app.services.egress import media_label as parse_media_label
from app.services.session import Session
from storage import partners_repo as repo
from storage.atomic import atomic_write
from storage.db import Connection

if TYPE_CHECKING:
    from app.services.printables import Printable
    from reports.pdf_dissemination import LogPdf

MAX_TEXT = 200


def _content(entry: DisseminationEntry) -> dict[str, Any]:
    return {"entry": entry.id, "kind": entry.kind.value, "object_type": entry.object_type,
            "object_id": entry.object_id, "revision": entry.revision, "partner": entry.partner_id,
            "marking": entry.marking.banner(), "tlp": entry.tlp.value if entry.tlp else None,
            "embargo_until": entry.embargo_until.isoformat() if entry.embargo_until else None,
            "manifest_sha256": entry.manifest_sha256, "media_label": entry.media_label,
            "approved_by": entry.approved_by, "supersedes": entry.supersedes, "reason": entry.reason}


def _text(field: str, value: object, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationError(field, "is required")
    if len(text) > MAX_TEXT or any(ord(ch) < 32 for ch in text):
        raise ValidationError(field, f"must be at most {MAX_TEXT} printable characters")
    return text


def record(session: Session, conn: Connection, *, kind: DisseminationKind | str, object_type: str,
           object_id: object, revision: object, partner_id: int, marking: Marking | str, tlp: Tlp | str | None,
           embargo_until: date | None, manifest_sha256: str, media_label: str | Marking, approved_by: str,
           supersedes: int | None = None, reason: str = "", own: bool = False) -> int:
    """Record one thing handed to one partner, inside the writer's transaction `conn`; returns the
    entry id. `own`: the content is the partner's own submission's (see `withholding`)."""
    session.require(Permission.EXPORT)
    kind = DisseminationKind(kind)
    partner = partners.get(session, partner_id, conn)
    if not partner.active and kind is not DisseminationKind.RECALL:
        raise ValidationError("partner", f"{partner.name} is deactivated; nothing more is shared with it")
    content_marking = marking if isinstance(marking, Marking) else Marking.parse(marking)
    reasons = withholding(partner, content_marking, own=own)
    if reasons:
        raise ValidationError("partner", f"{content_marking.banner()} may not go to {partner.name}: "
                                         f"{'; '.join(reasons)}")
    media = parse_media_label(media_label)
    if not media.dominates(content_marking):
        raise ValidationError("media label", f"the content is marked {content_marking.banner()} but the media is "
                                             f"labelled {media.banner()}")
    digest = str(manifest_sha256).strip().lower()
    if not SHA256_HEX.match(digest):
        raise ValidationError("manifest_sha256", "must be the 64 hexadecimal digits of the manifest's SHA-256")
    tlp_value = Tlp(tlp).value if tlp else None
    otype, oid = _text("object type", object_type), _text("object id", object_id)
    if supersedes is not None:
        old = repo.get_entry(conn, int(supersedes))
        if (old.object_type, old.object_id) != (otype, oid):
            raise ValidationError("supersedes", f"entry {old.id} is about {old.what}, not {otype} {oid}")
    if kind is DisseminationKind.RECALL and supersedes is None:
        raise ValidationError("supersedes", "a recall notice names the entry it recalls")
    eid = repo.insert_entry(
        conn, kind=kind, object_type=otype, object_id=oid, revision=_text("revision", revision, False),
        partner_id=int(partner_id), marking=content_marking.banner(), tlp=tlp_value,
        embargo_until=embargo_until.isoformat() if embargo_until else None, manifest_sha256=digest,
        media_label=media.banner(), approved_by=_text("approved by", approved_by, False),
        supersedes=int(supersedes) if supersedes is not None else None, reason=_text("reason", reason, False),
        actor=session.account.username, now=session.now())
    entry = repo.get_entry(conn, eid)
    decisions.record(conn, session.personal, "dissemination.record", "dissemination", eid,
                     session.account.username, session.now(), session.db_id, _content(entry))
    session.audit(conn, "dissemination.record", "dissemination", eid,
                  {"kind": kind.value, "object": entry.what, "partner": partner.name, "marking": entry.marking.banner(),
                   "tlp": tlp_value, "manifest_sha256": digest, "media": entry.media_label,
                   "supersedes": entry.supersedes})
    return eid


def verify_entry(session: Session, entry: DisseminationEntry, conn: Connection | None = None,
                 reg: decisions.Registry | None = None) -> str | None:
    """Why the entry is not backed by its recorder's signed decision (None: it is). `reg`: the key
    registry when many entries are checked in one pass."""
    c = conn if conn is not None else session.db.conn
    reg = reg if reg is not None else decisions.Registry.load(c, session.db_id)
    d, why = decisions.latest(c, reg, "dissemination", entry.id, ("dissemination.record",))
    if d is None:
        return "no signed record"
    if why:
        return why
    if decisions.content_of(d) != _content(entry) or d.actor != entry.created_by:
        return f"changed after {d.actor} signed it"
    return None


def get(session: Session, entry_id: int, conn: Connection | None = None) -> DisseminationEntry:
    session.require(Permission.VIEW_CONTENT)
    return repo.get_entry(conn if conn is not None else session.db.conn, int(entry_id))


def checked(session: Session, entry_id: int, conn: Connection | None = None) -> DisseminationEntry:
    """The entry, refused (IntegrityError) unless its signed record holds."""
    entry = get(session, entry_id, conn)
    why = verify_entry(session, entry, conn)
    if why:
        raise IntegrityError(f"Dissemination log entry {entry.id} does not hold: {why}.")
    return entry


def entries(session: Session, filters: Filters | None = None) -> list[DisseminationEntry]:
    """The log, oldest first, filtered (partner, kind, object, sent between dates, unacknowledged);
    each receipt re-verified against the partner's registered certificate and each entry against
    its recorder's signed decision (`record_problem`)."""
    from app.services import receipts

    session.require(Permission.VIEW_CONTENT)
    f = filters or Filters()
    rows = repo.entries(session.db.conn, replace(f, unacknowledged=False))
    # A stored receipt counts only while the partner's signature over it verifies: a receipt row an
    # insider inserts (or edits) leaves the entry unacknowledged, with why.
    problems = receipts.verify_many(session, rows)
    rows = [replace(e, receipt=None, receipt_problem=why) if (why := problems.get(e.id)) else e for e in rows]
    # Each entry must be backed by its recorder's signed decision: a row an insider inserts or edits
    # is shown with why, never as a plain entry.
    reg = decisions.Registry.load(session.db.conn, session.db_id)
    rows = [replace(e, record_problem=why) if (why := verify_entry(session, e, reg=reg)) else e for e in rows]
    return [e for e in rows if e.receipt is None] if f.unacknowledged else rows


def overdue(session: Session) -> list[DisseminationEntry]:
    """Entries still unacknowledged after the `receipt_overdue_days` setting (recall notices included)."""
    session.require(Permission.VIEW_CONTENT)
    today, threshold = session.today(), session.settings.receipt_overdue_days
    return [e for e in entries(session, Filters(unacknowledged=True)) if e.overdue(today, threshold)]


# -- printing the log --------------------------------------------------------------------------


def describe(filters: Filters, partner_name: str | None = None) -> str:
    """The filter in words, printed on the log."""
    parts = []
    if filters.partner_id is not None:
        parts.append(f"partner {partner_name or filters.partner_id}")
    if filters.kind is not None:
        parts.append(DisseminationKind(filters.kind).label.lower())
    if filters.object_type or filters.object_id:
        parts.append(f"object {filters.object_type or ''} {filters.object_id or ''}".strip())
    if filters.since is not None:
        parts.append(f"sent from {filters.since.isoformat()}")
    if filters.until is not None:
        parts.append(f"sent until {filters.until.isoformat()}")
    if filters.unacknowledged:
        parts.append("unacknowledged only")
    return ", ".join(parts) or "all entries"


def log_pdf(session: Session, filters: Filters | None = None) -> LogPdf:
    """The filtered log as a marked PDF in memory (for preview and printing through the print check)."""
    from reports.pdf_dissemination import render  # reportlab loads only when a log is printed

    filters = filters or Filters()
    rows = entries(session, filters)
    name = rows[0].partner_name if rows and filters.partner_id is not None else None
    return render(rows, workstation=session.settings.workstation_name, filters_text=describe(filters, name),
                  generated=session.clock(), printed_by=session.account.username,
                  overdue_days=session.settings.receipt_overdue_days)


def save_log_pdf(session: Session, filters: Filters | None, path: Path | str, media_label: str) -> LogPdf:
    """Write the log PDF to media through the egress check (refused and audited when the media is
    labelled lower than the entries' roll-up); audited as `dissemination.print`."""
    pdf = log_pdf(session, filters)
    path = Path(path)
    cleared = egress.clear(session, "the dissemination log", pdf.marking, media_label, path)
    egress.check_folder(path.parent)
    if path.exists():
        raise ValidationError(str(path), "already exists; choose another file name")
    try:
        atomic_write(path, pdf.data, mode=0o640)
    except OSError as exc:
        raise ValidationError(str(path), f"cannot be written ({exc.strerror}); nothing was left behind") from None
    with session.transaction() as conn:
        session.audit(conn, "dissemination.print", "dissemination", None,
                      {"file": str(path), "pages": pdf.pages, "marking": pdf.marking.banner(),
                       "filter": describe(filters or Filters())})
        egress.record(session, conn, cleared, pages=pdf.pages)
    return pdf


def printable(session: Session, filters: Filters | None = None) -> Printable:
    """The filtered log as a printable document: previewed, printed on a registered printer
    accredited at least as high, or saved to media, through app.services.printables."""
    import hashlib

    from app.model.printable import DocumentKind
    from app.services.printables import Printable

    filters = filters or Filters()
    pdf = log_pdf(session, filters)
    stamp = session.clock().strftime("%Y%m%d-%H%M%S")
    return Printable(DocumentKind.DISSEMINATION, "Dissemination log", f"dissemination-log-{stamp}", pdf.data,
                     pdf.pages, pdf.marking, hashlib.sha256(pdf.data).hexdigest(), ("dissemination", describe(filters)))
