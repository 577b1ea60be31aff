"""Shared by the import benchmarks (bench_import.py, bench_import_speed.py): run a step in its own
process, a fresh encrypted workstation with one reviewer and one submission, our import timed.

Peak memory is the step process's ru_maxrss, so each reader is measured in a process of its own.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASS = "bench-passphrase-long-enough-42"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sub(script: str, args: list[str], python: str = sys.executable,
        env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `python script *args` from the repository root; its last stdout line is JSON."""
    r = subprocess.run([python, script, *args], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    if r.returncode != 0:
        raise SystemExit(f"step {args[0]} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def workstation(data_dir: Path) -> tuple[Any, int]:
    """A new workstation (in-memory keyring) signed in as a reviewer, and a submission's id."""
    import keyring
    import keyring.backend

    class Mem(keyring.backend.KeyringBackend):
        priority = 10
        store: dict[tuple[str, str], str] = {}

        def get_password(self, s: str, u: str) -> str | None:
            return self.store.get((s, u))

        def set_password(self, s: str, u: str, p: str) -> None:
            self.store[(s, u)] = p

        def delete_password(self, s: str, u: str) -> None:
            self.store.pop((s, u), None)

    keyring.set_keyring(Mem())
    from datetime import date

    from app.model.accounts import Role
    from app.model.submissions import Submission
    from app.services import submissions, users
    from app.services import workstation as ws

    res = ws.initialize(data_dir, workstation_name="bench", system_high="SECRET",
                        admin_username="admin", admin_display_name="Admin", admin_passphrase=PASS)
    users.create_and_enrol(res.session, PASS, "rita", "Rita", Role.REVIEWER, PASS + "r")
    res.session.close()
    s = ws.sign_in(data_dir, "rita", PASS + "r")
    sid = submissions.create(s, Submission(developer="Bench", model_name="mock", version="1",
                                           received=date(2026, 11, 1), planned_release=date(2026, 11, 30))).id
    assert sid is not None
    return s, sid


class ProcessTreeMemory:
    """Peak memory of this process and its child processes (the .eval parser processes) together,
    sampled every `every` seconds on a thread: the sum of their RSS (which counts shared library
    pages once per process) and the sum of their PSS (which shares them out: what they really take).
    ru_maxrss is exact but per process; this is what the import holds at once, to within a sample."""

    def __init__(self, every: float = 0.02) -> None:
        self.every, self.rss_mb, self.pss_mb = every, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> ProcessTreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _pids() -> list[str]:
        pids = ["self"]
        for task in Path("/proc/self/task").iterdir():
            try:
                pids += (task / "children").read_text().split()
            except OSError:
                pass
        return pids

    @staticmethod
    def _field(path: str, name: str) -> float:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(name):
                    return int(line.split()[1]) / 1024
        except OSError:  # the child has just exited
            pass
        return 0.0

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(self.every):
            pids = self._pids()
            self.rss_mb = max(self.rss_mb, sum(self._field(f"/proc/{p}/status", "VmRSS:") for p in pids))
            if tick % 4 == 0:  # smaps_rollup walks the mappings: about 1 ms a process
                self.pss_mb = max(self.pss_mb, sum(self._field(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids))
            tick += 1


def children_cpu() -> float:
    """CPU seconds of the child processes reaped so far (the .eval parser process)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def choose_parser(mode: str | None = None) -> bool:
    """BENCH_PARSER (or `mode`) = auto | cold | process | thread. auto: as the import dialog and the
    command line run an import, parser processes started ahead (parse_process.warm, before the
    workstation is opened) and used for every .eval; cold: none started ahead, so the size rule
    (parse_process.PROCESS_MIN_BYTES) decides and they start on the import's clock; process / thread:
    a .eval always / never read by parser processes started on the clock. Returns whether to warm."""
    from app.services import parse_process

    mode = mode or os.environ.get("BENCH_PARSER", "auto")
    if mode == "process":
        parse_process.PROCESS_MIN_BYTES = 0
    elif mode == "thread":
        parse_process.PROCESS_MIN_BYTES = parse_process.WARM_MIN_BYTES = 1 << 62
    elif mode not in ("auto", "cold"):
        raise SystemExit(f"BENCH_PARSER={mode!r}: expected auto, cold, process or thread")
    if os.environ.get("BENCH_PARSERS"):  # how many parser processes (default: the product's choice)
        parse_process.PARSER_PROCESSES = int(os.environ["BENCH_PARSERS"])
    return mode == "auto"


def _waiting_cpu() -> dict[int, float]:
    """CPU seconds each parser process waiting for an import has used so far (its start-up: not the
    import's, though RUSAGE_CHILDREN counts it once the import reaps it), by pid."""
    from app.services import parse_process

    tick = os.sysconf("SC_CLK_TCK")
    spent: dict[int, float] = {}
    for child in list(parse_process._idle):
        try:
            fields = Path(f"/proc/{child.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            spent[child.proc.pid] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return spent


def _reaped(ahead: dict[int, float]) -> float:
    """The start-up CPU of those waiting processes the import took (and reaped): the others still wait."""
    from app.services import parse_process

    still = {c.proc.pid for c in parse_process._idle}
    return sum(cpu for pid, cpu in ahead.items() if pid not in still)


def ours(path: str) -> dict[str, Any]:
    """results.import_files of one file into a fresh workstation: wall and CPU seconds (this process's
    threads plus the parser process, if one ran), samples, memory (each process's peak), database size."""
    from app.services import parse_process, results

    if choose_parser():
        parse_process.warm()  # as the import dialog (when it opens) and `frontier-review import` (before sign-in) do
    data = Path(tempfile.mkdtemp(prefix="bench-import-"))
    s, sid = workstation(data / "ws")
    if parse_process._idle:
        parse_process.wait_ready()  # as when a reviewer picks files: started up before the import
    base = peak_mb()
    with ProcessTreeMemory() as tree:
        ahead = _waiting_cpu()
        t0, c0, k0 = time.perf_counter(), time.process_time(), children_cpu()
        out = results.import_files(s, [path], sid)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        child = children_cpu() - k0 - _reaped(ahead)
    assert out[0].status == "imported", out[0].message
    db_bytes = sum(f.stat().st_size for f in (data / "ws").glob("*.db*"))
    s.close()
    shutil.rmtree(data, ignore_errors=True)  # 40,000 samples leave 280 MB: hundreds of runs filled the disk
    # (RUSAGE_CHILDREN's ru_maxrss is no parser process's peak: a child forked from this process counts
    # this process's pages until it execs; hence the sampled figures of the whole tree)
    return {"seconds": secs, "cpu_seconds": cpu + child, "parent_cpu_seconds": cpu, "child_cpu_seconds": child,
            "samples": out[0].samples, "peak_mb": peak_mb(), "baseline_mb": base, "db_bytes": db_bytes,
            "all_rss_mb": tree.rss_mb, "all_pss_mb": tree.pss_mb}
