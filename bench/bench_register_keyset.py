"""The last page of a 100,000-row submissions register (and vulnerability register), read as the
table reads it: by OFFSET (before) and after the row before it, by key (storage/keyset.py).

    python bench/bench_register_keyset.py [--rows 100000] [--runs 5]

Figures are CPU time of this process (time.process_time: user + system), the median of `--runs`
reads, before and after interleaved, so neighbours on a loaded machine do not show in them. "before,
old schema" drops migration 0041's indexes (and puts back the register's three it replaced): what
the OFFSET read cost before this change; "before" is the same OFFSET read with them. The repository
is called directly (the service adds a permission check), on a fresh SQLCipher database at the
new 32 KiB page size.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.model.vulnerabilities import Filters  # noqa: E402
from storage import submissions_repo, vulns_repo  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.keys import NEW_PAGE_SIZE  # noqa: E402

PAGE = 200
SUB_COLS = ("developer, model_name, version, modality, access_method, compute_estimate, received, planned_release, "
            "status, marking, notes_marking, created_by, created_at, updated_at")
VULN_COLS = ("id, year, seq, title, target, vendor, product, score, severity, severity_rank, repro_status, "
             "embargo_until, tlp, status, marking, created_by, created_at, updated_by, updated_at")
SEVERITIES = [(None, "", -1), (2.0, "Low", 1), (5.5, "Medium", 2), (8.0, "High", 3), (9.5, "Critical", 4)]
OLD_SCHEMA = """
DROP INDEX submissions_developer_nocase; DROP INDEX submissions_model_nocase; DROP INDEX submissions_version_nocase;
DROP INDEX submissions_received; DROP INDEX submissions_marking;
DROP INDEX vulnerabilities_title_sort; DROP INDEX vulnerabilities_severity_sort; DROP INDEX vulnerabilities_score_sort;
DROP INDEX vulnerabilities_status_sort; DROP INDEX vulnerabilities_embargo_sort; DROP INDEX vulnerabilities_vendor_sort;
DROP INDEX vulnerabilities_cve_sort; DROP INDEX vulnerabilities_tlp_sort; DROP INDEX vulnerabilities_updated_sort;
CREATE INDEX vulnerabilities_severity ON vulnerabilities (severity_rank, score);
CREATE INDEX vulnerabilities_status ON vulnerabilities (status);
CREATE INDEX vulnerabilities_embargo ON vulnerabilities (embargo_until);
"""


def fill(db: Database, n: int) -> None:
    day = date(2026, 1, 1)
    subs, vulns = [], []
    for i in range(n):
        subs.append((f"Developer {i % 250}", f"Model-{i % 1000}", f"v{i % 7}", "text", "hosted", "unknown",
                     (day + timedelta(days=i % 400)).isoformat(), (day + timedelta(days=i % 365)).isoformat(),
                     "received", "CUI", "CUI", "admin", "2026-01-01", "2026-01-01"))
        score, sev, rank = SEVERITIES[i % 5]
        year = 2020 + i % 7
        vulns.append((f"VULN-{year}-{i:06d}", year, i, f"Finding {i % 5000}", "model safeguard", f"Vendor {i % 90}",
                      "p", score, sev, rank, "not attempted",
                      None if i % 3 == 0 else (day + timedelta(days=i % 500)).isoformat(), "AMBER", "new", "CUI",
                      "admin", "2026-01-01", "admin", "2026-01-01"))
    with db.transaction() as conn:
        conn.executemany(f"INSERT INTO submissions ({SUB_COLS}) VALUES ({', '.join('?' * 14)})", subs)
        conn.executemany(f"INSERT INTO vulnerabilities ({VULN_COLS}) VALUES ({', '.join('?' * 19)})", vulns)
    db.conn.execute("ANALYZE")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def cpu_ms(fn: Callable[[], object]) -> float:
    t0 = time.process_time()
    fn()
    return (time.process_time() - t0) * 1000


def measure(reads: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in reads}
    for _ in range(runs):  # interleaved: each run reads every variant once
        for name, fn in reads.items():
            times[name].append(cpu_ms(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv: list[str]) -> int:
    rows = int(argv[argv.index("--rows") + 1]) if "--rows" in argv else 100_000
    runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 5
    tmp = Path(tempfile.mkdtemp(prefix="bench-keyset-"))
    db = Database.open(tmp / "registers.db", os.urandom(32), create=True, page_size=NEW_PAGE_SIZE)
    t0 = time.perf_counter()
    fill(db, rows)
    print(f"{rows:,} submissions and {rows:,} vulnerabilities written in {time.perf_counter() - t0:.1f} s "
          f"({(tmp / 'registers.db').stat().st_size / 1e6:.0f} MB)")
    conn = db.conn
    last = rows - PAGE
    cases = [("submissions", s, d) for s, d in (("release", False), ("developer", False), ("id", True),
                                                 ("status", False))] + \
            [("vulnerabilities", s, d) for s, d in (("id", False), ("severity", True), ("embargo", False))]

    def reads(table: str, sort: str, desc: bool) -> dict[str, Callable[[], object]]:
        if table == "submissions":
            key = submissions_repo.SORT_KEYS[sort]
            after = conn.execute(f"SELECT o.id FROM submissions o WHERE o.deleted = 0 ORDER BY "
                                 f"{key.order_by(desc)} LIMIT 1 OFFSET ?", (last - 1,)).fetchone()[0]
            return {"offset": lambda: submissions_repo.page(conn, last, PAGE, sort, desc),
                    "key": lambda: submissions_repo.page(conn, last, PAGE, sort, desc, after_id=after),
                    "first": lambda: submissions_repo.page(conn, 0, PAGE, sort, desc)}
        vkey = vulns_repo.SORT_KEYS[sort]
        vafter = conn.execute(f"SELECT id FROM vulnerabilities ORDER BY {vkey.order_by(desc)} LIMIT 1 OFFSET ?",
                              (last - 1,)).fetchone()[0]
        return {"offset": lambda: vulns_repo.page(conn, Filters(), last, PAGE, sort, desc),
                "key": lambda: vulns_repo.page(conn, Filters(), last, PAGE, sort, desc, after_id=vafter),
                "first": lambda: vulns_repo.page(conn, Filters(), 0, PAGE, sort, desc)}

    results = {}
    for table, sort, desc in cases:
        r = reads(table, sort, desc)
        got_key = r["key"]()
        assert got_key == r["offset"](), (table, sort)  # the same rows either way
        results[(table, sort, desc)] = measure(r, runs if sort != "status" else 1)
    for statement in OLD_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    for table, sort, desc in cases:
        r = reads(table, sort, desc)
        results[(table, sort, desc)]["old"] = measure({"old": r["offset"]}, runs if sort != "status" else 1)["old"]
    print(f"last page ({PAGE} rows at {last:,}) of {rows:,}, CPU ms (median of {runs}; status: 1 run)")
    print("| register | sort | before, old schema (OFFSET) | before (OFFSET, new indexes) | after (by key) | "
          "first page |")
    print("|---|---|---|---|---|---|")
    for (table, sort, desc), m in results.items():
        print(f"| {table} | {sort}{' desc' if desc else ''} | {m['old']:.1f} | {m['offset']:.1f} | {m['key']:.1f} | "
              f"{m['first']:.1f} |")
    db.close()
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
