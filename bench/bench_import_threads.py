"""Where an import's two threads spend their time: CPU and waiting, per thread.

    python bench/bench_import_threads.py LOG [LOG ...] [--repeat N] [--writer] [--parser auto|process|thread]

For each log: `results.import_files` into a fresh encrypted workstation (bench/importbench.py),
with the hand-off queue of `app.services.results._prefetched_batches` timed, so it prints
- wall time and process CPU time (both threads);
- reader thread ("results-reader": read, decompress, parse, prepare rows): CPU seconds and the
  seconds it waited for room in the queue (the writer was slower); with the parser process
  (app/services/parse_process.py) the reader's CPU is that process's, and its waits are not timed;
- caller thread (SHA-256 pre-pass, then the writer: inserts, FTS5, commit): CPU seconds and the
  seconds it waited for a batch (the reader was slower);
- the tail: wall seconds from the last batch handed over to the import's return (the last inserts,
  the audit event, the COMMIT and, before the runtime's checkpointer, SQLite's automatic checkpoint);
- the checkpointer's last PASSIVE checkpoint (wall seconds, on its own thread after the import
  returned), and the wall and CPU seconds of closing the session (which waits for it);
- with --writer, the writer thread's CPU by step: sample rows, transcript rows, FTS5 indexing, and
  the tail after the last batch (audit event, COMMIT: writing and fsyncing the last WAL pages).
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


class TimedQueue(queue.Queue[Any]):
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
            s["last_get"] = time.perf_counter()
            s["last_get_cpu"] = time.thread_time()
            s["writer_wait"] = s.get("writer_wait", 0.0) + s["last_get"] - t0
            s.setdefault("first_get", t0)
            s.setdefault("first_get_cpu", time.thread_time())


def _timed(module: Any, name: str, key: Any) -> None:
    """Wrap module.name so the calling thread's CPU seconds inside it add up in STEPS[key(args)]."""
    real = getattr(module, name)
    if getattr(real, "timed", False):
        return  # wrapped by an earlier round

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        c0 = time.thread_time()
        try:
            return real(*args, **kwargs)
        finally:
            k = key(args)
            STEPS[k] = STEPS.get(k, 0.0) + time.thread_time() - c0

    wrapper.timed = True  # type: ignore[attr-defined]
    setattr(module, name, wrapper)


STEPS: dict[str, float] = {}


def _time_parser_process() -> None:
    """The writer's waits for the parser process's batches, in the same stats as the queue's."""
    from app.services import parse_process

    cls = parse_process.ParserProcess
    real = cls.__next__
    if getattr(real, "timed", False):
        return

    def timed_next(self: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real(self)
        finally:
            s = TimedQueue.stats
            s["last_get"] = time.perf_counter()
            s["last_get_cpu"] = time.thread_time()
            s["writer_wait"] = s.get("writer_wait", 0.0) + s["last_get"] - t0
            s.setdefault("first_get", t0)
            s.setdefault("first_get_cpu", time.thread_time())
            s["batches"] = s.get("batches", 0) + 1

    timed_next.timed = True  # type: ignore[attr-defined]
    cls.__next__ = timed_next  # type: ignore[method-assign]


def measure(path: str, writer: bool = False) -> dict[str, float]:
    import tempfile

    from app.services import results

    if writer:
        from storage import results_repo

        STEPS.clear()
        _timed(results_repo, "_insert_many", lambda a: "transcripts" if "eval_transcripts" in a[1] else "samples")
        _timed(results_repo, "index_fts", lambda a: "fts")

    results.queue.Queue = TimedQueue  # type: ignore[attr-defined]  # the module's own `import queue`
    TimedQueue.stats = {}
    _time_parser_process()
    data = Path(tempfile.mkdtemp(prefix="bench-threads-"))
    s, sid = importbench.workstation(data / "ws")
    t0, c0, m0, k0 = time.perf_counter(), time.process_time(), time.thread_time(), importbench.children_cpu()
    out = results.import_files(s, [path], sid)
    end = time.perf_counter()
    child = importbench.children_cpu() - k0
    if child:  # the parser process did the reading: its CPU is the reader's
        TimedQueue.stats["reader_cpu"] = child
    wall, cpu, main_cpu = end - t0, time.process_time() - c0 + child, time.thread_time() - m0
    assert out[0].status == "imported", out[0].message
    checkpointer = getattr(s.runtime, "checkpointer", None)  # absent before the checkpointer existed
    if checkpointer is not None:
        checkpointer.wait()
    checkpoint = checkpointer.last_seconds if checkpointer is not None else 0.0
    k0, kc = time.perf_counter(), time.process_time()
    s.close()
    close_wall, close_cpu = time.perf_counter() - k0, time.process_time() - kc
    st = TimedQueue.stats
    return {"wall": wall, "cpu": cpu, "main_cpu": main_cpu, "reader_cpu": st.get("reader_cpu", 0.0),
            "reader_wait": st.get("reader_wait", 0.0), "writer_wait": st.get("writer_wait", 0.0),
            "before_pipeline": st.get("first_get", t0) - t0,
            "before_pipeline_cpu": st.get("first_get_cpu", m0) - m0, "batches": st.get("batches", 0.0),
            "threads": threading.active_count(), "tail": end - st.get("last_get", end),
            "checkpoint": checkpoint, "close_wall": close_wall, "close_cpu": close_cpu,
            "tail_cpu": main_cpu + m0 - st.get("last_get_cpu", main_cpu + m0),
            **{f"step_{k}": v for k, v in STEPS.items()}}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--writer", action="store_true", help="the writer thread's CPU by step")
    ap.add_argument("--parser", choices=("auto", "cold", "process", "thread"), default="cold",
                    help="parser processes started ahead (auto), by the size rule (cold), always or never")
    ns = ap.parse_args()
    importbench.choose_parser(ns.parser)
    if ns.writer:
        print("| log | writer CPU s | sample rows | transcript rows | FTS5 | tail (COMMIT) | tail wall s |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for path in ns.logs:
            for _ in range(ns.repeat):
                r = measure(path, writer=True)
                busy = r["main_cpu"] - r["before_pipeline_cpu"]
                print(f"| {Path(path).name} | {busy:.2f} | {r.get('step_samples', 0):.2f} | "
                      f"{r.get('step_transcripts', 0):.2f} | {r.get('step_fts', 0):.2f} | {r['tail_cpu']:.2f} | "
                      f"{r['tail']:.2f} |", flush=True)
        return 0
    print("| log | MB | wall s | CPU s | reader CPU s | reader waited s | caller CPU s | before pipeline s "
          "| writer waited s | batches | tail s | checkpoint s | close s (CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for path in ns.logs:
        mb = Path(path).stat().st_size / 1e6
        for _ in range(ns.repeat):
            r = measure(path)
            print(f"| {Path(path).name} | {mb:.1f} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['reader_cpu']:.2f} | "
                  f"{r['reader_wait']:.2f} | {r['main_cpu']:.2f} | {r['before_pipeline']:.2f} | "
                  f"{r['writer_wait']:.2f} | {r['batches']:.0f} | {r['tail']:.2f} | {r['checkpoint']:.2f} | "
                  f"{r['close_wall']:.2f} ({r['close_cpu']:.2f}) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
