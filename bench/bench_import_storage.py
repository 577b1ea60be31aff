"""Storage choices for the results import, measured side by side in one run on real samples.

    python bench/bench_import_storage.py LOG.eval [--rows 10000] [--write]

LOG.eval: an Inspect log (e.g. one written by bench/bench_import_speed.py). Its samples are
parsed once by our reader and prepared (rows + transcripts); each variant then stores `--rows`
of them (the samples repeated) into a fresh SQLCipher database with the project's schema, in one
transaction, as the importer does. Variants: SQLCipher page size, page cache size, insert batch
size, FTS5 indexing (a trigger per row, or rows first and one bulk FTS insert at the end, as shipped),
and zstd level with and without a dictionary trained on the log's own transcripts.
--write replaces the "## Import storage choices" section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlcipher3  # noqa: E402
import zstandard  # noqa: E402

from app.ingest.results import open_results_file  # noqa: E402
from storage import results_repo as repo  # noqa: E402
from storage.db import _split_sql, migrations  # noqa: E402

SECTION = "## Import storage choices"


def connect(path: Path, key: bytes, page_size: int = 4096, cache_kib: int = 2000) -> Any:
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute(f"PRAGMA cipher_page_size = {page_size}")
    conn.execute("PRAGMA cipher_memory_security = OFF")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA cache_size = -{cache_kib}")
    for _v, _name, sql in migrations():
        conn.execute("BEGIN")
        for statement in _split_sql(sql):
            conn.execute(statement)
        conn.execute("COMMIT")
    return conn


def store(batches: list[repo.PreparedSamples], rows: int, *, page_size: int = 4096, cache_kib: int = 2000,
          batch: int = 500, deferred_fts: bool = False) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        path = Path(tmp) / "db.sqlite"
        conn = connect(path, secrets.token_bytes(32), page_size, cache_kib)
        # foreign keys are off on this bare connection: no submission row is needed for the run
        if deferred_fts:
            conn.execute("DROP TRIGGER eval_samples_fts_insert")
        flat = [(r, t) for b in batches for r, t in _pairs(b)]
        t0, c0 = time.perf_counter(), time.process_time()
        conn.execute("BEGIN IMMEDIATE")
        from app.model.results import EvalRun, Harness, RunStatus

        run_id = repo.insert_run(conn, EvalRun(Harness.INSPECT, "x", "t", "1", "m", "", RunStatus.SUCCESS,
                                               file_sha256="0" * 64, original_name="x"), 1, "inspect-eval", "x", "y")
        done = 0
        while done < rows:
            chunk = [flat[(done + i) % len(flat)] for i in range(min(batch, rows - done))]
            prepared = repo.PreparedSamples([r for r, _ in chunk],
                                            [(i, *t) for i, (_, t) in enumerate(chunk) if t is not None], 0)
            repo.insert_prepared(conn, run_id, prepared)
            done += len(chunk)
        if deferred_fts:
            conn.execute("INSERT INTO eval_samples_fts (rowid, input, target, answer) "
                         "SELECT id, input, target, answer FROM eval_samples WHERE run_id = ?", (run_id,))
        conn.execute("COMMIT")
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        conn.close()
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
    return secs, cpu, size


def _pairs(b: repo.PreparedSamples) -> list[tuple[tuple[Any, ...], tuple[str, int, bytes] | None]]:
    by_index = {i: (codec, size, data) for i, codec, size, data in b.transcripts}
    return [(row, by_index.get(i)) for i, row in enumerate(b.rows)]


def zstd_variants(raws: list[bytes]) -> list[tuple[str, float, float]]:
    out = []
    total = sum(len(r) for r in raws)
    train: list[bytes | bytearray | memoryview] = list(raws[: max(10, len(raws) // 5)])
    for label, level, dict_size in (("level 1 (shipped)", 1, 0), ("level 3", 3, 0), ("level 6", 6, 0),
                                    ("level 3 + 112 KiB dictionary trained on 20 % of the log", 3, 112 << 10),
                                    ("level 1 + 112 KiB dictionary", 1, 112 << 10)):
        kw: dict[str, Any] = {"level": level}
        if dict_size:
            kw["dict_data"] = zstandard.train_dictionary(dict_size, train)
        zc = zstandard.ZstdCompressor(**kw)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            packed = sum(len(zc.compress(r)) for r in raws)
            times.append(time.perf_counter() - t0)
        out.append((label, total / 1e6 / min(times), total / packed))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    ns = ap.parse_args()
    log = open_results_file(ns.log)
    samples = list(log.runs[0].samples())
    log.close()
    raws = [s.transcript_json for s in samples if s.transcript_json]
    batches = [repo.prepare_samples(samples[i:i + 500]) for i in range(0, len(samples), 500)]
    variants: list[tuple[str, dict[str, Any]]] = [
        ("baseline: 4 KiB pages, 2 MiB cache, batches of 500, FTS5 trigger per row", {}),
        ("8 KiB pages", {"page_size": 8192}),
        ("16 KiB pages", {"page_size": 16384}),
        ("32 KiB pages", {"page_size": 32768}),
        ("64 KiB pages", {"page_size": 65536}),
        ("64 MiB page cache", {"cache_kib": 64 << 10}),
        ("batches of 100", {"batch": 100}),
        ("batches of 2,000", {"batch": 2000}),
        ("FTS5 deferred: rows first, one bulk FTS insert before commit (shipped)", {"deferred_fts": True}),
        ("FTS5 deferred + 32 KiB pages (shipped for new workstations)", {"deferred_fts": True, "page_size": 32768}),
    ]
    results: dict[str, list[float]] = {label: [] for label, _ in variants}
    cpus: dict[str, list[float]] = {label: [] for label, _ in variants}
    sizes: dict[str, int] = {}
    for _ in range(ns.repeat):  # interleaved, so load changes hit every variant alike
        for label, kw in variants:
            secs, cpu, size = store(batches, ns.rows, **kw)
            results[label].append(secs)
            cpus[label].append(cpu)
            sizes[label] = size
    base = statistics.median(results[variants[0][0]])
    base_cpu = statistics.median(cpus[variants[0][0]])
    z = zstd_variants(raws)
    machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLCipher "
               f"{sqlcipher3.sqlite_version}; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
               "(the machine was shared with other engineers' test runs)")
    lines = [SECTION, "",
             f"Command: `python bench/bench_import_storage.py {Path(ns.log).name} --rows {ns.rows} "
             f"--repeat {ns.repeat} --write` "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}); log from bench/bench_import_speed.py "
             f"({len(samples):,} samples, transcripts {sum(map(len, raws)) / len(raws) / 1e3:.1f} KB each).  ",
             f"Machine: {machine}. Variants interleaved, {ns.repeat} rounds, median.", "",
             f"Storing {ns.rows:,} prepared samples (rows, compressed transcripts, FTS5) in one transaction:", "",
             "| variant | seconds (median) | vs baseline | CPU s (median) | CPU vs baseline | database + WAL MB |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, _kw in variants:
        med, cpu = statistics.median(results[label]), statistics.median(cpus[label])
        lines.append(f"| {label} | {med:.2f} | {med / base:.2f}x | {cpu:.2f} | {cpu / base_cpu:.2f}x | "
                     f"{sizes[label] / 1e6:.0f} |")
    lines += ["", "Transcript compression (the importer's reader thread does this, off the writer):", "",
              "| zstd | MB/s (one core) | ratio |", "|---|---:|---:|"]
    for label, mbs, ratio in z:
        lines.append(f"| {label} | {mbs:.0f} | {ratio:.1f} |")
    text = "\n".join(lines) + "\n"
    from perfdoc import publish

    publish(SECTION, text, sys.argv if ns.write else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
