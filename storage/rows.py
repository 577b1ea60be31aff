"""Rows to read models by column name: a repository selects columns named (or aliased with AS) like
the fields of the app.model dataclass it returns, and these helpers match them up. A column the
dataclass lacks, or a field with neither a column nor a default, is a programming error and fails
loudly instead of shifting values into the wrong fields as positional mapping would. With
`complete=True` every field needs its column (or is `supplied` by the caller per row), so a column
dropped from a SELECT cannot silently leave a field at its default either.

The columns are checked once per query (from the cursor's description, so also when it returns no
rows); each row then costs what positional code did (see _mapper)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, cast

from storage.db import Connection

Convert = dict[str, Callable[[Any], Any]]


def column_names(cursor: Any) -> tuple[str, ...]:
    return tuple(d[0] for d in cursor.description)


def mapper[T](cls: type[T], names: Sequence[str], convert: Convert | None = None, *,
              supplied: Collection[str] = (), complete: bool = False) -> Callable[..., T]:
    """`row -> cls` for rows with these column names, checked now. `convert` turns stored values
    into model values by column name; fields named in `supplied` are passed by the caller as keyword
    arguments of each call (values that do not come from the row, e.g. a run's metrics)."""
    names = tuple(names)
    conv = tuple((n, fn) for n, fn in (convert or {}).items() if n in names)
    return cast("Callable[..., T]", _mapper(cast(type, cls), names, conv, tuple(supplied), complete))


@functools.lru_cache(maxsize=512)  # asked again for every query: check and compile once per shape
def _mapper(cls: type[Any], names: tuple[str, ...], convert: tuple[tuple[str, Callable[[Any], Any]], ...],
            supplied: tuple[str, ...], complete: bool) -> Callable[..., Any]:
    fields = [f for f in dataclasses.fields(cls) if f.init]
    known = {f.name for f in fields}
    extra = [n for n in names if n not in known or n in supplied]
    dup = sorted({n for n in names if names.count(n) > 1})
    if extra or dup:
        raise TypeError(f"{cls.__name__} has no field for column(s) {', '.join(extra + dup)}")
    missing = [f.name for f in fields if f.name not in names and f.name not in supplied
               and (complete or (f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING))]
    if missing:
        raise TypeError(f"{cls.__name__} has no column for field(s) {', '.join(missing)}")
    # The row function written out, `cls(r[0], ..., c5(r[5]), ...)`, as dataclasses writes its
    # __init__: on the hot path (a page of samples) it costs what hand-written positional code did.
    # Every name in it was checked above to be a field of `cls`, so the source holds only identifiers.
    # Columns in the fields' own order pass positionally (cheaper than matching keywords).
    fns = dict(convert)
    env: dict[str, Any] = {"_cls_": cls, **{f"_c{i}_": fns[n] for i, n in enumerate(names) if n in fns}}
    in_order = not supplied and list(names) == [f.name for f in fields] and not any(f.kw_only for f in fields)
    args = [("" if in_order else f"{n}=") + (f"_c{i}_(_row_[{i}])" if n in fns else f"_row_[{i}]")
            for i, n in enumerate(names)]
    args += [f"{n}={n}" for n in supplied]
    params = "_row_" + (", *, " + ", ".join(supplied) if supplied else "")
    exec(f"def to_model({params}):\n    return _cls_({', '.join(args)})\n", env)  # noqa: S102
    fn: Callable[..., Any] = env["to_model"]
    return fn


def build[T](cls: type[T], names: Sequence[str], row: Sequence[Any], convert: Convert | None = None) -> T:
    """`cls(**{name: value})` for one row; `convert` turns stored values into model values by name."""
    return mapper(cls, names, convert)(row)


def fetch_all[T](conn: Connection, cls: type[T], sql: str, params: Iterable[Any] = (),
                 convert: Convert | None = None, *, complete: bool = False) -> list[T]:
    cur = conn.execute(sql, tuple(params))
    to_model = mapper(cls, column_names(cur), convert, complete=complete)
    return [to_model(r) for r in cur]


def fetch_one[T](conn: Connection, cls: type[T], sql: str, params: Iterable[Any] = (),
                 convert: Convert | None = None, *, complete: bool = False) -> T | None:
    cur = conn.execute(sql, tuple(params))
    to_model = mapper(cls, column_names(cur), convert, complete=complete)
    r = cur.fetchone()
    return None if r is None else to_model(r)
