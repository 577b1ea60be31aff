"""SIGKILL in the middle of an operation, then reopen: the database passes its full integrity
check, the audit chain verifies against the head kept in the key header, and the interrupted
operation either completed (row + audit event) or left no trace.

The worker (fault_worker.py) runs the operation in a loop in a real, separate process, forked from
a module-wide server that has imported the application once (fork_server.py); the kill comes after a
seeded random delay, so a failure is reproducible from the seed in the test id.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest

from app.model.verification import AWAITING
from app.services import assessment_review, backup
from app.services import pki as pki_service
from app.services import reports as report_service
from app.services import workstation as ws_service
from reports.verify_package import verify_package
from storage import audit as audit_log
from storage import backup as store
from storage import blobs
from storage.db import Database
from storage.keys import KeyHeader
from tests.conftest import (
    PASSPHRASES,
    MemoryKeyring,
    Workstation,
    WorkstationTemplate,
    build_template,
    derive_template,
    restore_template,
)
from tests.reliability import fault_worker
from tests.reliability.biglog import write_big_inspect_log
from tests.reliability.fork_server import ForkServer
from tests.reliability.helpers import (
    add_submission,
    approved_submission,
    attach,
    configure_for_reports,
    started_assessment,
)

ADMIN = PASSPHRASES["admin"]
WORKER = "tests.reliability.fault_worker:main"
# Every operation's services and what they import on first use (pyHanko, the OSCAL models, pypdf):
# loaded once in the server, so a child's seeded delay is spent in the operation, not in imports.
PRELOAD = ("tests.reliability.fault_worker", *sorted({m for mods in fault_worker.NEEDS.values() for m in mods}),
           *fault_worker.FIRST_USE)


@pytest.fixture(scope="module")
def pp_template(tmp_path_factory: pytest.TempPathFactory) -> WorkstationTemplate:
    """Passphrase-only: a subprocess cannot see the test's in-memory keyring. Built once per module
    (CA, five accounts: ~0.7 s of CPU); each test gets a private copy of the folder."""
    return build_template(tmp_path_factory.mktemp("pp-template"), backend=keyring.backends.fail.Keyring())


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    server = ForkServer(tmp_path_factory.mktemp("fork"), PRELOAD)
    yield server
    server.close()


@pytest.fixture
def pp_workstation(tmp_path: Path, pp_template: WorkstationTemplate,
                   memory_keyring: MemoryKeyring) -> Iterator[Workstation]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    ws = pp_template.copy_to(tmp_path / "ws", memory_keyring)  # no keyring secret to hand over
    yield ws
    for s in ws.sessions:
        s.close()
    keyring.set_keyring(previous)


def run_and_kill(workers: ForkServer, ws: Workstation, op: str, user: str, args: list[str], seed: int,
                 window: tuple[float, float], after: str = "READY") -> tuple[int, str]:
    """Start the worker, wait for a line starting with `after`, SIGKILL it after a seeded delay;
    returns (operations reported done, stdout)."""
    delay = random.Random(seed).uniform(*window)
    proc = workers.start(WORKER, [str(ws.data_dir), op, user, PASSPHRASES[user], *args])
    try:
        seen = []
        while not (seen and seen[-1].startswith(after)):
            line = proc.stdout.readline()
            assert line, f"worker ended before '{after}': {proc.stderr.read()}"
            seen.append(line)
        time.sleep(delay)
        proc.kill()
        proc.wait(timeout=30)
        out = "".join(seen) + proc.stdout.read()
        assert proc.returncode == -signal.SIGKILL, f"worker ended on its own: {proc.stderr.read()}"
    finally:
        proc.close()
    done = [int(line.split()[1]) for line in out.splitlines() if line.startswith("DONE")]
    return (done[-1] if done else 0), out


def reopen(ws: Workstation) -> Database:
    """Open exactly as the application does (WAL recovery, quick_check), then the full checks."""
    header = KeyHeader.load(ws_service.header_path(ws.data_dir))
    key = header.unwrap_passphrase("admin", ADMIN, None)
    db = Database.open(ws_service.db_path(ws.data_dir), key, page_size=header.page_size)
    assert db.integrity_check() == [], "database damaged by the kill"
    head = header.audit_head
    chain = audit_log.verify(db.conn, (int(head["seq"]), head["hash"]))
    assert chain.ok, chain.problems
    return db


def count(db: Database, sql: str, *params: object) -> int:
    return int(db.query_one(sql, params)[0])


@pytest.mark.parametrize("seed", [11, 12])
def test_kill_mid_submission_save(workers, pp_workstation, seed):
    done, _ = run_and_kill(workers, pp_workstation, "submission", "reviewer", [], seed, (0.2, 1.2))
    db = reopen(pp_workstation)
    rows = count(db, "SELECT count(*) FROM submissions")
    events = count(db, "SELECT count(*) FROM audit_events WHERE action = 'submission.create'")
    assert rows == events, "a submission without its audit event (or the reverse)"
    assert done <= rows <= done + 1
    db.close()
    pp_workstation.session("reviewer").close()  # and the application signs in normally afterwards


@pytest.mark.parametrize("seed", [21, 22])
def test_kill_mid_artifact_attach(workers, pp_workstation, tmp_path, seed):
    reviewer = pp_workstation.session("reviewer")
    sub = add_submission(reviewer)
    reviewer.close()
    file = tmp_path / "system-card.bin"
    file.write_bytes(random.Random(seed).randbytes(4 << 20))
    done, _ = run_and_kill(workers, pp_workstation, "artifact", "reviewer", [str(sub.id), str(file)], seed, (0.3, 2.0))
    db = reopen(pp_workstation)
    arts = db.query("SELECT sha256 FROM artifacts")
    assert len(arts) == count(db, "SELECT count(*) FROM audit_events WHERE action = 'artifact.attach'")
    assert done <= len(arts) <= done + 1
    assert count(db, "SELECT count(*) FROM blobs WHERE sha256 LIKE 'pending-%'") == 0
    assert count(db, "SELECT count(*) FROM blob_chunks WHERE sha256 NOT IN (SELECT sha256 FROM blobs)") == 0
    for (sha,) in arts:
        assert len(blobs.read(db.conn, sha)) == 4 << 20  # every stored artifact is whole and matches its hash
    db.close()


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_big_inspect_log(tmp_path_factory.mktemp("logs") / "big-wmdp.json", 15_000, "kill")


@pytest.mark.parametrize("seed", [31, 32])
def test_kill_mid_results_import(workers, pp_workstation, big_log, seed):
    reviewer = pp_workstation.session("reviewer")
    sub = add_submission(reviewer)
    reviewer.close()
    # Killed once samples are being written: inside the import transaction.
    done, out = run_and_kill(workers, pp_workstation, "import", "reviewer", [str(sub.id), str(big_log)], seed, (0.0, 0.6),
                             after="PROGRESS big-wmdp.json (1/1)")
    db = reopen(pp_workstation)
    runs = count(db, "SELECT count(*) FROM eval_runs")
    samples = count(db, "SELECT count(*) FROM eval_samples")
    events = count(db, "SELECT count(*) FROM audit_events WHERE action = 'results.import'")
    if done:
        assert "OUTCOME imported" in out
        assert (runs, samples, events) == (1, 15_000, 1)
    else:  # killed mid-import: nothing at all, or (killed after COMMIT, before printing) everything
        assert (runs, samples, events) in ((0, 0, 0), (1, 15_000, 1)), (runs, samples, events)
    assert count(db, "SELECT count(*) FROM eval_transcripts WHERE sample_pk NOT IN (SELECT id FROM eval_samples)") \
        == 0
    db.close()


def test_kill_after_commit_before_the_checkpoint(workers, pp_workstation, tmp_path):
    """The runtime checkpoints off the COMMIT's path: a process killed between the two leaves the
    import only in the fsynced WAL, and the next open replays it (SQLite's WAL recovery)."""
    log = write_big_inspect_log(tmp_path / "unchecked.json", 3_000, "unchecked")
    reviewer = pp_workstation.session("reviewer")
    sub = add_submission(reviewer)
    reviewer.close()
    wal = ws_service.db_path(pp_workstation.data_dir).with_name(ws_service.DB_NAME + "-wal")
    db_before = ws_service.db_path(pp_workstation.data_dir).stat().st_size
    _, out = run_and_kill(workers, pp_workstation, "import-unchecked", "reviewer", [str(sub.id), str(log)], 0, (0.0, 0.0),
                          after="COMMITTED")
    assert "OUTCOME imported" in out
    committed = next(line for line in out.splitlines() if line.startswith("COMMITTED"))
    assert committed.endswith("runs=0")
    assert wal.stat().st_size > 1_000_000  # the import is in the WAL...
    assert ws_service.db_path(pp_workstation.data_dir).stat().st_size == db_before  # ...and not yet in the file
    db = reopen(pp_workstation)
    assert count(db, "SELECT count(*) FROM eval_runs") == 1
    assert count(db, "SELECT count(*) FROM eval_samples") == 3_000
    assert count(db, "SELECT count(*) FROM eval_transcripts") == 3_000
    assert count(db, "SELECT count(*) FROM audit_events WHERE action = 'results.import'") == 1
    db.close()
    pp_workstation.session("reviewer").close()  # and the application signs in normally afterwards


@pytest.mark.parametrize("seed", [41, 42])
def test_kill_mid_backup(workers, pp_workstation, tmp_path, seed):
    reviewer = pp_workstation.session("reviewer")
    attach(reviewer, add_submission(reviewer).id, tmp_path, 3 << 20)  # a snapshot that takes a moment
    reviewer.close()
    dest = tmp_path / "media"
    dest.mkdir()
    done, _ = run_and_kill(workers, pp_workstation, "backup", "admin", [str(dest)], seed, (0.5, 3.0))
    db = reopen(pp_workstation)
    events = count(db, "SELECT count(*) FROM audit_events WHERE action = 'backup.create'")
    db.close()
    complete = sorted(p for p in dest.iterdir() if p.name.startswith(store.PREFIX))
    partial = [p for p in dest.iterdir() if p.name.startswith(store.PARTIAL_PREFIX)]
    assert all(p.name.endswith(store.PARTIAL_SUFFIX) for p in partial)  # only hidden, marked leftovers
    assert done <= len(complete) and events <= len(complete) <= events + 1
    header = KeyHeader.load(ws_service.header_path(pp_workstation.data_dir))
    key = header.unwrap_passphrase("admin", ADMIN, None)
    for folder in complete:  # every visible backup is whole, signed and decrypts
        meta = store.read_backup(folder).meta
        report = backup.inspect(folder, [meta.ca_fingerprint], key)
        assert report.ok and report.contents_checked, report.problems
    # The next backup sweeps what the killed one left (stale after an hour; here: force it).
    for p in partial:
        store.sweep_partials(dest, older_than=0)
        assert not p.exists()


# -- assessment answers, report signing, export ---------------------------------------------------


@pytest.mark.parametrize("seed", [51, 52])
def test_kill_mid_answer_save(workers, pp_workstation, seed):
    reviewer = pp_workstation.session("reviewer")
    _sid, aid, items = started_assessment(reviewer)
    reviewer.close()
    done, _ = run_and_kill(workers, pp_workstation, "answer", "reviewer", [str(aid), ",".join(items)], seed, (0.3, 1.5))
    db = reopen(pp_workstation)
    # Autosaves are not audited one by one: the history digest is sealed into the audit chain at
    # each transition (assessment_review.verify_history). A save is answer + history row in one transaction.
    history = count(db, "SELECT count(*) FROM answer_history WHERE assessment_id = ?", aid)
    assert done <= history <= done + 1
    assert count(db, "SELECT count(DISTINCT item_id) FROM answer_history WHERE assessment_id = ?", aid) == count(
        db, "SELECT count(*) FROM answers WHERE assessment_id = ?", aid)
    # The stored answer of every item is the latest change recorded for it.
    for item, status, text in db.query("SELECT item_id, status, justification FROM answers WHERE assessment_id = ?",
                                       (aid,)):
        last = db.query_one("SELECT status, justification FROM answer_history WHERE assessment_id = ? AND item_id = ?"
                            " ORDER BY id DESC LIMIT 1", (aid, item))
        assert (status, text) == tuple(last)
    db.close()
    reviewer = pp_workstation.session("reviewer")
    assert assessment_review.verify_history(reviewer, aid) == []
    reviewer.close()


def _reports_ready(ws: Workstation) -> int:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # passphrase-only, as in pp_workstation
    admin = ws.session("admin")
    configure_for_reports(admin)
    admin.close()
    rev, lead = ws.session("reviewer"), ws.session("lead")
    sid = approved_submission(rev, lead)
    rev.close()
    lead.close()
    return sid


@pytest.fixture(scope="module")
def reports_ready(tmp_path_factory: pytest.TempPathFactory,
                  pp_template: WorkstationTemplate) -> tuple[WorkstationTemplate, int]:
    """The passphrase-only workstation with an approved submission, ready to sign (~1 s of CPU):
    built once, copied per test; with the submission's id."""
    return derive_template(tmp_path_factory.mktemp("reports-ready"), pp_template, _reports_ready)


def _countersigned(ws: Workstation, sid: int) -> tuple[int, list[Any]]:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    rev, lead = ws.session("reviewer"), ws.session("lead")
    rid = report_service.build(rev, sid).id
    report_service.sign(rev, rid, PASSPHRASES["reviewer"])
    report_service.countersign(lead, rid, PASSPHRASES["lead"])
    return rid, pki_service.trusted_roots(rev)


@pytest.fixture(scope="module")
def countersigned(tmp_path_factory: pytest.TempPathFactory, reports_ready: tuple[WorkstationTemplate, int]
                  ) -> tuple[WorkstationTemplate, tuple[int, list[Any]]]:
    """Then a report built, signed and countersigned, ready to export: (template, (report id, trusted roots))."""
    template, sid = reports_ready
    return derive_template(tmp_path_factory.mktemp("countersigned"), template, lambda ws: _countersigned(ws, sid))


@pytest.mark.parametrize("seed", [61, 62])
def test_kill_mid_report_signing(workers, pp_workstation, reports_ready, memory_keyring, seed):
    template, sid = reports_ready
    restore_template(pp_workstation, template, memory_keyring)
    done, _ = run_and_kill(workers, pp_workstation, "sign", "reviewer", [str(sid)], seed, (1.0, 3.0))
    db = reopen(pp_workstation)
    signed = count(db, "SELECT count(*) FROM reports WHERE state = 'signed'")
    assert signed == count(db, "SELECT count(*) FROM audit_events WHERE action = 'report.sign'")
    assert count(db, "SELECT count(*) FROM reports") == count(
        db, "SELECT count(*) FROM audit_events WHERE action = 'report.build'")
    assert done <= signed <= done + 1
    db.close()
    session = pp_workstation.session("reviewer")
    for rep in report_service.for_submission(session, sid):
        check = report_service.verify(session, rep.id)
        if rep.state == "signed":
            # strict verification: a reviewer-only report is valid and awaiting the lead's countersignature
            assert check.state == AWAITING and len(check.signatures) == 1, check.lines()
        else:
            assert rep.state == "built" and not check.signatures  # a stored PDF is never half-signed


@pytest.mark.parametrize("seed", [71, 72])
def test_kill_mid_export(workers, pp_workstation, countersigned, memory_keyring, tmp_path, seed):
    template, (rid, roots) = countersigned
    restore_template(pp_workstation, template, memory_keyring)
    dest = tmp_path / "usb"
    dest.mkdir()
    done, _ = run_and_kill(workers, pp_workstation, "export", "reviewer", [str(rid), str(dest)], seed, (0.3, 1.5))
    db = reopen(pp_workstation)
    events = count(db, "SELECT count(*) FROM audit_events WHERE action = 'report.export'")
    db.close()
    packages = [p for r in dest.iterdir() for p in r.iterdir() if not p.name.startswith(".")]
    partial = [p for r in dest.iterdir() for p in r.iterdir() if p.name.startswith(".")]
    assert all(".partial-" in p.name for p in partial)  # only hidden, marked leftovers
    assert done <= len(packages) and events <= len(packages) <= events + 1
    for pkg in packages:  # every visible package is complete and verifies
        check = verify_package(pkg, roots)
        assert check.ok, check.lines()


@pytest.mark.parametrize("seed", [81])
def test_kill_mid_restore(workers, pp_workstation, tmp_path, seed):
    reviewer = pp_workstation.session("reviewer")
    attach(reviewer, add_submission(reviewer).id, tmp_path, 3 << 20)
    reviewer.close()
    admin = pp_workstation.session("admin")
    media = tmp_path / "media"
    media.mkdir()
    made = backup.create(admin, media, ADMIN, media_label="SECRET//NOFORN")
    admin.close()
    target = tmp_path / "targets"
    target.mkdir()
    done, _ = run_and_kill(workers, pp_workstation, "restore", "admin", [str(made.folder), str(target),
                                                                 made.meta.ca_fingerprint], seed, (0.5, 2.5))
    restored = sorted(p for p in target.iterdir() if not p.name.startswith("."))
    leftovers = [p for p in target.iterdir() if p.name.startswith(".")]
    assert all(".restoring-" in p.name for p in leftovers)  # a killed restore leaves only its hidden folder
    assert done <= len(restored) <= done + 1
    for folder in restored:  # every visible workstation opens, intact, with the restore audited
        session = ws_service.sign_in(folder, "admin", ADMIN)
        assert session.db.integrity_check() == []
        events = [e.action for e in audit_log.list_events(session.db.conn, 20, 0)]
        assert "backup.restore" in events
        header = KeyHeader.load(ws_service.header_path(folder)).audit_head
        assert audit_log.verify(session.db.conn, (int(header["seq"]), header["hash"])).ok
        session.close()
