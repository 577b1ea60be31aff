"""SQLCipher page size: what it costs the import's writer and what it costs the reads.

    python bench/bench_page_size.py [--blobs 10000] [--samples 1000000] [--repeat 3] [--keep DIR]
                                    [--eval LOG.eval] [--skip-reads] [--write]

1. writes  Each variant stores `--blobs` incompressible 6 KB blobs (the size of an `.eval` sample's
           zstd frame) in one transaction on a fresh database (WAL, synchronous FULL, as the product
           opens it), then checkpoints the WAL into the database file. Variants: plain SQLite;
           SQLCipher with 4, 8, 16, 32 and 64 KiB pages (HMAC-SHA512, the default); HMAC-SHA256 at
           4 and 64 KiB. Reported: CPU time of the inserts + COMMIT, and CPU and wall time of the
           checkpoint (which copies WAL frames into the file: no re-encryption, measured here).
2. reads   One database with the project's schema and a run of `--samples` samples (rows like
           bench/bench_first_paint.py's, FTS5 rows, every 100th sample with a 6 KB transcript),
           built at 4 KiB pages and copied to each other page size with sqlcipher_export. Each read
           runs on a fresh connection (SQLite's cache cold, the OS cache warm), median of 3:
           open (key + quick_check, as Database.open does), a page of 200 at row 500,000 (log
           order: index seek), a page of 200 sorted by score at row 500,000 (OFFSET), opening a
           transcript, an FTS5 search (count + first page of 200).
3. import  With --eval: `results.import_files` of that log into a fresh workstation whose database
           has 4, 16, 32 or 64 KiB pages (each import in its own process, as bench/bench_import_speed.py
           does); wall and CPU time (both threads), database size.
Variants are interleaved per round so load changes hit all alike. CPU time is `time.process_time`
(this process only): it moves far less with the machine's load than the wall clock.
--write replaces the "## SQLCipher page size" section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlcipher3  # noqa: E402

from app.model.results import SampleFilter  # noqa: E402
from storage import results_repo as repo  # noqa: E402
from storage.db import _split_sql, migrations  # noqa: E402
from storage.sample_prep import CODEC  # noqa: E402

SECTION = "## SQLCipher page size"
PAGE_SIZES = (4096, 8192, 16384, 32768, 65536)
ROUNDS = 3  # of the reads (each quick_check reads the whole database)
WORDS = ("buffer overflow heap stack canary flag shellcode ropchain format string injection sql xss csrf "
         "deserialization race toctou kernel module privilege escalation reverse engineering binary").split()


def connect(path: Path, key: bytes | None, page_size: int = 4096, hmac: str | None = None) -> Any:
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    if key is not None:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute(f"PRAGMA cipher_page_size = {page_size}")
        if hmac:
            conn.execute(f"PRAGMA cipher_hmac_algorithm = {hmac}")
        conn.execute("PRAGMA cipher_memory_security = OFF")
    else:
        conn.execute(f"PRAGMA page_size = {page_size}")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


# -- 1. writes ---------------------------------------------------------------------------------------

WRITE_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("plain SQLite (no encryption), 4 KiB", {"key": False}),
    *[(f"SQLCipher {p // 1024} KiB pages, HMAC-SHA512", {"page_size": p}) for p in PAGE_SIZES],
    ("SQLCipher 4 KiB pages, HMAC-SHA256", {"hmac": "HMAC_SHA256"}),
    ("SQLCipher 64 KiB pages, HMAC-SHA256", {"page_size": 65536, "hmac": "HMAC_SHA256"}),
]


def write_once(blobs: list[bytes], *, key: bool = True, page_size: int = 4096,
               hmac: str | None = None) -> tuple[float, float, float, int]:
    """(CPU s of inserts + COMMIT, CPU s of the checkpoint, wall s of the checkpoint, file bytes)."""
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        path = Path(tmp) / "db.sqlite"
        conn = connect(path, secrets.token_bytes(32) if key else None, page_size, hmac)
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpoint is measured on its own below
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, codec TEXT, raw_size INTEGER, data BLOB)")
        c0 = time.process_time()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO t (codec, raw_size, data) VALUES ('zstd-json', 25000, ?)",
                         ((b,) for b in blobs))
        conn.execute("COMMIT")
        c1 = time.process_time()
        w1 = time.perf_counter()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        c2, w2 = time.process_time(), time.perf_counter()
        conn.close()
        size = path.stat().st_size
    return c1 - c0, c2 - c1, w2 - w1, size


def small_once(page_size: int, commits: int = 300) -> tuple[float, float, int]:
    """(CPU s, wall s, WAL bytes) of `commits` one-row transactions (an audit-event-like row and two
    indexes) on a table of 20,000 such rows: what a reviewer's every action costs."""
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        path = Path(tmp) / "db.sqlite"
        conn = connect(path, secrets.token_bytes(32), page_size)
        conn.execute("CREATE TABLE ev (id INTEGER PRIMARY KEY, ts TEXT, actor TEXT, action TEXT, details TEXT)")
        conn.execute("CREATE INDEX ev_ts ON ev (ts)")
        conn.execute("CREATE INDEX ev_actor ON ev (actor, action)")
        rng = random.Random(5)

        def row(i: int) -> tuple[str, str, str, str]:
            return (f"2026-12-02T{i:09d}", f"user{rng.randrange(50)}", f"action.{rng.randrange(40)}",
                    rng.randbytes(120).hex())

        conn.execute("BEGIN")
        conn.executemany("INSERT INTO ev (ts, actor, action, details) VALUES (?,?,?,?)",
                         (row(i) for i in range(20_000)))
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(commits):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO ev (ts, actor, action, details) VALUES (?,?,?,?)", row(20_000 + i))
            conn.execute("COMMIT")
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        wal = Path(str(path) + "-wal").stat().st_size
        conn.close()
    return cpu, wall, wal


def writes(n: int, repeat: int) -> list[str]:
    rng = random.Random(1)
    blobs = [rng.randbytes(6000) for _ in range(n)]
    got: dict[str, list[tuple[float, float, float, int]]] = {label: [] for label, _ in WRITE_VARIANTS}
    for _ in range(repeat):
        for label, kw in WRITE_VARIANTS:
            got[label].append(write_once(blobs, **kw))
    small: dict[int, list[tuple[float, float, int]]] = {p: [] for p in PAGE_SIZES}
    for _ in range(repeat):
        for p in PAGE_SIZES:
            small[p].append(small_once(p))
    base = statistics.median(r[0] for r in got[WRITE_VARIANTS[1][0]])
    lines = [f"Writes: {n:,} blobs of 6 KB in one transaction, then `wal_checkpoint(TRUNCATE)` "
             f"({repeat} interleaved rounds, median):", "",
             "| variant | inserts + COMMIT, CPU s | vs 4 KiB | checkpoint CPU s | checkpoint wall s | file MB |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, _kw in WRITE_VARIANTS:
        rows = got[label]
        cpu = statistics.median(r[0] for r in rows)
        lines.append(f"| {label} | {cpu:.2f} | {cpu / base:.2f}x | {statistics.median(r[1] for r in rows):.3f} | "
                     f"{statistics.median(r[2] for r in rows):.2f} | {rows[-1][3] / 1e6:.0f} |")
    lines += ["", "Small writes: 300 transactions of one row (an audit-event-like row with two indexes, on a table "
              "of 20,000), WAL mode, synchronous FULL, automatic checkpoints (every 1,000 pages) on; median:", "",
              "| page size | CPU ms per commit | wall ms per commit | WAL file after, MB |", "|---|---:|---:|---:|"]
    for p in PAGE_SIZES:
        rows_s = small[p]
        lines.append(f"| {p // 1024} KiB | {statistics.median(r[0] for r in rows_s) / 300 * 1000:.2f} | "
                     f"{statistics.median(r[1] for r in rows_s) / 300 * 1000:.2f} | {rows_s[-1][2] / 1e6:.1f} |")
    return lines


# -- 2. reads ----------------------------------------------------------------------------------------

def _transcript(rng: random.Random) -> tuple[int, bytes]:
    """(raw size, zstd frame) of a sample-like JSON document of about 6 KB compressed."""
    import json

    import zstandard

    dump = "\n".join(rng.randbytes(16).hex(" ") for _ in range(200))
    raw = json.dumps({"id": "x", "epoch": 1, "messages": [{"role": "tool", "content": dump}]}).encode()
    return len(raw), zstandard.ZstdCompressor(level=1).compress(raw)


def build(path: Path, key: bytes, n: int) -> int:
    """A 4 KiB-page database with the project's schema and one run of `n` samples; returns its id."""
    from app.model.results import EvalRun, Harness, RunStatus

    conn = connect(path, key)
    for _v, _name, sql in migrations():
        conn.execute("BEGIN")
        for statement in _split_sql(sql):
            conn.execute(statement)
        conn.execute("COMMIT")
    rng = random.Random(7)
    frames = [_transcript(rng) for _ in range(50)]
    conn.execute("BEGIN IMMEDIATE")
    run_id = repo.insert_run(conn, EvalRun(Harness.INSPECT, "x", "t", "1", "m", "", RunStatus.SUCCESS,
                                           file_sha256="0" * 64, original_name="x"), 1, "inspect-eval", "x", "y")
    conn.execute("COMMIT")
    done = 0
    while done < n:
        rows, transcripts = [], []
        for i in range(done, min(n, done + 20_000)):
            words = " ".join(rng.choice(WORDS) for _ in range(12))
            score = 1.0 if rng.random() < 0.4 else 0.0
            rows.append((f"s{i:07d}", 1, score, 0, rng.random() * 100, None, None, None, rng.randint(100, 90000),
                         '{"includes": {"value": "C", "numeric": 1.0, "answer": null, "explanation": null}}',
                         "", f"flag{{{i:x}}}", f"I found {rng.choice(WORDS)} {i}", f"Challenge {i}: {words}"))
            if i % 100 == 0:
                raw_size, frame = rng.choice(frames)
                transcripts.append((len(rows) - 1, CODEC, raw_size, frame))
        conn.execute("BEGIN IMMEDIATE")
        repo.insert_prepared(conn, run_id, repo.PreparedSamples(rows, transcripts, 0))
        conn.execute("COMMIT")
        done += len(rows)
    conn.execute("UPDATE eval_runs SET sample_count = ? WHERE id = ?", (n, run_id))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return run_id


def export(src: Path, key: bytes, dst: Path, page_size: int) -> float:
    """Copy `src` into a new database with `page_size` pages (sqlcipher_export); returns seconds."""
    t0 = time.perf_counter()
    conn = connect(src, key)
    conn.execute(f"ATTACH DATABASE ? AS copy KEY \"x'{key.hex()}'\"", (str(dst),))
    conn.execute(f"PRAGMA copy.cipher_page_size = {page_size}")
    conn.execute("SELECT sqlcipher_export('copy')").fetchone()
    conn.execute("DETACH DATABASE copy")
    conn.close()
    return time.perf_counter() - t0


def read_ops(run_id: int, n: int) -> list[tuple[str, Callable[[Any], object]]]:
    rng = random.Random(3)
    transcript_ids = [1 + 100 * rng.randrange(n // 100) for _ in range(64)]
    return [
        ("open: key + quick_check", lambda c: c.execute("PRAGMA quick_check").fetchone()),
        (f"page of 200 at row {n // 2:,}, log order (seek)",
         lambda c: repo.page_samples(c, run_id, SampleFilter(), n // 2, 200)),
        (f"page of 200 at row {n // 2:,}, sorted by score (OFFSET)",
         lambda c: repo.page_samples(c, run_id, SampleFilter(), n // 2, 200, sort="score")),
        ("open a transcript (6 KB frame)", lambda c: repo.get_transcript(c, rng.choice(transcript_ids))),
        ("FTS5 search 'kernel canary': count + first page",
         lambda c: (repo.count_samples(c, run_id, SampleFilter(search="kernel canary")),
                    repo.page_samples(c, run_id, SampleFilter(search="kernel canary"), 0, 200))),
    ]


def reads(n: int, folder: Path) -> list[str]:
    key = bytes(range(32))  # a fixed key, so --keep can reuse the files
    base = folder / f"reads_{n}_4096.db"
    run_id = 1
    if not base.exists():
        t0 = time.perf_counter()
        run_id = build(base, key, n)
        print(f"built {n:,} samples in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    files = {4096: base}
    exported: dict[int, float] = {}
    for p in PAGE_SIZES[1:]:
        files[p] = folder / f"reads_{n}_{p}.db"
        if not files[p].exists():
            exported[p] = export(base, key, files[p], p)
    ops = read_ops(run_id, n)
    times: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for _ in range(ROUNDS):
        for label, op in ops:
            for p in PAGE_SIZES:
                conn = sqlcipher3.connect(str(files[p]), isolation_level=None)
                conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
                conn.execute(f"PRAGMA cipher_page_size = {p}")
                conn.execute("PRAGMA cipher_memory_security = OFF")
                t0, c0 = time.perf_counter(), time.process_time()
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                op(conn)
                times.setdefault((p, label), []).append((time.perf_counter() - t0, time.process_time() - c0))
                conn.close()
    header = " | ".join(f"{p // 1024} KiB" for p in PAGE_SIZES)
    lines = [f"Reads: a run of {n:,} samples (every 100th with a 6 KB transcript), one database per page size "
             "(copied from the 4 KiB one with `sqlcipher_export`); each read on a fresh connection, "
             f"median of {ROUNDS}, milliseconds of wall clock (CPU time in brackets):", "",
             f"| read | {header} |", "|---|" + "---:|" * len(PAGE_SIZES)]
    for label, _op in ops:
        cells = " | ".join(f"{statistics.median(t[0] for t in times[(p, label)]) * 1000:.1f} "
                           f"({statistics.median(t[1] for t in times[(p, label)]) * 1000:.1f})" for p in PAGE_SIZES)
        lines.append(f"| {label} | {cells} |")
    sizes = " | ".join(f"{files[p].stat().st_size / 1e6:.0f}" for p in PAGE_SIZES)
    lines.append(f"| database file, MB | {sizes} |")
    if exported:
        lines += ["", "Copy with `sqlcipher_export` (the rewrite an existing workstation would need): "
                  + ", ".join(f"{p // 1024} KiB {s:.0f} s" for p, s in exported.items()) + "."]
    return lines


# -- 3. whole import ---------------------------------------------------------------------------------

IMPORT_SIZES = (4096, 16384, 32768, 65536)


def import_once(page_size: int, log: str) -> dict[str, Any]:
    """Step run in its own process: a new workstation at `page_size`, then our import of `log`."""
    import importbench

    import storage.keys

    storage.keys.NEW_PAGE_SIZE = page_size  # what a new workstation's header records
    return importbench.ours(log)


def imports(log: str, repeat: int) -> list[str]:
    import importbench

    got: dict[int, list[dict[str, Any]]] = {p: [] for p in IMPORT_SIZES}
    for _ in range(repeat):
        for p in IMPORT_SIZES:
            got[p].append(importbench.sub(__file__, ["import-step", str(p), log]))
    base = statistics.median(r["cpu_seconds"] for r in got[4096])
    mb = Path(log).stat().st_size / 1e6
    lines = [f"Whole import: `results.import_files` of `{Path(log).name}` ({mb:.1f} MB, "
             f"{got[4096][0]['samples']:,} samples) into a new workstation, one process per import, "
             f"{repeat} interleaved rounds, median:", "",
             "| page size | wall s | CPU s (both threads) | CPU vs 4 KiB | database MB |", "|---|---:|---:|---:|---:|"]
    for p in IMPORT_SIZES:
        cpu = statistics.median(r["cpu_seconds"] for r in got[p])
        lines.append(f"| {p // 1024} KiB | {statistics.median(r['seconds'] for r in got[p]):.1f} | {cpu:.2f} | "
                     f"{cpu / base:.2f}x | {got[p][-1]['db_bytes'] / 1e6:.0f} |")
    return lines


def main() -> int:
    if sys.argv[1:2] == ["import-step"]:
        import json

        print(json.dumps(import_once(int(sys.argv[2]), sys.argv[3])))
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--blobs", type=int, default=10_000)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", help="folder for the read databases (reused when there)")
    ap.add_argument("--skip-reads", action="store_true")
    ap.add_argument("--skip-writes", action="store_true")
    ap.add_argument("--eval", help="an Inspect .eval log for the whole-import comparison")
    ap.add_argument("--write", action="store_true")
    ns = ap.parse_args()
    load_start = os.getloadavg()
    lines: list[str] = []

    def part(got: list[str]) -> None:
        print("\n".join(got) + "\n", file=sys.stderr, flush=True)  # each part as soon as it is measured
        lines.extend(["", *got] if lines else got)

    if not ns.skip_writes:
        part(writes(ns.blobs, ns.repeat))
    if ns.eval:
        part(imports(ns.eval, ns.repeat))
    if not ns.skip_reads:
        folder = Path(ns.keep or tempfile.mkdtemp(prefix="bench-pages-reads-"))
        folder.mkdir(parents=True, exist_ok=True)
        part(reads(ns.samples, folder))

    def load(avg: tuple[float, float, float]) -> str:
        return ", ".join(f"{x:.1f}" for x in avg)

    text = "\n".join([
        SECTION, "",
        f"Command: `python bench/bench_page_size.py --blobs {ns.blobs} --samples {ns.samples} --repeat {ns.repeat}"
        f"{f' --eval {Path(ns.eval).name}' if ns.eval else ''}{' --skip-reads' if ns.skip_reads else ''}"
        f"{' --skip-writes' if ns.skip_writes else ''}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite "
        f"{sqlcipher3.sqlite_version} (sqlcipher3); load average at the start {load(load_start)}, at the end "
        f"{load(os.getloadavg())} (1, 5, 15 min; shared with other engineers' work).", "",
        *lines, "",
    ])
    print(text)
    from perfdoc import publish

    publish(SECTION, text, sys.argv if ns.write else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
