"""Windowed table model over the vulnerability register, on the paged columns model
(ui/models/paged_model.py): the row count comes from the service, rows are read per page on demand,
sorted and filtered in SQL, so a large register never loads whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app.model.markings import Marking
from app.model.vulnerabilities import Filters, Vulnerability
from app.services import vuln_signatures
from app.services import vulnerabilities as vs
from app.services.session import Session
from ui.errors import sanitize
from ui.models.columns_model import Column
from ui.models.paged_model import PagedColumnsModel
from ui.theme import SIGNATURE_BROKEN
from ui.vuln_editor import SEVERITY_COLOURS

PAGE = 200
MAX_PAGES = 24
ID_ROLE = Qt.ItemDataRole.UserRole + 1
VULN_ROLE = Qt.ItemDataRole.UserRole + 2
SOON_BG = QColor("#fff8c5")
BROKEN_BG, BROKEN_FG = (QColor(c) for c in SIGNATURE_BROKEN)  # a record that does not hold its signature


class EmbargoWindow:
    """What the Embargo column is read against, shared by the rows: the session's today (asked on
    every read, as the clock moves) and the "ends soon" window the screen's filter sets."""

    def __init__(self, session: Session, soon_days: int = 7) -> None:
        self.session = session
        self.soon_days = soon_days

    def days_left(self, v: Vulnerability) -> int | None:
        return v.embargo_days_left(self.session.today())


@dataclass(frozen=True)
class VulnRow:
    vuln: Vulnerability
    embargo: EmbargoWindow
    problem: str | None = None  # why the entry does not hold its signature (vuln_signatures)
    shown: Marking | None = None  # for one that does not hold: the marking its editors signed, if higher

    @property
    def marking(self) -> Marking:
        return self.shown or self.vuln.marking


class VulnSource:
    def __init__(self, session: Session, embargo: EmbargoWindow) -> None:
        self.session = session
        self.embargo = embargo

    def count(self, flt: Filters) -> int:
        return vs.count(self.session, flt)

    def page(self, flt: Filters, offset: int, limit: int, sort: str, descending: bool,
             after: VulnRow | None) -> list[VulnRow]:
        after_id = None if after is None else after.vuln.id
        found = vs.page(self.session, flt, offset, limit, sort, descending, after_id)
        held = vuln_signatures.standings(self.session, found)  # checked a page at a time, as shown
        shown = vuln_signatures.shown_markings(self.session, [v for v in found if not held[v.id].holds])
        return [VulnRow(v, self.embargo, held[v.id].problem, shown.get(v.id)) for v in found]


def _ends_soon(r: VulnRow) -> bool:
    days = r.embargo.days_left(r.vuln)
    return days is not None and 0 <= days <= r.embargo.soon_days and r.vuln.status.is_open


def _embargo_tip(r: VulnRow) -> str | None:
    if not r.vuln.embargo_until:
        return None
    days = r.embargo.days_left(r.vuln)
    return f"{days} day(s) left" if days is not None and days >= 0 else "embargo has ended"


def _severity(r: VulnRow, which: int) -> QColor | None:
    s = r.vuln.severity
    return QColor(SEVERITY_COLOURS[s][which]) if s is not None else None


def _column(header: str, value: Callable[[VulnRow], str], sort_by: str = "", *,
            tooltip: Callable[[VulnRow], str | None] | None = None,
            background: Callable[[VulnRow], QColor | None] | None = None,
            foreground: Callable[[VulnRow], QColor | None] | None = None) -> Column:
    return Column(header, value, alignment=None, tooltip=tooltip, background=background, foreground=foreground,
                  sort_by=sort_by)  # alignment: the view's default, as before


COLUMNS: tuple[Column, ...] = (
    _column("ID", lambda r: r.vuln.id if r.problem is None else f"⚠ {r.vuln.id}", "id",
            tooltip=lambda r: None if r.problem is None else f"DOES NOT HOLD its signature: {r.problem}",
            background=lambda r: None if r.problem is None else BROKEN_BG,
            foreground=lambda r: None if r.problem is None else BROKEN_FG),
    _column("Mark", lambda r: r.marking.portion(), background=lambda r: QColor(r.marking.colours()[0]),
            foreground=lambda r: QColor(r.marking.colours()[1])),
    _column("Title", lambda r: sanitize(r.vuln.title, 200).replace("\n", " "), "title",
            tooltip=lambda r: sanitize(r.vuln.title, 500)),
    _column("Severity", lambda r: r.vuln.severity.value if r.vuln.severity else "—", "severity",
            background=lambda r: _severity(r, 0), foreground=lambda r: _severity(r, 1)),
    _column("Score", lambda r: f"{r.vuln.score:.1f}" if r.vuln.score is not None else "—", "score",
            tooltip=lambda r: r.vuln.cvss_vector or None),
    _column("Status", lambda r: r.vuln.status.value, "status"),
    _column("TLP", lambda r: r.vuln.tlp.value, "tlp"),
    _column("Embargo until", lambda r: r.vuln.embargo_until.isoformat() if r.vuln.embargo_until else "", "embargo",
            background=lambda r: SOON_BG if _ends_soon(r) else None, tooltip=_embargo_tip),
    _column("Affected", lambda r: sanitize(r.vuln.affected_all, 200), "vendor"),  # every product, the first first
    _column("CVE", lambda r: r.vuln.cve, "cve"),
    _column("CWE", lambda r: r.vuln.cwe),
    _column("Updated", lambda r: r.vuln.updated_at[:16].replace("T", " "), "updated"),
)
# Sized for a 1280-pixel screen with CVE, CWE and Updated hidden (the header's menu shows them); the
# title takes the rest of the width.
COLUMN_WIDTHS = (165, 62, 0, 74, 52, 110, 100, 100, 160, 130, 85, 130)
TITLE_COLUMN = 2
HIDDEN_AT_START = (9, 10, 11)


class VulnTableModel(PagedColumnsModel[Filters, VulnRow]):
    """Windowed model: the row count comes from the service, rows are read per page on demand;
    a click on an unsortable column's header (Mark, CWE) keeps the order."""

    def __init__(self, session: Session, filters: Filters | None = None, page_size: int = PAGE,
                 max_pages: int = MAX_PAGES) -> None:
        self.session = session
        self.embargo = EmbargoWindow(session)
        super().__init__(COLUMNS, VulnSource(session, self.embargo), filters or vs.filters(session), ("id", False),
                         _vuln_id, roles={ID_ROLE: _vuln_id, VULN_ROLE: _vuln}, page_size=page_size,
                         max_pages=max_pages)

    @property
    def soon_days(self) -> int:
        return self.embargo.soon_days

    @soon_days.setter
    def soon_days(self, days: int) -> None:
        self.embargo.soon_days = days

    @property
    def filters(self) -> Filters:
        return self.filter

    def set_filters(self, filters: Filters) -> None:
        self.set_filter(filters)

    @property
    def pages_fetched(self) -> int:
        return len(self.fetches)

    def vuln_at(self, row: int) -> Vulnerability | None:
        r = self.row_at(row)
        return r.vuln if r is not None else None


def _vuln_id(r: VulnRow) -> str:
    return r.vuln.id


def _vuln(r: VulnRow) -> Vulnerability:
    return r.vuln
