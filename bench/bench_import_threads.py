"""Where an import's two threads spend their time: CPU and waiting, per thread.

    python bench/bench_import_threads.py LOG [LOG ...] [--repeat N]

For each log: `results.import_files` into a fresh encrypted workstation (bench/importbench.py),
with the hand-off queue of `app.services.results._prefetched_batches` timed, so it prints
- wall time and process CPU time (both threads);
- reader thread ("results-reader": read, decompress, parse, prepare rows): CPU seconds and the
  seconds it waited for room in the queue (the writer was slower);
- caller thread (SHA-256 pre-pass, then the writer: inserts, FTS5, commit): CPU seconds and the
  seconds it waited for a batch (the reader was slower).
With both threads busy and neither waiting long, the import runs at the slower thread's speed.
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import importbench  # noqa: E402


class TimedQueue(queue.Queue):  # type: ignore[type-arg]
    """queue.Queue that adds up the time each side spends blocked, and the putter's CPU time."""

    stats: dict[str, float] = {}

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        t0 = time.perf_counter()
        try:
            super().put(item, block, timeout)
        finally:
            s = TimedQueue.stats
            s["reader_wait"] = s.get("reader_wait", 0.0) + time.perf_counter() - t0
            s["reader_cpu"] = time.thread_time()  # cumulative: the last put is the thread's total
            s["batches"] = s.get("batches", 0) + 1

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        t0 = time.perf_counter()
        try:
            return super().get(block, timeout)
        finally:
            s = TimedQueue.stats
            s["writer_wait"] = s.get("writer_wait", 0.0) + time.perf_counter() - t0
            s.setdefault("first_get", t0)


def measure(path: str) -> dict[str, float]:
    import tempfile

    from app.services import results

    results.queue.Queue = TimedQueue  # type: ignore[misc]
    TimedQueue.stats = {}
    data = Path(tempfile.mkdtemp(prefix="bench-threads-"))
    s, sid = importbench.workstation(data / "ws")
    t0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
    out = results.import_files(s, [path], sid)
    wall, cpu, main_cpu = time.perf_counter() - t0, time.process_time() - c0, time.thread_time() - m0
    assert out[0].status == "imported", out[0].message
    s.close()
    st = TimedQueue.stats
    return {"wall": wall, "cpu": cpu, "main_cpu": main_cpu, "reader_cpu": st.get("reader_cpu", 0.0),
            "reader_wait": st.get("reader_wait", 0.0), "writer_wait": st.get("writer_wait", 0.0),
            "before_pipeline": st.get("first_get", t0) - t0, "batches": st.get("batches", 0.0),
            "threads": threading.active_count()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--repeat", type=int, default=1)
    ns = ap.parse_args()
    print("| log | MB | wall s | CPU s | reader CPU s | reader waited s | caller CPU s | before pipeline s "
          "| writer waited s | batches |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for path in ns.logs:
        mb = Path(path).stat().st_size / 1e6
        for _ in range(ns.repeat):
            r = measure(path)
            print(f"| {Path(path).name} | {mb:.1f} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['reader_cpu']:.2f} | "
                  f"{r['reader_wait']:.2f} | {r['main_cpu']:.2f} | {r['before_pipeline']:.2f} | "
                  f"{r['writer_wait']:.2f} | {r['batches']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
