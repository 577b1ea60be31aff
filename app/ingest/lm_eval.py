"""lm-evaluation-harness output: `results_<date>.json` plus `samples_<task>_<date>.jsonl` beside it.

Schema: lm_eval/result_schema.py and lm_eval/loggers/evaluation_tracker.py (0.4.x). One results
file holds several tasks: each task becomes one run. Metric keys are "<metric>,<filter>"; the
key "<metric>_stderr,<filter>" is that metric's standard error. Sample files are read line by
line (bounded), never whole.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from app.ingest import jsonread
from app.ingest.logfile import DEFAULT_LIMITS, Limits, ParsedLog, ParsedRun, sha256_file
from app.model import benchmarks
from app.model.errors import Cancelled, IngestError
from app.model.results import (
    LM_EVAL_TRANSCRIPT_KEYS,
    Direction,
    EvalRun,
    Harness,
    MetricValue,
    RunStatus,
    SampleResult,
    Score,
    finite_float,
    stored_int,
)

_RESULTS_NAME = re.compile(r"^results_(?P<date>.+)\.json$")
_SKIP_KEYS = {"alias", "name", "sample_len", "samples", " ", ""}


def _count(v: Any) -> int | None:
    """A sample count from the results file: an integer SQLite can store (not a bool), else unknown."""
    return stored_int(v) if isinstance(v, int) and not isinstance(v, bool) else None


def _obj(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return finite_float(v)


def split_metric_key(key: str) -> tuple[str, str]:
    """'acc_norm,none' -> ('acc_norm', 'none'); keys without a filter get filter ''."""
    if "," in key:
        metric, filt = key.rsplit(",", 1)
        return metric, filt
    return key, ""


def task_metrics(task: str, entry: dict[str, Any], higher: dict[str, Any]) -> tuple[MetricValue, ...]:
    bench = benchmarks.match_task(task)
    values: dict[tuple[str, str], Any] = {}
    stderrs: dict[tuple[str, str], Any] = {}
    for key, v in entry.items():
        if key in _SKIP_KEYS or not isinstance(key, str):
            continue
        metric, filt = split_metric_key(key)
        if metric.endswith("_stderr"):
            stderrs[(metric[: -len("_stderr")], filt)] = v
        elif isinstance(v, int | float | type(None)) or v == "N/A":
            values[(metric, filt)] = v
    out = []
    for (metric, filt), v in values.items():
        hib = higher.get(metric) if isinstance(higher, dict) else None
        if hib is True:
            direction = Direction.HIGHER
        elif hib is False:
            direction = Direction.LOWER
        else:
            direction = benchmarks.metric_direction(metric, bench)
        out.append(MetricValue("", metric, _num(v), _num(stderrs.get((metric, filt))), direction, filt))
    return tuple(out)


def _model_name(res: dict[str, Any]) -> str:
    if isinstance(res.get("model_name"), str) and res["model_name"]:
        return str(res["model_name"])
    config = _obj(res.get("config"))
    args = config.get("model_args")
    if isinstance(args, str):
        m = re.search(r"(?:pretrained|model)=([^,]+)", args)
        if m:
            return m.group(1)
    if isinstance(args, dict):
        for k in ("pretrained", "model"):
            if isinstance(args.get(k), str):
                return str(args[k])
    return str(config.get("model") or "")


def _created(res: dict[str, Any], date_id: str) -> str:
    d = res.get("date")
    if (seconds := _num(d)) is not None:
        try:
            return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            pass
    return date_id


def samples_bytes(path: str, limits: Limits = DEFAULT_LIMITS) -> int:
    """Bytes of the samples files an import of this results file reads beside it (0 when it cannot
    be read: the import says why)."""
    try:
        if os.path.getsize(path) > limits.max_header_bytes:
            return 0
        with open(path, "rb") as f:
            res = jsonread.loads_object(f.read(limits.max_header_bytes + 1), path)
        results = res.get("results")
        tasks = [t for t in results if isinstance(t, str)] if isinstance(results, dict) else []
        return sum(os.path.getsize(p) for p in find_sample_files(path, tasks).values())
    except (OSError, IngestError):
        return 0


def find_sample_files(results_path: str, tasks: list[str]) -> dict[str, str]:
    """task -> samples_<task>_<date>.jsonl in the same folder, preferring the results file's date."""
    folder = os.path.dirname(os.path.abspath(results_path))
    m = _RESULTS_NAME.match(os.path.basename(results_path))
    date_id = m.group("date") if m else ""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return {}
    found: dict[str, str] = {}
    for task in tasks:
        exact = f"samples_{task}_{date_id}.jsonl"
        if date_id and exact in names:
            found[task] = os.path.join(folder, exact)
            continue
        candidates = [n for n in names if n.startswith(f"samples_{task}_") and n.endswith(".jsonl")
                      and re.fullmatch(r"[0-9T:.\-_]+", n[len(f"samples_{task}_"):-len(".jsonl")])]
        if candidates:
            found[task] = os.path.join(folder, candidates[-1])
    return found


def _answer(resps: Any, args: Any) -> str:
    """The model's answer from `filtered_resps` (and `arguments` for multiple choice)."""
    if isinstance(resps, list) and resps:
        first = resps[0]
        if isinstance(first, str):
            return first
        # multiple choice: [[loglikelihood, is_greedy], ...] -> the chosen continuation
        try:
            lls = [float(r[0]) for r in resps]
        except (TypeError, ValueError, IndexError, KeyError, OverflowError):  # 10**400 is valid JSON
            return str(first)
        # the first index holding the maximum, as max(range, key=...) gave (a NaN is found by identity)
        best = lls.index(max(lls))
        if isinstance(args, dict):
            arg = args.get(f"gen_args_{best}")
            if isinstance(arg, dict):
                chosen = arg.get("arg_1")
                if isinstance(chosen, str):
                    return str(chosen).strip()
        return str(best)
    return ""


def _input(args: Any) -> str:
    if isinstance(args, dict):
        first = args.get("gen_args_0")
        if isinstance(first, dict):
            return str(first.get("arg_0", ""))
    if isinstance(args, list) and args and isinstance(args[0], list) and args[0]:
        return str(args[0][0])
    return ""


def sample_from_line(line: Any, path: str, where: str, raw: bytes | None = None) -> SampleResult:
    """One samples-file line. `raw`, the line's own bytes (already parsed within every bound), is
    stored as the transcript instead of re-encoding its transcript keys (json.dumps of every line
    cost more than parsing it); the reader of a stored transcript keeps the same keys.

    Runs once per line: each key is looked up once and isinstance takes tuples (docs/PERFORMANCE.md
    "lm-eval import"); tests/unit/test_lm_eval_lines.py holds it to the values it gave before."""
    if not isinstance(line, dict):
        raise IngestError(path, f"{where}: expected a JSON object")
    if "doc_id" not in line:
        raise IngestError(path, f"{where}: required key 'doc_id' is missing")
    get = line.get
    scores = {}
    metric_names = get("metrics")
    if isinstance(metric_names, list):
        for name in metric_names:
            if isinstance(name, str) and name in line:
                scores[name] = Score.of(line[name])
    target = get("target")
    args = get("arguments")
    if isinstance(target, _STR_INT) and str(target).isdigit() and isinstance(args, dict):
        # multiple choice: the target is the index of the right continuation; show the choice
        arg = args.get(f"gen_args_{target}")
        if isinstance(arg, dict) and len(args) > 1:
            choice = arg.get("arg_1")
            if isinstance(choice, str):
                target = str(choice).strip()
    return SampleResult(
        str(line["doc_id"]), 1, scores, _input(args), target if isinstance(target, str) else jsonread_dumps(target),
        _answer(get("filtered_resps"), args),
        transcript=None if raw is not None else {k: line[k] for k in LM_EVAL_TRANSCRIPT_KEYS if k in line},
        transcript_json=raw,
    )


_STR_INT = (str, int)


def jsonread_dumps(v: Any) -> str:
    return "" if v is None else json.dumps(v, ensure_ascii=False, default=str)


def iter_jsonl(f: IO[bytes], path: str, max_line: int) -> Iterator[tuple[int, Any, bytes]]:
    """(line number, parsed object, the line's bytes without surrounding blanks) for each non-blank
    line, each line bounded in size."""
    n = 0
    while True:
        try:
            raw = f.readline(max_line + 1)
        except OSError as exc:
            raise IngestError(path, f"read failed at line {n + 1} ({exc.strerror or exc}); was the media "
                              "removed?") from None
        if not raw:
            return
        n += 1
        if len(raw) > max_line:
            raise IngestError(path, f"line {n} is longer than the {max_line >> 20} MiB limit")
        if raw.strip():
            try:
                obj = jsonread.loads(raw, path, f"line {n}")
            except IngestError:
                if raw.endswith(b"\n"):
                    raise
                # the last line, cut short: say so rather than what the parser met at its end
                raise IngestError(path, f"line {n}: the file ends in the middle of this line (truncated, or the "
                                  "media was removed)") from None
            yield n, obj, raw.strip(b" \t\r\n")


def open_results(path: str, limits: Limits = DEFAULT_LIMITS, cancel: Callable[[], bool] | None = None,
                 hashing: Callable[[str, int, int], None] | None = None) -> ParsedLog:
    """The results file's runs; each samples file beside it is hashed whole here (`hashing(samples
    path, bytes hashed, its size)` every 8 MiB; Cancelled when `cancel()` says so): a 2 GB samples
    file takes a minute from a USB stick."""
    size = os.path.getsize(path)
    if size > limits.max_header_bytes:
        raise IngestError(path, f"lm-eval results file is {size:,} bytes, more than the "
                          f"{limits.max_header_bytes >> 20} MiB limit")
    try:
        with open(path, "rb") as f:
            data = f.read(limits.max_header_bytes + 1)
    except OSError as exc:
        raise IngestError(path, f"read failed ({exc.strerror or exc}); was the media removed?") from None
    res = jsonread.loads_object(data, path)
    results = res.get("results")
    if not isinstance(results, dict):
        raise IngestError(path, "required key 'results' is missing (not an lm-eval results file?)")
    if not results:
        raise IngestError(path, "'results' is empty: the file holds no task results")
    m = _RESULTS_NAME.match(os.path.basename(path))
    date_id = m.group("date") if m else ""
    versions = _obj(res.get("versions"))
    n_samples = _obj(res.get("n-samples"))
    higher = _obj(res.get("higher_is_better"))
    groups = _obj(res.get("group_subtasks"))
    model = _model_name(res)
    created = _created(res, date_id)
    sample_files = find_sample_files(path, [t for t in results if isinstance(t, str)])
    extra: list[tuple[str, str]] = []
    progress = {"done": 0}
    total_bytes = size
    runs: list[ParsedRun] = []
    for task, entry in results.items():
        if not isinstance(entry, dict):
            raise IngestError(path, f"results.{task}: expected an object of metric values")
        ns = _obj(n_samples.get(task))
        effective = _count(ns.get("effective"))
        if effective is None:
            effective = _count(entry.get("sample_len"))
        notes = []
        if subtasks := groups.get(task):
            # a list of task names; any other value (a number, an object) is shown as it is
            listed = ", ".join(map(str, subtasks)) if isinstance(subtasks, list) else str(subtasks)
            notes.append(f"Group of subtasks: {listed}.")
        sample_path = sample_files.get(task)
        if sample_path:
            sha, ssize = sha256_file(sample_path, cancel, _hashing_of(sample_path, hashing))
            if cancel is not None and cancel():
                raise Cancelled("Import")
            extra.append((sample_path, sha))
            total_bytes += ssize
            notes.append(f"Samples from {os.path.basename(sample_path)} (SHA-256 {sha}).")
        elif not groups.get(task):
            notes.append("No samples file found beside the results file (run without --log_samples?).")
        run = EvalRun(
            harness=Harness.LM_EVAL,
            harness_version=str(res.get("lm_eval_version") or ""),
            task=task,
            task_version=str(versions.get(task, "")) if versions.get(task) is not None else "",
            model=model,
            created=created,
            status=RunStatus.SUCCESS,
            epochs=1,
            total_samples=effective,
            completed_samples=effective,
            metrics=task_metrics(task, entry, higher.get(task) or {}),
            dataset=str(entry.get("alias") or task),
            notes=tuple(notes),
        )
        runs.append(ParsedRun(run, _sample_reader(sample_path, limits, progress), effective))
    progress["done"] = size
    return ParsedLog(path, "lm-eval", runs, bytes_total=total_bytes, bytes_done=lambda: progress["done"],
                     extra_files=extra)


def _hashing_of(sample_path: str, hashing: Callable[[str, int, int], None] | None) -> Callable[[int], None] | None:
    if hashing is None:
        return None
    whole = os.path.getsize(sample_path)
    return lambda n: hashing(sample_path, n, whole)


def _sample_reader(sample_path: str | None, limits: Limits, progress: dict[str, int]):  # type: ignore[no-untyped-def]
    def samples() -> Iterator[SampleResult]:
        if sample_path is None:
            return
        try:
            f = open(sample_path, "rb")
        except OSError as exc:
            raise IngestError(sample_path, f"cannot be opened: {exc.strerror or exc}") from None
        with f:
            last = 0
            for n, obj, raw in iter_jsonl(f, sample_path, limits.max_line_bytes):
                if not n & 63:  # progress every 64 lines: tell() is a system call
                    pos = f.tell()
                    progress["done"] += pos - last
                    last = pos
                yield sample_from_line(obj, sample_path, f"line {n}", raw)
            progress["done"] += f.tell() - last

    return samples
