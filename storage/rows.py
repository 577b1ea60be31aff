"""Rows to read models by column name: a repository selects columns named (or aliased with AS) like
the fields of the app.model dataclass it returns, and these helpers match them up. A column the
dataclass lacks, or a field with neither a column nor a default, is a programming error and fails
loudly instead of shifting values into the wrong fields as positional mapping would."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from storage.db import Connection


def column_names(cursor: Any) -> tuple[str, ...]:
    return tuple(d[0] for d in cursor.description)


def build[T](cls: type[T], names: Sequence[str], row: Sequence[Any],
             convert: dict[str, Callable[[Any], Any]] | None = None) -> T:
    """`cls(**{name: value})` for one row; `convert` turns stored values into model values by name."""
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    extra = [n for n in names if n not in known]
    if extra:
        raise TypeError(f"{cls.__name__} has no field for column(s) {', '.join(extra)}")
    values = dict(zip(names, row, strict=True))
    for name, fn in (convert or {}).items():
        if name in values:
            values[name] = fn(values[name])
    return cls(**values)


def fetch_all[T](conn: Connection, cls: type[T], sql: str, params: Iterable[Any] = (),
                 convert: dict[str, Callable[[Any], Any]] | None = None) -> list[T]:
    cur = conn.execute(sql, tuple(params))
    names = column_names(cur)
    return [build(cls, names, r, convert) for r in cur]


def fetch_one[T](conn: Connection, cls: type[T], sql: str, params: Iterable[Any] = (),
                 convert: dict[str, Callable[[Any], Any]] | None = None) -> T | None:
    cur = conn.execute(sql, tuple(params))
    r = cur.fetchone()
    return None if r is None else build(cls, column_names(cur), r, convert)
