"""The C parser (msgspec) path of app.ingest.jsonread answers exactly as the standard scanner did.

Whatever msgspec accepts must parse to the same value as json.loads; whatever it refuses falls back
to the standard path, which accepts it (NaN, 1e999, lone surrogates) or names the problem.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest import jsonread
from app.model.errors import IngestError

FIELDS = jsonread.ObjectFields(("id", "epoch", "scores"))

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=20)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None)
@given(values, st.booleans())
def test_loads_matches_the_standard_library(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert same(jsonread.loads(text.encode("utf-8", "surrogatepass") if ascii_only else text, "x.json"),
                json.loads(text))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["id", "epoch", "scores", "messages", "x"]), values, max_size=5),
                max_size=6), st.sampled_from([1, 3, 17, 4096]))
def test_streaming_elements_and_fields_match_a_whole_parse(samples: list[dict[str, Any]], chunk: int) -> None:
    doc = json.dumps({"version": 2, "eval": {"task": "t"}, "samples": samples, "reductions": [1.5, None]})
    stream = jsonread.StreamingObject(io.BytesIO(doc.encode()), "x.json", 1 << 20, chunk=chunk)
    got: dict[str, Any] = {}
    for key, value in stream.items(frozenset({"samples"})):
        if key == "samples":
            raws = list(value.raw())
            got[key] = [json.loads(r) for r in raws]
            for raw, sample in zip(raws, samples, strict=True):
                fields = FIELDS.decode(raw, "x.json")
                assert same(fields, {k: v for k, v in sample.items() if k in FIELDS.fields})
        else:
            got[key] = value
    assert same(got, json.loads(doc))


def test_skipped_parts_keep_every_bound() -> None:
    head = b'{"id": 1, "epoch": 1, "messages": '
    # NaN / Infinity / 1e999 in a skipped part: accepted, as the standard reader does
    assert FIELDS.decode(head + b'[NaN, -Infinity, 1e999]}', "x.json") == {"id": 1, "epoch": 1}
    with pytest.raises(IngestError, match="integer with too many digits"):
        FIELDS.decode(head + b"9" * 5000 + b"}", "x.json", "member s.json")
    with pytest.raises(IngestError, match="invalid UTF-8"):
        FIELDS.decode(head + b'"caf\xe9"}', "x.json", "member s.json")
    with pytest.raises(IngestError, match="nested more than 512"):
        FIELDS.decode(head + b"[" * 600 + b"]" * 600 + b"}", "x.json")
    with pytest.raises(IngestError, match="invalid JSON"):
        FIELDS.decode(head + b"[1,]}", "x.json")
    # a long run of digits inside text is fine (only numbers are limited)
    assert FIELDS.decode(head + b'"' + b"7" * 5000 + b'"}', "x.json") == {"id": 1, "epoch": 1}
    # a lone surrogate escape (msgspec refuses it) is read by the standard reader, as U+FFFD (no UTF-8
    # encodes a lone surrogate: stored as it was, it raised UnicodeEncodeError at the database)
    assert FIELDS.decode(b'{"id": "\\ud800"}', "x.json") == {"id": "\ufffd"}
    assert FIELDS.decode(b"[1]", "x.json") == [1]  # not an object: the caller rejects it


def test_streaming_reports_bad_json_with_its_byte_offset() -> None:
    stream = jsonread.StreamingObject(io.BytesIO(b'{"samples": [{"id": 1}, {"id": tru}]}'), "x.json", 1 << 20)
    with pytest.raises(IngestError, match=r"samples\[1\]: invalid JSON at byte 31"):
        for _key, arr in stream.items(frozenset({"samples"})):
            list(arr.raw())


def test_byte_order_mark_is_skipped() -> None:
    stream = jsonread.StreamingObject(io.BytesIO(b'\xef\xbb\xbf{"a": [1, 2]}'), "x.json", 1 << 20)
    assert dict(stream.items()) == {"a": [1, 2]}


@pytest.mark.parametrize("chunk", [3, 64, 1 << 20])
def test_values_msgspec_refuses_are_read_by_the_standard_scanner(chunk: int) -> None:
    doc = b'{"samples": [{"id": "\\ud800", "v": NaN}, {"id": 2, "pad": "' + b"x" * 5000 + b'"}, {"id": -Infinity}]}'
    stream = jsonread.StreamingObject(io.BytesIO(doc), "x.json", 1 << 20, chunk=chunk)
    got = [FIELDS.decode(raw, "x.json") for _key, arr in stream.items(frozenset({"samples"})) for raw in arr.raw()]
    assert got == [{"id": "\ufffd"}, {"id": 2}, {"id": -math.inf}]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([b"7", b"x", b" ", b"12", b"9" * 600]), st.integers(1, 12)), max_size=40),
       st.integers(0, 4000))
def test_long_digit_run_matches_a_full_scan(parts: list[tuple[bytes, int]], shift: int) -> None:
    import re

    data = b"a" * shift + b"".join(chunk * n for chunk, n in parts)
    expected = any(len(m) > 4300 for m in re.findall(rb"[0-9]+", data))
    assert jsonread.long_digit_run(data) is expected


def test_long_digit_run_edges() -> None:
    for n, want in ((4300, False), (4301, True)):
        for pad in (0, 1, 2149, 2150, 2151, 5000):
            assert jsonread.long_digit_run(b"x" * pad + b"5" * n + b"]") is want, (n, pad)
            assert jsonread.long_digit_run(b"[" + b"x" * pad + b"5" * n) is want, (n, pad)


@settings(max_examples=80, deadline=None)
@given(st.binary(min_size=0, max_size=12_000), st.sampled_from([b"", b"[", b"{", b"[{" * 300]))
def test_bracket_count_matches_the_byte_methods(data: bytes, extra: bytes) -> None:
    text = data + extra
    assert jsonread._opening_brackets(text) == text.count(b"[") + text.count(b"{")


def test_bracket_count_across_chunks_and_the_depth_bound() -> None:
    chunk = jsonread._CHUNK
    for size in (jsonread._NUMPY_FROM - 1, jsonread._NUMPY_FROM, chunk - 1, chunk, chunk + 1, 2 * chunk + 3):
        text = (b"x[y{\x5b\x7b\xdb\xfb" * (size // 8 + 1))[:size]  # 0xDB and 0xFB are not brackets
        assert jsonread._opening_brackets(text) == text.count(b"[") + text.count(b"{"), size
    padding = b'"' + b"a" * 8000 + b'"'
    assert not jsonread.too_deep(b"[" * 512 + padding + b"]" * 512)
    assert jsonread.too_deep(b"[" * 513 + padding + b"]" * 513)
