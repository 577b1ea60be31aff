"""Inspect AI logs: `.eval` (ZIP, DEFLATE or Zstandard members) and `.json`.

Layout (inspect_ai/log/_recorders/eval.py): `_journal/start.json` (spec + plan, written first),
`samples/<id>_epoch_<n>.json` (one per sample), `_journal/summaries/N.json`, `summaries.json`,
`reductions.json`, and `header.json` (the whole log without samples, written only at the end).
A log without header.json was interrupted: the run is rebuilt from start.json and the journal
summaries and marked incomplete. Samples are parsed one member at a time.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import IO, Any

import msgspec

from app.ingest import jsonread
from app.ingest.logfile import DEFAULT_LIMITS, Limits, ParsedLog, ParsedRun
from app.ingest.safezip import PackedEntries, SafeZip, SampleDirectory
from app.model import benchmarks
from app.model.errors import IngestError
from app.model.results import (
    INT64_MAX,
    INT64_MIN,
    EvalRun,
    Harness,
    MetricValue,
    RunStatus,
    SampleResult,
    Score,
    finite_float,
    score_to_float,
    stored_int,
)

ATTACHMENT = "attachment://"
ATTACHMENT_B = ATTACHMENT.encode("ascii")
_SAMPLE_MEMBER = re.compile(r"^samples/.+_epoch_\d+\.json$")
_SUMMARY_MEMBER = re.compile(r"^_journal/summaries/(\d+)\.json$")


# -- helpers shared by both formats ---------------------------------------------------------------

def _str(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else str(v)


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return finite_float(v)


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v if INT64_MIN <= v <= INT64_MAX else None
    if isinstance(v, float) and math.isfinite(v):
        return stored_int(int(v))
    return None


# One sample's (or transcript's) attachment references may expand to at most this many characters:
# a 1 MiB attachment referenced thousands of times would otherwise become gigabytes in memory.
MAX_EXPANDED = 256 << 20
_REFERENCE = re.compile(rb"attachment://([0-9A-Za-z_.-]{1,128})")
_MIN_REFERENCE = len(ATTACHMENT_B) + 2  # bytes of the shortest reference in JSON text, quotes included


def _too_large(total: int, counts: dict[str, int], attachments: dict[str, Any], limit: int) -> str:
    worst = max(counts, key=lambda k: counts[k] * len(_str(attachments.get(k))))
    return (f"its attachments would expand to {total:,} characters (attachment {worst[:32]} of "
            f"{len(_str(attachments.get(worst))):,} characters is referenced {counts[worst]:,} times); "
            f"at most {limit:,} per sample are accepted")


def _count_references(value: Any, counts: dict[str, int]) -> None:
    if isinstance(value, str):
        if value.startswith(ATTACHMENT):
            key = value[len(ATTACHMENT):]
            counts[key] = counts.get(key, 0) + 1
    elif isinstance(value, list):
        for v in value:
            _count_references(v, counts)
    elif isinstance(value, dict):
        for v in value.values():
            _count_references(v, counts)


def check_expansion(sample: dict[str, Any], attachments: dict[str, Any], raw: bytes | None, path: str,
                    where: str, limit: int = MAX_EXPANDED) -> None:
    """Refuse a sample whose attachment references would expand beyond `limit` characters, before
    anything is expanded (counted on the raw member bytes at C speed when they are at hand)."""
    if not attachments:
        return
    if raw is not None:
        # cheap bounds first: every reference expanded to the longest attachment, with as many
        # references as the member's length leaves room for (no pass over the bytes), then counted
        longest = max((len(t) for t in attachments.values() if isinstance(t, str)), default=0)
        if len(raw) // _MIN_REFERENCE * longest <= limit or raw.count(ATTACHMENT_B) * longest <= limit:
            return
    counts: dict[str, int] = {}
    if raw is not None:
        for key in _REFERENCE.findall(raw):
            name = key.decode("ascii")
            counts[name] = counts.get(name, 0) + 1
    else:
        _count_references({k: v for k, v in sample.items() if k != "attachments"}, counts)
    total = sum(len(text) * n for key, n in counts.items() if isinstance(text := attachments.get(key), str))
    if total > limit:
        raise IngestError(path, f"{where}: {_too_large(total, counts, attachments, limit)}")


def resolve(value: Any, attachments: dict[str, str], limit: int = MAX_EXPANDED, name: str = "transcript") -> Any:
    """Replace every "attachment://<hash>" string (at any depth) by its text from `attachments`;
    IngestError naming `name` once more than `limit` characters would be expanded."""
    if not attachments or value is None or (isinstance(value, str) and not value.startswith(ATTACHMENT)):
        return value  # nothing to replace (most calls): no walker built
    budget = [limit]
    counts: dict[str, int] = {}

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            if v.startswith(ATTACHMENT):
                key = v[len(ATTACHMENT):]
                text = attachments.get(key, v)
                if not isinstance(text, str):  # an attachment that is not text: the reference stays
                    text = v
                counts[key] = counts.get(key, 0) + 1
                budget[0] -= len(text)
                if budget[0] < 0:
                    raise IngestError(name, _too_large(limit - budget[0], counts, attachments, limit))
                return text
            return v
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    return walk(value)


def content_text(content: Any) -> str:
    """Plain text of a ChatMessage content: a string or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, dict):
                if p.get("type") == "text" or "text" in p:
                    parts.append(_str(p.get("text")))
                elif p.get("type") == "reasoning":
                    parts.append(_str(p.get("reasoning")))
                elif p.get("type"):
                    parts.append(f"[{p.get('type')}]")
            elif isinstance(p, str):
                parts.append(p)
        return "\n".join(x for x in parts if x)
    return _str(content)


def _input_text(value: Any) -> str:
    if isinstance(value, list):
        lines = []
        for m in value:
            if isinstance(m, dict):
                lines.append(f"{m.get('role', '?')}: {content_text(m.get('content'))}")
        return "\n\n".join(lines)
    return content_text(value)


def _target_text(value: Any) -> str:
    if isinstance(value, list):
        return " | ".join(_str(v) for v in value)
    return _str(value)


def _obj(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _where(member: str) -> str:
    return f"member {member}"


def _need(obj: dict[str, Any], key: str, path: str, where: str) -> Any:
    if key not in obj or obj[key] is None:
        raise IngestError(path, f"{where}: required key '{key}' is missing")
    return obj[key]


# What sample_from_json reads from a sample stored raw; msgspec skips the rest (messages, events)
# at C speed instead of building Python objects for it.
SAMPLE_FIELDS = jsonread.ObjectFields(("id", "epoch", "input", "target", "choices", "scores", "output", "error",
                                       "model_usage", "attachments", "total_time", "working_time"))
TRANSCRIPT_KEYS = ("messages", "events", "events_data", "output", "metadata", "store", "attachments", "error",
                   "limit", "scores")


# The same fields typed down to the parts read (a score's value/answer/explanation, the output's
# completion and first choice's content, the token counts), so msgspec builds nothing else (the
# output's message ids, usage, timings; a score's history...). A sample of another shape (a score
# or usage entry that is not an object, an output that is a string...) fails validation and is read
# by the generic path (`SAMPLE_FIELDS`, the dict-based `sample_from_json`): the answers are the same.
class _Score(msgspec.Struct):
    value: Any = None
    answer: Any = None
    explanation: Any = None


class _Message(msgspec.Struct):
    content: Any = None


class _Choice(msgspec.Struct):
    message: _Message | None = None


class _Output(msgspec.Struct):
    completion: Any = None
    choices: list[_Choice] | None = None


class _Usage(msgspec.Struct):
    input_tokens: Any = None
    output_tokens: Any = None
    total_tokens: Any = None


class _Sample(msgspec.Struct):
    id: Any = None
    epoch: Any = None
    input: Any = None
    target: Any = None
    choices: Any = None
    scores: dict[str, _Score] | None = None
    output: _Output | None = None
    error: Any = None
    model_usage: dict[str, _Usage] | None = None
    attachments: Any = None
    total_time: Any = None
    working_time: Any = None


_TYPED = msgspec.json.Decoder(_Sample)


def sample_from_bytes(data: bytes, path: str, where: str, raw_zstd: bytes | None = None) -> SampleResult:
    """One sample from its JSON bytes (an .eval member, a .json log's element), stored raw as its
    transcript. Typed decode first, inside the same bounds as `jsonread.ObjectFields`; whatever it
    refuses goes through the generic path, which accepts it or names the problem as before."""
    checked = jsonread.cheap_checks_pass(data)
    if checked:
        try:
            t = _TYPED.decode(data)
        except msgspec.ValidationError:
            pass  # valid JSON of another shape: the generic fields decode
        except jsonread.FAST_REFUSED:
            checked = False  # NaN, 1e999, a lone surrogate...: the standard scanner decides
        else:
            output = t.output
            completion = first = None
            if output is not None:
                completion = output.completion
                if output.choices and output.choices[0].message is not None:
                    first = output.choices[0].message.content
            scores = None if t.scores is None else \
                [(name, sc.value, sc.answer, sc.explanation) for name, sc in t.scores.items()]
            usage = None if not t.model_usage else \
                [(u.input_tokens, u.output_tokens, u.total_tokens) for u in t.model_usage.values()]
            return _sample(t.id, t.epoch, t.attachments, scores, completion, first, t.error, usage, t.input,
                           t.choices, t.target, t.total_time, t.working_time, None, data, raw_zstd, path, where)
    return sample_from_json(SAMPLE_FIELDS.decode(data, path, where, checked), path, where, raw=data,
                            raw_zstd=raw_zstd)


def sample_from_json(s: Any, path: str, where: str, raw: bytes | None = None,
                     raw_zstd: bytes | None = None) -> SampleResult:
    if not isinstance(s, dict):
        raise IngestError(path, f"{where}: a sample must be a JSON object")
    raw_scores = s.get("scores") or {}
    scores = [(str(name), sc.get("value"), sc.get("answer"), sc.get("explanation"))
              for name, sc in raw_scores.items() if isinstance(sc, dict)] if isinstance(raw_scores, dict) else None
    output = s.get("output")
    completion = first = None
    if isinstance(output, dict):
        completion = output.get("completion")
        choices = output.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            first = _obj(choices[0].get("message")).get("content")
    usage = s.get("model_usage")
    usage_rows = [(u.get("input_tokens"), u.get("output_tokens"), u.get("total_tokens"))
                  for u in usage.values() if isinstance(u, dict)] if isinstance(usage, dict) and usage else None
    transcript = None if raw is not None else {k: s[k] for k in TRANSCRIPT_KEYS if s.get(k) is not None}
    return _sample(s.get("id"), s.get("epoch"), s.get("attachments"), scores, completion, first, s.get("error"),
                   usage_rows, s.get("input"), s.get("choices"), s.get("target"), s.get("total_time"),
                   s.get("working_time"), transcript, raw, raw_zstd, path, where, s)


def _sample(sid: Any, epoch: Any, att: Any, raw_scores: list[tuple[str, Any, Any, Any]] | None, completion: Any,
            first_content: Any, err: Any, usage: list[tuple[Any, Any, Any]] | None, input_value: Any,
            choices: Any, target: Any, total_time: Any, working_time: Any, transcript: dict[str, Any] | None,
            raw: bytes | None, raw_zstd: bytes | None, path: str, where: str,
            whole: dict[str, Any] | None = None) -> SampleResult:
    """The SampleResult of a sample's extracted parts, in the order (and with the errors) of old."""
    if sid is None:
        raise IngestError(path, f"{where}: required key 'id' is missing")
    epoch = _int(epoch) or 1
    att = att or {}
    if not isinstance(att, dict):
        att = {}
    check_expansion(whole or {}, att, raw, path, where)
    scores: dict[str, Score] = {}
    for name, value, sc_answer, explanation in raw_scores or ():
        value = resolve(value, att)
        scores[name] = Score(value, score_to_float(value), _str(resolve(sc_answer, att)),
                             _str(resolve(explanation, att)))
    # only the parts read are resolved (walking the whole output in Python cost more than parsing it)
    answer = _str(resolve(completion, att))
    if not answer:
        answer = content_text(resolve(first_content, att))
    if not answer:
        answer = next((sc.answer for sc in scores.values() if sc.answer), "")
    error = ""
    if isinstance(err, dict):
        error = _str(err.get("message")) or "error"
    elif err:
        error = _str(err)
    tokens_in = tokens_out = tokens_total = None
    if usage is not None:
        tokens_in = tokens_out = tokens_total = 0
        for u_in, u_out, u_total in usage:  # one pass (three sums over generators cost more than the rest)
            tokens_in += _int(u_in) or 0
            tokens_out += _int(u_out) or 0
            tokens_total += _int(u_total) or 0
    input_text = _input_text(resolve(input_value, att))
    if isinstance(choices, list) and choices:
        # multiple choice: the options are part of what the model was asked
        input_text += "\n\n" + "\n".join(f"{chr(65 + i) if i < 26 else i}) {_str(resolve(c, att))}"
                                          for i, c in enumerate(choices))
    return SampleResult(
        sample_id=_str(sid),
        epoch=epoch,
        scores=scores,
        input_text=input_text,
        target=_target_text(resolve(target, att)),
        answer=answer,
        error=error,
        total_time=_num(total_time),
        working_time=_num(working_time),
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        total_tokens=tokens_total,
        transcript=transcript,
        transcript_json=raw,
        transcript_zstd=raw_zstd if raw is not None else None,
    )


def _metrics(results: Any, task: str) -> tuple[MetricValue, ...]:
    """Flatten results.scores[].metrics into MetricValues; 'stderr' attaches to its siblings."""
    if not isinstance(results, dict):
        return ()
    bench = benchmarks.match_task(task)
    out: list[MetricValue] = []
    headline = results.get("headline") if isinstance(results.get("headline"), dict) else None
    scores = results.get("scores")
    for sc in scores if isinstance(scores, list) else []:
        if not isinstance(sc, dict):
            continue
        scorer = _str(sc.get("name") or sc.get("scorer"))
        metrics = sc.get("metrics") or {}
        if not isinstance(metrics, dict):
            continue
        stderr = None
        if isinstance(metrics.get("stderr"), dict):
            stderr = _num(metrics["stderr"].get("value"))
        for key, m in metrics.items():
            if not isinstance(m, dict) or (key == "stderr" and len(metrics) > 1):
                continue
            name = _str(m.get("name") or key)
            raw = m.get("value")
            out.append(MetricValue(scorer, name, _num(raw), None if key == "stderr" else stderr,
                                   benchmarks.metric_direction(name, bench), "", _str(sc.get("reducer"))))
    if headline:
        key = (_str(headline.get("score") or headline.get("scorer")), _str(headline.get("metric")))
        out.sort(key=lambda m: (m.scorer, m.metric) != key)
    return tuple(out)


def run_from_header(h: dict[str, Any], path: str, where: str, incomplete: bool = False) -> EvalRun:
    spec = h.get("eval")
    if not isinstance(spec, dict):
        raise IngestError(path, f"{where}: required key 'eval' is missing (not an Inspect log?)")
    task = _str(_need(spec, "task", path, where + " eval"))
    model = _str(_need(spec, "model", path, where + " eval"))
    config = _obj(spec.get("config"))
    packages = _obj(spec.get("packages"))
    dataset = _obj(spec.get("dataset"))
    results = h.get("results") if isinstance(h.get("results"), dict) else None
    epochs = _int(config.get("epochs")) or 1
    total = _int(results.get("total_samples")) if results else None
    completed = _int(results.get("completed_samples")) if results else None
    if total is None and _int(dataset.get("samples")) is not None:
        total = stored_int((_int(dataset.get("samples")) or 0) * epochs)
    err = h.get("error")
    status = RunStatus.parse(_str(h.get("status") or "started"))
    notes: list[str] = []
    if h.get("invalidated"):
        notes.append("The log is marked invalidated by Inspect.")
    return EvalRun(
        harness=Harness.INSPECT,
        harness_version=_str(packages.get("inspect_ai")),
        task=task.rsplit("/", 1)[-1] if "/" in task else task,
        task_version=_str(spec.get("task_version")),
        model=model,
        created=_str(spec.get("created")),
        status=status,
        epochs=epochs,
        total_samples=total,
        completed_samples=completed,
        metrics=_metrics(results, task),
        incomplete=incomplete or status in (RunStatus.STARTED, RunStatus.CANCELLED, RunStatus.INTERRUPTED),
        error_message=_str(err.get("message")) if isinstance(err, dict) else _str(err),
        eval_id=_str(spec.get("eval_id")),
        run_id=_str(spec.get("run_id")),
        dataset=_str(dataset.get("name")),
        notes=tuple(notes),
    )


# -- .eval ---------------------------------------------------------------------------------------

def _partial_metrics(summaries: list[dict[str, Any]], task: str) -> tuple[MetricValue, ...]:
    """Mean of each scorer over the journal's sample summaries (our figure, labelled as such)."""
    bench = benchmarks.match_task(task)
    sums: dict[str, list[float]] = {}
    for s in summaries:
        for name, sc in _obj(s.get("scores")).items():
            if isinstance(sc, dict):
                v = score_to_float(sc.get("value"))
                if v is not None:
                    sums.setdefault(str(name), []).append(v)
    out = []
    for name, vals in sums.items():
        n = len(vals)
        try:
            mean = sum(vals) / n
            stderr = (math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) / math.sqrt(n)) if n > 1 else None
        except OverflowError:  # values near a float's limit (1e200 squared): no figure, as for NaN
            mean, stderr = math.nan, None
        # a sum past a float's limit (1e308 + 1e308) is inf: unknown as well
        out.append(MetricValue(name, "mean", finite_float(mean), None if stderr is None else finite_float(stderr),
                               benchmarks.metric_direction("accuracy", bench), "", "partial"))
    return tuple(out)


def open_eval(path: str, limits: Limits = DEFAULT_LIMITS, keep_samples: bool = True) -> ParsedLog:
    """`keep_samples=False`: parser processes will read the samples (ParsedRun.sample_entries says where
    they find them); the sample members are then counted, not kept (app/ingest/safezip.SampleDirectory)."""
    z = SafeZip(path, limits.max_member_bytes, limits.max_members, select=_SAMPLE_MEMBER.match, keep=keep_samples)
    try:
        return _open_eval(z, path, limits)
    except BaseException:
        z.close()
        raise


class _HeaderDataset(msgspec.Struct):
    name: Any = msgspec.UNSET
    samples: Any = msgspec.UNSET


class _HeaderEval(msgspec.Struct):
    task: Any = msgspec.UNSET
    model: Any = msgspec.UNSET
    config: Any = msgspec.UNSET
    packages: Any = msgspec.UNSET
    dataset: _HeaderDataset | None = msgspec.UNSET  # type: ignore[assignment]
    task_version: Any = msgspec.UNSET
    created: Any = msgspec.UNSET
    eval_id: Any = msgspec.UNSET
    run_id: Any = msgspec.UNSET


class _Header(msgspec.Struct):
    eval: _HeaderEval | None = msgspec.UNSET  # type: ignore[assignment]
    results: Any = msgspec.UNSET
    error: Any = msgspec.UNSET
    status: Any = msgspec.UNSET
    invalidated: Any = msgspec.UNSET


# What run_from_header reads of header.json or _journal/start.json, typed down so that msgspec skips the
# rest, above all eval.dataset.sample_ids: every sample's id, 13 MB of objects at 160,000 samples built
# only to be dropped, while the parser processes wait. A header of another shape is read whole as before.
HEADER_FIELDS = jsonread.ObjectFields(_Header)


def _read_json(z: SafeZip, name: str, path: str, limits: Limits, header: bool = False) -> Any:
    m = z.members[name]
    if m.size > limits.max_header_bytes:
        raise IngestError(path, f"member {name} is {m.size:,} bytes, more than the "
                          f"{limits.max_header_bytes >> 20} MiB limit for a log header (possible zip bomb)")
    data = z.read_entry(m)[0]
    return HEADER_FIELDS.decode(data, path, _where(name)) if header else jsonread.loads(data, path, _where(name))


def _open_eval(z: SafeZip, path: str, limits: Limits) -> ParsedLog:
    # the sample members, kept packed as the directory listed them (z.selected: open_eval's `select`),
    # or only counted (z.directory); read through `z` below, not held, so that closing the log frees them
    sample_count = z.directory.count
    if "header.json" in z.members:
        header = _read_json(z, "header.json", path, limits, header=True)
        if not isinstance(header, dict):
            raise IngestError(path, "member header.json: expected a JSON object")
        run = run_from_header(header, path, "member header.json")
    elif "_journal/start.json" in z.members:
        start = _read_json(z, "_journal/start.json", path, limits, header=True)
        if not isinstance(start, dict):
            raise IngestError(path, "member _journal/start.json: expected a JSON object")
        summaries: list[dict[str, Any]] = []
        # numeric order without int(): a member number of 5,000 digits raised ValueError (digit limit)
        journal = sorted(((len(d := m.group(1).lstrip("0")), d), n) for n in z.members
                         if (m := _SUMMARY_MEMBER.match(n)))
        for _, name in journal:
            part = _read_json(z, name, path, limits)
            if isinstance(part, list):
                summaries.extend(s for s in part if isinstance(s, dict))
        base = run_from_header({**start, "status": "started"}, path, "member _journal/start.json", True)
        run = replace(
            base,
            status=RunStatus.INTERRUPTED,
            completed_samples=sample_count,
            metrics=_partial_metrics(summaries, base.task),
            notes=(*base.notes, "header.json is missing: the run was interrupted before Inspect finished "
                   "writing it. Rebuilt from the journal; metrics are the workstation's mean of "
                   f"{len(summaries)} journal sample summaries, not Inspect's final figures."),
        )
    else:
        raise IngestError(path, "ZIP archive has neither header.json nor _journal/start.json: not an Inspect "
                          ".eval log")

    sample_range = _sample_range(z, lambda: z.selected, path)

    def samples() -> Iterator[SampleResult]:
        return sample_range(0, sample_count)

    def entries() -> SampleDirectory:
        return z.directory

    return ParsedLog(path, "inspect-eval", [ParsedRun(run, samples, sample_count, sample_range, entries)],
                     bytes_total=z.size, bytes_done=lambda: z.compressed_read, close=z.close)


def _sample_range(z: SafeZip, listed: Callable[[], PackedEntries],
                  path: str) -> Callable[[int, int], Iterator[SampleResult]]:
    def sample_range(start: int, stop: int) -> Iterator[SampleResult]:
        if z.closed:  # closing dropped the entries: reading on would find no samples, not an error
            raise ValueError(f"{path}: read after the log was closed")
        entries = listed()
        for i in range(start, min(stop, len(entries))):
            m = entries[i]
            data, frame = z.read_entry(m)
            yield sample_from_bytes(data, path, _where(m.name), frame)

    return sample_range


@dataclass
class EvalSamples:
    """An .eval log's samples without its header (see open_eval_samples)."""

    count: int
    sample_range: Callable[[int, int], Iterator[SampleResult]]
    bytes_done: Callable[[], int]
    close: Callable[[], None]


@dataclass(frozen=True)
class SampleShare:
    """A parser process's share of an .eval's samples: its chunks of `chunk` samples, the i-th from sample
    `firsts[i]`; `starts[i]` is the directory mark at or before that sample's entry."""

    directory: SampleDirectory
    chunk: int
    starts: list[int]
    firsts: list[int]

    @property
    def count(self) -> int:
        return sum(max(0, min(self.chunk, self.directory.count - f)) for f in self.firsts)


def open_eval_samples(path: str, limits: Limits = DEFAULT_LIMITS, share: SampleShare | None = None) -> EvalSamples:
    """The sample members of an .eval, in the order open_eval reads them, for a parser process whose
    parent has read the header (app/services/parse_child.py): the header is neither parsed nor held
    (it lists every sample id: 5 MB of objects for 40,000 samples). Same archive checks and reader.
    `share`: the chunks this process reads (`ParsedRun.sample_entries` shared out); their directory
    entries are then read as the chunks are, from the marks, and no list of them is held."""
    if share is None:
        z = SafeZip(path, limits.max_member_bytes, limits.max_members, select=_SAMPLE_MEMBER.match)
        return EvalSamples(len(z.selected), _sample_range(z, lambda: z.selected, path), lambda: z.compressed_read,
                           z.close)
    zs = SafeZip(path, limits.max_member_bytes, limits.max_members, read_directory=False)

    def sample_range(start: int, stop: int) -> Iterator[SampleResult]:
        j, within = divmod(start, share.chunk)
        if within:
            raise ValueError(f"a share is read chunk by chunk: {start} is not where one begins")
        for m in zs.read_selected(share.directory, share.firsts[j], stop - start, _SAMPLE_MEMBER.match,
                                  share.starts[j]):
            data, frame = zs.read_entry(m)
            yield sample_from_bytes(data, path, _where(m.name), frame)

    return EvalSamples(share.count, sample_range, lambda: zs.compressed_read, zs.close)


# -- .json ---------------------------------------------------------------------------------------

def open_json(path: str, limits: Limits = DEFAULT_LIMITS) -> ParsedLog:
    """Stream an Inspect .json log: header keys first, then `samples` one element at a time."""
    try:
        f: IO[bytes] = open(path, "rb")
    except OSError as exc:
        raise IngestError(path, f"cannot be opened: {exc.strerror or exc}") from None
    try:
        size = _fsize(f)
        stream = jsonread.StreamingObject(f, path, limits.max_json_value_bytes)
        items = stream.items(stream_arrays=frozenset({"samples"}))
        header: dict[str, Any] = {}
        sample_array = None
        for key, value in items:
            if key == "samples":
                if value is not None and not isinstance(value, jsonread.ArrayStream):
                    # an object or a string where the list of samples belongs: not an Inspect log
                    raise IngestError(path, f"samples: must be a list, found {type(value).__name__}")
                sample_array = value
                break
            header[key] = value
        run = run_from_header(header, path, "log header")
    except BaseException:
        f.close()
        raise

    def samples() -> Iterator[SampleResult]:
        if sample_array is None:
            return
        for i, raw in enumerate(sample_array.raw()):
            yield sample_from_bytes(raw, path, f"samples[{i}]")
        for _ in items:  # rest of the object (reductions...) must still be valid JSON
            pass

    estimate = run.total_samples
    return ParsedLog(path, "inspect-json", [ParsedRun(run, samples, estimate)], bytes_total=size,
                     bytes_done=lambda: stream.bytes_read, close=f.close)


def _fsize(f: IO[bytes]) -> int:
    return os.fstat(f.fileno()).st_size
