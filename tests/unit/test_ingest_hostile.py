"""Bad input from issue 3: every case names the file and the problem, and stores nothing."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.ingest.logfile import Limits
from app.ingest.results import open_results_file
from app.ingest.versioned_json import Fields
from app.model.errors import IngestError
from app.services import results
from tests.conftest import reviewer_with_submission

INSPECT = Path(__file__).parents[1] / "fixtures" / "inspect"
TABLES = ("eval_runs", "eval_metrics", "eval_samples", "eval_transcripts", "eval_samples_fts")


@pytest.fixture
def reviewer(workstation):
    return reviewer_with_submission(workstation)


def assert_rejected(reviewer, path: Path, *needles: str, **kw) -> str:
    s, sid = reviewer
    out = results.import_files(s, [path], sid, **kw)
    assert out[0].status == "failed", out
    message = out[0].message
    assert path.name in message, message
    for needle in needles:
        assert needle in message, message
    for table in TABLES:
        assert s.db.query_one(f"SELECT count(*) FROM {table}")[0] == 0, table
    rejected = s.db.query_one("SELECT count(*) FROM audit_events WHERE action = 'results.import_rejected'")[0]
    assert rejected >= 1
    return message


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _edited_eval(path: Path, edits: dict[str, Callable[[Any], object]]) -> Path:
    """intercode_deflate.eval with the named members' JSON changed in place by their edit function."""
    members = {}
    with zipfile.ZipFile(INSPECT / "intercode_deflate.eval") as z:
        for name in z.namelist():
            data = z.read(name)
            if name in edits:
                doc = json.loads(data)
                edits[name](doc)
                data = json.dumps(doc).encode()
            members[name] = data
    return _zip(path, members)


def _header() -> bytes:
    with zipfile.ZipFile(INSPECT / "intercode_deflate.eval") as z:
        return z.read("header.json")


def _patch_central(path: Path, name: str, *, method: int | None = None, usize: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        nlen = struct.unpack("<H", data[pos + 28:pos + 30])[0]
        if data[pos + 46:pos + 46 + nlen] == name.encode():
            if method is not None:
                data[pos + 10:pos + 12] = struct.pack("<H", method)
            if usize is not None:
                data[pos + 24:pos + 28] = struct.pack("<I", usize)
            path.write_bytes(bytes(data))
            return
        pos = data.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(name)


def test_truncated_zip(reviewer, tmp_path):
    p = tmp_path / "truncated.eval"
    data = (INSPECT / "intercode_ok.eval").read_bytes()
    p.write_bytes(data[: len(data) // 2])
    assert_rejected(reviewer, p, "truncated")


def test_zip_bomb_declared_size(reviewer, tmp_path):
    p = _zip(tmp_path / "bomb.eval", {"header.json": _header()})
    _patch_central(p, "header.json", usize=0xFFFFFFF0)
    assert_rejected(reviewer, p, "header.json", "zip bomb")


def test_zip_bomb_inflating_past_declared_size(reviewer, tmp_path):
    p = _zip(tmp_path / "liar.eval", {"header.json": _header(), "samples/1_epoch_1.json": b" " * (20 << 20)})
    _patch_central(p, "samples/1_epoch_1.json", usize=1000)
    assert_rejected(reviewer, p, "samples/1_epoch_1.json", "beyond its declared size")


def test_member_over_the_size_cap(tmp_path):
    p = _zip(tmp_path / "big.eval", {"header.json": _header(), "samples/1_epoch_1.json": b" " * (3 << 20)})
    log = open_results_file(str(p), Limits(max_member_bytes=1 << 20))
    with pytest.raises(IngestError, match=r"big\.eval: member samples/1_epoch_1\.json declares .* zip bomb"):
        list(log.runs[0].samples())
    log.close()


@pytest.mark.parametrize("name", ["../../etc/evil.json", "/abs/header.json", "samples/../../x.json",
                                  "C:/windows/x.json"])
def test_unsafe_member_names(reviewer, tmp_path, name):
    p = _zip(tmp_path / "slip.eval", {"header.json": _header(), name: b"{}"})
    assert_rejected(reviewer, p, "unsafe member name")


def test_known_but_unsupported_and_unknown_compression_methods(reviewer, tmp_path):
    p = _zip(tmp_path / "bzip.eval", {"header.json": _header()}, method=zipfile.ZIP_BZIP2)
    assert_rejected(reviewer, p, "compression method 12 (BZIP2)")
    q = _zip(tmp_path / "weird.eval", {"header.json": _header()})
    _patch_central(q, "header.json", method=77)
    assert_rejected(reviewer, q, "compression method 77 (unknown)")


def test_invalid_utf8(reviewer, tmp_path):
    src = json.loads((INSPECT / "wmdp_cyber_ok.json").read_text())
    text = json.dumps(src).replace("Wireshark", "Wire\udcffshark", 1)
    p = tmp_path / "latin.json"
    p.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert_rejected(reviewer, p, "invalid UTF-8")
    q = _zip(tmp_path / "latin.eval", {"header.json": _header().replace(b"gdm_intercode_ctf", b"gdm_\xff\xfe", 1)})
    assert_rejected(reviewer, q, "header.json", "invalid UTF-8")


def test_huge_numbers_and_nan_are_handled(reviewer, tmp_path):
    s, sid = reviewer
    text = (INSPECT / "wmdp_cyber_ok.json").read_text()
    text = text.replace('"value": 0.75', '"value": 1e999', 1).replace('"value": 0.25', '"value": NaN', 1)
    q = tmp_path / "longint.json"
    q.write_text(text.replace('"total_samples": 4', '"total_samples": ' + "9" * 5000, 1))
    assert_rejected(reviewer, q, "integer with too many digits")
    p = tmp_path / "huge.json"
    p.write_text(text)
    out = results.import_files(s, [p], sid)
    assert out[0].status == "imported", out
    run = results.get_run(s, out[0].run_id)
    assert run.headline is not None and run.headline.value is None and run.headline.stderr is None


HUGE = 2 ** 70  # beyond SQLite's 64-bit INTEGER (and msgpack's): the driver raised OverflowError
BEYOND_FLOAT = 10 ** 400  # a valid JSON number of 401 digits: no float holds it


@pytest.mark.parametrize("through", ["reader thread", "parser processes"])
def test_counts_beyond_64_bits_are_unknown_not_a_crash(reviewer, tmp_path, monkeypatch, through):
    """Token counts, an epoch and a header count no workstation can store: imported as unknown (as
    NaN is), where the import used to end in an OverflowError traceback (reader thread) or a vague
    "could not be read" (parser processes)."""
    s, sid = reviewer
    if through == "parser processes":
        monkeypatch.setattr(results.parse_process, "PROCESS_MIN_BYTES", 0)
    def huge_sample(doc: dict) -> None:  # type: ignore[type-arg]
        for usage in doc["model_usage"].values():
            usage.update(input_tokens=HUGE, output_tokens=-HUGE, total_tokens=float(HUGE) ** 3)
        doc["epoch"] = HUGE
        # beyond a float's range as well (float() raised OverflowError on them)
        doc.update(total_time=BEYOND_FLOAT, working_time=-BEYOND_FLOAT)
        for score in doc["scores"].values():
            score["value"] = BEYOND_FLOAT

    huge = _edited_eval(tmp_path / "huge.eval", {"samples/ctf-2_epoch_1.json": huge_sample,
                                                 "header.json": lambda doc: doc["results"].update(total_samples=HUGE)})
    out = results.import_files(s, [huge], sid)
    assert out[0].status == "imported" and out[0].samples == 3, out
    assert results.get_run(s, out[0].run_id).total_samples == 3  # unknown: the dataset's count x epochs
    assert s.db.query_one("SELECT epoch, input_tokens, output_tokens, total_tokens, total_time, working_time, "
                          "score FROM eval_samples WHERE sample_id = 'ctf-2' ORDER BY id LIMIT 1") == (
        1, 0, 0, 0, None, None, None)  # token columns: the sums of the usable counts

    text = (INSPECT / "wmdp_cyber_ok.json").read_text()
    for key, value in (("total_time", "0.022"), ("input_tokens", "600"), ("input_tokens", "150")):
        text = text.replace(f'"{key}": {value}', f'"{key}": {BEYOND_FLOAT if key == "total_time" else HUGE}')
    (tmp_path / "huge.json").write_text(text)
    out = results.import_files(s, [tmp_path / "huge.json"], sid)
    assert out[0].status == "imported", out

    csv = tmp_path / "huge.csv"
    csv.write_text("task,model,total_samples,sample_id,epoch,score,input_tokens\n"
                   f"t,m,{HUGE},s-1,1e300,1,{HUGE}\n", encoding="utf-8")
    out = results.import_files(s, [csv], sid)
    assert out[0].status == "imported", out
    assert s.db.query_one("SELECT epoch, input_tokens FROM eval_samples WHERE sample_id = 's-1'") == (1, None)

    lm = shutil.copytree(Path(__file__).parents[1] / "fixtures" / "lm_eval", tmp_path / "lm")
    (res,) = lm.rglob("results_*.json")
    doc = json.loads(res.read_text())
    for counts in doc["n-samples"].values():
        counts["effective"] = HUGE
    doc["date"] = BEYOND_FLOAT
    for metrics in doc["results"].values():
        for key in [k for k in metrics if k.startswith("acc")]:
            metrics[key] = BEYOND_FLOAT
    res.write_text(json.dumps(doc))
    out = results.import_files(s, [res], sid)
    assert {o.status for o in out} == {"imported"}, out


def test_a_definition_number_beyond_a_float_is_refused_by_name():
    fields = Fields({"threshold": BEYOND_FLOAT}, "rules.json", "capability[0]")
    with pytest.raises(IngestError, match=r"rules\.json: capability\[0\]\.threshold: must be a finite number"):
        fields.number("threshold")


def test_deep_nesting(reviewer, tmp_path):
    p = tmp_path / "deep.json"
    p.write_text('{"version": 2, "status": "success", "eval": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert_rejected(reviewer, p, "nested")
    q = _zip(tmp_path / "deep.eval", {"header.json": b'{"eval": ' + b"{\"a\": " * 50_000 + b"1" + b"}" * 50_001})
    assert_rejected(reviewer, q, "header.json", "nested")
    # 3,000 levels: Python's C parser accepts this, later Python code would not; rejected up front
    sample = json.loads(zipfile.ZipFile(INSPECT / "intercode_deflate.eval").read("samples/ctf-1_epoch_1.json"))
    sample["metadata"] = {"x": "[[[[ brackets in text do not count"}
    text = json.dumps(sample).replace('"metadata": {', '"metadata": {"deep": ' + "[" * 3000 + "]" * 3000 + ", ", 1)
    r = _zip(tmp_path / "deep_sample.eval", {"header.json": _header(), "samples/ctf-1_epoch_1.json": text.encode()})
    assert_rejected(reviewer, r, "samples/ctf-1_epoch_1.json", "nested more than 512 levels")


def test_missing_required_keys(reviewer, tmp_path):
    header = json.loads(_header())
    del header["eval"]["task"]
    p = _zip(tmp_path / "notask.eval", {"header.json": json.dumps(header).encode()})
    assert_rejected(reviewer, p, "required key 'task' is missing")
    q = tmp_path / "nothing.json"
    q.write_text('{"version": 2, "status": "success"}')
    assert_rejected(reviewer, q, "required key 'eval' is missing")
    r = tmp_path / "results_2026.json"
    r.write_text('{"results": {}, "lm_eval_version": "0.4.13"}')
    assert_rejected(reviewer, r, "'results' is empty")
    sample_without_id = json.loads((INSPECT / "wmdp_cyber_ok.json").read_text())
    del sample_without_id["samples"][2]["id"]
    t = tmp_path / "noid.json"
    t.write_text(json.dumps(sample_without_id))
    assert_rejected(reviewer, t, "samples[2]", "required key 'id' is missing")


def test_empty_file_and_directory(reviewer, tmp_path):
    p = tmp_path / "empty.eval"
    p.write_bytes(b"")
    assert_rejected(reviewer, p, "is empty")
    d = tmp_path / "logs.eval"
    d.mkdir()
    assert_rejected(reviewer, d, "is a directory")
    assert_rejected(reviewer, tmp_path / "gone.eval", "not found")


def test_not_a_results_file(reviewer, tmp_path):
    p = tmp_path / "photo.eval"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert_rejected(reviewer, p, "unknown kind")
    q = tmp_path / "samples_wmdp_cyber_2026.jsonl"
    q.write_text('{"doc_id": 0, "doc": {}}\n')
    assert_rejected(reviewer, q, "results_*.json")


def test_corrupted_member_fails_crc(reviewer, tmp_path):
    p = tmp_path / "flipped.eval"
    shutil.copy(INSPECT / "intercode_deflate.eval", p)
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("samples/ctf-2_epoch_1.json")
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    data[at] ^= 0xFF
    p.write_bytes(bytes(data))
    assert_rejected(reviewer, p, "samples/ctf-2_epoch_1.json")


@pytest.mark.parametrize("how", ["delete", "truncate"])
def test_file_vanishing_mid_import(reviewer, tmp_path, monkeypatch, how):
    """Media pulled while samples are being stored: the file's import rolls back entirely."""
    monkeypatch.setattr(results, "BATCH", 1)
    p = tmp_path / "pulled.eval"
    shutil.copy(INSPECT / "intercode_ok.eval", p)
    state = {"done": False}

    def progress(done, total, text):
        if "samples" in text and not state["done"]:
            state["done"] = True
            if how == "delete":
                os.unlink(p)
            else:
                with open(p, "r+b") as f:
                    f.truncate(2000)

    message = assert_rejected(reviewer, p, progress=progress)
    assert state["done"]
    assert "media" in message or "changed" in message or "disappeared" in message


SURROGATE = "\ud800"  # a lone surrogate: valid in JSON text ("\ud800"), but no UTF-8 encodes it


def test_lone_surrogates_are_replaced_not_a_crash(reviewer, tmp_path):
    """A lone surrogate escape in a run's or a sample's text (eval id, scorer name, sample id, input)
    is read as U+FFFD, where the import used to end in a UnicodeEncodeError traceback from the
    database driver."""
    s, sid = reviewer
    doc = json.loads((INSPECT / "wmdp_cyber_ok.json").read_text())
    doc["eval"]["eval_id"] = "ev" + SURROGATE
    doc["results"]["scores"][0]["name"] = SURROGATE + "choice"
    doc["samples"][0]["id"] = "s" + SURROGATE
    doc["samples"][0]["input"] = "ask" + SURROGATE + "ed"
    p = tmp_path / "surrogates.json"
    p.write_text(json.dumps(doc))  # ensure_ascii: the surrogates travel as escapes, as in a hostile file
    out = results.import_files(s, [p], sid)
    assert out[0].status == "imported", out
    run = results.get_run(s, out[0].run_id)
    assert run.eval_id == "ev\ufffd" and run.metrics[0].scorer == "\ufffdchoice"
    assert s.db.query_one("SELECT count(*) FROM eval_samples WHERE sample_id = 's\ufffd'")[0] == 1

    surrogates = _edited_eval(tmp_path / "surrogates.eval", {
        "header.json": lambda doc: doc["eval"].update(eval_id=SURROGATE),
        "samples/ctf-2_epoch_1.json": lambda doc: doc.update(id=SURROGATE)})
    out = results.import_files(s, [surrogates], sid)
    assert out[0].status == "imported" and out[0].samples == 3, out


def test_samples_that_are_not_a_list_are_refused(reviewer, tmp_path):
    doc = json.loads((INSPECT / "wmdp_cyber_ok.json").read_text())
    doc["samples"] = {"0": doc["samples"][0]}
    p = tmp_path / "samples_object.json"
    p.write_text(json.dumps(doc))
    assert_rejected(reviewer, p, "samples: must be a list, found dict")  # was AttributeError: 'dict' ... 'raw'


def test_an_attachment_that_is_not_text_leaves_its_reference(reviewer, tmp_path):
    s, sid = reviewer
    members = {}
    with zipfile.ZipFile(INSPECT / "intercode_deflate.eval") as z:
        for name in z.namelist():
            data = z.read(name)
            if name == "samples/ctf-2_epoch_1.json":
                sample = json.loads(data)
                sample["attachments"] = {"abc": True}
                sample["scores"][next(iter(sample["scores"]))]["explanation"] = "attachment://abc"
                data = json.dumps(sample).encode()
            members[name] = data
    out = results.import_files(s, [_zip(tmp_path / "attachment.eval", members)], sid)  # was TypeError: len(True)
    assert out[0].status == "imported" and out[0].samples == 3, out


def test_lm_eval_odd_values_are_read(reviewer, tmp_path):
    """A loglikelihood beyond a float's range in a samples line (float() raised OverflowError) and a
    group's subtasks given as a number (map() raised TypeError) are read, not a traceback."""
    s, sid = reviewer
    lm = shutil.copytree(Path(__file__).parents[1] / "fixtures" / "lm_eval", tmp_path / "lm")
    (res,) = lm.rglob("results_*.json")
    doc = json.loads(res.read_text())
    doc["group_subtasks"] = {task: 5 for task in doc["results"]}
    res.write_text(json.dumps(doc))
    (samples, *_) = sorted(lm.rglob("samples_wmdp_cyber_*.jsonl"))
    lines = samples.read_text().splitlines()
    first = json.loads(lines[0])
    first["filtered_resps"] = [[BEYOND_FLOAT, False], [-1.5, False]]
    samples.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    out = results.import_files(s, [res], sid)
    assert {o.status for o in out} == {"imported"}, out
    assert any("Group of subtasks: 5." in note for note in results.get_run(s, out[0].run_id).notes)


def test_a_definition_integer_beyond_64_bits_is_refused_by_name():
    """A version or count no workstation can store (SQLite raised OverflowError on a signed rule
    set, template or benchmark definition of version 2**70)."""
    with pytest.raises(IngestError, match=r"rules\.json: version: must be at most 9223372036854775807"):
        Fields({"version": HUGE}, "rules.json", "").integer("version")


def test_an_interrupted_logs_journal_with_extreme_values_is_read(reviewer, tmp_path):
    """A log without header.json is rebuilt from its journal: summary scores near a float's limit
    ((1e200 - mean) ** 2 raised OverflowError; 1e308 + 1e308 is inf) give no mean, and a summary
    member numbered with 5,000 digits (int() raised ValueError) is read in its place."""
    s, sid = reviewer
    with zipfile.ZipFile(INSPECT / "intercode_deflate.eval") as z:
        members = {n: z.read(n) for n in z.namelist() if n.startswith("samples/")}
        header = json.loads(z.read("header.json"))
    members["_journal/start.json"] = json.dumps({"version": 2, "eval": header["eval"]}).encode()

    def summaries(scorer: str, *values: float) -> bytes:
        return json.dumps([{"id": f"s{i}", "epoch": 1, "scores": {scorer: {"value": v}}}
                           for i, v in enumerate(values)]).encode()

    members["_journal/summaries/1.json"] = summaries("acc", 1e200, -1e200, 3.0)
    members["_journal/summaries/" + "9" * 5000 + ".json"] = summaries("f1", 1e308, 1e308)
    out = results.import_files(s, [_zip(tmp_path / "interrupted.eval", members)], sid)
    assert out[0].status == "imported" and out[0].samples == 3, out
    run = results.get_run(s, out[0].run_id)
    assert [(m.scorer, m.value, m.stderr) for m in run.metrics] == [("acc", None, None), ("f1", None, None)]


def test_a_file_name_that_is_not_utf8_is_stored_as_shown(reviewer, tmp_path):
    """A Latin-1 name from media written elsewhere reaches Python with surrogate escapes, which the
    database driver and the audit log refused (UnicodeEncodeError): the name is stored and audited
    with the byte shown as \\xe9, for an imported file and for a refused one."""
    s, sid = reviewer
    good = tmp_path / os.fsdecode(b"r\xe9sultats.json")
    shutil.copy(INSPECT / "wmdp_cyber_ok.json", good)
    out = results.import_files(s, [good], sid)
    assert out[0].status == "imported", out
    assert results.get_run(s, out[0].run_id).original_name == "r\\xe9sultats.json"
    bad = tmp_path / os.fsdecode(b"vid\xe9.eval")
    bad.write_bytes(b"")
    out = results.import_files(s, [bad], sid)
    assert out[0].status == "failed" and "vid\\xe9.eval: " in out[0].message and "is empty" in out[0].message, out
