"""Keyset paging for the registers: the page after a row, read by seeking its sort key on an index
instead of walking OFFSET rows, so a page deep in a 100,000-row register costs what the first does.

A sort is a `Key`: its terms in order, the record's id last as the tie-breaker. Rows after a key
K = (k1, ..., kn) in that order are the union, in this order, of the segments
    t1 = k1 AND ... AND t(n-1) = k(n-1) AND tn after kn
    ...
    t1 after k1
each an equality prefix and one range, which SQLite answers with one index seek (a row value
`(t1, t2) > (?, ?)` is not seekable on an index with a COLLATE NOCASE or nullable column), read
with LIMIT until the page is full. NULLs: "low" is SQLite's own place (first ascending, last
descending); "last" is after every value in both directions (the register's embargo column); a
nullable term's NULL group is a segment of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from storage.db import Connection

Nulls = Literal["never", "low", "last"]


@dataclass(frozen=True)
class Term:
    sql: str  # an expression over the table (with its COLLATE if it sorts by one)
    nulls: Nulls = "never"

    def order(self, direction: str, sort_all: bool = False) -> str:
        sql = f"+{self.sql}" if sort_all else self.sql  # unary +: SQLite may not order by walking an index
        if self.nulls == "last":
            return f"{sql} IS NULL, {sql} {direction}"
        return f"{sql} {direction}"

    def nulls_at_end(self, descending: bool) -> bool:
        return self.nulls == "last" or (self.nulls == "low" and descending)


@dataclass(frozen=True)
class Key:
    terms: tuple[Term, ...]  # the sort's terms, the id (unique) last

    def order_by(self, descending: bool, sort_all: bool = False) -> str:
        """The ORDER BY clause; `sort_all`: sort the matching rows rather than walk an index in order
        (the cheaper way to a deep OFFSET when the walk reads every skipped row from the table)."""
        direction = "DESC" if descending else "ASC"
        return ", ".join(t.order(direction, sort_all) for t in self.terms)

    def select(self) -> str:
        """The key's values of a row, to continue after it."""
        return ", ".join(t.sql for t in self.terms)


@dataclass(frozen=True)
class Segment:
    where: str  # "" = every row (of the filter)
    params: tuple[Any, ...]
    order_by: str


def segments(key: Key, descending: bool, after: Sequence[Any] | None) -> Iterator[Segment]:
    """The segments whose rows, concatenated, are every row after `after` (None: from the first)."""
    direction = "DESC" if descending else "ASC"
    terms = key.terms
    if after is None:
        yield from _from(terms, 0, [], [], direction, descending)
        return
    if len(after) != len(terms):
        raise ValueError(f"a key of {len(terms)} values was expected, got {len(after)}")
    for i in range(len(terms) - 1, -1, -1):
        where: list[str] = []
        params: list[Any] = []
        for t, v in zip(terms[:i], after[:i], strict=True):
            where.append(f"{t.sql} IS NULL" if v is None else f"{t.sql} = ?")
            params += [] if v is None else [v]
        t, v = terms[i], after[i]
        rest = ", ".join(u.order(direction) for u in terms[i + 1:])
        if v is not None:
            op = "<" if descending else ">"
            yield Segment(" AND ".join([*where, f"{t.sql} {op} ?"]), (*params, v),
                          ", ".join(x for x in (f"{t.sql} {direction}", rest) if x))
            if t.nulls_at_end(descending):
                yield from _from(terms, i + 1, [*where, f"{t.sql} IS NULL"], params, direction, descending)
        elif t.nulls == "low" and not descending:  # NULLs came first: every value is after them
            yield Segment(" AND ".join([*where, f"{t.sql} IS NOT NULL"]), tuple(params),
                          ", ".join(x for x in (f"{t.sql} {direction}", rest) if x))


def _from(terms: tuple[Term, ...], i: int, where: list[str], params: list[Any], direction: str,
          descending: bool) -> Iterator[Segment]:
    """Every row matching `where`, in the order of terms[i:]; a leading NULLS-LAST term is read as
    its values, then its NULL group, each seekable (`x IS NULL, x` as one order is not)."""
    rest = terms[i:]
    if rest and rest[0].nulls == "last":
        t = rest[0]
        tail = ", ".join(u.order(direction) for u in rest[1:])
        yield Segment(" AND ".join([*where, f"{t.sql} IS NOT NULL"]), tuple(params),
                      ", ".join(x for x in (f"{t.sql} {direction}", tail) if x))
        yield from _from(terms, i + 1, [*where, f"{t.sql} IS NULL"], params, direction, descending)
        return
    yield Segment(" AND ".join(where), tuple(params), ", ".join(u.order(direction) for u in rest))


def key_of(conn: Connection, table: str, id_sql: str, key: Key, row_id: Any) -> tuple[Any, ...] | None:
    """The sort key of the row `row_id` as stored now (None: it is gone)."""
    r = conn.execute(f"SELECT {key.select()} FROM {table} WHERE {id_sql} = ?", (row_id,)).fetchone()
    return None if r is None else tuple(r)


def read[R](fetch: Callable[[str, tuple[Any, ...]], list[R]], select: str, where: str, params: Sequence[Any],
            key: Key, descending: bool, after: Sequence[Any] | None, limit: int) -> list[R]:
    """Up to `limit` rows of `select` matching `where` after the key `after`, segment by segment
    (`fetch` runs one query and maps its rows)."""
    out: list[R] = []
    for seg in segments(key, descending, after):
        if len(out) >= limit:
            break
        clause = " AND ".join(f"({w})" for w in (where, seg.where) if w) or "1 = 1"
        order = f" ORDER BY {seg.order_by}" if seg.order_by else ""
        out += fetch(f"{select} WHERE {clause}{order} LIMIT ?", (*params, *seg.params, limit - len(out)))
    return out
