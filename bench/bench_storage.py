"""Encrypted storage figures: unlock time at the production KDF parameters, and SQLCipher versus
plain SQLite on the same workload, as a ratio measured in one run.

    python bench/bench_storage.py [--write]

Workload (both engines, same schema 1, same statements, WAL, synchronous=FULL): insert 10,000
submissions with one audit-style row each in transactions of 100, then 200 pages of 200 rows
sorted by release date, 200 filtered counts, and a full scan. --write replaces the "Encrypted
storage" section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import hashlib
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlcipher3  # noqa: E402

from storage.db import Database, _split_sql, migrations  # noqa: E402
from storage.keys import MIN_ITERATIONS, PASSPHRASE_MODE, KeyHeader, new_data_key  # noqa: E402

SECTION = "## Encrypted storage"
N = 10_000
ROW = ("Acme AI", "Falcon", "text", "weights on media", 3e25, "developer declared", "2026-11-01", "CUI", "",
       "CUI", "[]", "bench", "2026-11-01T00:00:00")


def workload(conn: Any, reopen: Any) -> dict[str, float]:
    times: dict[str, float] = {}
    t = time.perf_counter()
    for batch in range(N // 100):
        conn.execute("BEGIN IMMEDIATE")
        for i in range(100):
            n = batch * 100 + i
            conn.execute(
                "INSERT INTO submissions (developer, model_name, version, modality, access_method, training_flop,"
                " compute_estimate, received, planned_release, status, marking, notes, notes_marking, contacts,"
                " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'in review', ?, ?, ?, ?,"
                " ?, ?, ?)",
                (ROW[0], ROW[1], f"v{n}", *ROW[2:7], f"2026-12-{1 + n % 28:02d}", *ROW[7:], ROW[-1]))
            digest = hashlib.sha256(str(n).encode()).hexdigest()
            conn.execute("INSERT INTO audit_events (seq, ts, actor, action, object_type, object_id, details, "
                         "prev_hash, hash) VALUES (?, ?, 'bench', 'submission.create', 'submission', ?, '{}', ?, ?)",
                         (n + 1, ROW[-1], str(n), digest, digest))
        conn.execute("COMMIT")
    times["insert 10,000 (+ audit rows), 100 per transaction"] = time.perf_counter() - t
    conn.close()
    conn = reopen()  # cold page cache: every page read below is read (and decrypted) again
    t = time.perf_counter()
    for p in range(200):
        conn.execute("SELECT * FROM submissions WHERE deleted = 0 ORDER BY planned_release, id LIMIT 200 OFFSET ?",
                     (p * 37 % N,)).fetchall()
    times["200 sorted pages of 200 rows"] = time.perf_counter() - t
    t = time.perf_counter()
    for p in range(200):
        conn.execute("SELECT count(*) FROM submissions WHERE deleted = 0 AND version LIKE ?", (f"%{p}%",)).fetchone()
    times["200 filtered counts"] = time.perf_counter() - t
    t = time.perf_counter()
    conn.execute("SELECT sum(length(notes) + length(version)) FROM submissions").fetchone()
    conn.execute("SELECT count(*), max(hash) FROM audit_events").fetchone()
    times["full scan of both tables"] = time.perf_counter() - t
    return times


def plain(path: Path) -> Any:
    """The same SQLite library (sqlcipher3) without a key: a plain SQLite file, so the ratio is
    the cost of encryption alone, not of two different SQLite versions."""
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    for stmt in _split_sql(migrations()[0][2]):
        conn.execute(stmt)
    return conn


def main(argv: list[str]) -> int:
    header = KeyHeader.new(PASSPHRASE_MODE, "bench")
    key = new_data_key()
    t = time.perf_counter()
    header.set_passphrase_slot("bench", "bench-granite-harbour-42", key, None, iterations=MIN_ITERATIONS)
    unlocks = []
    for _ in range(3):
        t = time.perf_counter()
        header.unwrap_passphrase("bench", "bench-granite-harbour-42", None)
        unlocks.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as d:
        db = Database.open(Path(d) / "enc.db", key, create=True, migrate_to=1)
        t = time.perf_counter()
        Database.open(Path(d) / "enc.db", key).close()
        open_time = time.perf_counter() - t
        enc = workload(db.conn, lambda: Database.open(Path(d) / "enc.db", key, check=False).conn)
        pl = workload(plain(Path(d) / "plain.db"),
                      lambda: sqlcipher3.connect(str(Path(d) / "plain.db"), isolation_level=None))
        sizes = ((Path(d) / "enc.db").stat().st_size, (Path(d) / "plain.db").stat().st_size)
    total_enc, total_pl = sum(enc.values()), sum(pl.values())
    lines = [
        SECTION,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLCipher via sqlcipher3. Command: `python bench/bench_storage.py --write`.",
        "",
        f"- Unlock (PBKDF2-HMAC-SHA-512, {MIN_ITERATIONS:,} iterations, + AES-256-GCM unwrap): "
        f"median {statistics.median(unlocks) * 1000:.0f} ms of 3.",
        f"- Open the database with the raw key, quick_check and migration check: {open_time * 1000:.0f} ms "
        "(empty schema-1 database; the check reads every page, so it grows with the file).",
        "",
        "Both columns use the same SQLite library (sqlcipher3's SQLite), once with the key and once "
        "without, so the ratio is the cost of encryption alone. Reads start from a cold page cache.",
        "",
        "| workload (same run) | SQLCipher | plain SQLite | ratio |",
        "|---|---|---|---|",
    ]
    for name in enc:
        lines.append(f"| {name} | {enc[name] * 1000:.0f} ms | {pl[name] * 1000:.0f} ms | {enc[name] / pl[name]:.2f}x |")
    lines += [
        f"| **total** | **{total_enc * 1000:.0f} ms** | **{total_pl * 1000:.0f} ms** "
        f"| **{total_enc / total_pl:.2f}x** |",
        "",
        f"File sizes after the workload: {sizes[0] / 1e6:.1f} MB encrypted, {sizes[1] / 1e6:.1f} MB plain "
        "(SQLCipher reserves 80 bytes per 4 KiB page for the IV and HMAC).",
        "",
    ]
    text = "\n".join(lines)
    from perfdoc import publish

    publish(SECTION, text, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
