"""lm-eval transcripts compressed with a zstd dictionary trained on the run's first lines (migration
0027): every transcript reads back as stored, dictionaries are shared by hash and leave with their
last transcript, damage is an error naming the sample, old rows and other codecs still read, and a
backup carries the dictionaries."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.model.errors import StorageError
from app.model.results import LM_EVAL_TRANSCRIPT_KEYS, SampleFilter
from app.model.submissions import Submission
from app.services import results, submissions
from storage import transcript_codec as codec
from storage.db import Database
from tests.conftest import tamper

FIX = Path(__file__).parents[1] / "fixtures"
LM_DIR = next((FIX / "lm_eval").iterdir())
RESULTS = next(LM_DIR.glob("results_*.json"))
WMDP = next(LM_DIR.glob("samples_wmdp_cyber_*.jsonl"))
CYBERMETRIC = next(LM_DIR.glob("samples_cybermetric_80_mini_*.jsonl"))
KEY = bytes.fromhex("00112233445566778899aabbccddeeff" * 2)
LINES = 400  # over codec.TRAIN_MIN_SAMPLES and TRAIN_MIN_BYTES, under TRAIN_MAX_SAMPLES


def _lines(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """n distinct wmdp_cyber lines in the shape lm-eval writes (the fixture's lines, new questions)."""
    base = [json.loads(x) for x in WMDP.read_text().splitlines() if x.strip()]
    rng = random.Random(seed)
    words = "packet kernel buffer overflow heap payload firewall cipher token proxy exploit sandbox".split()
    out = []
    for k in range(n):
        line = json.loads(json.dumps(base[k % len(base)]))
        question = f"Q{k}: " + " ".join(rng.choice(words) for _ in range(rng.randint(20, 60))) + "?"
        line["doc_id"], line["doc"]["question"] = k, question
        for arg in line["arguments"].values():
            arg["arg_0"] = arg["arg_0"].replace(base[k % len(base)]["doc"]["question"], question)
        line["doc_hash"] = hashlib.sha256(question.encode()).hexdigest()
        out.append(line)
    return out


def _log(folder: Path, lines: list[dict[str, Any]], stamp: str = "") -> Path:
    """A results file with its two tasks' samples files: wmdp_cyber with `lines`, cybermetric (3 lines)
    as in the fixture. `stamp` changes the results file's bytes (a new file for the duplicate check)."""
    folder.mkdir(parents=True)
    head = json.loads(RESULTS.read_text())
    head["n-samples"]["wmdp_cyber"] = {"original": len(lines), "effective": len(lines)}
    head["stamp"] = stamp
    results_path = folder / RESULTS.name
    results_path.write_text(json.dumps(head))
    with (folder / WMDP.name).open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    shutil.copy(CYBERMETRIC, folder / CYBERMETRIC.name)
    return results_path


def _sub(session: Any) -> int:
    sub = submissions.create(session, Submission(developer="Offline", model_name="cyber-mini", version="7b",
                                                 received=date(2026, 11, 1), planned_release=date(2026, 11, 25)))
    assert sub.id is not None
    return sub.id


def _import(session: Any, path: Path, sid: int) -> dict[str, int]:
    out = results.import_files(session, [path], sid)
    assert [o.status for o in out] == ["imported"], out
    return {r.task: r.id for r in results.list_runs(session, sid) if r.file_sha256 and r.original_name == path.name
            and r.id is not None and r.id >= (out[0].run_id or 0)}


def _codecs(session: Any, run_id: int) -> set[tuple[str, int | None]]:
    return {(r[0], r[1]) for r in session.db.conn.execute(
        "SELECT DISTINCT t.codec, t.dict_id FROM eval_transcripts t JOIN eval_samples s ON s.id = t.sample_pk "
        "WHERE s.run_id = ?", (run_id,))}


def _transcripts(session: Any, run_id: int) -> list[dict[str, Any] | None]:
    rows = results.page_samples(session, run_id, SampleFilter(), 0, 10_000)
    return [results.get_transcript(session, r.id) for r in rows]


def _expected(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: line[k] for k in LM_EVAL_TRANSCRIPT_KEYS if k in line} for line in lines]


def _dictionaries(session: Any) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in session.db.conn.execute(
        "SELECT id, sha256 FROM transcript_dictionaries ORDER BY id")]


def test_training_is_deterministic_and_refuses_too_little_data() -> None:
    raws = [json.dumps(x).encode() for x in _lines(LINES)]
    first, again = codec.train(raws), codec.train(raws)
    assert first is not None and again == first and len(first.data) == codec.DICT_SIZE
    assert first.sha256 == hashlib.sha256(first.data).hexdigest()
    assert codec.train(raws[: codec.TRAIN_MIN_SAMPLES - 1]) is None
    zc = codec.compressor(first)
    plain = codec.compressor(None)
    packed = sum(len(zc.compress(r)) for r in raws)
    assert packed < 0.8 * sum(len(plain.compress(r)) for r in raws)  # it pays on these lines


def test_lm_eval_import_round_trips_every_transcript_with_one_dictionary(workstation, tmp_path):
    s = workstation.session("reviewer")
    lines = _lines(LINES)
    runs = _import(s, _log(tmp_path / "a", lines), _sub(s))
    dicts = _dictionaries(s)
    assert len(dicts) == 1
    assert _codecs(s, runs["wmdp_cyber"]) == {(codec.DICT_CODEC, dicts[0][0])}
    # the small file of the same import keeps the plain codec
    assert _codecs(s, runs["cybermetric_80_mini"]) == {(codec.CODEC, None)}
    assert _transcripts(s, runs["wmdp_cyber"]) == _expected(lines)
    small = [json.loads(x) for x in CYBERMETRIC.read_text().splitlines() if x.strip()]
    assert _transcripts(s, runs["cybermetric_80_mini"]) == _expected(small)
    # the stored bytes are the dictionary the hash names
    data = s.db.conn.execute("SELECT data FROM transcript_dictionaries").fetchone()[0]
    assert hashlib.sha256(data).hexdigest() == dicts[0][1]


def test_dictionary_is_shared_by_hash_and_leaves_with_its_last_transcript(workstation, tmp_path):
    s = workstation.session("reviewer")
    sid = _sub(s)
    lines = _lines(LINES)
    first = _import(s, _log(tmp_path / "a", lines), sid)
    second = _import(s, _log(tmp_path / "b", lines, stamp="second copy"), sid)  # same lines, another file
    assert first["wmdp_cyber"] != second["wmdp_cyber"]
    (dict_id, _sha), = _dictionaries(s)
    assert _codecs(s, second["wmdp_cyber"]) == {(codec.DICT_CODEC, dict_id)}

    other = _sub(s)
    results.move_run(s, first["wmdp_cyber"], other, "imported under the wrong submission")
    assert _dictionaries(s) == [(dict_id, _sha)] and _transcripts(s, first["wmdp_cyber"]) == _expected(lines)

    results.delete_run(s, first["wmdp_cyber"], "imported twice")
    assert _dictionaries(s) == [(dict_id, _sha)]  # still used by the second run
    assert _transcripts(s, second["wmdp_cyber"]) == _expected(lines)
    results.delete_run(s, second["wmdp_cyber"], "imported twice")
    assert _dictionaries(s) == []  # no orphan
    assert s.db.integrity_check() == []


def test_the_database_refuses_a_transcript_without_its_dictionary(workstation, tmp_path):
    s = workstation.session("reviewer")
    runs = _import(s, _log(tmp_path / "a", _lines(LINES)), _sub(s))
    pk = s.db.conn.execute("SELECT t.sample_pk FROM eval_transcripts t JOIN eval_samples e ON e.id = t.sample_pk "
                           "WHERE e.run_id = ? LIMIT 1", (runs["wmdp_cyber"],)).fetchone()[0]
    for bad in ("DELETE FROM transcript_dictionaries",  # still used: foreign key
                f"UPDATE eval_transcripts SET dict_id = NULL WHERE sample_pk = {pk}",  # codec needs one
                f"UPDATE eval_transcripts SET codec = 'zstd-json' WHERE sample_pk = {pk}"):  # plain names none
        with pytest.raises(StorageError, match="constraint failed"):
            with tamper(s) as conn:
                conn.execute(bad)
    assert len(_dictionaries(s)) == 1


def test_damaged_or_missing_dictionary_is_an_error_naming_the_sample(workstation, tmp_path):
    s = workstation.session("reviewer")
    sid = _sub(s)
    runs = _import(s, _log(tmp_path / "a", _lines(LINES)), sid)
    pk = results.page_samples(s, runs["wmdp_cyber"], SampleFilter(), 0, 1)[0].id
    assert results.get_transcript(s, pk) is not None  # read once: a cached dictionary must not hide damage
    (dict_id, sha), = _dictionaries(s)
    good = bytes(s.db.conn.execute("SELECT data FROM transcript_dictionaries").fetchone()[0])

    with tamper(s) as conn:
        conn.execute("UPDATE transcript_dictionaries SET data = ?", (good[:-100] + bytes(100),))
    with pytest.raises(StorageError, match=rf"sample {pk}\b.*dictionary \({dict_id}\) is damaged"):
        results.get_transcript(s, pk)

    # another valid dictionary under a matching hash (an insider's swap): the frame's checks refuse it
    swapped = codec.train([json.dumps(x).encode() for x in _lines(LINES, seed=99)])
    assert swapped is not None and swapped.data != good
    with tamper(s) as conn:
        conn.execute("UPDATE transcript_dictionaries SET data = ?, sha256 = ?", (swapped.data, swapped.sha256))
    with pytest.raises(StorageError, match=rf"transcript of sample {pk} is damaged"):
        results.get_transcript(s, pk)

    with tamper(s, foreign_keys=False) as conn:
        conn.execute("DELETE FROM transcript_dictionaries")
    with pytest.raises(StorageError, match=rf"sample {pk}\b.*dictionary \({dict_id}\) is missing"):
        results.get_transcript(s, pk)
    assert sha  # the hash stored at import


def test_failed_import_after_training_leaves_no_dictionary(workstation, tmp_path):
    s = workstation.session("reviewer")
    lines = _lines(codec.TRAIN_MAX_SAMPLES + 50)
    path = _log(tmp_path / "a", lines)
    with (path.parent / WMDP.name).open("a") as fh:
        fh.write('{"doc_id": 1, "doc": \n')  # broken after the dictionary was trained and used
    out = results.import_files(s, [path], _sub(s))
    assert out[0].status == "failed" and "line" in out[0].message
    assert _dictionaries(s) == [] and s.db.query_one("SELECT count(*) FROM eval_transcripts")[0] == 0


def test_mixed_codecs_in_one_database_all_read(workstation, tmp_path):
    """Inspect frames kept as they are, plain lm-eval rows written before migration 0027, and
    dictionary rows, side by side."""
    s = workstation.session("reviewer")
    sid = _sub(s)
    ev = results.import_files(s, [FIX / "inspect" / "intercode_ok.eval"], sid)[0]
    assert ev.status == "imported"
    lines = _lines(LINES)
    runs = _import(s, _log(tmp_path / "a", lines), sid)
    assert _codecs(s, ev.run_id) == {(codec.CODEC, None)}
    assert all(t and t["messages"] for t in _transcripts(s, ev.run_id))
    # an old row: plain zstd of the transcript keys, no dictionary (how lm-eval lines were stored)
    pk = results.page_samples(s, runs["wmdp_cyber"], SampleFilter(), 0, 1)[0].id
    old = json.dumps(_expected(lines)[0]).encode()
    with tamper(s) as conn:
        conn.execute("UPDATE eval_transcripts SET codec = 'zstd-json', dict_id = NULL, raw_size = ?, data = ? "
                     "WHERE sample_pk = ?", (len(old), codec.compressor(None).compress(old), pk))
    assert _transcripts(s, runs["wmdp_cyber"]) == _expected(lines)


def test_rows_written_before_the_migration_read_after_it(tmp_path):
    from app.model.results import EvalRun, Harness, RunStatus, SampleResult
    from storage import results_repo

    path = tmp_path / "old.db"
    db = Database.open(path, KEY, create=True, migrate_to=26)
    line = _expected(_lines(1))[0]
    raw = json.dumps(line).encode()
    db.conn.execute("PRAGMA foreign_keys = OFF")  # a run needs a submission, which is not the point here
    with db.transaction() as conn:
        run = EvalRun(harness=Harness.LM_EVAL, harness_version="0.4.13", task="wmdp_cyber", task_version="1",
                      model="m", created="2026-11-01", status=RunStatus.SUCCESS, epochs=1, total_samples=1,
                      completed_samples=1)
        run_id = results_repo.insert_run(conn, run, 1, "lm-eval", "r", "2026-11-01")
        conn.execute("INSERT INTO eval_samples (id, run_id, sample_id) VALUES (1, ?, '0')", (run_id,))
        conn.execute("INSERT INTO eval_transcripts (sample_pk, codec, raw_size, data) VALUES (1, 'zstd-json', ?, ?)",
                     (len(raw), codec.compressor(None).compress(raw)))
    db.close()
    db = Database.open(path, KEY)  # migrates to the latest schema
    try:
        assert results_repo.get_transcript(db.conn, 1) == line
        assert db.conn.execute("SELECT dict_id FROM eval_transcripts").fetchone()[0] is None
        db.conn.execute("PRAGMA foreign_keys = OFF")
        with db.transaction() as conn:  # the plain codec is still written (small files)
            results_repo.insert_samples(conn, run_id, [SampleResult("1", 1, transcript_json=raw)])
        assert results_repo.get_transcript(db.conn, 2) == line
    finally:
        db.close()


def test_backup_and_restore_carry_the_dictionaries(workstation, tmp_path):
    from app.services import backup
    from app.services import workstation as ws_service
    from tests.conftest import FIXED_NOW, PASSPHRASES
    from tests.reliability.conftest import ca_fingerprint

    s = workstation.session("reviewer")
    lines = _lines(LINES)
    runs = _import(s, _log(tmp_path / "a", lines), _sub(s))
    admin = workstation.session("admin")
    media = tmp_path / "media"
    media.mkdir()
    made = backup.create(admin, media, PASSPHRASES["admin"], media_label="SECRET//NOFORN")
    target = tmp_path / "restored"
    backup.restore(made.folder, target, admin_username="admin", passphrase=PASSPHRASES["admin"],
                   known_cas=[ca_fingerprint(admin)])
    restored = ws_service.sign_in(target, "reviewer", PASSPHRASES["reviewer"], clock=lambda: FIXED_NOW)
    try:
        assert _dictionaries(restored) == _dictionaries(s) and len(_dictionaries(restored)) == 1
        assert _transcripts(restored, runs["wmdp_cyber"]) == _expected(lines)
    finally:
        restored.close()
