"""The samples model continues from the cached page before (keyset) and counts each filter once."""

from __future__ import annotations

from app.model.results import SampleFilter, SampleRow
from ui.models.samples_model import SamplesModel


class Recorder:
    def __init__(self, n: int) -> None:
        self.n = n
        self.counts: list[SampleFilter] = []
        self.pages: list[tuple[int, int | None]] = []  # (offset, id of the `after` row)

    def count(self, flt: SampleFilter) -> int:
        self.counts.append(flt)
        return self.n if flt == SampleFilter() else self.n // 2

    def page(self, flt: SampleFilter, offset: int, limit: int, sort: str, descending: bool,
             after: SampleRow | None) -> list[SampleRow]:
        self.pages.append((offset, None if after is None else after.id))
        return [SampleRow(i + 1, 1, f"s{i}", 1, None, {}, "in", "t", "a", "", None, None, None, None, None, False)
                for i in range(offset, min(offset + limit, self.n))]


def test_next_page_is_read_after_the_last_cached_row_and_a_jump_by_offset(qapp) -> None:  # type: ignore[no-untyped-def]
    src = Recorder(1000)
    model = SamplesModel(src, unfiltered_count=1000, page_size=100)  # type: ignore[arg-type]
    assert model.row_at(0) is not None and model.row_at(150) is not None and model.row_at(250) is not None
    assert src.pages == [(0, None), (100, 100), (200, 200)]  # each continues after the row before it
    row = model.row_at(900)
    assert row is not None and row.id == 901
    assert src.pages[-1] == (900, None)  # nothing cached before it: by offset (the service seeks)


def test_each_filter_is_counted_once(qapp) -> None:  # type: ignore[no-untyped-def]
    src = Recorder(1000)
    model = SamplesModel(src, unfiltered_count=1000)  # type: ignore[arg-type]
    errors = SampleFilter(errors_only=True)
    model.set_filter(errors)
    model.set_filter(SampleFilter())
    model.set_filter(errors)
    assert src.counts == [errors] and model.rowCount() == 500
    assert model.cached_count(errors) == 500 and model.cached_count(SampleFilter(epoch=2)) is None
    model.refresh(1000)  # after a change the counts are read again
    model.set_filter(errors)
    assert src.counts == [errors, errors]
