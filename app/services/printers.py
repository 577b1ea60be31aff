"""Printing is egress (issue 12, point 4): a register of printers and the one print check.

An administrator registers each printer the workstation may use, under the name the operating
system gives its queue, with its accreditation label (a marking: the highest content the device
and its room are accredited for) and its location. Registration and removal are decisions signed
with the administrator's personal key (app.services.decisions), so a row edited or inserted
around the application proves nothing: a printer counts only while the newest signed decision on
it is an administrator's registration naming exactly the label and location the row holds. A
printer whose entry does not hold is refused outright (not treated as UNCLASSIFIED): nothing is
printed on a device whose accreditation nobody can vouch for.

Before anything is sent to a printer, `clear` applies the media rule (`Marking.dominates`, the
same rule as app.services.egress) to the content's marking and the printer's label; refusals are
audited as `print.refused`. After printing, `record` audits the print with the printer, its
label, the content's marking, copies and pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.foundation.text import untrusted_text
from app.model.accounts import Permission, Role
from app.model.errors import IntegrityError, NotFound, PermissionDenied, ValidationError
from app.model.markings import Marking
from app.model.printer_record import PrinterRow
from app.services import decisions
from app.services.session import Session
from storage import printers_repo as repo
from storage.db import Connection

KINDS = ("printer.register", "printer.remove")
MAX_NAME = 128
MAX_LOCATION = 200
REGISTER_HINT = ("an administrator must register it with its accreditation label (Printers screen, or "
                 "`frontier-review printer add NAME --label MARKING --location TEXT`)")


@dataclass(frozen=True)
class Printer:
    """A register entry as the services believe it: `problem` says why it cannot be used."""

    name: str
    label: Marking | None  # None when the stored label does not even parse
    location: str
    registered_by: str
    registered_at: str
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None and self.label is not None

    def allows(self, content: Marking) -> bool:
        return self.usable and self.label is not None and self.label.dominates(content)

    @property
    def label_text(self) -> str:
        return self.label.banner() if self.label is not None else "(unreadable label)"


@dataclass(frozen=True)
class PrintClearance:
    """Proof that `what` (marked `content`) was checked against `printer`'s label before printing."""

    what: str
    content: Marking
    printer: Printer
    object_type: str
    object_id: str


def _text(value: str, field: str, limit: int) -> str:
    text = untrusted_text(value, single_line=True).strip()
    if not text:
        raise ValidationError(field, "is required")
    if len(text) > limit:
        raise ValidationError(field, f"must be at most {limit} characters")
    return text


def _content(name: str, label: Marking, location: str) -> dict[str, Any]:
    return {"name": name, "label": label.banner(), "location": location}


def _problem(conn: Connection, reg: decisions.Registry, row: PrinterRow) -> str | None:
    """Why the register entry does not count (None: an administrator signed exactly this entry)."""
    d, why = decisions.latest(conn, reg, "printer", row.name, KINDS)
    if d is None:
        return "no administrator signed its registration"
    if why:
        return f"the decision on it by {d.actor} does not hold: {why}"
    if d.kind != "printer.register":
        return f"{d.actor} removed it from the register on {d.ts[:10]}"
    if decisions.actor_role(conn, reg, d.actor) is not Role.ADMIN:
        return f"{d.actor}, who signed its registration, is not an administrator by any administrator's signature"
    signed = decisions.content_of(d)
    if signed.get("label") != row.label or signed.get("location") != row.location:
        return (f"its entry was changed after {d.actor} signed it (signed label {signed.get('label')!r}, "
                f"entry says {row.label!r})")
    return None


def _printer(conn: Connection, reg: decisions.Registry, row: PrinterRow) -> Printer:
    try:
        label: Marking | None = Marking.parse(row.label)
    except ValidationError:
        label = None
    problem = _problem(conn, reg, row)
    if problem is None and label is None:
        problem = "its label is not a valid marking"
    return Printer(row.name, label, row.location, row.registered_by, row.registered_at, problem)


# -- the register (administrator) -----------------------------------------------------------------


def register(session: Session, name: str, label: str | Marking, location: str, replace: bool = False) -> Printer:
    """Administrator: register a printer (or, with `replace`, change its label or location).
    A signed decision and an audit event (`printer.register`)."""
    session.require(Permission.MANAGE_SETTINGS)
    name = _text(name, "printer name", MAX_NAME)
    location = _text(location, "location", MAX_LOCATION)
    try:
        marking = label if isinstance(label, Marking) else Marking.parse(label)
    except ValidationError as exc:
        raise ValidationError("printer label", exc.reason) from None
    with session.transaction() as conn:
        old = repo.find(conn, name)
        if old is not None and not replace:
            raise ValidationError("printer name", f"{name!r} is already registered (label {old.label}); remove it "
                                                  "first or replace its entry")
        if old is not None:
            repo.delete(conn, name)
        decisions.record(conn, session.personal, "printer.register", "printer", name, session.account.username,
                         session.now(), session.db_id, _content(name, marking, location))
        row = repo.insert(conn, name, marking.banner(), location, session.account.username, session.now())
        session.audit(conn, "printer.register", "printer", name,
                      {"label": marking.banner(), "location": location,
                       **({"previous_label": old.label, "previous_location": old.location} if old else {})})
        return _printer(conn, decisions.Registry.load(conn, session.db_id), row)


def remove(session: Session, name: str, reason: str = "") -> None:
    """Administrator: take a printer off the register (signed `printer.remove`, audited)."""
    session.require(Permission.MANAGE_SETTINGS)
    with session.transaction() as conn:
        row = repo.get(conn, name)
        decisions.record(conn, session.personal, "printer.remove", "printer", name, session.account.username,
                         session.now(), session.db_id, {"name": name, "reason": reason.strip()})
        repo.delete(conn, name)
        session.audit(conn, "printer.remove", "printer", name,
                      {"label": row.label, "location": row.location, "reason": reason.strip()})


def list_printers(session: Session) -> list[Printer]:
    """Every register entry, each checked against its signed decision now."""
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    reg = decisions.Registry.load(conn, session.db_id)
    return [_printer(conn, reg, row) for row in repo.all_printers(conn)]


def get(session: Session, name: str) -> Printer:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    return _printer(conn, decisions.Registry.load(conn, session.db_id), repo.get(conn, name))


# -- the print check ----------------------------------------------------------------------------


def _refuse(session: Session, what: str, content: Marking, printer: str, label: str, reason: str,
            subject: tuple[str, str]) -> None:
    with session.transaction() as conn:
        session.audit(conn, "print.refused", subject[0], subject[1],
                      {"what": what, "marking": content.banner(), "printer": printer, "label": label,
                       "reason": reason})


def clear(session: Session, what: str, content: Marking, printer_name: str,
          subject: tuple[str, object] = ("print", "")) -> PrintClearance:
    """Allow printing `what` (marked `content`) on `printer_name`, or refuse: an unregistered
    printer, an entry no administrator's signature backs, or a label below the content. Every
    refusal is audited (`print.refused`); nothing may be sent to the printer after one."""
    session.require(Permission.VIEW_CONTENT)
    object_type, object_id = subject[0], str(subject[1])
    conn = session.db.conn
    row = repo.find(conn, printer_name)
    if row is None:
        _refuse(session, what, content, printer_name, "", "not registered", (object_type, object_id))
        raise PermissionDenied(f"The printer {printer_name!r} is not registered on this workstation, so it cannot be "
                               f"used: {REGISTER_HINT}. Nothing was printed.")
    printer = _printer(conn, decisions.Registry.load(conn, session.db_id), row)
    if printer.problem is not None or printer.label is None:
        _refuse(session, what, content, printer_name, row.label, printer.problem or "unreadable label",
                (object_type, object_id))
        raise IntegrityError(f"The register entry of printer {printer_name!r} does not hold ({printer.problem}); it "
                             f"cannot be used until an administrator registers it again. Nothing was printed.")
    if not printer.label.dominates(content):
        _refuse(session, what, content, printer_name, printer.label.banner(), "label below the content",
                (object_type, object_id))
        raise ValidationError("printer", f"{what} is marked {content.banner()}, but the printer {printer_name!r} "
                                         f"({printer.location}) is accredited for {printer.label.banner()} only; "
                                         "print it on a printer accredited at least as high (nothing was printed)")
    return PrintClearance(what, content, printer, object_type, object_id)


def record(session: Session, clearance: PrintClearance, copies: int, pages: str, action: str = "print.document",
           **details: Any) -> None:
    """Audit a finished print (who, what and its marking, which printer and its label, copies, pages)."""
    if copies < 1:
        raise ValidationError("copies", "must be at least 1")
    with session.transaction() as conn:
        session.audit(conn, action, clearance.object_type, clearance.object_id,
                      {"what": clearance.what, "marking": clearance.content.banner(),
                       "printer": clearance.printer.name, "printer_label": clearance.printer.label_text,
                       "location": clearance.printer.location, "copies": copies, "pages": pages, **details})


def find(session: Session, name: str) -> Printer | None:
    try:
        return get(session, name)
    except NotFound:
        return None
