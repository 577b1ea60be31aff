"""Benchmark: lm-eval samples import against its floor, and the transcript dictionary.

    python bench/bench_lm_eval_import.py [--sizes 10000,40000] [--rounds 3] [--keep DIR] [--write]

Files from bench/lm_eval_samples.py (distinct documents, about 3 KB a line; made in --keep when
missing). Each measure runs in its own process, the measures of a size interleaved for --rounds
rounds, medians reported (the machine may be shared):
- ours:   app.services.results.import_files into a fresh encrypted workstation (SHA-256, parse,
          store rows + transcripts + FTS5 in one transaction), CPU of both threads;
- floor:  json.loads of every line (what any Python reader pays) plus storing the same prepared
          rows and transcripts (insert, FTS5 build, commit; prepared before the clock starts),
          each measured apart and added: the issue's "json.loads plus storing them";
- codec:  transcripts compressed at level 1 alone and with the dictionary the importer trains
          (first TRAIN_MAX_SAMPLES lines), one core: ratio and MB/s; training time.
`python bench/bench_lm_eval_import.py codec-log LOG` prints the same for any log's transcripts (as
our reader gives them), with 112 KiB dictionaries on 200 and 500 samples beside.
--write puts the table into docs/PERFORMANCE.md (SECTION).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import importbench  # noqa: E402
import lm_eval_samples  # noqa: E402

# A subsection, last in "## Zstandard dictionary for lm-eval transcripts": --write replaces it up to
# the next "## " heading.
SECTION = "### lm-eval import against its floor (bench/bench_lm_eval_import.py)"


def ours_plain(results_file: str) -> dict[str, Any]:
    """Our import with the dictionary switched off (transcripts at level 1 alone, as before 0027)."""
    from app.services import results

    results.DICTIONARY_FORMATS = frozenset()
    return importbench.ours(results_file)


def floor_parse(samples_file: str) -> dict[str, Any]:
    c0 = time.process_time()
    with open(samples_file, "rb") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return {"cpu_seconds": time.process_time() - c0, "samples": len(rows)}


def floor_store(results_file: str) -> dict[str, Any]:
    """Storing the file's samples as the importer does, prepared (parsed, compressed) beforehand."""
    from dataclasses import replace

    from app.ingest.results import open_results_file
    from app.services import results
    from storage import results_repo as repo
    from storage import transcript_codec as codec

    log = open_results_file(results_file)
    parsed = log.runs[0]
    samples = list(parsed.samples())
    log.close()
    dictionary = codec.train([s.transcript_json for s in samples[:codec.TRAIN_MAX_SAMPLES] if s.transcript_json])
    batches = [repo.prepare_samples(samples[i:i + results.BATCH], dictionary)
               for i in range(0, len(samples), results.BATCH)]
    del samples
    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    s, sid = importbench.workstation(folder / "ws")
    c0 = time.process_time()
    with s.transaction() as conn:  # as results._import_one and _store_samples store a run
        run_id = repo.insert_run(conn, replace(parsed.run, file_sha256="0" * 64), sid, log.format, "rita", "now")
        repo.defer_fts(conn, run_id)
        next_fts = repo.next_sample_id(conn)
        for b in batches:
            repo.insert_prepared(conn, run_id, b)
            next_fts = repo.index_fts(conn, run_id, next_fts)
        repo.resume_fts(conn, run_id)
        repo.finish_run(conn, run_id, 0, 0)
    cpu = time.process_time() - c0
    s.close()
    shutil.rmtree(folder, ignore_errors=True)
    return {"cpu_seconds": cpu}


def codec_figures(samples_file: str) -> dict[str, Any]:
    from storage import transcript_codec as codec

    with open(samples_file, "rb") as fh:
        raws = [line.strip() for line in fh if line.strip()]
    total = sum(map(len, raws))
    c0 = time.process_time()
    dictionary = codec.train(raws[:codec.TRAIN_MAX_SAMPLES])
    train_s = time.process_time() - c0
    out: dict[str, Any] = {"train_seconds": train_s, "mb": total / 1e6}
    for label, d in (("plain", None), ("dict", dictionary)):
        zc = codec.compressor(d)
        best, packed = 1e9, 0
        for _ in range(3):
            c0 = time.process_time()
            packed = sum(len(zc.compress(r)) for r in raws)
            best = min(best, time.process_time() - c0)
        out[label] = {"ratio": total / packed, "mb_s": total / 1e6 / best}
    return out


def codec_log(path: str) -> dict[str, Any]:
    """The importer's dictionary policy on any log's transcripts (read through our reader): ratio and
    MB/s without and with it, and with larger dictionaries on more samples (the `.json` decision)."""
    import hashlib

    import zstandard

    from app.ingest.results import open_results_file
    from storage import transcript_codec as codec

    log = open_results_file(path)
    raws = [s.transcript_json for p in log.runs for s in p.samples()
            if s.transcript_json is not None and s.transcript_zstd is None]
    log.close()
    total = sum(map(len, raws))

    def figures(d: codec.Dictionary | None) -> dict[str, float]:
        zc, best, packed = codec.compressor(d), 1e9, 0
        for _ in range(3):
            c0 = time.process_time()
            packed = sum(len(zc.compress(r)) for r in raws)
            best = min(best, time.process_time() - c0)
        return {"ratio": total / packed, "mb_s": total / 1e6 / best}

    out: dict[str, Any] = {"transcripts": len(raws), "kb_each": total / len(raws) / 1e3, "plain": figures(None)}
    head, held = [], 0
    for r in raws:
        head.append(r)
        held += len(r)
        if len(head) >= codec.TRAIN_MAX_SAMPLES or held >= codec.TRAIN_MAX_BYTES:
            break
    c0 = time.process_time()
    d = codec.train(head)
    out["policy"] = {"samples": len(head), "train_s": time.process_time() - c0,
                     **(figures(d) if d else {"ratio": None})}
    for n in (200, 500):
        c0 = time.process_time()
        data = zstandard.train_dictionary(112 << 10, list[bytes | bytearray | memoryview](raws[:n])).as_bytes()
        out[f"112k_{n}"] = {"train_s": time.process_time() - c0,
                            **figures(codec.Dictionary(hashlib.sha256(data).hexdigest(), data))}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", nargs="?", default="all")
    ap.add_argument("arg", nargs="?")
    ap.add_argument("--sizes", default="10000,40000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", help="folder for the generated files (default: a temporary folder)")
    ap.add_argument("--write", action="store_true")
    ns = ap.parse_args()
    steps = {"ours": importbench.ours, "ours-plain": ours_plain, "parse": floor_parse, "store": floor_store,
             "codec": codec_figures, "codec-log": codec_log}
    if ns.step in steps:
        print(json.dumps(steps[ns.step](ns.arg)))
        return 0

    folder = Path(ns.keep or tempfile.mkdtemp(prefix="bench-lm-eval-"))
    load_start = os.getloadavg()
    rows = []
    for n in (int(x) for x in ns.sizes.split(",")):
        results_file = folder / f"lm_eval_{n}" / f"results_{lm_eval_samples.DATE}.json"
        if not results_file.exists():
            lm_eval_samples.write(folder, n)
        samples_file = str(next(results_file.parent.glob("samples_*.jsonl")))
        got: dict[str, list[dict[str, Any]]] = {"ours": [], "ours-plain": [], "parse": [], "store": []}
        for _ in range(ns.rounds):
            got["ours"].append(importbench.sub(__file__, ["ours", str(results_file)]))
            got["ours-plain"].append(importbench.sub(__file__, ["ours-plain", str(results_file)]))
            got["parse"].append(importbench.sub(__file__, ["parse", samples_file]))
            got["store"].append(importbench.sub(__file__, ["store", str(results_file)]))
        figs = importbench.sub(__file__, ["codec", samples_file])

        def med(step: str, key: str = "cpu_seconds") -> float:
            return statistics.median(r[key] for r in got[step])  # noqa: B023

        ours, parse, store = med("ours"), med("parse"), med("store")
        rows.append((n, figs, ours, med("ours", "seconds"), med("ours", "db_bytes"), med("ours", "peak_mb"),
                     parse, store, med("ours-plain"), med("ours-plain", "db_bytes")))
        print(f"{n}: ours {ours:.2f} s CPU (without dictionary {med('ours-plain'):.2f}), "
              f"json.loads {parse:.2f} + store {store:.2f} = {parse + store:.2f} "
              f"({ours / (parse + store):.2f}x), load {os.getloadavg()[0]:.1f}", file=sys.stderr)

    def load(avg: tuple[float, float, float]) -> str:
        return ", ".join(f"{x:.1f}" for x in avg)

    lines = [SECTION, "",
             f"Command: `python bench/bench_lm_eval_import.py --sizes {ns.sizes} --rounds {ns.rounds} --keep DIR "
             f"--write` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).  ",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; load "
             f"average at the start {load(load_start)}, at the end {load(os.getloadavg())} (1, 5, 15 min; shared "
             "with other engineers' work, so CPU seconds are the figures to read, medians of the rounds).", "",
             "Files from bench/lm_eval_samples.py: lm-eval's multiple-choice line shape, about 3 KB a line, every "
             "document distinct (bench_import_speed.py's lm-eval files repeat 240 documents, which flatters a "
             "dictionary).", "",
             "| lines | MB | zstd level 1 alone: ratio, MB/s | with the trained dictionary: ratio, MB/s | "
             "training (CPU) | database MB without / with dictionary | ours CPU s without / with dictionary | "
             "ours wall s | ours peak MB | json.loads CPU s | store CPU s | ours / (json.loads + store) |",
             "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, f, ours, wall, db_bytes, peak, parse, store, plain_cpu, plain_db in rows:
        lines.append(f"| {n:,} | {f['mb']:.1f} | {f['plain']['ratio']:.2f}, {f['plain']['mb_s']:.0f} | "
                     f"{f['dict']['ratio']:.2f}, {f['dict']['mb_s']:.0f} | {f['train_seconds'] * 1000:.0f} ms | "
                     f"{plain_db / 1e6:.1f} / {db_bytes / 1e6:.1f} | {plain_cpu:.2f} / {ours:.2f} | {wall:.1f} | "
                     f"{peak:.0f} | {parse:.2f} | {store:.2f} | "
                     f"{ours / (parse + store):.2f}x |")
    from perfdoc import publish

    publish(SECTION, "\n".join(lines) + "\n", sys.argv if ns.write else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
