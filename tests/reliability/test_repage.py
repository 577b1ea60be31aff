"""`storage repage`: a workstation set up at 4 KiB pages rewritten at 32 KiB (storage/repage.py,
app/services/repage.py). Every record and the audit chain come through; an exception or a kill at
any step leaves a workstation that opens (the old one before the key header changed, else the new
one); a wrong passphrase, a reviewer, or another open connection change nothing; the audit log
records the rewrite."""

from __future__ import annotations

import io
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import storage.keys
from app import cli
from app.model.accounts import Role
from app.model.errors import AuthError, PermissionDenied, StorageError, ValidationError
from app.services import audit, repage, submissions
from app.services import workstation as ws_service
from storage import repage as store
from storage.db import LEGACY_PAGE_SIZE
from storage.keys import NEW_PAGE_SIZE
from tests.conftest import FIXED_NOW, PASSPHRASES, add_person, fixture_conditions
from tests.reliability.fork_server import ForkServer
from tests.reliability.helpers import add_submission

ADMIN = PASSPHRASES["admin"]
STEPS = ["exclusive", "export", "check", "journal", "swap", "header", "cleanup"]
# The key header records the new size from the "cleanup" step on: the new database stands.
NEW_FROM = STEPS.index("cleanup")


@pytest.fixture(scope="module")
def old_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workstation set up the way it was before 32 KiB pages, with a reviewer and two submissions
    (passphrase-only): built once (~0.3 s of CPU), copied per test."""
    root = tmp_path_factory.mktemp("old-template")
    data_dir = root / "old"
    with fixture_conditions(root):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(storage.keys, "NEW_PAGE_SIZE", LEGACY_PAGE_SIZE)
            admin = ws_service.initialize(data_dir, workstation_name="Pages", system_high="SECRET//NOFORN",
                                          admin_username="admin", admin_display_name="Ada Admin",
                                          admin_passphrase=ADMIN, use_keyring=False, clock=lambda: FIXED_NOW).session
        add_person(admin, data_dir, "reviewer", "Rita Reviewer", Role.REVIEWER, PASSPHRASES["reviewer"])
        admin.close()
        reviewer = _sign_in(data_dir, "reviewer")
        add_submission(reviewer, 1)
        add_submission(reviewer, 2)
        reviewer.close()
    return data_dir


@pytest.fixture
def old_ws(tmp_path: Path, old_template: Path) -> Path:
    """A private copy of the old workstation (copy2 keeps the 0600/0700 modes)."""
    return Path(shutil.copytree(old_template, tmp_path / "old", symlinks=True))


def _sign_in(data_dir: Path, user: str = "admin") -> Any:
    return ws_service.sign_in(data_dir, user, PASSPHRASES[user], clock=lambda: FIXED_NOW)


def _header_page_size(data_dir: Path) -> int:
    return int(json.loads(ws_service.header_path(data_dir).read_bytes()).get("page_size", LEGACY_PAGE_SIZE))


def _leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if "repage" in p.name)


def _dump(session: Any) -> dict[str, list[Any]]:
    """Every table's rows (audit events apart: the rewrite appends to them)."""
    conn = session.db.conn
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names
            if not n.startswith(("audit_events", "eval_samples_fts"))}


def _opens_at(data_dir: Path, page_size: int) -> Any:
    """Sign in, check the page size, the full integrity checks and the audit chain; the session."""
    s = _sign_in(data_dir)
    assert s.db.page_size == page_size == int(s.db.conn.execute("PRAGMA page_size").fetchone()[0])
    assert _header_page_size(data_dir) == page_size
    assert s.db.integrity_check() == []
    assert audit.verify(s).ok
    assert [x.model_name for x in submissions.page(s, 0, 10, sort="id")] == ["Model 1", "Model 2"]
    return s


def test_a_4k_workstation_rewritten_opens_at_32k_with_every_record_and_its_audit_chain(old_ws: Path) -> None:
    admin = _sign_in(old_ws)
    before = _dump(admin)
    events_before = [(e.seq, e.hash) for e in audit.events(admin, 10_000)]
    result, again = repage.repage(admin, ADMIN)
    assert (result.old_page_size, result.new_page_size) == (LEGACY_PAGE_SIZE, NEW_PAGE_SIZE)
    assert result.tables > len(before) and result.rows > 0
    assert again.db.page_size == NEW_PAGE_SIZE
    again.close()
    assert _leftovers(old_ws) == []
    assert ws_service.db_path(old_ws).stat().st_size % NEW_PAGE_SIZE == 0
    s = _opens_at(old_ws, NEW_PAGE_SIZE)
    try:
        after = _dump(s)
        assert {n: rows for n, rows in after.items() if n != "settings"} == \
            {n: rows for n, rows in before.items() if n != "settings"}
        events = audit.events(s, 10_000)
        hashes = {e.seq: e.hash for e in events}
        assert events_before and all(hashes[seq] == h for seq, h in events_before)  # the old chain, unchanged
        actions = [e.action for e in events]
        assert "storage.repage" in actions and "storage.repage_done" in actions
        done = next(e for e in events if e.action == "storage.repage_done")
        assert done.details["from_page_size"] == LEGACY_PAGE_SIZE and done.details["to_page_size"] == NEW_PAGE_SIZE
        ws_service.update_settings(s, {"backup_reminder_days": 9})  # and it takes writes
    finally:
        s.close()


@pytest.mark.parametrize("stop", STEPS)
def test_an_exception_at_any_step_leaves_a_workstation_that_opens(old_ws: Path, stop: str) -> None:
    def step(name: str) -> None:
        if name == stop:
            raise RuntimeError(f"stopped at {name}")

    admin = _sign_in(old_ws)
    with pytest.raises(RuntimeError, match=f"stopped at {stop}"):
        repage.repage(admin, ADMIN, step=step)
    assert _leftovers(old_ws) == []
    size = NEW_PAGE_SIZE if STEPS.index(stop) >= NEW_FROM else LEGACY_PAGE_SIZE
    s = _opens_at(old_ws, size)
    try:
        failed = audit.events(s, 5, action_prefix="storage.repage_failed")
        assert failed and f"stopped at {stop}" in failed[0].details["error"]
    finally:
        s.close()


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    """Each killed rewrite runs in its own process, forked from a server that imported the services once."""
    server = ForkServer(tmp_path_factory.mktemp("fork"), ["tests.reliability.repage_worker"])
    yield server
    server.close()


@pytest.mark.parametrize("stop", STEPS)
def test_a_kill_at_any_step_leaves_a_workstation_that_opens(workers: ForkServer, old_ws: Path, stop: str) -> None:
    # repage_worker.stop_at ends the process with os._exit(9) at that step: no cleanup, no finally
    proc = workers.start("tests.reliability.repage_worker:stop_at", [str(old_ws), ADMIN, stop])
    try:
        assert proc.wait(timeout=300) == 9, proc.stderr.read()
    finally:
        proc.close()
    # The next sign-in finishes or undoes what the kill interrupted: a swapped database whose header
    # was not yet updated ("header") is the new one.
    size = NEW_PAGE_SIZE if STEPS.index(stop) >= STEPS.index("header") else LEGACY_PAGE_SIZE
    _opens_at(old_ws, size).close()
    assert _leftovers(old_ws) == []


def test_a_wrong_passphrase_changes_nothing(old_ws: Path) -> None:
    admin = _sign_in(old_ws)
    try:
        with pytest.raises(AuthError):
            repage.repage(admin, "not-the-passphrase-at-all")
        assert not [e for e in audit.events(admin, 50) if e.action.startswith("storage.repage")]
    finally:
        admin.close()
    assert _leftovers(old_ws) == []
    _opens_at(old_ws, LEGACY_PAGE_SIZE).close()


def test_only_an_administrator_and_only_when_there_is_something_to_rewrite(workstation: Any) -> None:
    with pytest.raises(PermissionDenied):
        repage.repage(workstation.session("reviewer"), PASSPHRASES["reviewer"])
    with pytest.raises(ValidationError, match="already has 32768-byte pages"):
        repage.repage(workstation.session("admin"), ADMIN)


def test_another_open_connection_refuses_the_rewrite_and_changes_nothing(old_ws: Path) -> None:
    reviewer = _sign_in(old_ws, "reviewer")  # another person's session, still open
    try:
        reviewer.db.conn.execute("SELECT count(*) FROM submissions").fetchone()
        with pytest.raises(StorageError, match="open elsewhere"):
            repage.repage(_sign_in(old_ws), ADMIN)
    finally:
        reviewer.close()
    assert _leftovers(old_ws) == []
    _opens_at(old_ws, LEGACY_PAGE_SIZE).close()


def test_a_journal_without_a_swap_is_discarded_and_a_foreign_one_ignored(old_ws: Path) -> None:
    journal = old_ws / store.JOURNAL_NAME
    journal.write_text(json.dumps({"db_id": "someone-else", "from": 4096, "to": 32768}))
    _opens_at(old_ws, LEGACY_PAGE_SIZE).close()  # the key opens the file at 4096 only: nothing to settle
    assert not journal.exists()


def test_the_command_line_rewrites_and_says_what_it_checked(old_ws: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(ADMIN + "\n"))
    assert cli.main(["--data-dir", str(old_ws), "--user", "admin", "storage", "repage"]) == 0
    out = capsys.readouterr().out
    assert "4096-byte pages -> 32768-byte pages" in out and "audit chain verified" in out
    _opens_at(old_ws, NEW_PAGE_SIZE).close()
