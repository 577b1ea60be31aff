"""Windowed table model over the submission register (Anki's browser table model), on the paged
columns model (ui/models/paged_model.py).

rowCount comes from `submissions.count`; rows are read in pages of PAGE_SIZE (the page after a
cached one by key, any other by offset) and kept in a small LRU cache, so 10,000 (or 1,000,000)
submissions open as fast as 200. Sorting and filtering are done by the service (SQL), never in
Python over the whole set. The Status column and filter show the lifecycle stage computed from the
work (one `workflow.stages` query per page), not the stored status column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from app.model.markings import Marking
from app.model.submissions import Submission, WindowState
from app.model.workflow import Stage
from app.services import submission_signatures, submissions, workflow
from ui.context import UiContext
from ui.models.columns_model import RIGHT, Column
from ui.models.paged_model import PagedColumnsModel
from ui.theme import SIGNATURE_BROKEN, STATE_COLOURS

PAGE_SIZE = 200
BROKEN_BG, BROKEN_FG = (QColor(c) for c in SIGNATURE_BROKEN)  # a record that does not hold its signature
CACHE_PAGES = 8


@dataclass(frozen=True)
class SubmissionFilter:
    search: str = ""
    status: str | None = None  # a Stage value (the computed lifecycle stage) or None = all
    open_only: bool = False


@dataclass(frozen=True)
class SubmissionRow:
    """A submission with what its row shows beside it: the computed stage and its window's state."""

    submission: Submission
    stage: Stage | None
    state: WindowState
    today: date
    problem: str | None = None  # why it does not hold its signature (app/services/submission_signatures.py)
    shown: Marking | None = None  # for one that does not hold: the marking its editors signed

    @property
    def marking(self) -> Marking:
        return self.shown or self.submission.marking


class SubmissionSource:
    """The submissions service; each page's stages are read with it (one query per page)."""

    def __init__(self, ctx: UiContext) -> None:
        self.ctx = ctx
        self.today = ctx.today()  # fixed per reload: every row of a read counts days from the same day
        self.at_risk = ctx.session.settings.at_risk_days

    def count(self, flt: SubmissionFilter) -> int:
        self.today = self.ctx.today()
        return submissions.count(self.ctx.session, flt.search, flt.status, flt.open_only)

    def page(self, flt: SubmissionFilter, offset: int, limit: int, sort: str, descending: bool,
             after: SubmissionRow | None) -> list[SubmissionRow]:
        page = submissions.page(self.ctx.session, offset, limit, sort, descending, flt.search, flt.status,
                                flt.open_only, None if after is None else after.submission.id)
        stages = workflow.stages(self.ctx.session, [int(sub.id or 0) for sub in page])
        held = submission_signatures.standings(self.ctx.session, page)  # checked a page at a time, as shown
        shown = submission_signatures.shown_markings(self.ctx.session,
                                                     [s for s in page if not held[int(s.id or 0)].holds])
        rows = []
        for sub in page:
            stage = stages.get(int(sub.id or 0))
            rows.append(SubmissionRow(sub, stage, sub.window_state(self.today, self.at_risk, stage), self.today,
                                      held[int(sub.id or 0)].problem, shown.get(int(sub.id or 0))))
        return rows


def _days_left(r: SubmissionRow) -> str:
    return "—" if r.state is WindowState.DONE else str(r.submission.days_remaining(r.today))


COLUMNS: tuple[Column, ...] = (
    Column("ID", lambda r: str(r.submission.id) if r.problem is None else f"⚠ {r.submission.id}", alignment=RIGHT,
           sort_by="id", tooltip=lambda r: None if r.problem is None else f"DOES NOT HOLD its signature: {r.problem}",
           background=lambda r: None if r.problem is None else BROKEN_BG,
           foreground=lambda r: None if r.problem is None else BROKEN_FG),
    Column("Developer", lambda r: r.submission.developer, alignment=None, sort_by="developer"),
    Column("Model", lambda r: r.submission.model_name, alignment=None, sort_by="model"),
    Column("Version", lambda r: r.submission.version, alignment=None, sort_by="version"),
    Column("Status", lambda r: r.stage.label if r.stage is not None else "", alignment=None, sort_by="status"),
    Column("Received", lambda r: r.submission.received.isoformat(), alignment=None, sort_by="received"),
    Column("Release", lambda r: r.submission.planned_release.isoformat(), alignment=None, sort_by="release"),
    Column("Days left", _days_left, alignment=RIGHT, sort_by="release",
           tooltip=lambda r: f"{r.submission.display_name} — {r.state.value}",
           foreground=lambda r: QBrush(QColor(STATE_COLOURS[r.state]))),
    Column("Marking", lambda r: r.marking.banner(), alignment=None, sort_by="marking"),
)


class SubmissionsModel(PagedColumnsModel[SubmissionFilter, SubmissionRow]):
    ID_ROLE = int(Qt.ItemDataRole.UserRole)  # the submission's id
    SAME_SORT_RESETS = False  # "Days left" sorts as "Release" does: clicking it keeps the rows and selection

    def __init__(self, ctx: UiContext, page_size: int = PAGE_SIZE, cache_pages: int = CACHE_PAGES) -> None:
        self.ctx = ctx
        super().__init__(COLUMNS, SubmissionSource(ctx), SubmissionFilter(), ("release", False), _submission_id,
                         roles={self.ID_ROLE: _submission_id}, page_size=page_size, max_pages=cache_pages)

    @property
    def search(self) -> str:
        return self.filter.search

    @property
    def status(self) -> str | None:
        return self.filter.status

    @property
    def open_only(self) -> bool:
        return self.filter.open_only

    def set_filter(self, search: str | None = None, status: str | None = "",  # type: ignore[override]
                   open_only: bool | None = None) -> None:
        """search None = unchanged; status (a Stage value) "" = unchanged, None = all stages;
        open_only None = unchanged."""
        f = self.filter
        self._show_filter(SubmissionFilter(f.search if search is None else search.strip(),
                                          f.status if status == "" else status,
                                          f.open_only if open_only is None else open_only))

    def submission_at(self, row: int) -> Submission | None:
        r = self.row_at(row)
        return r.submission if r is not None else None


def _submission_id(r: SubmissionRow) -> int | None:
    return r.submission.id
