"""Keyset paging of the submissions and vulnerabilities registers (storage/keyset.py): the page
after a row, read by its key, is the page OFFSET reads, for every sort, both directions and the
filters; and a page deep in a 10,000-row register is read with index seeks only (no sort of the
table, no scan), in about the VM steps the first page takes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.model.vulnerabilities import CvssSeverity, Filters, VulnStatus
from storage import submissions_repo, vulns_repo
from storage.db import Database

SUB_COLS = ("developer, model_name, version, modality, access_method, compute_estimate, received, planned_release, "
            "status, marking, notes_marking, created_by, created_at, updated_at, deleted")
VULN_COLS = ("id, year, seq, title, target, vendor, product, cve, score, severity, severity_rank, repro_status, "
             "embargo_until, tlp, status, marking, created_by, created_at, updated_by, "
             "updated_at")
SEVERITIES = [(None, "", -1), (2.0, "Low", 1), (5.5, "Medium", 2), (8.0, "High", 3), (9.5, "Critical", 4)]
STATUSES = ["new", "triage", "confirmed", "closed", "published"]


def _database(path: Path) -> Database:
    return Database.open(path, os.urandom(32), create=True)


def _fill(db: Database, n: int) -> None:
    """n submissions and n vulnerabilities with many ties, NULL scores and embargoes, mixed case
    and a few deleted submissions: every rule of the keys shows."""
    day = date(2026, 1, 1)
    subs = []
    vulns = []
    for i in range(n):
        dev = ["acme", "Acme", "Borealis", "cobalt", "Delta"][i % 5]
        subs.append((dev, f"Model-{i % 37}", ["1", "2.0", "v3"][i % 3], "text", "hosted", "unknown",
                     (day + timedelta(days=i % 11)).isoformat(), (day + timedelta(days=i % 13)).isoformat(),
                     "received", ["UNCLASSIFIED", "CUI"][i % 2], "UNCLASSIFIED", "admin", "2026-01-01",
                     f"2026-01-{1 + i % 28:02d}", 1 if i % 97 == 0 else 0))
        score, sev, rank = SEVERITIES[i % 5 if i % 7 else 0]
        score = None if i % 11 == 0 else score  # a rank with and without a score: NULLs inside a key
        year, seq = 2025 + i % 2, i
        embargo = None if i % 3 == 0 else (day + timedelta(days=i % 17)).isoformat()
        vulns.append((f"VULN-{year}-{seq:05d}", year, seq, ["alpha", "Alpha", "beta", "Gamma"][i % 4] + str(i % 9),
                      "model safeguard", ["", "Vendor", "vendor", "Other"][i % 4], ["p", "P", "q"][i % 3],
                      "" if i % 5 else f"CVE-2026-{i:05d}", score, sev, rank, "not attempted", embargo,
                      ["CLEAR", "GREEN", "AMBER"][i % 3], STATUSES[i % 5], "UNCLASSIFIED", "admin",
                      "2026-01-01", "admin", f"2026-02-{1 + i % 20:02d}"))
    with db.transaction() as conn:
        conn.executemany(f"INSERT INTO submissions ({SUB_COLS}) VALUES ({', '.join('?' * 15)})", subs)
        conn.executemany(f"INSERT INTO vulnerabilities ({VULN_COLS}) VALUES ({', '.join('?' * 20)})", vulns)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = _database(tmp_path_factory.mktemp("keyset") / "small.db")
    _fill(db, 61)
    yield db
    db.close()


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = _database(tmp_path_factory.mktemp("keyset") / "big.db")
    _fill(db, 10_000)
    db.conn.execute("ANALYZE")
    yield db
    db.close()


SUB_FILTERS: list[dict[str, Any]] = [{}, {"search": "acme"}, {"search": "Model-3"}, {"stage": "received"},
                                     {"open_only": True}]
VULN_FILTERS = [Filters(), Filters(severities=(CvssSeverity.HIGH, CvssSeverity.CRITICAL)),
                Filters(statuses=(VulnStatus.NEW,)), Filters(open_only=True), Filters(search="alpha"),
                Filters(embargo_within_days=5, today=date(2026, 1, 3))]


def _pages_by_key(read: Any, limit: int) -> list[list[Any]]:
    """Every page, each read after the last row of the one before (as the table model asks)."""
    pages: list[list[Any]] = []
    after = None
    for _ in range(1000):
        rows = read(len(pages) * limit, after, limit)
        if not rows:
            break
        pages.append([r.id for r in rows])
        after = rows[-1].id
        if len(rows) < limit:
            break
    return pages


@pytest.mark.parametrize("deep_offset", [2_000, 0])  # OFFSET pages by the sort's index, and sorted
@pytest.mark.parametrize("sort", sorted(submissions_repo.SORT_KEYS))
def test_submission_pages_by_key_are_the_pages_by_offset(small: Database, sort: str, deep_offset: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submissions_repo, "DEEP_OFFSET", deep_offset)
    conn = small.conn
    for flt in SUB_FILTERS:
        where, params = submissions_repo._where(flt.get("search", ""), flt.get("stage"), flt.get("open_only", False))
        for descending in (False, True):
            key = submissions_repo.SORT_KEYS[sort]
            want = [r[0] for r in conn.execute(
                f"SELECT o.id FROM submissions o WHERE {where} ORDER BY {key.order_by(descending)}", params)]
            assert want, (sort, flt)
            limit = 9
            by_key = _pages_by_key(lambda off, after, n, d=descending, f=flt: submissions_repo.page(
                conn, off, n, sort, d, after_id=after, **f), limit)
            by_offset = [[s.id for s in submissions_repo.page(conn, off, limit, sort, descending, **flt)]
                         for off in range(0, len(want), limit)]
            assert by_key == by_offset, (sort, descending, flt)
            assert [i for p in by_key for i in p] == want, (sort, descending, flt)


@pytest.mark.parametrize("sort", sorted(vulns_repo.SORT_KEYS))
def test_vulnerability_pages_by_key_are_the_pages_by_offset(small: Database, sort: str) -> None:
    conn = small.conn
    for flt in VULN_FILTERS:
        where, params = vulns_repo._where(flt)
        for descending in (False, True):
            key = vulns_repo.SORT_KEYS[sort]
            want = [r[0] for r in conn.execute(
                f"SELECT id FROM vulnerabilities WHERE {where} ORDER BY {key.order_by(descending)}", params)]
            assert want, (sort, flt)
            limit = 7
            by_key = _pages_by_key(lambda off, after, n, d=descending, f=flt: vulns_repo.page(
                conn, f, off, n, sort, d, after_id=after), limit)
            by_offset = [[v.id for v in vulns_repo.page(conn, flt, off, limit, sort, descending)]
                         for off in range(0, len(want), limit)]
            assert by_key == by_offset, (sort, descending, flt)
            assert [i for p in by_key for i in p] == want, (sort, descending, flt)


class Recording:
    """A connection that writes down the queries run on it (their plans are asked afterwards)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.queries: list[tuple[str, tuple[Any, ...]]] = []

    def execute(self, sql: str, params: Any = ()) -> Any:
        self.queries.append((sql, tuple(params)))
        return self.conn.execute(sql, params)


def _plans(db: Database, queries: list[tuple[str, tuple[Any, ...]]]) -> list[str]:
    return [" | ".join(r[3] for r in db.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in queries if sql.lstrip().upper().startswith("SELECT")]


def _steps(db: Database, fn: Any) -> int:
    """SQLite VM instructions `fn` runs (counted in hundreds by the progress handler): a measure of
    rows read that does not depend on the machine's load."""
    count = 0

    def tick() -> int:
        nonlocal count
        count += 1
        return 0

    db.conn.set_progress_handler(tick, 100)
    try:
        fn()
    finally:
        db.conn.set_progress_handler(None, 100)
    return count


def _deep_after(db: Database, table: str, order_by: str, where: str, params: list[Any], n: int) -> Any:
    """The id of the row just before the last `n` rows in this order."""
    row = db.conn.execute(f"SELECT id FROM {table} WHERE {where} ORDER BY {order_by} LIMIT 1 OFFSET "
                          f"(SELECT count(*) - {n + 1} FROM {table} WHERE {where})", [*params, *params]).fetchone()
    return row[0]


# "status" of submissions is computed from other tables: no index can hold it (said in its key).
INDEXED_SUB_SORTS = sorted(set(submissions_repo.SORT_KEYS) - {"status"})


@pytest.mark.parametrize("sort", INDEXED_SUB_SORTS)
@pytest.mark.parametrize("descending", [False, True])
def test_a_deep_submissions_page_is_index_seeks_costing_what_the_first_does(big: Database, sort: str,
                                                                              descending: bool) -> None:
    key = submissions_repo.SORT_KEYS[sort]
    where, params = submissions_repo._where("", None, False)
    after = _deep_after(big, "submissions o", key.order_by(descending), where, params, 200)
    rec = Recording(big.conn)
    rows = submissions_repo.page(rec, 0, 200, sort, descending, after_id=after)  # type: ignore[arg-type]
    assert len(rows) == 200
    plans = _plans(big, rec.queries)
    assert plans and all("TEMP B-TREE" not in p and "SCAN" not in p for p in plans), plans
    first = _steps(big, lambda: submissions_repo.page(big.conn, 0, 200, sort, descending))
    deep = _steps(big, lambda: submissions_repo.page(big.conn, 0, 200, sort, descending, after_id=after))
    by_offset = _steps(big, lambda: submissions_repo.page(big.conn, 9_700, 200, sort, descending))
    assert deep <= 2 * first + 20, (first, deep)
    assert by_offset > 5 * deep, (deep, by_offset)  # what the key saves: OFFSET walks 9,700 rows


@pytest.mark.parametrize("sort", sorted(vulns_repo.SORT_KEYS))
@pytest.mark.parametrize("descending", [False, True])
def test_a_deep_register_page_is_index_seeks_costing_what_the_first_does(big: Database, sort: str,
                                                                         descending: bool) -> None:
    key = vulns_repo.SORT_KEYS[sort]
    after = _deep_after(big, "vulnerabilities", key.order_by(descending), "1 = 1", [], 200)
    rec = Recording(big.conn)
    rows = vulns_repo.page(rec, Filters(), 0, 200, sort, descending, after_id=after)  # type: ignore[arg-type]
    assert len(rows) == 200
    plans = _plans(big, rec.queries)
    assert plans and all("TEMP B-TREE" not in p and "SCAN" not in p for p in plans), plans
    first = _steps(big, lambda: vulns_repo.page(big.conn, Filters(), 0, 200, sort, descending))
    deep = _steps(big, lambda: vulns_repo.page(big.conn, Filters(), 0, 200, sort, descending, after_id=after))
    assert deep <= 2 * first + 20, (first, deep)


def test_a_row_gone_since_its_page_was_read_falls_back_to_the_offset(small: Database) -> None:
    by_offset = [s.id for s in submissions_repo.page(small.conn, 10, 5, "developer")]
    assert [s.id for s in submissions_repo.page(small.conn, 10, 5, "developer", after_id=10**9)] == by_offset
    v_offset = [v.id for v in vulns_repo.page(small.conn, Filters(), 10, 5, "title")]
    assert [v.id for v in vulns_repo.page(small.conn, Filters(), 10, 5, "title", after_id="VULN-1999-00001")] \
        == v_offset
