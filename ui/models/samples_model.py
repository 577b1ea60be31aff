"""Windowed table model over the samples of one run (up to millions of rows), on the paged
columns model (ui/models/paged_model.py).

Only the row count is known up front (the run's stored sample count when no filter is set, so
the first paint costs no count query); rows are read a page at a time when the view asks for
them (by key after the page before when that is cached, else by offset; the service seeks
either way on (run_id, ...) indexes) and kept in a small LRU cache, so memory stays flat however
far the reader scrolls. Filters and sorting are done by the service in SQL, never by loading
rows here; the count of each filter is kept, so going back to a filter costs no count query.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app.model.results import SampleFilter, SampleRow
from ui.models.columns_model import LEFT, RIGHT, Column
from ui.models.paged_model import PagedColumnsModel, PageSource
from ui.widgets.transcript_view import clean_text, plain_tooltip

PAGE_SIZE = 200
MAX_PAGES = 24  # ~5,000 rows of small columns cached
CELL_CHARS = 300  # long inputs are cut for the cell; the transcript viewer shows everything
TIP_CHARS = 1500


class SampleSource(PageSource[SampleFilter, SampleRow], Protocol):
    """Where rows come from: the results service in the app, anything in tests and benchmarks."""


ERROR_BG = QColor("#ffebe9")
ERROR_FG = QColor("#a40e26")
PASS_FG = QColor("#1a7f37")
FAIL_FG = QColor("#cf222e")


def one_line(text: str, limit: int = CELL_CHARS) -> str:
    """A cell shows the start of a long text on one line."""
    s = clean_text(text[: limit * 2], limit * 2).replace("\n", " ⏎ ").replace("\t", " ")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def score_text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("value", ""))
    v = getattr(value, "value", value)
    return "" if v is None else str(v)


def format_score(score: float | None) -> str:
    if score is None or (isinstance(score, float) and not math.isfinite(score)):
        return "—"
    return f"{score:.3g}"


def tokens_text(r: SampleRow) -> str:
    total = r.total_tokens
    if total is None and (r.input_tokens is not None or r.output_tokens is not None):
        total = (r.input_tokens or 0) + (r.output_tokens or 0)
    return "" if total is None else f"{total:,}"


def _score_colour(r: SampleRow) -> QColor | None:
    if r.score is None:
        return None
    return PASS_FG if r.score >= 1.0 else FAIL_FG if r.score <= 0.0 else None


def _error_bg(r: SampleRow) -> QColor | None:
    return ERROR_BG if r.error else None


def _tip(text: Callable[[SampleRow], str]) -> Callable[[SampleRow], str | None]:
    """The whole text in the tooltip (the cell shows its start)."""
    return lambda r: plain_tooltip(full, TIP_CHARS) if (full := text(r)) else None


def _column(key: str, title: str, value: Callable[[SampleRow], str], numeric: bool = False, sort: str = "",
            tooltip: Callable[[SampleRow], str | None] | None = None,
            foreground: Callable[[SampleRow], QColor | None] | None = None) -> Column:
    return Column(title, value, alignment=RIGHT if numeric else LEFT, tooltip=tooltip, background=_error_bg,
                  foreground=foreground, sort_by=sort, key=key)


COLUMNS: tuple[Column, ...] = (
    _column("sample_id", "Sample", lambda r: one_line(r.sample_id, 120), sort="sample_id",
            tooltip=_tip(lambda r: r.sample_id)),
    _column("epoch", "Epoch", lambda r: str(r.epoch), True, "epoch"),
    _column("score", "Score", lambda r: format_score(r.score), True, "score", foreground=_score_colour),
    _column("scores", "Scores", lambda r: one_line(", ".join(f"{k}: {score_text(v)}" for k, v in r.scores.items()),
                                                   120)),
    _column("error", "Error", lambda r: one_line(r.error), tooltip=_tip(lambda r: r.error),
            foreground=lambda r: ERROR_FG if r.error else None),
    _column("answer", "Answer", lambda r: one_line(r.answer), tooltip=_tip(lambda r: r.answer)),
    _column("target", "Target", lambda r: one_line(r.target), tooltip=_tip(lambda r: r.target)),
    _column("tokens", "Tokens", tokens_text, True, "tokens"),
    _column("time", "Time (s)", lambda r: "" if r.total_time is None else f"{r.total_time:.1f}", True, "time"),
    # last: the long one stretches
    _column("input", "Input", lambda r: one_line(r.input_text), tooltip=_tip(lambda r: r.input_text)),
)
COLUMN_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}


class SamplesModel(PagedColumnsModel[SampleFilter, SampleRow]):
    """Per-sample rows of one run; `row_at(i)` gives the SampleRow (reading its page if needed)."""

    ROW_ROLE = int(Qt.ItemDataRole.UserRole) + 1
    IMMUTABLE_ROWS = True  # a run's samples never change
    DEFAULT_SORT = "order"  # log order: an unsortable column's header goes back to it
    ROW_NUMBERS = True
    PLACEHOLDER = "…"

    def __init__(self, source: SampleSource, unfiltered_count: int | None = None,
                 page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES) -> None:
        super().__init__(COLUMNS, source, SampleFilter(), ("order", False), _sample_key,
                         roles={self.ROW_ROLE: _itself}, page_size=page_size, max_pages=max_pages,
                         known_count=unfiltered_count)

    def refresh(self, unfiltered_count: int | None = None) -> None:
        """Re-read after a change; pass the run's stored sample count to skip a count query."""
        self.reload({SampleFilter(): unfiltered_count} if unfiltered_count is not None else None)


def _sample_key(r: SampleRow) -> int:
    return r.id


def _itself(r: SampleRow) -> SampleRow:
    return r
