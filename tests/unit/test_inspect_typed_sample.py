"""A sample's typed decode (app/ingest/inspect_log.sample_from_bytes) reads exactly what the generic
path (every wanted key parsed whole, then `sample_from_json` on the dict) reads, for samples of
Inspect's shape and of any other shape, and refuses what it refuses with the same message."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest import inspect_log
from app.ingest.safezip import SafeZip
from app.model.errors import IngestError
from app.model.results import SampleResult

INSPECT = Path(__file__).parents[1] / "fixtures" / "inspect"

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from(["", "x", "attachment://a1", "attachment://zz"]))
anything = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["text", "type", "content", "a"]), inner,
                                                 max_size=3)), max_leaves=8)
score = st.one_of(anything, st.fixed_dictionaries({}, optional={
    "value": anything, "answer": anything, "explanation": anything, "history": anything}))
message = st.one_of(anything, st.fixed_dictionaries({}, optional={"content": anything, "role": anything}))
choice = st.one_of(anything, st.fixed_dictionaries({}, optional={"message": message, "stop_reason": anything}))
output = st.one_of(anything, st.fixed_dictionaries({}, optional={
    "completion": anything, "choices": st.one_of(anything, st.lists(choice, max_size=2)), "usage": anything}))
usage = st.one_of(anything, st.fixed_dictionaries({}, optional={
    "input_tokens": anything, "output_tokens": anything, "total_tokens": anything}))
sample = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.none(), st.integers(0, 9), st.text(max_size=3)), "epoch": anything, "input": anything,
    "target": anything, "choices": anything,
    "scores": st.one_of(anything, st.dictionaries(st.sampled_from(["a", "b"]), score, max_size=2)),
    "output": output, "error": anything,
    "model_usage": st.one_of(anything, st.dictionaries(st.sampled_from(["m", "n"]), usage, max_size=2)),
    "attachments": st.one_of(anything, st.fixed_dictionaries({"a1": st.text(max_size=4)})),
    "total_time": anything, "working_time": anything, "messages": anything})


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return type(a) is type(b) and a == b


def generic(data: bytes) -> SampleResult | str:
    try:
        return inspect_log.sample_from_json(inspect_log.SAMPLE_FIELDS.decode(data, "x.eval", "m"), "x.eval", "m",
                                            raw=data, raw_zstd=b"f")
    except IngestError as exc:
        return str(exc)


def typed(data: bytes) -> SampleResult | str:
    try:
        return inspect_log.sample_from_bytes(data, "x.eval", "m", b"f")
    except IngestError as exc:
        return str(exc)


def assert_same(data: bytes) -> None:
    a, b = typed(data), generic(data)
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    for field in SampleResult.__dataclass_fields__:
        x, y = getattr(a, field), getattr(b, field)
        if field == "scores":
            assert x.keys() == y.keys()
            for k in x:
                assert same(x[k].numeric, y[k].numeric) and (x[k].answer, x[k].explanation) == \
                    (y[k].answer, y[k].explanation)
                assert json.dumps(x[k].value) == json.dumps(y[k].value)
        else:
            assert same(x, y), field


@settings(max_examples=150, deadline=None)
@given(sample)
def test_typed_decode_reads_what_the_generic_path_reads(value: dict[str, Any]) -> None:
    assert_same(json.dumps(value).encode())


def test_real_samples_take_the_typed_path_and_read_the_same(monkeypatch):
    with SafeZip(str(INSPECT / "intercode_ok.eval"), 1 << 30) as z:  # Zstandard members
        members = [z.read(n) for n in z.names() if n.startswith("samples/")]
    assert members
    for data in members:
        assert_same(data)
    fallback: list[bytes] = []
    original = inspect_log.SAMPLE_FIELDS.decode
    monkeypatch.setattr(inspect_log.SAMPLE_FIELDS, "decode", lambda d, *a: fallback.append(d) or original(d, *a))
    for data in members:
        inspect_log.sample_from_bytes(data, "x.eval", "m")
    assert fallback == []  # Inspect's own samples never need the generic path


@pytest.mark.parametrize("text", [
    b'{"id": 1, "scores": {"a": {"value": NaN}}}',  # msgspec refuses NaN: the standard scanner reads it
    b'{"id": 1, "output": {"completion": "attachment://a1"}, "attachments": {"a1": "\\ud800"}}',
    b'{"id": 1, "scores": [1], "output": {"choices": {"0": 1}}, "model_usage": []}',  # other shapes
    b'{"id": 1, "output": {"choices": [{"message": [1]}, 2]}, "model_usage": {"m": 3}}',
    b'{"epoch": 2}', b'[1, 2]', b'{"id": 1, "x": ' + b"[" * 600 + b"]" * 600 + b"}", b'{"id": "\xff"}',
    b'{"id": 1, "output": 1, "output": {"completion": "last wins"}}',
])
def test_edge_cases_read_or_fail_as_the_generic_path_does(text: bytes) -> None:
    assert_same(text)


def test_answer_token_and_score_parts_on_the_typed_path(monkeypatch):
    monkeypatch.setattr(inspect_log, "SAMPLE_FIELDS", None)  # the generic path would fail: typed only
    s = inspect_log.sample_from_bytes(json.dumps({
        "id": 7, "epoch": 2, "output": {"completion": "", "choices": [{"message": {"content": [
            {"type": "text", "text": "attachment://a1"}, {"type": "reasoning", "reasoning": "r"}]}}]},
        "scores": {"s": {"value": "C", "answer": "attachment://a1", "explanation": "e", "history": []}},
        "model_usage": {"m": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
                        "n": {"input_tokens": 1, "output_tokens": 1.0, "total_tokens": True}},
        "attachments": {"a1": "A"}, "input": "attachment://a1", "error": {"message": "boom"}}).encode(),
        "x.eval", "m")
    assert (s.sample_id, s.epoch, s.answer, s.input_text, s.error) == ("7", 2, "A\nr", "A", "boom")
    assert (s.scores["s"].value, s.scores["s"].numeric, s.scores["s"].answer) == ("C", 1.0, "A")
    assert (s.input_tokens, s.output_tokens, s.total_tokens) == (4, 5, 7)
    s = inspect_log.sample_from_bytes(b'{"id": 1, "output": {"completion": null, "choices": [{"message": '
                                      b'{"content": "attachment://a1"}}]}, "attachments": {"a1": "A"}}', "x.eval", "m")
    assert s.answer == "A" and s.input_tokens is None
