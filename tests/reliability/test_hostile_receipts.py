"""Hostile partner receipts (issue 16, point 5): damaged receipt.json or receipt.json.p7s bytes are
refused with a message naming the file, never a crash; damage never yields an accepted receipt
unless the bytes the partner signed are intact."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ingest import receipt as receipt_file
from tests.reliability.hostile import HOSTILE, json_mutated, mutated, refuses_cleanly
from tests.unit.partner_kit import PartnerKey, make_cert, receipt_json, write_receipt

MANIFEST = "ab" * 32


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("receipt")
    key = make_cert(folder / "keys", "UK AISI")
    rsa_key = make_cert(folder / "rsa", "UK AISI", rsa_bits=3072)
    data = receipt_json(MANIFEST, "UK AI Security Institute")
    path = write_receipt(folder, data, key)
    return {"key": key, "rsa": rsa_key, "data": data, "signature": (folder / "receipt.json.p7s").read_bytes(),
            "doc": json.loads(data), "path": path}


def _check(data: bytes, signature: bytes, key: PartnerKey) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "receipt.json"
        path.write_bytes(data)
        (Path(d) / "receipt.json.p7s").write_bytes(signature)

        def run() -> None:
            _, raw, sig, _ = receipt_file.read(path)
            receipt_file.signer(raw, sig, [key.cert], f"{path}.p7s", "the partner's receipt certificate")

        refuses_cleanly(run, "receipt.json")


@HOSTILE
@given(data=st.data())
def test_damaged_signature_bytes(signed: dict[str, Any], data: st.DataObject) -> None:
    damaged = data.draw(mutated(signed["signature"]))
    _check(signed["data"], damaged, signed["key"])


@HOSTILE
@given(data=st.data())
def test_damaged_receipt_json(signed: dict[str, Any], data: st.DataObject) -> None:
    raw = data.draw(st.one_of(json_mutated(signed["doc"], 2), mutated(signed["data"])))
    _check(raw, signed["signature"], signed["key"])
    if raw != signed["data"]:
        with pytest.raises(receipt_file.ValidationError):  # changed content never verifies
            receipt_file.signer(raw, signed["signature"], [signed["key"].cert], "receipt.json.p7s", "the partner")


def test_random_bytes_and_the_wrong_key(signed: dict[str, Any]) -> None:
    for junk in (b"", b"\x30\x80" * 100, b"\x30\x03\x02\x01\x01"):
        with pytest.raises(receipt_file.ValidationError, match="receipt.json.p7s: not a readable CMS"):
            receipt_file.signer(signed["data"], junk, [signed["key"].cert], "receipt.json.p7s", "the partner")
    with pytest.raises(receipt_file.ValidationError, match="not with the partner"):
        receipt_file.signer(signed["data"], signed["signature"], [signed["rsa"].cert], "receipt.json.p7s",
                            "the partner")


@pytest.mark.parametrize(("data", "problem"), [
    (b"[" * 30_000 + b"]" * 30_000, "not readable JSON (nested too deeply)"),  # was RecursionError
    # "\ud800" is valid JSON but not text: a signed receipt's note reached the database's encoder
    (receipt_json(MANIFEST, "UK AI Security Institute", note="ok \ud800"), "'note' holds a lone surrogate escape"),
    (receipt_json(MANIFEST, "UK \ud800"), "'partner' holds a lone surrogate escape"),
])
def test_unreadable_receipt_text_is_refused_by_name(signed: dict[str, Any], tmp_path: Path, data: bytes,
                                                    problem: str) -> None:
    path = write_receipt(tmp_path, data, signed["key"])
    with pytest.raises(receipt_file.ValidationError, match=re.escape(f"{path}: {problem}")):
        receipt_file.read(path)


def test_a_receipt_that_is_a_named_pipe_is_refused(tmp_path: Path) -> None:
    """A named pipe picked as receipt.json blocked the read until a writer came (a hang)."""
    import os

    from app.model.errors import IngestError

    os.mkfifo(tmp_path / "receipt.json")
    with pytest.raises(IngestError, match=r"receipt\.json: is not a regular file; not a receipt"):
        receipt_file.read(tmp_path / "receipt.json")
