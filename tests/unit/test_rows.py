"""storage.rows: read models are filled by column name, never by position."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pytest

from storage.rows import fetch_all, fetch_one, mapper


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    note: str = ""


@pytest.fixture
def conn() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:")
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT, note TEXT)")
    c.executemany("INSERT INTO t (id, label, note) VALUES (?, ?, ?)", [(1, "a", "x"), (2, "b", "y")])
    return c


def test_columns_fill_fields_by_name_in_any_order(conn: sqlite3.Connection) -> None:
    rows = fetch_all(conn, Item, "SELECT note, label AS name, id FROM t ORDER BY id")
    assert rows == [Item(1, "a", "x"), Item(2, "b", "y")]
    assert fetch_one(conn, Item, "SELECT id, label AS name FROM t WHERE id = ?", (2,)) == Item(2, "b")  # default
    assert fetch_one(conn, Item, "SELECT id, label AS name FROM t WHERE id = ?", (9,)) is None


def test_conversions_apply_by_column_name(conn: sqlite3.Connection) -> None:
    row = fetch_one(conn, Item, "SELECT id, label AS name FROM t WHERE id = 1", convert={"name": str.upper})
    assert row == Item(1, "A")


def test_a_column_without_a_field_or_a_missing_field_fails_loudly(conn: sqlite3.Connection) -> None:
    with pytest.raises(TypeError, match="no field for column.*label"):
        fetch_all(conn, Item, "SELECT id, label FROM t")
    with pytest.raises(TypeError, match="name"):
        fetch_all(conn, Item, "SELECT id, note FROM t")


def test_checked_once_per_query_even_without_rows_and_every_time(conn: sqlite3.Connection) -> None:
    for _ in range(2):  # the compiled mapper is cached; a failing shape fails again
        with pytest.raises(TypeError, match="no field for column.*label"):
            fetch_one(conn, Item, "SELECT id, label FROM t WHERE id = ?", (9,))
    with pytest.raises(TypeError, match="no field for column.*id"):
        fetch_all(conn, Item, "SELECT id, label AS name, id FROM t")  # a column twice


def test_complete_wants_every_field_and_supplied_ones_come_from_the_caller(conn: sqlite3.Connection) -> None:
    assert fetch_all(conn, Item, "SELECT id, label AS name FROM t WHERE id = 1") == [Item(1, "a")]
    with pytest.raises(TypeError, match="Item has no column for field.*note"):
        fetch_all(conn, Item, "SELECT id, label AS name FROM t", complete=True)
    to_item = mapper(Item, ("id", "name"), {"name": str.upper}, supplied=("note",), complete=True)
    assert to_item((3, "c"), note="given") == Item(3, "C", "given")
    with pytest.raises(TypeError, match="note"):
        to_item((3, "c"))  # a supplied field is required of every call
    with pytest.raises(TypeError, match="no field for column.*note"):
        mapper(Item, ("id", "name", "note"), supplied=("note",))  # from the row or the caller, not both


def test_columns_in_field_order_or_not_fill_the_same_fields(conn: sqlite3.Connection) -> None:
    # In field order the row function passes values positionally; any other order by keyword.
    in_order = fetch_all(conn, Item, "SELECT id, label AS name, note FROM t ORDER BY id")
    shuffled = fetch_all(conn, Item, "SELECT note, id, label AS name FROM t ORDER BY id")
    assert in_order == shuffled == [Item(1, "a", "x"), Item(2, "b", "y")]
