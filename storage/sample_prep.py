"""A sample's row for eval_samples and its transcript frame, built without a database.

Pure CPU work (no connection, no driver import): the importer runs it on its reader thread, and the
parser process (app/services/parse_child.py) runs it where it parses, so only ready rows cross the
process boundary. results_repo.prepare_samples and insert_prepared use the same functions.
"""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec
import zstandard

from app.model.results import SampleResult

CODEC = "zstd-json"
ZSTD_LEVEL = 1  # docs/PERFORMANCE.md "Import storage choices": 3x the speed of level 3 for a 2 % larger file
MAX_INPUT_CHARS = 1_000_000  # per-sample text kept in the table; the transcript keeps everything

# eval_samples columns after (id, run_id), in the order sample_row gives them
Row = tuple[str, int, float | int | None, int, float | int | None, float | int | None, int | None, int | None,
            int | None, str, str, str, str, str]


def finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def clip(text: str) -> str:
    if len(text) <= MAX_INPUT_CHARS:
        return text
    return text[:MAX_INPUT_CHARS] + "\n[… truncated; full text in the transcript]"


_JSON = msgspec.json.Encoder()
_PLAIN = (str, int, bool, type(None))


def scores_json(scores: dict[str, dict[str, Any]]) -> str:
    """The scores column: msgspec (a tenth of json.dumps's time per sample) when every value is plain;
    a non-finite float (msgspec would write null), a nested value or a lone surrogate goes through
    json.dumps as before, so what is stored reads back the same."""
    for sc in scores.values():
        for v in (sc["value"], sc["numeric"]):
            if not (type(v) in _PLAIN or (type(v) is float and math.isfinite(v))):
                return json.dumps(scores, ensure_ascii=False, default=str)
    try:
        return _JSON.encode(scores).decode("utf-8")
    except (UnicodeEncodeError, TypeError, OverflowError):
        return json.dumps(scores, ensure_ascii=False, default=str)


def sample_row(s: SampleResult) -> Row:
    return (s.sample_id, s.epoch, finite(s.primary_score), int(bool(s.error)), finite(s.total_time),
            finite(s.working_time), s.input_tokens, s.output_tokens, s.total_tokens,
            scores_json({k: {"value": v.value, "numeric": v.numeric, "answer": v.answer,
                             "explanation": v.explanation} for k, v in s.scores.items()}),
            s.error, clip(s.target), clip(s.answer), clip(s.input_text))


def raw_transcript(s: SampleResult) -> bytes | None:
    """The transcript's JSON bytes: as read, or encoded from the parsed transcript."""
    if s.transcript_json is None and s.transcript is not None:
        return json.dumps(s.transcript, ensure_ascii=False, default=str).encode("utf-8")
    return s.transcript_json


def plain_compressor() -> zstandard.ZstdCompressor:
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL)
