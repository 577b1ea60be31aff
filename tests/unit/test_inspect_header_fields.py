"""header.json read through HEADER_FIELDS: only what run_from_header reads is built (not the list of every
sample id), and the run read from it is the one the whole document gives, whatever the header's shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.ingest import jsonread
from app.ingest.inspect_log import HEADER_FIELDS, run_from_header
from app.ingest.safezip import SafeZip
from app.model.errors import IngestError

INSPECT = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"
HEADERS = []
for log in sorted(INSPECT.glob("*.eval")):
    try:
        with SafeZip(str(log), 1 << 30) as z:
            for name in ("header.json", "_journal/start.json"):
                if name in z:
                    HEADERS.append(pytest.param(z.read(name), id=f"{log.name}:{name}"))
    except IngestError:
        pass  # the fixtures made to be refused


def _run(header: object) -> object:
    assert isinstance(header, dict)
    return run_from_header(header, "log.eval", "member header.json")


@pytest.mark.parametrize("data", HEADERS)
def test_the_run_from_the_header_fields_is_the_run_from_the_whole_header(data: bytes) -> None:
    whole = jsonread.loads(data, "log.eval")
    fields = HEADER_FIELDS.decode(data, "log.eval")
    assert _run(fields) == _run(whole)
    if isinstance(whole["eval"].get("dataset"), dict) and "sample_ids" in whole["eval"]["dataset"]:
        assert "sample_ids" not in fields["eval"]["dataset"]  # never built


def test_the_sample_ids_are_skipped_in_a_large_header() -> None:
    ids = [f"ctf-{i:06d}" for i in range(100_000)]
    data = json.dumps({"eval": {"task": "t", "model": "m", "dataset": {"name": "d", "samples": 100_000,
                                                                      "sample_ids": ids}},
                       "status": "success", "results": {"total_samples": 100_000}}).encode()
    fields = HEADER_FIELDS.decode(data, "log.eval")
    assert fields["eval"]["dataset"] == {"name": "d", "samples": 100_000}
    assert _run(fields) == _run(jsonread.loads(data, "log.eval"))


@pytest.mark.parametrize("header", [
    {"eval": ["not", "an", "object"]},
    {"eval": None},
    {"eval": {"task": "t", "model": "m", "dataset": ["a", "list"]}},
    {"eval": {"task": "t", "model": "m", "dataset": None}, "status": 7, "results": "odd"},
    {"eval": {"task": "t", "model": "m", "config": {"epochs": 1e999}}},
])
def test_a_header_of_another_shape_reads_as_the_whole_document_does(header: dict[str, object]) -> None:
    data = json.dumps(header).encode()  # 1e999 is written as Infinity: the standard path reads it
    whole = jsonread.loads(data, "log.eval")
    fields = HEADER_FIELDS.decode(data, "log.eval")
    try:
        expected: object = _run(whole)
    except IngestError as exc:
        with pytest.raises(IngestError) as caught:
            _run(fields)
        assert str(caught.value) == str(exc)
    else:
        assert _run(fields) == expected


def test_a_document_that_is_not_an_object_is_given_back_for_the_caller_to_refuse() -> None:
    assert HEADER_FIELDS.decode(b"[1, 2]", "log.eval") == [1, 2]
