"""Benchmark definition document reader: versioned JSON (docs/BENCHMARK_FORMAT.md) ->
app.model.benchmark_defs.BenchmarkDefinition. Errors name the file and the field path
(e.g. `benchmarks[2].protocol.min_epochs`); the SHA-256 is over the exact bytes read.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from app.ingest.jsonread import loads_object
from app.ingest.versioned_json import Fields
from app.model.benchmark_defs import BenchmarkDefinition, MetricSpec, Protocol, sample_ids_digest
from app.model.errors import IngestError, ValidationError
from app.model.markings import Marking
from app.model.results import Direction

FORMAT = "frontier-review/benchmarks"
FORMAT_VERSION = 1
MAX_BYTES = 20 << 20  # canonical sample-id lists can be long
MAX_SAMPLE_IDS = 200_000
SCALES = ("proportion", "score", "count")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TASK = re.compile(r"^[A-Za-z0-9_.*?\[\]/-]{1,200}$")


@dataclass(frozen=True)
class BenchmarkDocument:
    document_id: str
    version: int
    title: str
    marking: str
    description: str
    definitions: tuple[BenchmarkDefinition, ...]
    sha256: str


def _marking(f: Fields, key: str, default: str) -> str:
    text = f.text(key, required=False, default=default)
    try:
        Marking.parse(text)
    except ValidationError as exc:
        raise f.fail(key, exc.reason) from None
    return text


def _opt_int(f: Fields, key: str, default: int | None, minimum: int = 0) -> int | None:
    if key not in f.obj:
        return default
    return f.integer(key, minimum=minimum)


def _strings(f: Fields, key: str, pattern: re.Pattern[str] | None = None, max_items: int = 1000) -> tuple[str, ...]:
    out = []
    raw = f.array(key, required=False)
    if len(raw) > max_items:
        raise f.fail(key, f"{len(raw):,} entries; at most {max_items:,} are accepted")
    for i, v in enumerate(raw):
        if isinstance(v, bool) or not isinstance(v, str | int):
            raise f.fail(f"{key}[{i}]", f"must be a string, found {type(v).__name__}")
        s = str(v)
        if not s.strip() or len(s) > 500 or (pattern is not None and not pattern.match(s)):
            raise f.fail(f"{key}[{i}]", f"{s[:80]!r} is not a valid entry")
        out.append(s)
    return tuple(out)


def _metrics(f: Fields) -> tuple[MetricSpec, ...]:
    raw = f.array("metrics")
    if not raw:
        raise f.fail("metrics", "a benchmark needs at least one metric")
    out = []
    for i, item in enumerate(raw):
        m = Fields(item, f.path, f.at(f"metrics[{i}]"))
        m.only({"name", "direction", "scale"})
        d = m.text("direction")
        try:
            direction = Direction(d)
        except ValueError:
            raise m.fail("direction", f"{d!r}; expected 'higher' or 'lower'") from None
        if direction is Direction.UNKNOWN:
            raise m.fail("direction", "must be 'higher' or 'lower'")
        scale = m.text("scale", required=False, default="proportion")
        if scale not in SCALES:
            raise m.fail("scale", f"{scale!r}; expected one of {', '.join(SCALES)}")
        out.append(MetricSpec(m.text("name", max_len=100).strip(), direction, scale))
    return tuple(out)


def _protocol(f: Fields) -> Protocol:
    if "protocol" not in f.obj:
        return Protocol()
    p = Fields(f.obj["protocol"], f.path, f.at("protocol"))
    p.only({"min_epochs", "min_samples", "scorer", "tools", "token_budget", "time_budget_seconds",
            "model_settings", "max_errored_samples"})
    settings: list[tuple[str, str]] = []
    if "model_settings" in p.obj:
        raw = p.obj["model_settings"]
        if not isinstance(raw, dict):
            raise p.fail("model_settings", f"must be an object of setting: allowed values, found {type(raw).__name__}")
        ms = Fields(raw, p.path, p.at("model_settings"))
        settings = [(k, ms.text(k, max_len=300)) for k in sorted(raw)]
    time_budget = p.number("time_budget_seconds", positive=True) if "time_budget_seconds" in p.obj else None
    return Protocol(
        min_epochs=_opt_int(p, "min_epochs", 1, 1) or 1,
        min_samples=_opt_int(p, "min_samples", 1, 1) or 1,
        scorer=p.text("scorer", required=False, max_len=200),
        tools=p.text("tools", required=False, max_len=2000),
        token_budget=_opt_int(p, "token_budget", None, 1),
        time_budget_seconds=time_budget,
        model_settings=tuple(settings),
        max_errored_samples=_opt_int(p, "max_errored_samples", 0, 0) or 0,
    )


def _definition(f: Fields, doc_marking: str, sha256: str) -> BenchmarkDefinition:
    f.only({"id", "name", "version", "marking", "capability_area", "description", "tasks", "task_version",
            "dataset", "metrics", "protocol"})
    tasks = Fields(f.obj.get("tasks", {}), f.path, f.at("tasks"))
    tasks.only({"inspect", "lm_eval"})
    inspect_tasks = tuple(t.lower() for t in _strings(tasks, "inspect", _TASK))
    lm_eval_tasks = tuple(t.lower() for t in _strings(tasks, "lm_eval", _TASK))
    if not inspect_tasks and not lm_eval_tasks:
        raise tasks.fail("inspect", "a benchmark needs at least one Inspect or lm-eval task name")
    ds = Fields(f.obj.get("dataset", {}), f.path, f.at("dataset"))
    ds.only({"sample_ids", "sample_ids_sha256", "sample_count", "fingerprint"})
    ids = _strings(ds, "sample_ids", max_items=MAX_SAMPLE_IDS)
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ds.fail("sample_ids", f"duplicate sample id {dup!r}")
    digest = ds.text("sample_ids_sha256", required=False).lower()
    if digest and not _SHA256.match(digest):
        raise ds.fail("sample_ids_sha256", "must be 64 hexadecimal digits (SHA-256)")
    if ids:
        computed = sample_ids_digest(ids)
        if digest and digest != computed:
            raise ds.fail("sample_ids_sha256", f"does not match the listed sample_ids (their hash is {computed})")
        digest = computed
    count = _opt_int(ds, "sample_count", None, 1)
    if ids and count is not None and count != len(ids):
        raise ds.fail("sample_count", f"is {count} but {len(ids)} sample_ids are listed")
    return BenchmarkDefinition(
        benchmark_id=f.ident("id"), name=f.text("name", max_len=200).strip(), version=f.integer("version"),
        marking=_marking(f, "marking", doc_marking), capability_area=f.ident("capability_area"),
        description=f.text("description", required=False, max_len=5000),
        inspect_tasks=inspect_tasks, lm_eval_tasks=lm_eval_tasks,
        task_version=f.text("task_version", required=False, max_len=100),
        sample_ids=ids, sample_ids_sha256=digest, sample_count=count if count is not None else (len(ids) or None),
        dataset_fingerprint=ds.text("fingerprint", required=False, max_len=500),
        metrics=_metrics(f), protocol=_protocol(f), document_sha256=sha256)


def parse(data: bytes, path: str) -> BenchmarkDocument:
    if len(data) > MAX_BYTES:
        raise IngestError(path, f"is larger than {MAX_BYTES >> 20} MB; not a benchmark definition document")
    sha256 = hashlib.sha256(data).hexdigest()
    doc = Fields(loads_object(data, path), path, "")
    doc.only({"format", "format_version", "document_id", "version", "title", "description", "marking",
              "benchmarks"})
    doc.format_header(FORMAT, FORMAT_VERSION)
    marking = _marking(doc, "marking", "UNCLASSIFIED")
    raw = doc.array("benchmarks")
    if not raw:
        raise doc.fail("benchmarks", "a document needs at least one benchmark definition")
    seen: dict[str, str] = {}
    names: dict[str, str] = {}
    defs = []
    for i, item in enumerate(raw):
        d = _definition(Fields(item, path, f"benchmarks[{i}]"), marking, sha256)
        where = f"benchmarks[{i}]"
        if d.benchmark_id in seen:
            raise IngestError(path, f"{where}.id: duplicate benchmark id {d.benchmark_id!r} "
                              f"(first at {seen[d.benchmark_id]})")
        if d.name.lower() in names:
            raise IngestError(path, f"{where}.name: duplicate benchmark name {d.name!r} "
                              f"(first at {names[d.name.lower()]})")
        seen[d.benchmark_id] = names[d.name.lower()] = where
        defs.append(d)
    return BenchmarkDocument(doc.ident("document_id"), doc.integer("version"), doc.text("title", max_len=300),
                             marking, doc.text("description", required=False), tuple(defs), sha256)


def load(path: Path) -> BenchmarkDocument:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise IngestError(str(path), f"is larger than {MAX_BYTES >> 20} MB; not a benchmark definition document")
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    return parse(data, str(path))
