"""Results from other tools as CSV, in the column layout documented in docs/CSV_FORMAT.md.

One header row (UTF-8, comma-separated, names case-insensitive). Every row names its run by
`task` and `model` (plus optional `task_version`); rows with a `sample_id` are per-sample rows,
the others are metric rows (`metric`, `value`, optional `stderr`, `scorer`, `direction`).
The file is read twice, streaming: once for the runs and their metrics, once for the samples.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from typing import IO

from app.ingest.logfile import DEFAULT_LIMITS, Limits, ParsedLog, ParsedRun
from app.model import benchmarks
from app.model.errors import IngestError
from app.model.results import Direction, EvalRun, Harness, MetricValue, RunStatus, SampleResult, Score, stored_int

REQUIRED = ("task", "model")
KNOWN = {
    "task", "model", "task_version", "harness", "harness_version", "created", "status", "epochs",
    "total_samples", "metric", "value", "stderr", "scorer", "direction", "sample_id", "epoch", "score",
    "answer", "target", "input", "error", "total_time", "input_tokens", "output_tokens",
}
RunKey = tuple[str, str, str]


class _Rows:
    def __init__(self, path: str, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.bytes_read = 0

    def __call__(self) -> Iterator[tuple[int, dict[str, str]]]:
        try:
            raw = open(self.path, "rb")
        except OSError as exc:
            raise IngestError(self.path, f"cannot be opened: {exc.strerror or exc}") from None
        with raw:
            text = io.TextIOWrapper(_Counting(raw, self), encoding="utf-8-sig", errors="strict",  # type: ignore[type-var]
                                    newline="")
            # strict: a quote that is never closed is refused; left lenient, the reader took the rest
            # of the file as that one cell, and every row after it was silently lost
            reader = csv.reader(text, strict=True)
            line = 0
            try:
                header = next(reader, None)
                line = 1
                if header is None:
                    raise IngestError(self.path, "CSV file has no header row")
                cols = [h.strip().lower() for h in header]
                missing = [c for c in REQUIRED if c not in cols]
                if missing:
                    raise IngestError(self.path, f"CSV header lacks required column(s) {', '.join(missing)} "
                                      "(see docs/CSV_FORMAT.md)")
                unknown = [c for c in cols if c and c not in KNOWN]
                if unknown:
                    raise IngestError(self.path, f"CSV header has unknown column(s) {', '.join(unknown)} "
                                      "(see docs/CSV_FORMAT.md)")
                for row in reader:
                    line = reader.line_num
                    if not any(cell.strip() for cell in row):
                        continue
                    if len(row) > len(cols):
                        raise IngestError(self.path, f"line {line}: {len(row)} cells, the header has {len(cols)}")
                    yield line, {c: (row[i].strip() if i < len(row) else "") for i, c in enumerate(cols)}
            except UnicodeDecodeError as exc:
                raise IngestError(self.path, f"invalid UTF-8 near line {line + 1} (byte {exc.start} of a block)") \
                    from None
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    raise IngestError(self.path, f"line {line + 1}: a quoted cell is never closed (the file "
                                      "ends inside it: a stray quote, or the file is truncated)") from None
                raise IngestError(self.path, f"line {line + 1}: malformed CSV ({exc})") from None
            except OSError as exc:
                raise IngestError(self.path, f"read failed ({exc.strerror or exc}); was the media removed?") \
                    from None


class _Counting(io.RawIOBase):
    def __init__(self, raw: IO[bytes], rows: _Rows) -> None:
        self._raw = raw
        self._rows = rows

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        n = len(data)
        b[:n] = data
        self._rows.bytes_read += n
        return n


def _float(path: str, line: int, col: str, text: str) -> float | None:
    if not text or text.upper() in ("NA", "N/A", "NAN", "NULL"):
        return None
    try:
        v = float(text)
    except ValueError:
        raise IngestError(path, f"line {line}, column {col}: {text[:40]!r} is not a number") from None
    return v if math.isfinite(v) else None


def _int(path: str, line: int, col: str, text: str) -> int | None:
    v = _float(path, line, col, text)
    return None if v is None else stored_int(int(v))


def _key(r: dict[str, str], path: str, line: int) -> RunKey:
    if not r.get("task") or not r.get("model"):
        raise IngestError(path, f"line {line}: 'task' and 'model' are required on every row")
    return (r["task"], r["model"], r.get("task_version", ""))


def open_csv(path: str, limits: Limits = DEFAULT_LIMITS) -> ParsedLog:
    import os

    size = os.path.getsize(path)
    rows = _Rows(path, limits)
    runs: dict[RunKey, dict[str, object]] = {}
    for line, r in rows():
        key = _key(r, path, line)
        info = runs.setdefault(key, {"metrics": [], "samples": 0, "errors": 0, "row": r, "epochs": 1})
        if r.get("sample_id"):
            info["samples"] = int(info["samples"]) + 1  # type: ignore[call-overload]
            epoch = _int(path, line, "epoch", r.get("epoch", "")) or 1
            info["epochs"] = max(int(info["epochs"]), epoch)  # type: ignore[call-overload]
        else:
            if not r.get("metric"):
                raise IngestError(path, f"line {line}: a row without sample_id must give 'metric' and 'value'")
            bench = benchmarks.match_task(key[0])
            d = r.get("direction", "").lower()
            direction = (Direction.HIGHER if d in ("higher", "up", "+") else Direction.LOWER
                         if d in ("lower", "down", "-") else benchmarks.metric_direction(r["metric"], bench))
            info["metrics"].append(MetricValue(  # type: ignore[attr-defined]
                r.get("scorer", ""), r["metric"], _float(path, line, "value", r.get("value", "")),
                _float(path, line, "stderr", r.get("stderr", "")), direction))
    if not runs:
        raise IngestError(path, "CSV file has a header but no data rows")
    parsed: list[ParsedRun] = []
    for key, info in runs.items():
        first: dict[str, str] = info["row"]  # type: ignore[assignment]
        n = int(info["samples"])  # type: ignore[call-overload]
        status = RunStatus.parse(first.get("status") or "success")
        total = _int(path, 2, "total_samples", first.get("total_samples", "")) or (n or None)
        run = EvalRun(
            harness=Harness.CSV,
            harness_version=" ".join(x for x in (first.get("harness", ""), first.get("harness_version", "")) if x),
            task=key[0], task_version=key[2], model=key[1], created=first.get("created", ""),
            status=status, epochs=int(info["epochs"]),  # type: ignore[call-overload]
            total_samples=total, completed_samples=n or total,
            metrics=tuple(info["metrics"]),  # type: ignore[arg-type]
        )
        parsed.append(ParsedRun(run, _samples(path, limits, key, rows), n))
    return ParsedLog(path, "csv", parsed, bytes_total=size * 2, bytes_done=lambda: rows.bytes_read)


def _samples(path: str, limits: Limits, key: RunKey, rows: _Rows):  # type: ignore[no-untyped-def]
    def gen() -> Iterator[SampleResult]:
        for line, r in rows():
            if not r.get("sample_id") or _key(r, path, line) != key:
                continue
            score_text = r.get("score", "")
            scores = {}
            if score_text:
                scores[r.get("scorer") or "score"] = Score.of(score_text)
            yield SampleResult(
                sample_id=r["sample_id"],
                epoch=_int(path, line, "epoch", r.get("epoch", "")) or 1,
                scores=scores,
                input_text=r.get("input", ""),
                target=r.get("target", ""),
                answer=r.get("answer", ""),
                error=r.get("error", ""),
                total_time=_float(path, line, "total_time", r.get("total_time", "")),
                input_tokens=_int(path, line, "input_tokens", r.get("input_tokens", "")),
                output_tokens=_int(path, line, "output_tokens", r.get("output_tokens", "")),
            )

    return gen
