"""Results import service over the real fixtures (made by inspect-ai and lm-eval themselves)."""

from __future__ import annotations

import json as _json
import shutil
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import zstandard

from app.ingest.safezip import SafeZip
from app.model.errors import NotFound, PermissionDenied
from app.model.results import LM_EVAL_TRANSCRIPT_KEYS, RunStatus, SampleFilter
from app.model.submissions import Submission
from app.services import results, submissions
from storage import audit as audit_log
from tests.conftest import tamper

FIX = Path(__file__).parents[1] / "fixtures"
INSPECT = FIX / "inspect"
LM_EVAL_RESULTS = next((FIX / "lm_eval").glob("*/results_*.json"))


def _sub(session, name="cyber-mini", version="7b", developer="Offline"):
    return submissions.create(session, Submission(
        developer=developer, model_name=name, version=version, received=date(2026, 11, 1),
        planned_release=date(2026, 11, 25))).id


def _count(session, table):
    return session.db.query_one(f"SELECT count(*) FROM {table}")[0]


def test_import_inspect_eval_stores_run_metrics_samples_and_transcripts(workstation):
    s = workstation.session("reviewer")
    sid = _sub(s)
    ticks = []
    out = results.import_files(s, [INSPECT / "intercode_ok.eval"], sid, media_label="USB-0042",
                               progress=lambda d, t, m: ticks.append((d, t, m)))
    assert [o.status for o in out] == ["imported"], out
    run = results.get_run(s, out[0].run_id)
    assert (run.task, run.model, run.status, run.epochs) == ("gdm_intercode_ctf", "mockllm/model",
                                                             RunStatus.SUCCESS, 2)
    assert run.benchmark == "InterCode-CTF" and run.harness_version == "0.3.285"
    assert run.media_label == "USB-0042" and len(run.file_sha256) == 64 and run.task_version == "1.0.2"
    h = run.headline
    assert h is not None and (h.metric, h.value) == ("accuracy", 0.5) and h.stderr == pytest.approx(0.2887, 1e-3)
    assert run.sample_count == 6 and run.errored_samples == 0 and not run.incomplete
    assert ticks and ticks[-1][0] == ticks[-1][1]  # progress reaches 100 %

    # per-sample: f1 solved in both epochs, f2 never, f3 in exactly one epoch
    rows = results.page_samples(s, run.id, SampleFilter(), 0, 100, sort="sample_id")
    solved = {(r.sample_id, r.epoch): r.score for r in rows}
    assert sum(v for k, v in solved.items() if k[0] == "ctf-1") == 2
    assert sum(v for k, v in solved.items() if k[0] == "ctf-2") == 0
    assert sum(v for k, v in solved.items() if k[0] == "ctf-3") == 1
    assert results.count_samples(s, run.id, SampleFilter(epoch=2)) == 3
    assert results.count_samples(s, run.id, SampleFilter(min_score=1)) == 3
    r1 = next(r for r in rows if r.sample_id == "ctf-1")
    assert r1.total_tokens == 837 and "picoCTF{m0ck_fl4g_f1}" in r1.answer and r1.scores["includes"]["value"] == "C"

    # transcript: the member's own Zstandard frame, stored without compressing it again
    with SafeZip(str(INSPECT / "intercode_ok.eval"), 1 << 30) as z:
        frames = {z.read_member(n)[1] for n in z.names() if n.startswith("samples/")}
    stored = {r[0] for r in s.db.conn.execute(
        "SELECT data FROM eval_transcripts WHERE sample_pk IN (SELECT id FROM eval_samples WHERE run_id = ?)",
        (run.id,))}
    assert stored == frames and len(stored) == 6
    # transcript: attachment:// resolved, tool calls readable as plain text
    t = results.get_transcript(s, r1.id)
    assert t is not None and "attachment://" not in str(t)
    text = results.transcript_text(t)
    assert "tool call bash" in text and '"cmd": "cat f1.txt"' in text and "[6] ASSISTANT" in text

    # one audit event for the file, naming hash and submission
    events = [e for e in audit_log.list_events(s.db.conn, limit=50) if e.action == "results.import"]
    assert len(events) == 1 and events[0].details["sha256"] == run.file_sha256
    assert events[0].details["submission_id"] == sid and events[0].details["samples"] == 6


def test_full_text_search_over_inputs_and_outputs(workstation):
    s = workstation.session("reviewer")
    sid = _sub(s)
    out = results.import_files(s, [INSPECT / "wmdp_cyber_ok.eval", INSPECT / "intercode_ok.eval"], sid)
    mc, ctf = out[0].run_id, out[1].run_id
    assert results.count_samples(s, mc, SampleFilter(search="ASLR")) == 1
    assert results.count_samples(s, mc, SampleFilter(search="aslr randomise")) == 1
    assert results.count_samples(s, ctf, SampleFilter(search="could not find")) == 3  # ctf-2 x2, ctf-3 once
    assert results.count_samples(s, mc, SampleFilter(search="Wire*")) == 1
    # query syntax is never interpreted: quotes, NEAR, column filters are plain words
    assert results.count_samples(s, mc, SampleFilter(search='input:" OR NEAR(')) == 0
    rows = results.page_samples(s, ctf, SampleFilter(search="could not find", epoch=1), 0, 10)
    assert [r.sample_id for r in rows] == ["ctf-2"]


def test_reimport_same_content_is_detected_and_not_duplicated(workstation, tmp_path):
    s = workstation.session("reviewer")
    sid = _sub(s)
    copy = tmp_path / "renamed-copy.bin"
    shutil.copy(INSPECT / "wmdp_cyber_ok.eval", copy)
    first = results.import_files(s, [INSPECT / "wmdp_cyber_ok.eval"], sid)
    again = results.import_files(s, [copy], sid)
    assert again[0].status == "duplicate" and f"run {first[0].run_id}" in again[0].message
    assert _count(s, "eval_runs") == 1 and _count(s, "eval_samples") == 4


def test_all_formats_and_run_states(workstation):
    s = workstation.session("reviewer")
    sid = _sub(s)
    files = ["intercode_deflate.eval", "intercode_error.eval", "intercode_cancelled.eval",
             "intercode_killed.eval", "intercode_interrupted.eval", "wmdp_cyber_ok.json"]
    out = results.import_files(s, [INSPECT / f for f in files] + [LM_EVAL_RESULTS], sid)
    assert [o.status for o in out] == ["imported"] * 7, [o.message for o in out]
    runs = {r.original_name + ":" + r.task: r for r in results.list_runs(s, sid)}
    deflate = runs["intercode_deflate.eval:gdm_intercode_ctf"]
    assert deflate.status is RunStatus.SUCCESS and deflate.sample_count == 3
    err = runs["intercode_error.eval:gdm_intercode_ctf"]
    assert err.status is RunStatus.ERROR and "sandbox container exited" in err.error_message
    assert err.errored_samples == 1 and err.metrics == ()
    cancelled = runs["intercode_cancelled.eval:gdm_intercode_ctf"]
    assert cancelled.status is RunStatus.CANCELLED and cancelled.incomplete and cancelled.completed_samples == 2
    for name, n in (("intercode_killed.eval", 2), ("intercode_interrupted.eval", 6)):
        r = runs[name + ":gdm_intercode_ctf"]
        assert r.status is RunStatus.INTERRUPTED and r.incomplete and r.sample_count == n
        assert any("header.json is missing" in note for note in r.notes)
        assert r.headline is not None and r.headline.reducer == "partial"
    js = runs["wmdp_cyber_ok.json:wmdp_cyber"]
    assert js.headline.value == 0.75 and js.sample_count == 4 and js.benchmark == "WMDP-cyber"
    lm = runs[LM_EVAL_RESULTS.name + ":wmdp_cyber"]
    assert lm.harness.value == "lm-evaluation-harness" and lm.harness_version == "0.4.13"
    assert (lm.headline.metric, lm.headline.value) == ("acc", 0.8) and lm.headline.stderr == pytest.approx(0.2)
    assert lm.model == "offline/cyber-mini-7b" and lm.sample_count == 5 and lm.task_version == "1"
    gen = runs[LM_EVAL_RESULTS.name + ":cybermetric_80_mini"]
    assert gen.headline.filter == "strict-match" and gen.benchmark == "CyberMetric" and gen.sample_count == 3
    mc_rows = results.page_samples(s, lm.id, SampleFilter(max_score=0), 0, 10)
    assert [(r.sample_id, r.answer, r.target) for r in mc_rows] == [("2", "A", "C")]
    lm_transcript = results.get_transcript(s, mc_rows[0].id)
    lm_text = results.transcript_text(lm_transcript)
    assert "DOCUMENT" in lm_text and "Strict-Transport-Security" in lm_text
    # the samples line is stored as read (no re-encoding) and reads back as its transcript keys
    line = next(x for x in next(LM_EVAL_RESULTS.parent.glob("samples_wmdp_cyber_*.jsonl")).read_bytes().splitlines()
                if _json.loads(x)["doc_id"] == 2)
    blob, raw_size = s.db.conn.execute("SELECT data, raw_size FROM eval_transcripts WHERE sample_pk = ?",
                                       (mc_rows[0].id,)).fetchone()
    assert zstandard.ZstdDecompressor().decompress(blob) == line.strip() and raw_size == len(line.strip())
    full = _json.loads(line)
    assert lm_transcript == {k: full[k] for k in LM_EVAL_TRANSCRIPT_KEYS if k in full}
    js_row = results.page_samples(s, js.id, SampleFilter(sample_id="4"), 0, 1)[0]
    js_text = results.transcript_text(results.get_transcript(s, js_row.id))
    assert "ASLR" in js_text and "ANSWER: D" in js_text and "choice: 'C'" in js_text
    err_row = results.page_samples(s, err.id, SampleFilter(errors_only=True), 0, 5)
    assert len(err_row) == 1 and "sandbox container exited" in err_row[0].error
    assert "ERROR" in results.transcript_text(results.get_transcript(s, err_row[0].id))


def test_compare_one_benchmark_across_submissions_with_sample_deltas(workstation):
    s = workstation.session("reviewer")
    a, b = _sub(s, version="7b"), _sub(s, version="8b")
    ra = results.import_files(s, [INSPECT / "wmdp_cyber_ok.eval"], a)[0].run_id
    rb = results.import_files(s, [INSPECT / "wmdp_cyber_ok.json"], b)[0].run_id
    results.import_files(s, [LM_EVAL_RESULTS], b)
    cmp = results.compare(s, "WMDP-cyber")
    assert {r.id for r in cmp.runs} >= {ra, rb} and cmp.direction.value == "higher"
    assert cmp.values[ra] == 0.75 and cmp.values[rb] == 0.75
    shared = {d.sample_id: d.scores for d in cmp.samples}
    assert shared["3"][ra] == 0.0 and shared["1"][rb] == 1.0
    only = results.compare(s, "WMDP-cyber", run_ids=[ra, rb])
    assert len(only.runs) == 2 and len(only.samples) == 4
    with pytest.raises(NotFound):
        results.compare(s, "Cybench")


def test_unknown_task_imports_and_can_be_mapped(workstation, tmp_path):
    s = workstation.session("reviewer")
    sid = _sub(s)
    csv = tmp_path / "other_tool.csv"
    csv.write_text("task,model,metric,value,stderr,sample_id,score\n"
                   "acme_redteam_v2,acme/falcon-2,success_rate,0.25,0.1,,\n"
                   "acme_redteam_v2,acme/falcon-2,,,,s1,1\n"
                   "acme_redteam_v2,acme/falcon-2,,,,s2,0\n", encoding="utf-8")
    out = results.import_files(s, [csv], sid)
    run = results.get_run(s, out[0].run_id)
    assert run.benchmark == "" and "acme_redteam_v2" in results.unmapped_tasks(s)
    assert run.sample_count == 2 and run.headline.value == 0.25
    results.map_task(s, "acme_redteam_v2", "3CB")
    assert results.get_run(s, run.id).benchmark == "3CB"
    assert results.unmapped_tasks(s) == []
    assert results.compare(s, "3CB").values[run.id] == 0.25


def test_roles_and_submission_proposal(workstation):
    s = workstation.session("reviewer")
    sid = _sub(s, name="cyber-mini", version="7b", developer="Offline")
    _sub(s, name="other-model", version="1")
    proposals = results.propose_submission(s, "offline/cyber-mini-7b")
    assert proposals and proposals[0][0].id == sid and "version '7b'" in proposals[0][1]
    assert results.propose_submission(s, "mockllm/model") == []
    auditor = workstation.session("auditor")
    with pytest.raises(PermissionDenied):
        results.import_files(auditor, [INSPECT / "intercode_ok.eval"], sid)
    with pytest.raises(PermissionDenied):
        results.map_task(auditor, "x", "Cybench")
    assert _count(s, "eval_runs") == 0
    with pytest.raises(NotFound):
        results.import_files(s, [INSPECT / "intercode_ok.eval"], 9999)


def test_cancel_leaves_nothing_behind(workstation, monkeypatch):
    s = workstation.session("reviewer")
    sid = _sub(s)
    monkeypatch.setattr(results, "BATCH", 2)  # several batches, so the cancel lands mid-samples
    state = {"samples_stored": False}

    def progress(done, total, text):
        if "samples" in text:
            state["samples_stored"] = True

    before = _count(s, "audit_events")
    out = results.import_files(s, [INSPECT / "intercode_ok.eval", INSPECT / "wmdp_cyber_ok.eval"], sid,
                               progress=progress, cancel=lambda: state["samples_stored"])
    assert state["samples_stored"]
    assert [o.status for o in out] == ["cancelled", "cancelled"]
    for table in ("eval_runs", "eval_metrics", "eval_samples", "eval_transcripts"):
        assert _count(s, table) == 0, table
    assert _count(s, "eval_samples_fts") == 0
    assert _count(s, "audit_events") == before


def test_cli_import_list_show_samples_transcript(workstation, monkeypatch, capsys):
    import io

    from app import cli

    s = workstation.session("reviewer")
    sid = _sub(s)

    def run(*argv):
        monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase("reviewer") + "\n"))
        code = cli.main(["--data-dir", str(workstation.data_dir), "--user", "reviewer", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    # The logs name mockllm/model, not the submission's model: each is named in a warning and
    # skipped (exit 1), as the import dialog asks file by file; --any-model imports them anyway.
    code, out, err = run("import", str(INSPECT / "intercode_ok.eval"), str(INSPECT / "intercode_killed.eval"),
                         "--submission", str(sid), "--media-label", "USB-7")
    assert code == 1 and "imported" not in out and results.list_runs(s, sid) == []
    for name in ("intercode_ok.eval", "intercode_killed.eval"):
        assert (f"{INSPECT / name}: the log's model is mockllm/model, but submission {sid}'s model is "
                "Offline cyber-mini 7b; not imported") in err and "--any-model" in err
    code, out, err = run("import", str(INSPECT / "intercode_ok.eval"), str(INSPECT / "intercode_killed.eval"),
                         "--submission", str(sid), "--media-label", "USB-7", "--any-model")
    assert code == 0, err
    assert out.count("imported  run") == 2 and err.count("imported anyway (--any-model)") == 2
    # Already imported: a duplicate, with no model warning first (nothing to decide about it).
    code, out, err = run("import", str(INSPECT / "intercode_ok.eval"), "--submission", str(sid))
    assert code == 0 and out.startswith("duplicate") and "warning" not in err
    code, out, _ = run("results", "list", "--submission", str(sid))
    assert code == 0 and "InterCode-CTF" in out and "interrupted (incomplete)" in out and "includes/accuracy" in out
    run_id = results.list_runs(s, sid)[0].id
    code, out, _ = run("results", "show", str(run_id))
    assert code == 0 and "USB-7" in out and "0.2887" in out and "gdm_intercode_ctf v1.0.2" in out
    from dataclasses import replace as _replace

    from app.commands.results import _print_run

    _print_run(_replace(results.get_run(s, run_id), errored_samples=4, created="", harness_version=""))
    shown = capsys.readouterr().out  # as a CSV run: no harness version, no creation time, errored samples
    assert not [line for line in shown.splitlines() if line.endswith(" ")] and "         created: -\n" in shown
    assert ", 4 errored sample(s)" in shown.split("status: ", 1)[1].splitlines()[0]
    code, out, _ = run("results", "samples", str(run_id), "--search", "could not find")
    assert code == 0 and "3 of 3 matching samples" in out
    pk = results.page_samples(s, run_id, SampleFilter(sample_id="ctf-1"), 0, 1)[0].id
    code, out, _ = run("results", "transcript", str(pk))
    assert code == 0 and "tool call bash" in out
    bad = INSPECT.parent / "lm_eval"
    code, _, err = run("import", str(bad), "--submission", str(sid))
    assert code == 1 and "is a directory" in err
    # no --submission: proposed from the log's model id, accepted only with --yes
    lm = next(bad.glob("*/results_*.json"))
    code, out, _ = run("import", str(lm))
    assert code == 3 and f"Proposed submission {sid}" in out
    code, out, _ = run("import", str(lm), "--yes")
    assert code == 0 and "2 run(s)" in out
    other = _sub(s, name="other", version="1")
    code, out, _ = run("results", "move", str(run_id), "--submission", str(other), "--reason", "wrong one")
    assert code == 0 and results.get_run(s, run_id).submission_id == other
    code, out, _ = run("results", "delete", str(run_id), "--reason", "test")
    assert code == 0 and "6 samples" in out


def test_move_and_delete_runs_are_audited_and_complete(workstation):
    s = workstation.session("reviewer")
    a, b = _sub(s, version="7b"), _sub(s, version="8b")
    out = results.import_files(s, [INSPECT / "intercode_ok.eval", INSPECT / "wmdp_cyber_ok.eval"], a)
    ctf, mc = out[0].run_id, out[1].run_id
    with pytest.raises(Exception, match="reason"):
        results.move_run(s, ctf, b, " ")
    moved = results.move_run(s, ctf, b, "imported into the wrong submission")
    assert moved.submission_id == b and [r.id for r in results.list_runs(s, a)] == [mc]
    assert results.delete_run(s, ctf, "duplicate of a later run") == 6
    assert results.list_runs(s, b) == []
    assert results.count_samples(s, mc, SampleFilter(search="could not find")) == 0
    assert s.db.query_one("SELECT count(*) FROM eval_samples_fts WHERE eval_samples_fts MATCH 'flag'")[0] == 0
    assert _count(s, "eval_samples") == 4 and _count(s, "eval_transcripts") == 4
    with s.transaction() as conn:  # FTS index still consistent with its content table
        conn.execute("INSERT INTO eval_samples_fts (eval_samples_fts) VALUES ('integrity-check')")
    actions = [e.action for e in audit_log.list_events(s.db.conn, limit=20)]
    assert "results.move_run" in actions and "results.delete_run" in actions
    # the same file can be imported again once its run is deleted
    again = results.import_files(s, [INSPECT / "intercode_ok.eval"], b)
    assert again[0].status == "imported"
    with pytest.raises(PermissionDenied):
        results.delete_run(workstation.session("auditor"), mc, "no")


@pytest.mark.slow
def test_large_log_is_streamed_with_bounded_memory(tmp_path):
    """A 60 MB log imports in a fresh process whose memory grows far less than the log's size."""
    import os
    import random
    import subprocess
    import sys
    import zipfile

    log = tmp_path / "big.eval"
    rng = random.Random(5)
    with zipfile.ZipFile(INSPECT / "intercode_deflate.eval") as src:
        header = src.read("header.json")
        template = _json.loads(src.read("samples/ctf-1_epoch_1.json"))
    with zipfile.ZipFile(log, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("header.json", header)
        for i in range(2400):
            template["id"] = f"ctf-{i}"
            template["metadata"] = {"dump": rng.randbytes(12_000).hex()}  # 24 KB of incompressible text
            z.writestr(f"samples/ctf-{i}_epoch_1.json", _json.dumps(template))
    assert log.stat().st_size > 55_000_000
    root = Path(__file__).parents[2]
    # Linux: writing 5 to clear_refs resets the peak RSS (VmHWM), so the import's own peak is measured
    script = (
        "import json, re, sys; from pathlib import Path\n"
        "sys.path.insert(0, 'bench'); import importbench as b\n"
        "import storage.keys; storage.keys.DEFAULT_ITERATIONS = 1000\n"  # as conftest.fast_kdf: the KDF is not tested
        "from app.services import results\n"
        "results.BATCH_BYTES = 1 << 20\n"
        f"s, sid = b.workstation(Path({str(tmp_path / 'child')!r}) / 'ws')\n"
        "def kb(field): return int(re.search(field + r':\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "base = kb('VmRSS')\n"
        f"out = results.import_files(s, [{str(log)!r}], sid)\n"
        "print(json.dumps({'status': out[0].status, 'samples': out[0].samples, "
        "'growth': (kb('VmHWM') - base) / 1024}))\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(root)})
    assert r.returncode == 0, r.stderr
    got = _json.loads(r.stdout.strip().splitlines()[-1])
    assert got["status"] == "imported" and got["samples"] == 2400
    print("memory growth MB", got["growth"])
    assert got["growth"] < 30, got  # MB: a handful of 1 MiB batches in flight, never the 60 MB log


def test_import_pipeline_prepares_on_the_reader_thread_and_stores_the_same(workstation, monkeypatch):
    """Parsing, row building and transcript compression run on the reader thread; the writer only
    inserts; a .json log's transcripts come back as the sample's transcript part."""
    import threading

    from storage import results_repo

    s = workstation.session("reviewer")
    sid = _sub(s)
    threads: list[str] = []
    real = results_repo.prepare_samples

    def spy(batch, dictionary=None):
        threads.append(threading.current_thread().name)
        return real(batch, dictionary)

    monkeypatch.setattr(results_repo, "prepare_samples", spy)
    monkeypatch.setattr(results, "BATCH", 1)
    out = results.import_files(s, [INSPECT / "wmdp_cyber_ok.json"], sid)
    assert out[0].status == "imported", out
    assert threads and set(threads) == {"results-reader"}
    assert len(threads) == out[0].samples  # one batch per sample with BATCH = 1
    page = results.page_samples(s, out[0].run_id, SampleFilter(), 0, 10)
    transcript = results.get_transcript(s, page[0].id)
    assert transcript is not None and transcript["messages"] and "input" not in transcript


def test_full_text_index_is_built_in_bulk_and_other_writers_still_index_per_row(workstation):
    from app.model.results import SampleResult
    from storage import results_repo

    s = workstation.session("reviewer")
    sid = _sub(s)
    out = results.import_files(s, [INSPECT / "wmdp_cyber_ok.json"], sid)
    run_id = out[0].run_id
    assert _count(s, "eval_fts_deferred") == 0  # only inside the importing transaction
    assert _count(s, "eval_samples_fts") == out[0].samples
    assert results.count_samples(s, run_id, SampleFilter(search="Wireshark")) == 1
    with tamper(s) as conn:  # a direct writer (e.g. a future tool) is indexed by the trigger
        results_repo.insert_samples(conn, run_id, [SampleResult(sample_id="extra", epoch=1, scores={},
                                                                input_text="quokka steganography")])
    assert results.count_samples(s, run_id, SampleFilter(search="quokka")) == 1


def test_samples_are_read_while_the_file_is_hashed_and_a_duplicate_stores_nothing(workstation, monkeypatch):
    """The reader thread starts before the SHA-256 pass ends (the two overlap); the duplicate check
    still comes before anything is stored, and a duplicate stops the reader."""
    import threading

    from storage import results_repo

    s = workstation.session("reviewer")
    sid = _sub(s)
    prepared = threading.Event()
    real_prepare, real_sha = results_repo.prepare_samples, results.sha256_file
    seen: list[bool] = []

    def prepare(batch, *args):  # type: ignore[no-untyped-def]
        prepared.set()
        return real_prepare(batch, *args)

    def sha(path, cancel=None, progress=None):  # type: ignore[no-untyped-def]
        seen.append(prepared.wait(30))  # set only if the reader runs while the hash is computed
        return real_sha(path, cancel, progress)

    monkeypatch.setattr(results_repo, "prepare_samples", prepare)
    monkeypatch.setattr(results, "sha256_file", sha)
    first = results.import_files(s, [INSPECT / "intercode_ok.eval"], sid)
    assert first[0].status == "imported" and seen == [True]
    before = {t: _count(s, t) for t in ("eval_runs", "eval_samples", "eval_transcripts", "eval_samples_fts")}
    again = results.import_files(s, [INSPECT / "intercode_ok.eval"], sid)
    assert again[0].status == "duplicate" and seen == [True, True]
    assert {t: _count(s, t) for t in before} == before
    assert not [t for t in threading.enumerate() if t.name == "results-reader"]  # stopped and joined


def test_full_text_index_is_built_batch_by_batch_each_sample_once(workstation, monkeypatch):
    s = workstation.session("reviewer")
    sid = _sub(s)
    monkeypatch.setattr(results, "BATCH", 2)
    out = results.import_files(s, [INSPECT / "wmdp_cyber_ok.json", INSPECT / "intercode_ok.eval"], sid)
    assert [o.status for o in out] == ["imported", "imported"]
    assert _count(s, "eval_samples_fts") == _count(s, "eval_samples") == sum(o.samples for o in out) > 4
    assert _count(s, "eval_fts_deferred") == 0
    assert results.count_samples(s, out[0].run_id, SampleFilter(search="Wireshark")) == 1
    assert results.count_samples(s, out[1].run_id, SampleFilter(search="Wireshark")) == 0


def test_the_checksum_thread_stops_soon_when_the_import_ends_early(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The SHA-256 runs beside the import (results._FileHash). When the import ends early (a refused log,
    a database error), `close` stops it within 8 blocks instead of letting it read on to its next
    cancel check 64 blocks on: from slow media 64 MiB is two seconds before the refusal is shown."""
    from app.foundation import files

    monkeypatch.setattr(files, "BLOCK", 16)
    big = tmp_path / "big.eval"
    big.write_bytes(b"x" * (16 * 200_000))
    reads: list[int] = []
    real = files.sha256_file
    running, box = threading.Event(), {}
    deadline = time.monotonic() + 30

    def counted(path, cancel=None, progress=None):  # type: ignore[no-untyped-def]
        def seen(n: int) -> None:
            reads.append(n)
            if not running.is_set():  # hold the hash at its first block until close() asks it to stop,
                running.set()  # whatever else the machine is doing (it finished first under load)
                while "h" not in box or not box["h"]._stop.is_set():
                    assert time.monotonic() < deadline
                    time.sleep(0.001)
            if progress is not None:
                progress(n)
        return real(path, cancel, seen)

    monkeypatch.setattr(results, "sha256_file", counted)
    h = box["h"] = results._FileHash(str(big), None)
    assert running.wait(30)
    h.close()
    assert h._result is None and h._error is None  # stopped, not finished and not failed
    assert reads[-1] <= reads[0] + 8 * 16  # within 8 blocks of where it was when asked
    running.set()
    whole = results._FileHash(str(big), None)
    assert whole.result() == real(big)  # left alone it hashes the whole file
    whole.close()
