"""Entry point for benchmark-result files: detect the format by content, then open it.

    log = open_results_file(path)      # header(s) parsed, samples not yet read
    for parsed_run in log.runs:
        parsed_run.run                  # EvalRun
        for sample in parsed_run.samples():   # streamed
            ...
    log.close()

Formats (sniffed from the first bytes, never from the extension):
- `PK\\x03\\x04` -> Inspect .eval (ZIP);
- JSON whose first key is "results" (or holding lm-eval markers) -> lm-evaluation-harness results;
- other JSON objects with "version"/"status"/"eval" -> Inspect .json;
- a lm-eval samples line (`{"doc_id": ...`) -> rejected with a hint to import the results file;
- text whose first line is a CSV header with `task` and `model` -> CSV (docs/CSV_FORMAT.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from app.ingest import csv_results, inspect_log, lm_eval
from app.ingest.logfile import DEFAULT_LIMITS, Limits, ParsedLog, check_regular_file, read_head
from app.model.errors import IngestError

_FIRST_KEY = re.compile(rb'^\s*\{\s*"((?:[^"\\]|\\.)*)"')
_LM_EVAL_MARKERS = (b'"lm_eval_version"', b'"n-samples"', b'"group_subtasks"', b'"higher_is_better"')


def sniff(path: str) -> str:
    """'inspect-eval' | 'inspect-json' | 'lm-eval' | 'csv'; IngestError for anything else."""
    check_regular_file(path)
    head = read_head(path, 65536)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "inspect-eval"
    body = head.removeprefix(b"\xef\xbb\xbf")
    m = _FIRST_KEY.match(body)
    if body.lstrip().startswith(b"{"):
        first = m.group(1) if m else b""
        if first == b"results" or any(k in body for k in _LM_EVAL_MARKERS):
            return "lm-eval"
        if first == b"doc_id":
            raise IngestError(path, "this is an lm-eval samples file; import the results_*.json file beside it "
                              "(its samples are read automatically)")
        if first in (b"version", b"status", b"eval") or b'"eval"' in body:
            return "inspect-json"
        raise IngestError(path, "JSON file is neither an Inspect log nor lm-eval results (unexpected first key "
                          f"{first.decode('utf-8', 'replace')[:40]!r})")
    first_line = body.split(b"\n", 1)[0].lower()
    if b"," in first_line and b"task" in first_line and b"model" in first_line:
        return "csv"
    if b"\x00" in head[:1024]:
        raise IngestError(path, "binary file of an unknown kind: not an Inspect .eval (ZIP), JSON or CSV file")
    raise IngestError(path, "not a recognised results file (expected an Inspect .eval or .json log, "
                      "lm-eval results JSON, or CSV with the columns in docs/CSV_FORMAT.md)")


def import_bytes(path: str, limits: Limits = DEFAULT_LIMITS, kind: str | None = None) -> int:
    """Bytes an import of `path` reads: the file, and for lm-eval results the samples files beside it
    (what a progress bar measures); 0 for a file that cannot be read (the import says why). `kind`:
    what `sniff` said of it, when the caller has asked already."""
    try:
        size = os.path.getsize(path)
        return size + (lm_eval.samples_bytes(path, limits) if (kind or sniff(path)) == "lm-eval" else 0)
    except (OSError, IngestError):
        return 0


def open_results_file(path: str, limits: Limits = DEFAULT_LIMITS, cancel: Callable[[], bool] | None = None,
                      hashing: Callable[[str, int, int], None] | None = None, kind: str | None = None,
                      keep_samples: bool = True) -> ParsedLog:
    """`cancel` and `hashing` reach what is read whole on opening: lm-eval's samples files (hashed).
    `kind`: what `sniff` said of the file, when the caller has asked already. `keep_samples=False`: an
    .eval's samples will be read by parser processes (inspect_log.open_eval)."""
    kind = kind or sniff(path)
    if kind == "inspect-eval":
        return inspect_log.open_eval(path, limits, keep_samples)
    if kind == "inspect-json":
        return inspect_log.open_json(path, limits)
    if kind == "lm-eval":
        return lm_eval.open_results(path, limits, cancel, hashing)
    return csv_results.open_csv(path, limits)
