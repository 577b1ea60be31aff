"""Benchmark: importing a large Inspect log, and querying a run of 1,000,000 samples.

    .venv/bin/python bench/bench_import.py [--mb 200] [--samples 1000000] [--keep DIR]
    python bench/bench_import.py build-deflate LOG.eval [--log-samples 1000]   (standard library only)
    python bench/bench_import.py ours LOG.eval                                 (one import, JSON out)

Steps, each measured in its own subprocess (peak memory = ru_maxrss of that process):
1. build  - a >= 200 MB Inspect .eval in the real format: the samples of the committed fixture
            tests/fixtures/inspect/intercode_ok.eval replicated with new ids and a realistic
            tool output each (random hex dump, which compresses like real CTF output), written
            with inspect-ai's own zipfile + zstd patch in .fixvenv, plus header.json,
            summaries.json, reductions.json and the journal, as inspect-ai writes them.
2. ours   - app.services.results.import_files into a fresh encrypted workstation.
3. inspect_ai.log.read_eval_log(path) on the same file (.fixvenv/bin/python), and
            inspect_ai's streaming read_eval_log_samples for comparison.
4. query  - a run of N (default 1,000,000) synthetic samples stored through storage.results_repo:
            first paint (count + first page of 200), deep pages, filters, FTS5 searches, and the
            comparison view for 10 runs.
Results are printed as Markdown; paste them into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import importbench  # noqa: E402
from importbench import peak_mb  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "inspect" / "intercode_ok.eval"
# inspect-ai runs in the fixture venv (`make fixture-venv`), or the Python FRW_INSPECT_PYTHON names
FIXVENV_PY = os.environ.get("FRW_INSPECT_PYTHON", str(ROOT / ".fixvenv" / "bin" / "python"))
STREAM_CAP_S = 60.0


def sub(args: list[str], python: str = sys.executable) -> dict[str, Any]:
    return importbench.sub(__file__, args, python)


# -- step 1: build (runs under .fixvenv: inspect-ai's zipfile patch writes Zstandard) -------------

def build(path: str, target_mb: int, max_samples: int | None = None) -> dict[str, object]:
    """`max_samples` (step build-deflate): that many samples with DEFLATE members, from the
    committed DEFLATE fixture, with the standard library alone (no inspect-ai needed)."""
    import random
    import zipfile

    if max_samples is None:
        from inspect_ai._util.zipfile import zipfile_compress_kwargs  # installs the zstd patch

        fixture = FIXTURE
    else:
        zipfile_compress_kwargs = {"compression": zipfile.ZIP_DEFLATED}
        fixture = FIXTURE.with_name("intercode_deflate.eval")
        target_mb = 1 << 20

    rng = random.Random(1)
    with zipfile.ZipFile(fixture) as z:
        header = json.loads(z.read("header.json"))
        start = json.loads(z.read("_journal/start.json"))
        summaries = json.loads(z.read("summaries.json"))
        reductions = json.loads(z.read("reductions.json"))
        templates = [json.loads(z.read(n)) for n in z.namelist() if n.startswith("samples/")]
    t0 = time.perf_counter()
    n = k = 0
    ids: list[str] = []
    new_summaries = []
    with zipfile.ZipFile(path, "w", **zipfile_compress_kwargs) as out:
        out.writestr("_journal/start.json", json.dumps(start))
        while os.path.getsize(path) < target_mb * 1_000_000:
            k += 1  # each round: every template id (all its epochs) under a new id
            ids.extend(sorted({f"{t['id']}-{k:06d}" for t in templates}))
            for tpl in templates:
                if max_samples is not None and n >= max_samples:
                    break
                n += 1
                s = json.loads(json.dumps(tpl))
                s["id"] = f"{tpl['id']}-{k:06d}"
                # a realistic tool result: a hex dump of a random binary (xxd-like), ~12 KB
                blob = rng.randbytes(768)
                dump = "\n".join(f"{i * 16:08x}: {blob[i * 16:i * 16 + 16].hex(' ')}" for i in range(48))
                for m in s["messages"]:
                    if m.get("role") == "tool":
                        m["content"] = f"$ xxd challenge.bin\n{dump}\n" + m["content"]
                s["input"] = s["input"] + f" (variant {n}: look for {rng.getrandbits(64):x})"
                out.writestr(f"samples/{s['id']}_epoch_{s['epoch']}.json", json.dumps(s))
                summary = dict(summaries[0])
                summary.update(id=s["id"], epoch=s["epoch"], scores=s["scores"])
                new_summaries.append(summary)
            out.fp.flush()  # type: ignore[union-attr]
            if max_samples is not None and n >= max_samples:
                break
        if max_samples is not None:  # the last round may stop part-way
            ids = sorted({str(summary["id"]) for summary in new_summaries})
        header["eval"]["dataset"]["samples"] = len(ids)
        header["eval"]["dataset"]["sample_ids"] = ids
        header["results"]["total_samples"] = n
        header["results"]["completed_samples"] = n
        out.writestr("summaries.json", json.dumps(new_summaries))
        out.writestr("reductions.json", json.dumps(reductions))
        out.writestr("header.json", json.dumps(header))
    return {"path": path, "bytes": os.path.getsize(path), "samples": n, "seconds": time.perf_counter() - t0}


# -- step 3: inspect_ai ----------------------------------------------------------------------------------

def theirs(path: str, mode: str) -> dict[str, object]:
    from inspect_ai.log import read_eval_log, read_eval_log_samples

    base = peak_mb()
    t0 = time.perf_counter()
    if mode == "full":
        log = read_eval_log(path)
        n = len(log.samples or [])
    else:
        # inspect_ai's streaming reader is slow per sample on large logs: read for at most
        # STREAM_CAP_S seconds and report the rate (the row says how many samples were read)
        n = 0
        for _ in read_eval_log_samples(path, all_samples_required=False):
            n += 1
            if time.perf_counter() - t0 > STREAM_CAP_S:
                break
    return {"seconds": time.perf_counter() - t0, "samples": n, "peak_mb": peak_mb(), "baseline_mb": base}


# -- step 4: 1,000,000-sample queries --------------------------------------------------------------------

WORDS = ("buffer overflow heap stack canary flag shellcode ropchain format string injection sql xss csrf "
         "deserialization race toctou kernel module privilege escalation reverse engineering binary patch "
         "crypto rsa padding oracle nonce reuse hash collision forensics pcap memory dump steganography").split()


def queries(n: int) -> dict[str, object]:
    import random

    from app.model.results import EvalRun, Harness, MetricValue, RunStatus, SampleFilter, SampleResult, Score
    from app.services import results
    from storage import results_repo as repo

    data = Path(tempfile.mkdtemp(prefix="bench-q-"))
    s, sid = importbench.workstation(data / "ws")
    rng = random.Random(7)

    def run(task: str, model: str) -> int:
        r = EvalRun(Harness.INSPECT, "0.3.285", task, "1", model, "2026-11-26", RunStatus.SUCCESS,
                    metrics=(MetricValue("includes", "accuracy", 0.5, 0.01),), file_sha256=f"{task}{model}",
                    original_name=f"{task}.eval")
        with s.transaction() as conn:
            return repo.insert_run(conn, r, sid, "inspect-eval", "rita", "2026-11-26")

    def fill(run_id: int, count: int, with_text: bool) -> float:
        t0 = time.perf_counter()
        done = 0
        while done < count:
            batch = []
            for i in range(done, min(count, done + 5000)):
                words = " ".join(rng.choice(WORDS) for _ in range(12)) if with_text else ""
                v = rng.random() < 0.4
                batch.append(SampleResult(
                    sample_id=f"s{i:07d}", epoch=1 + i % 3, scores={"includes": Score.of("C" if v else "I")},
                    input_text=f"Challenge {i}: {words}", target=f"flag{{{i:x}}}",
                    answer=f"I found {rng.choice(WORDS)} {i}", error="timeout" if i % 997 == 0 else "",
                    total_time=rng.random() * 100, total_tokens=rng.randint(100, 90000)))
            with s.transaction() as conn:
                repo.insert_samples(conn, run_id, batch)
            done += len(batch)
        return time.perf_counter() - t0

    big = run("gdm_intercode_ctf", "big/model")
    insert_secs = fill(big, n, True)
    with s.transaction() as conn:
        repo.finish_run(conn, big, n, n // 997 + 1)

    def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best * 1000

    f0 = SampleFilter()
    figures: dict[str, float] = {}
    t0 = time.perf_counter()
    results.count_samples(s, big, f0)
    results.page_samples(s, big, f0, 0, 200)
    figures["first paint, cold (count + first 200 rows), ms"] = (time.perf_counter() - t0) * 1000
    figures["first paint, warm, ms"] = timed(lambda: (results.count_samples(s, big, f0),
                                                      results.page_samples(s, big, f0, 0, 200)))
    mid = n // 2
    figures[f"page of 200 at row {mid:,}, ms"] = timed(lambda: results.page_samples(s, big, f0, mid, 200))
    figures["page of 200 at the last row, ms"] = timed(lambda: results.page_samples(s, big, f0, n - 200, 200))
    figures[f"page sorted by score at row {mid:,}, ms"] = timed(
        lambda: results.page_samples(s, big, f0, mid, 200, sort="score"))
    fe = SampleFilter(epoch=2)
    figures["filter epoch=2: count + first page, ms"] = timed(
        lambda: (results.count_samples(s, big, fe), results.page_samples(s, big, fe, 0, 200)))
    ferr = SampleFilter(errors_only=True)
    figures["filter errors only: count + first page, ms"] = timed(
        lambda: (results.count_samples(s, big, ferr), results.page_samples(s, big, ferr, 0, 200)))
    fsc = SampleFilter(max_score=0)
    figures["filter score = 0: count + first page, ms"] = timed(
        lambda: (results.count_samples(s, big, fsc), results.page_samples(s, big, fsc, 0, 200)))
    for q in ("steganography", "padding oracle", "toctou kernel privilege", "flag{1e240}"):
        fq = SampleFilter(search=q)
        hits = results.count_samples(s, big, fq)
        figures[f"FTS '{q}' ({hits:,} hits): count + first page, ms"] = timed(
            lambda fq=fq: (results.count_samples(s, big, fq), results.page_samples(s, big, fq, 0, 200)))
    # comparison view: 10 runs of the same benchmark, 2,000 samples each, same sample ids
    rng.seed(3)
    cmp_ids = []
    for k in range(10):
        rid = run("cybench", f"model-{k}")
        cmp_ids.append(rid)
        fill(rid, 2000, False)
    figures["comparison view, 10 runs x 2,000 samples, ms"] = timed(lambda: results.compare(s, "Cybench"))
    db_bytes = sum(f.stat().st_size for f in (data / "ws").glob("*.db*"))
    s.close()
    return {"samples": n, "insert_seconds": insert_secs, "figures": figures, "db_bytes": db_bytes,
            "peak_mb": peak_mb()}


# -- driver -----------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", nargs="?", default="all")
    ap.add_argument("arg", nargs="?")
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--log-samples", type=int, default=1000, help="samples in the log of step build-deflate")
    ap.add_argument("--keep", help="folder for the generated log (default: a temporary folder)")
    ap.add_argument("--reuse", action="store_true", help="reuse the log already built in --keep")
    ns = ap.parse_args()
    if ns.step == "build":
        print(json.dumps(build(ns.arg, ns.mb)))
        return 0
    if ns.step == "build-deflate":  # e.g. the 1,000-sample log of "One writer connection" in PERFORMANCE.md
        print(json.dumps(build(ns.arg, ns.mb, ns.log_samples)))
        return 0
    if ns.step == "ours":
        print(json.dumps(importbench.ours(ns.arg)))
        return 0
    if ns.step in ("theirs-full", "theirs-stream"):
        print(json.dumps(theirs(ns.arg, ns.step.split("-")[1])))
        return 0
    if ns.step == "queries":
        print(json.dumps(queries(int(ns.arg))))
        return 0

    folder = Path(ns.keep or tempfile.mkdtemp(prefix="bench-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    log = str(folder / "big_intercode.eval")
    if ns.reuse and os.path.exists(log):
        with zipfile.ZipFile(log) as z:
            n_samples = sum(1 for n in z.namelist() if n.startswith("samples/"))
        built = {"bytes": os.path.getsize(log), "samples": n_samples, "seconds": 0.0}
    else:
        built = sub(["build", log, "--mb", str(ns.mb)], FIXVENV_PY)
    mb = int(built["bytes"]) / 1e6
    print(f"built {log}: {mb:.1f} MB, {built['samples']:,} samples in {built['seconds']:.0f} s", file=sys.stderr)
    rows = []
    for label, step, py in (("frontier-review import_files", "ours", sys.executable),
                            ("inspect_ai read_eval_log", "theirs-full", FIXVENV_PY),
                            ("inspect_ai read_eval_log_samples (streaming)", "theirs-stream", FIXVENV_PY)):
        r = sub([step, log], py)
        secs = float(r["seconds"])
        n = int(r["samples"])
        part = n / int(built["samples"])
        if part < 1:
            label += f" ({n:,} samples in the first {secs:.0f} s)"
        rows.append((label, secs, mb * part / secs, n / secs, float(r["peak_mb"]), float(r["baseline_mb"])))
        print(f"{label}: {secs:.1f} s, peak {r['peak_mb']:.0f} MB", file=sys.stderr)
    q = sub(["queries", str(ns.samples)])
    machine = subprocess.run(["bash", "-c", "echo nproc=$(nproc); free -h | head -2; uname -srm; "
                              "grep -m1 'model name' /proc/cpuinfo; echo load at end: $(cut -d' ' -f1-3 "
                              "/proc/loadavg)"], capture_output=True, text=True).stdout
    print("## Benchmark results import\n")
    print(f"Command: `.venv/bin/python bench/bench_import.py --mb {ns.mb} --samples {ns.samples}`  ")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("Machine:\n```\n" + machine.strip() + "\n```\n")
    print(f"Log: {mb:.1f} MB Inspect .eval (Zstandard members), {built['samples']:,} samples "
          "(fixture samples replicated, each with a 48-line hex dump tool output).\n")
    print("| reader | seconds | MB/s | samples/s | peak RSS (MB) | RSS before reading (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, secs, mbs, sps, peak, base in rows:
        print(f"| {label} | {secs:.1f} | {mbs:.2f} | {sps:,.0f} | {peak:.0f} | {base:.0f} |")
    print("\n`import_files` includes SHA-256 of the file, parsing, storing every sample, its compressed "
          "transcript and FTS index rows in the encrypted database, in one transaction. inspect_ai only "
          "parses into memory.\n")
    print(f"Queries over one run of {q['samples']:,} samples (stored in "
          f"{float(q['insert_seconds']):.0f} s; database {int(q['db_bytes']) / 1e6:.0f} MB):\n")
    print("| query | time |")
    print("|---|---:|")
    for k, v in q["figures"].items():
        print(f"| {k.rsplit(', ms', 1)[0]} | {v:.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
