"""Readers of Inspect / lm-eval / CSV results, on the real fixtures and crafted edge cases."""

from __future__ import annotations

import io
import json
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import zstandard

from app.ingest import jsonread
from app.ingest.lm_eval import split_metric_key
from app.ingest.results import open_results_file, sniff
from app.ingest.safezip import SafeZip
from app.model.errors import IngestError
from app.model.results import Direction, RunStatus

FIX = Path(__file__).parents[1] / "fixtures"
INSPECT = FIX / "inspect"


def _read(path: Path):
    log = open_results_file(str(path))
    try:
        return [(p.run, list(p.samples())) for p in log.runs], log.format
    finally:
        log.close()


def test_format_is_sniffed_from_content_not_extension(tmp_path):
    cases = {"intercode_ok.eval": "inspect-eval", "wmdp_cyber_ok.json": "inspect-json"}
    for name, kind in cases.items():
        disguised = tmp_path / (name + ".txt")
        shutil.copy(INSPECT / name, disguised)
        assert sniff(str(disguised)) == kind
    lm = next((FIX / "lm_eval").glob("*/results_*.json"))
    assert sniff(str(lm)) == "lm-eval"
    csv = tmp_path / "x.json"
    csv.write_text("\ufefftask,model,metric,value\nwmdp_cyber,m,acc,0.5\n", encoding="utf-8")
    assert sniff(str(csv)) == "csv"


def test_zstandard_and_deflate_logs_read_the_same():
    zstd_runs, _ = _read(INSPECT / "intercode_ok.eval")
    with zipfile.ZipFile(INSPECT / "intercode_ok.eval") as z:
        assert {i.compress_type for i in z.infolist()} == {93}  # what inspect-ai writes today
    with zipfile.ZipFile(INSPECT / "intercode_deflate.eval") as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    deflate_runs, _ = _read(INSPECT / "intercode_deflate.eval")
    (zr, zs), (dr, ds) = zstd_runs[0], deflate_runs[0]
    assert (zr.task, zr.model, zr.harness_version) == (dr.task, dr.model, dr.harness_version)
    assert len(zs) == 6 and len(ds) == 3 and zr.epochs == 2
    assert {s.sample_id for s in zs} == {s.sample_id for s in ds} == {"ctf-1", "ctf-2", "ctf-3"}


def test_one_shot_member_reads_match_the_streaming_reader_and_keep_zstandard_frames():
    """Small members are decompressed in one call; a Zstandard member's compressed bytes (one
    frame, size not declared in it) are handed out so the importer can store them as they are."""
    for name, method in (("intercode_ok.eval", 93), ("intercode_deflate.eval", zipfile.ZIP_DEFLATED)):
        with SafeZip(str(INSPECT / name), 1 << 30) as z:
            for member in z.names():
                data, frame = z.read_member(member)
                assert data == b"".join(z.iter_chunks(member))
                if method == 93:
                    assert frame is not None and zstandard.frame_content_size(frame) == -1
                    assert zstandard.ZstdDecompressor().decompress(frame, max_output_size=len(data)) == data
                else:
                    assert frame is None
    samples = _read(INSPECT / "intercode_ok.eval")[0][0][1]
    assert all(s.transcript_zstd is not None and s.transcript_json is not None for s in samples)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_multi_frame_zstandard_member_and_duplicate_names(tmp_path):
    """inspect-ai writes one zstd frame per 200 MiB and supersedes members by re-appending."""
    header = zipfile.ZipFile(INSPECT / "intercode_deflate.eval").read("header.json")
    frames = b"".join(zstandard.ZstdCompressor().compress(header[i:i + 1000]) for i in range(0, len(header), 1000))
    p = tmp_path / "multi.eval"
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w") as z:
        z.writestr("header.json", b'{"stale": true}')  # superseded below: last entry wins
        z.writestr(zipfile.ZipInfo("header.json"), frames)  # stored; patched to method 93 below
    raw = bytearray(rebuilt.getvalue())
    # patch method (93), CRC and uncompressed size of the second entry in local + central headers
    crc, usize = zlib.crc32(header), len(header)
    for sig, off_method, off_crc in ((b"PK\x03\x04", 8, 14), (b"PK\x01\x02", 10, 16)):
        pos = raw.find(sig)
        pos = raw.find(sig, pos + 4)  # second occurrence = second member
        raw[pos + off_method:pos + off_method + 2] = struct.pack("<H", 93)
        raw[pos + off_crc:pos + off_crc + 4] = struct.pack("<I", crc)
        raw[pos + off_crc + 8:pos + off_crc + 12] = struct.pack("<I", usize)
    p.write_bytes(bytes(raw))
    with SafeZip(str(p), 1 << 30) as z:
        assert z.read("header.json") == header
        assert z.read_member("header.json") == (header, None)  # several frames: not kept as one transcript
    runs, _ = _read(p)
    assert runs[0][0].task == "gdm_intercode_ctf"


def test_streaming_json_matches_a_whole_parse_even_with_tiny_chunks():
    path = INSPECT / "wmdp_cyber_ok.json"
    whole = json.loads(path.read_text())
    for chunk in (1, 7, 4096):
        with open(path, "rb") as f:
            stream = jsonread.StreamingObject(f, str(path), 1 << 20, chunk=chunk)
            got = {}
            for key, value in stream.items(frozenset({"samples"})):
                got[key] = list(value) if key == "samples" else value
        assert got == whole, chunk


def test_streaming_json_value_cap(tmp_path):
    p = tmp_path / "big.json"
    p.write_text('{"version": 2, "samples": [' + json.dumps({"id": 1, "input": "x" * 50_000}) + "]}")
    with open(p, "rb") as f, pytest.raises(IngestError, match=r"samples\[0\] is larger than"):
        stream = jsonread.StreamingObject(f, str(p), 10_000, chunk=1000)
        for key, value in stream.items(frozenset({"samples"})):
            if key == "samples":
                list(value)


def test_bare_nan_and_infinity_accepted():
    value = jsonread.loads(b'{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e999}', "x.json")
    assert value["a"] != value["a"] and value["b"] == float("inf") and value["d"] == float("inf")


def test_interrupted_log_rebuilt_from_journal():
    runs, _ = _read(INSPECT / "intercode_killed.eval")
    run, samples = runs[0]
    assert run.status is RunStatus.INTERRUPTED and run.incomplete
    assert run.total_samples == 3 and run.completed_samples == 2 and len(samples) == 2
    mean = run.metrics[0]
    assert (mean.scorer, mean.metric, mean.value, mean.reducer) == ("includes", "mean", 0.5, "partial")


def test_lm_eval_metric_keys_and_samples():
    assert split_metric_key("exact_match,strict-match") == ("exact_match", "strict-match")
    assert split_metric_key("acc") == ("acc", "")
    runs, fmt = _read(next((FIX / "lm_eval").glob("*/results_*.json")))
    assert fmt == "lm-eval" and [r.task for r, _ in runs] == ["wmdp_cyber", "cybermetric_80_mini"]
    wmdp, samples = runs[0]
    assert wmdp.metrics[0].direction is Direction.HIGHER and len(samples) == 5
    assert samples[0].input_text.startswith("The following are multiple choice questions")
    assert any("SHA-256" in n for n in wmdp.notes)


def test_lm_eval_results_without_samples_still_import(tmp_path):
    src = next((FIX / "lm_eval").glob("*/results_*.json"))
    lonely = tmp_path / "results_2026-01-01T00-00-00.json"
    shutil.copy(src, lonely)
    runs, _ = _read(lonely)
    assert all(not s for _, s in runs) and "No samples file" in runs[0][0].notes[0]


def test_csv_layout_and_errors(tmp_path):
    p = tmp_path / "other.csv"
    p.write_text(
        "task,model,task_version,metric,value,stderr,direction,sample_id,epoch,score,answer,target,input,error\n"
        "cti_bench_vsp,acme/falcon,3,mean_absolute_deviation,1.25,0.1,,,,,,,,\n"
        "cti_bench_vsp,acme/falcon,3,,,,,cve-1,1,0.5,7.5,8.0,Rate CVE-1,\n"
        "cti_bench_vsp,acme/falcon,3,,,,,cve-2,2,,,,Rate CVE-2,timeout\n", encoding="utf-8")
    runs, fmt = _read(p)
    (run, samples), = runs
    assert fmt == "csv" and run.metrics[0].direction is Direction.LOWER and run.epochs == 2
    assert [(s.sample_id, s.epoch, s.primary_score, s.error) for s in samples] == [
        ("cve-1", 1, 0.5, ""), ("cve-2", 2, None, "timeout")]
    bad = tmp_path / "bad.csv"
    bad.write_text("task,model,metric,value\nwmdp_cyber,m,acc,lots\n")
    with pytest.raises(IngestError, match=r"bad\.csv: line 2, column value: 'lots' is not a number"):
        _read(bad)
    unknown = tmp_path / "cols.csv"
    unknown.write_text("task,model,colour\nx,y,z\n")
    with pytest.raises(IngestError, match="unknown column"):
        _read(unknown)


def test_csv_with_a_quote_never_closed_is_refused_not_cut_short(tmp_path):
    """A stray quote used to make the rest of the file one cell: the rows after it were lost without
    a word. The reader now names the line; quotes used as RFC 4180 allows still read."""
    head = "task,model,sample_id,score,answer\n"
    p = tmp_path / "stray.csv"
    p.write_text(head + 'x,m,s1,1,"fine, ""quoted"" answer\nover two lines"\nx,m,s2,0,"never closed\n'
                 + "".join(f"x,m,s{i},1,a\n" for i in range(3, 50)))
    with pytest.raises(IngestError, match=r"stray\.csv: line 4: a quoted cell is never closed"):
        _read(p)
    p.write_text(head + 'x,m,s1,1,"quoted"then text\n')
    with pytest.raises(IngestError, match=r"stray\.csv: line 2: malformed CSV"):
        _read(p)
    p.write_text(head + 'x,m,s1,1,"fine, ""quoted"" answer\nover two lines"\nx,m,s2,0,a 5" screen\n')
    (_run, samples), = _read(p)[0]
    assert [s.answer for s in samples] == ['fine, "quoted" answer\nover two lines', 'a 5" screen']


def test_damaged_archives_only_ever_raise_ingest_errors(tmp_path):
    """Truncations and flipped bytes anywhere (including the central directory) never crash the reader."""
    import random

    data = (INSPECT / "intercode_ok.eval").read_bytes()
    rng = random.Random(0)
    target = tmp_path / "damaged.eval"
    rejected = 0
    for i in range(300):
        d = bytearray(data)
        if i % 3 == 0:
            d = d[: rng.randrange(len(d))]
        else:
            span = len(d) if i % 3 == 1 else 400  # anywhere, or the central directory at the end
            for _ in range(rng.randint(1, 6)):
                d[len(d) - 1 - rng.randrange(span)] = rng.randrange(256)
        target.write_bytes(bytes(d))
        try:
            _read(target)
        except IngestError as exc:
            assert "damaged.eval" in str(exc)
            rejected += 1
    assert rejected > 250


def test_unexpected_types_in_logs_are_tolerated():
    from app.ingest.inspect_log import _metrics, _partial_metrics, sample_from_json
    from app.ingest.lm_eval import sample_from_line

    assert _metrics({"scores": True}, "cybench") == ()
    assert _partial_metrics([{"scores": "C"}], "cybench") == ()
    s = sample_from_json({"id": 1, "scores": [1], "output": {"choices": {"0": 1}}, "model_usage": []},
                         "x.eval", "samples/1")
    assert s.sample_id == "1" and s.scores == {} and s.answer == ""
    s = sample_from_json({"id": 2, "output": {"choices": [{"message": [1]}]}}, "x.eval", "samples/2")
    assert s.answer == ""
    line = sample_from_line({"doc_id": 3, "filtered_resps": [{"a": 1}], "metrics": "acc"}, "s.jsonl", "line 1")
    assert line.sample_id == "3" and line.answer
