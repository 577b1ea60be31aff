"""Benchmark: our import against inspect_ai's own reader, on logs written by inspect-ai itself.

    python bench/bench_import_speed.py [--sizes 1000,10000,40000] [--formats eval,json,lm-eval]
                                       [--inspect-python PY] [--keep DIR] [--reuse] [--write]
                                       [--parser auto|cold|process|thread] [--ours-only]

Steps (each measured in its own subprocess, peak memory = that process's ru_maxrss):
1. gen     (under --inspect-python, a virtualenv with inspect-ai and lm-eval; never a dependency of
           the product): a real inspect-ai eval of an agentic CTF-style task (mockllm model, a bash
           tool whose output is a hex dump, three model turns per sample), then for each size the
           eval's samples replicated under new ids, each with its own random tool output, written
           with inspect_ai.log.write_eval_log as `.eval` and as `.json`; and an lm-eval run
           (lm_eval.simple_evaluate, multiple choice, an offline deterministic LM) over that many
           documents, saved by lm-eval's own EvaluationTracker (results_*.json + samples_*.jsonl).
2. ours    app.services.results.import_files into a fresh encrypted workstation (SHA-256, parse,
           store samples, compressed transcripts and FTS rows in one transaction), with the .eval
           parser processes started ahead as the import dialog and `frontier-review import` start them
           (parse_process.warm; --parser cold: without).
3. theirs  inspect_ai.log.read_eval_log(path) on the same file (parse into memory only); for
           lm-eval, which has no reader of its own, json.loads of every samples line (the floor of
           any Python reader).
Ratios are taken within one invocation (the machine may be shared). Prints Markdown; --write puts
it into docs/PERFORMANCE.md ("## Import speed against inspect_ai").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import importbench  # noqa: E402
from importbench import peak_mb  # noqa: E402

SECTION = "## Import speed against inspect_ai"
PARSER_MODES = {"auto": "started ahead, as the import dialog (when it opens) and `frontier-review import` (before "
                        "sign-in) start them (their start-up CPU is not counted)",
                "cold": "started on the import's clock when the log is large enough to pay for it",
                "process": "always used, started on the import's clock", "thread": "never used"}
# inspect-ai runs in the fixture venv (`make fixture-venv`), or the Python FRW_INSPECT_PYTHON names
DEFAULT_INSPECT_PY = os.environ.get("FRW_INSPECT_PYTHON", str(ROOT / ".fixvenv" / "bin" / "python"))
BASE_SAMPLES = 24


def sub(args: list[str], python: str = sys.executable) -> dict[str, Any]:
    return importbench.sub(__file__, args, python, {"INSPECT_DISPLAY": "none", "INSPECT_LOG_LEVEL": "error",
                                                    "HF_DATASETS_OFFLINE": "1",
                                                    "BENCH_PARSER": os.environ.get("BENCH_PARSER", "auto")})


# -- step 1: generate with inspect-ai and lm-eval themselves ---------------------------------------------

def hexdump(rng: Any, lines: int = 48) -> str:
    blob = rng.randbytes(16 * lines)
    return "\n".join(f"{i * 16:08x}: {blob[i * 16:i * 16 + 16].hex(' ')}" for i in range(lines))


def gen(out: str, sizes: list[int], json_sizes: list[int], formats: list[str]) -> dict[str, Any]:
    import random

    rng = random.Random(19)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, Any] = {}
    if {"eval", "json"} & set(formats):
        made.update(gen_inspect(folder, sizes if "eval" in formats else [],
                                json_sizes if "json" in formats else [], rng))
    if "lm-eval" in formats:
        made.update(gen_lm_eval(folder, sizes))
    return made


def gen_inspect(folder: Path, sizes: list[int], json_sizes: list[int], rng: Any) -> dict[str, Any]:
    from inspect_ai import Task, eval
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.log import write_eval_log
    from inspect_ai.model import ChatMessageTool, ModelOutput, ModelUsage, get_model
    from inspect_ai.scorer import includes
    from inspect_ai.solver import generate, use_tools
    from inspect_ai.tool import tool

    dumps = {f"f{i}": hexdump(rng) for i in range(BASE_SAMPLES)}

    @tool
    def bash():  # type: ignore[no-untyped-def]
        async def execute(cmd: str) -> str:
            """Run a shell command (simulated).

            Args:
              cmd: the command to run
            """
            name = cmd.split()[-1].split(".")[0]
            if cmd.startswith("xxd"):
                return f"$ {cmd}\n{dumps.get(name, '')}"
            return "challenge.bin\nflag.txt\nREADME"

        return execute

    def model(messages: list, tools: list, tool_choice: object, config: object) -> ModelOutput:
        first = next(m for m in messages if m.role == "user").text
        n = first.split("challenge f", 1)[1].split(" ", 1)[0]
        turns = sum(1 for m in messages if m.role == "tool")
        if turns == 0:
            out = ModelOutput.for_tool_call("mockllm/model", "bash", {"cmd": "ls"})
        elif turns == 1:
            out = ModelOutput.for_tool_call("mockllm/model", "bash", {"cmd": f"xxd f{n}.bin"})
        else:
            out = ModelOutput.from_content("mockllm/model", f"The flag is picoCTF{{f{n}}}" if int(n) % 3 else
                                           "I could not find the flag.")
        out.usage = ModelUsage(input_tokens=300 * (turns + 1), output_tokens=20, total_tokens=300 * (turns + 1) + 20)
        return out

    samples = [Sample(id=f"ctf-{i}", input=f"Find the flag hidden in challenge f{i} .bin using the bash tool; "
                      "answer in the format picoCTF{...}.", target=f"picoCTF{{f{i}}}",
                      metadata={"category": ["forensics", "crypto", "web", "pwn"][i % 4]})
               for i in range(BASE_SAMPLES)]
    task = Task(dataset=MemoryDataset(samples, name="intercode_ctf_bench"), solver=[use_tools(bash()), generate()],
                scorer=includes(), name="gdm_intercode_ctf")
    log = eval(task, model=get_model("mockllm/model", custom_outputs=model), log_dir=str(folder / "eval_run"),
               display="none")[0]
    assert log.samples and log.status == "success", log.status
    base = log.samples
    made: dict[str, Any] = {}
    for n in sorted({*sizes, *json_sizes}):
        copies = []
        for k in range(n):
            tpl = base[k % len(base)]
            dump = hexdump(rng)  # each sample its own tool output, as in a real run
            messages = [m.model_copy(update={"content": f"$ xxd challenge.bin\n{dump}"})
                        if isinstance(m, ChatMessageTool) and "xxd" in str(m.content) else m for m in tpl.messages]
            copies.append(tpl.model_copy(update={"id": f"{tpl.id}-{k:06d}", "messages": messages,
                                                 "uuid": f"bench-{n}-{k}"}))
        log.samples = copies
        assert log.results is not None
        log.results.total_samples = log.results.completed_samples = n
        log.eval.dataset.samples = n
        log.eval.dataset.sample_ids = [c.id for c in copies]
        for fmt in ("eval", "json"):
            if n in (sizes if fmt == "eval" else json_sizes):
                path = folder / f"ctf_{n}.{fmt}"
                t0 = time.perf_counter()
                if not path.exists():
                    if fmt == "eval":
                        write_eval_in_batches(log, path)
                    else:
                        write_eval_log(log, str(path), format="json")
                made[path.name] = {"bytes": path.stat().st_size, "samples": n, "seconds": time.perf_counter() - t0}
    return made


def write_eval_in_batches(log: Any, path: Path, flush_every: int = 2000) -> None:
    """inspect-ai's own EvalRecorder, flushed every `flush_every` samples as a running eval does.

    (write_eval_log buffers every sample before one flush, and its buffer de-duplicates by a
    list scan per sample: quadratic, hours for 40,000 samples.)
    """
    import anyio
    from inspect_ai.log._condense import condense_sample
    from inspect_ai.log._recorders.eval import EvalRecorder

    async def go() -> None:
        recorder = EvalRecorder(str(path.parent))
        await recorder.log_init(log.eval, str(path), clean=True)
        await recorder.log_start(log.eval, log.plan)
        for i, sample in enumerate(log.samples or [], start=1):
            await recorder.log_sample(log.eval, condense_sample(sample))
            if i % flush_every == 0:
                await recorder.flush(log.eval)
        await recorder.log_finish(log.eval, log.status, log.stats, log.results, log.reductions, log.error)

    anyio.run(go)


def gen_lm_eval(folder: Path, sizes: list[int]) -> dict[str, Any]:
    """One real lm-eval run (its task machinery is slow per document: about 100 documents/s here),
    then its samples file replicated to each size under new doc_ids beside a copy of its results."""
    from lm_eval import simple_evaluate
    from lm_eval.api.model import LM
    from lm_eval.loggers import EvaluationTracker

    class OfflineLM(LM):
        def loglikelihood(self, requests):  # type: ignore[no-untyped-def]
            return [(-0.2 if req.args[1].strip() == "ABCD"[req.doc["answer"]] else -2.5, True) for req in requests]

        def loglikelihood_rolling(self, requests):  # type: ignore[no-untyped-def]
            return [-10.0 for _ in requests]

        def generate_until(self, requests):  # type: ignore[no-untyped-def]
            return ["" for _ in requests]

    base_dir = folder / "lm_eval_run"
    docs = folder / "lm_eval_docs.jsonl"
    with docs.open("w") as fh:
        for i in range(BASE_SAMPLES * 10):
            fh.write(json.dumps({"question": f"Question {i}: which port does service {i % 97} use by default, "
                                 "given the packet capture summary below?\n" + "ab " * (i % 200),
                                 "choices": ["21", "80", "443", "8080"], "answer": i % 4}) + "\n")
    cfg = {"task": "wmdp_cyber", "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(docs)}},
           "test_split": "test", "output_type": "multiple_choice",
           "doc_to_text": "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\n"
                          "D. {{choices[3]}}\nAnswer:",
           "doc_to_choice": ["A", "B", "C", "D"], "doc_to_target": "answer",
           "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
           "metadata": {"version": 1}}
    tracker = EvaluationTracker(output_path=str(base_dir))
    results = simple_evaluate(model=OfflineLM(), tasks=[cfg], log_samples=True, evaluation_tracker=tracker,
                              torch_random_seed=None, bootstrap_iters=0)
    assert results is not None
    samples = results.pop("samples")
    tracker.general_config_tracker.model_name = "offline/bench-7b"
    tracker.general_config_tracker.model_name_sanitized = "offline__bench-7b"
    tracker.save_results_aggregated(results=results, samples=samples)
    tracker.save_results_samples(task_name="wmdp_cyber", samples=samples["wmdp_cyber"])
    res = next(base_dir.rglob("results_*.json"))
    lines = [json.loads(x) for x in next(base_dir.rglob("samples_*.jsonl")).read_text().splitlines() if x.strip()]
    made: dict[str, Any] = {}
    for n in sizes:
        out = folder / f"lm_eval_{n}"
        out.mkdir(exist_ok=True)
        head = json.loads(res.read_text())
        head["n-samples"]["wmdp_cyber"] = {"original": n, "effective": n}
        (out / res.name).write_text(json.dumps(head, indent=2))
        sfile = out / next(base_dir.rglob("samples_*.jsonl")).name
        with sfile.open("w") as fh:
            for k in range(n):
                line = dict(lines[k % len(lines)], doc_id=k)
                fh.write(json.dumps(line) + "\n")
        made[f"lm_eval_{n}"] = {"results": str(out / res.name), "samples_file": str(sfile),
                                "bytes": sfile.stat().st_size, "samples": n}
    return made


# -- step 3: theirs ----------------------------------------------------------------------------------------

def theirs(path: str) -> dict[str, Any]:
    if not path.endswith(".jsonl"):
        from inspect_ai.log import read_eval_log
    base = peak_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    if path.endswith(".jsonl"):
        with open(path, "rb") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        n = len(rows)
    else:
        n = len(read_eval_log(path).samples or [])
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "samples": n,
            "peak_mb": peak_mb(), "baseline_mb": base}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time (its CPU and memory with it), with the highest memory of all runs."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    mid = dict(ordered[(len(ordered) - 1) // 2])
    for key in ("peak_mb", "all_rss_mb", "all_pss_mb"):
        mid[key] = max(r.get(key, 0) for r in runs)
    mid["runs"] = [r["seconds"] for r in runs]
    return mid


def spread(runs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['seconds']:.2f}" for r in runs)


# -- driver ------------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", nargs="?", default="all")
    ap.add_argument("arg", nargs="?")
    ap.add_argument("--sizes", default="1000,10000,40000", help="samples per .eval log and lm-eval file")
    ap.add_argument("--json-sizes", default="1000,10000,40000",
                    help="samples per .json log (about 40 KB each: messages and events uncompressed)")
    ap.add_argument("--formats", default="eval,json,lm-eval")
    ap.add_argument("--inspect-python", default=DEFAULT_INSPECT_PY,
                    help="python of a virtualenv with inspect-ai==0.3.285 and lm-eval==0.4.13")
    ap.add_argument("--keep", help="folder for the generated logs (default: a temporary folder)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse logs generated earlier in --keep (and generate only those its manifest lacks)")
    ap.add_argument("--write", action="store_true", help="write the section into docs/PERFORMANCE.md")
    ap.add_argument("--parser", choices=("auto", "cold", "process", "thread"),
                    help="auto (default): parser processes started ahead, as the import dialog and the command "
                         "line do; cold: none started ahead (the size rule); process / thread: always / never "
                         "parser processes, started on the import's clock")
    ap.add_argument("--ours-only", action="store_true", help="skip inspect_ai's reader (before/after runs)")
    ap.add_argument("--ours-runs", type=int, default=3,
                    help="our imports per log: one just before inspect_ai's read and the rest just after it; "
                         "the ratio takes their median (the host's speed drifts by 15-30 %% over a minute)")
    ns = ap.parse_args()
    if ns.parser:  # the steps' own processes get it through the environment
        os.environ["BENCH_PARSER"] = ns.parser
    sizes = [int(x) for x in ns.sizes.split(",")]
    json_sizes = [int(x) for x in ns.json_sizes.split(",")]
    formats = ns.formats.split(",")
    if ns.step == "gen":
        print(json.dumps(gen(ns.arg, sizes, json_sizes, formats)))
        return 0
    if ns.step == "ours":
        print(json.dumps(importbench.ours(ns.arg)))
        return 0
    if ns.step == "theirs":
        print(json.dumps(theirs(ns.arg)))
        return 0

    folder = Path(ns.keep or tempfile.mkdtemp(prefix="bench-speed-"))
    manifest = folder / "manifest.json"
    made = json.loads(manifest.read_text()) if ns.reuse and manifest.exists() else {}
    # with --reuse only what the manifest lacks is generated (a 40,000-sample .json takes minutes)
    want = {fmt: [n for n in (json_sizes if fmt == "json" else sizes)
                  if (f"lm_eval_{n}" if fmt == "lm-eval" else f"ctf_{n}.{fmt}") not in made] for fmt in formats}
    if any(want.values()):
        t0 = time.perf_counter()
        missing = [f for f, ns_ in want.items() if ns_]
        new = sub(["gen", str(folder), "--sizes", ",".join(map(str, sorted({*want.get("eval", []),
                                                                           *want.get("lm-eval", [])}) or sizes)),
                   "--json-sizes", ",".join(map(str, want.get("json") or json_sizes)),
                   "--formats", ",".join(missing)], ns.inspect_python)
        made.update(new)
        manifest.write_text(json.dumps(made))
        print(f"generated {len(new)} logs in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    rows = []
    load_start = os.getloadavg()
    for fmt in formats:
        for n in json_sizes if fmt == "json" else sizes:
            if fmt == "lm-eval":
                item = made[f"lm_eval_{n}"]
                mine, other, other_py = item["results"], item["samples_file"], sys.executable
            else:
                item = made[f"ctf_{n}.{fmt}"]
                mine = other = str(folder / f"ctf_{n}.{fmt}")
                other_py = ns.inspect_python
            runs = [sub(["ours", mine])]
            if ns.ours_only:
                a = runs[0]
                print(f"{fmt} {n}: ours {a['seconds']:.2f} s, {item['bytes'] / 1e6 / a['seconds']:.1f} MB/s, CPU "
                      f"{a['cpu_seconds']:.2f} s (this process {a.get('parent_cpu_seconds', 0):.2f} s, parser process "
                      f"{a.get('child_cpu_seconds', 0):.2f} s), peak {a['peak_mb']:.0f} MB (all processes "
                      f"{a.get('all_rss_mb', 0):.0f} MB RSS, {a.get('all_pss_mb', 0):.0f} MB PSS), "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
                continue
            b = sub(["theirs", other], other_py)
            runs += [sub(["ours", mine]) for _ in range(ns.ours_runs - 1)]
            a = median_run(runs)
            mb = item["bytes"] / 1e6
            rows.append((fmt, n, mb, a, b))
            print(f"{fmt} {n}: ours {a['seconds']:.2f} s (runs {spread(runs)}; {a['cpu_seconds']:.1f} s CPU, "
                  f"of which parser process "
                  f"{a.get('child_cpu_seconds', 0):.1f} s) / {a['peak_mb']:.0f} MB (all processes "
                  f"{a.get('all_rss_mb', 0):.0f} MB RSS, {a.get('all_pss_mb', 0):.0f} MB PSS), "
                  f"theirs {b['seconds']:.1f} s ({b['cpu_seconds']:.1f} s CPU) / {b['peak_mb']:.0f} MB, "
                  f"load {os.getloadavg()[0]:.1f}", file=sys.stderr)

    if ns.ours_only:
        return 0

    def load(avg: tuple[float, float, float]) -> str:
        return ", ".join(f"{x:.1f}" for x in avg)

    machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
               f"{platform.system()} {platform.release()}; load average at the start {load(load_start)}, at the end "
               f"{load(os.getloadavg())} (1, 5, 15 min)")
    lines = [SECTION, "",
             f"Command: `python bench/bench_import_speed.py --sizes {ns.sizes} --json-sizes {ns.json_sizes} "
             f"--formats {ns.formats} --keep DIR --reuse --write` "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).  ",
             f"Machine: {machine}. Both readers ran in the same invocation: our import {ns.ours_runs} times per log, "
             "once just before inspect_ai's read and the rest just after it, and `ours s` is their median (every "
             "run in `ours runs s`; CPU from the median run, memory the highest of all runs), so the ratios hold "
             "even though absolute times move with the host's load.", "",
             "Logs written by inspect-ai 0.3.285 itself (after a real mockllm eval of an agentic task: three model "
             "turns, a bash tool whose output is a 48-line hex dump, each sample its own; `.json` by `write_eval_log`, "
             "`.eval` by its EvalRecorder flushed every 2,000 samples as a running eval does); "
             "lm-eval 0.4.13 samples files written by its EvaluationTracker. `ours` = `results.import_files` "
             "(SHA-256, parse, store samples + zstd transcripts + FTS rows in SQLCipher, one transaction) with "
             f"the .eval parser processes {PARSER_MODES[os.environ.get('BENCH_PARSER', 'auto')]}; "
             "`theirs` = `inspect_ai.log.read_eval_log` (parse into memory only) or, for lm-eval (no reader of "
             "its own), `json.loads` of every line.", "",
             "`CPU s` is the process's CPU time (both of our threads, plus the .eval parser processes where "
             "they ran): it moves far less with the load than the wall clock. `ours peak MB` is the importing "
             "process's (ru_maxrss); `all processes` is the peak of the importing process and its parser "
             "processes together, sampled every 20 ms, as summed RSS / summed PSS (RSS counts the shared "
             "libraries once per process); the memory ratio is taken against the summed RSS.", "",
             "| format | samples | MB | ours s | ours runs s | ours CPU s | ours MB/s | ours peak MB "
             "| all processes MB | theirs s | theirs CPU s | theirs MB/s | theirs peak MB | speed ratio | CPU ratio "
             "| memory ratio |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for fmt, n, mb, a, b in rows:
        every = max(a["peak_mb"], a.get("all_rss_mb", 0))
        lines.append(f"| {fmt} | {n:,} | {mb:.1f} | {a['seconds']:.2f} | "
                     f"{', '.join(f'{x:.2f}' for x in a.get('runs', [a['seconds']]))} | {a['cpu_seconds']:.2f} | "
                     f"{mb / a['seconds']:.1f} | {a['peak_mb']:.0f} | {every:.0f} / {a.get('all_pss_mb', 0):.0f} | "
                     f"{b['seconds']:.1f} | {b['cpu_seconds']:.1f} | "
                     f"{mb / b['seconds']:.1f} | {b['peak_mb']:.0f} | {b['seconds'] / a['seconds']:.1f}x | "
                     f"{b['cpu_seconds'] / a['cpu_seconds']:.1f}x | {b['peak_mb'] / every:.1f}x |")
    text = "\n".join(lines) + "\n"
    from perfdoc import publish

    publish(SECTION, text, sys.argv if ns.write else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
