"""Shared fixtures: no network, an in-memory keyring, fast KDF, a ready workstation."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import hypothesis
import keyring
import keyring.backend
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# -- isolation: the whole suite runs with network sockets refused (AF_UNIX stays for D-Bus) -------
_real_socket = socket.socket


class _GuardedSocket(_real_socket):
    def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None:
        fam = socket.AF_INET if family == -1 else family
        if fileno is None and fam != socket.AF_UNIX:
            raise PermissionError(f"network access attempted in an air-gapped test (family {fam})")
        super().__init__(family, type, proto, fileno)


def _blocked_create_connection(*args: object, **kwargs: object) -> object:
    raise PermissionError("network access attempted in an air-gapped test (create_connection)")


socket.socket = _GuardedSocket  # type: ignore[misc]
socket.create_connection = _blocked_create_connection  # type: ignore[assignment]


# Property tests measure nothing about speed: on a loaded 2-core machine (or beside an xdist worker)
# Hypothesis's too_slow health check and per-example deadline fail tests that are correct.
hypothesis.settings.register_profile(
    "suite", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow])
hypothesis.settings.load_profile("suite")


@pytest.hookimpl(trylast=True)  # after the terminal reporter exists
def pytest_configure(config: pytest.Config) -> None:
    from tests import progress

    progress.register(config)  # one line per finished test file under -q (make test)


# Slowest files first. Under xdist (make test: loadfile, --no-loadscope-reorder) each file goes whole to
# a worker in collection order, so the smoke install (a minute on a quiet machine, several when loaded)
# starts at once on one worker while the other works through the rest, instead of running alone last.
SLOW_FIRST = ("tests/installer/test_smoke_install.py", "tests/installer/test_build_installer.py",
              "tests/reliability/test_hostile_documents.py", "tests/reliability/test_faults.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return SLOW_FIRST.index(path) if path in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: the order within and among the other files is kept


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A secure-looking backend held in memory, so tests exercise OS-keyring mode."""

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def _trust_memory_keyring() -> None:
    """Only OS stores are trusted; the tests' in-memory stand-in joins that list for the whole run,
    session-scoped template workstations included (pytest loads this file as "conftest", test
    modules import it as "tests.conftest")."""
    from storage import keyring_secret

    extra = ("conftest.MemoryKeyring", "tests.conftest.MemoryKeyring")
    keyring_secret.TRUSTED_MODULE_PREFIXES = tuple(dict.fromkeys((*keyring_secret.TRUSTED_MODULE_PREFIXES, *extra)))


_trust_memory_keyring()


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's people keep their signed audit-head records in a folder of its own (the real
    one is the OS user's state folder, outside the data directory)."""
    monkeypatch.setenv("FRW_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """PBKDF2 at 600,000 iterations costs ~0.5 s per unlock; tests use far fewer (stored per slot)."""
    import storage.keys

    monkeypatch.setattr(storage.keys, "DEFAULT_ITERATIONS", 1000)


PASSPHRASES = {
    "admin": "correct-horse-42-granite",
    "reviewer": "battery-staple-7-willow",
    "lead": "purple-elephant-93-cobalt",
    "reviewer2": "maple-syrup-5-lantern",
    "auditor": "quiet-harbour-11-thistle",
}
FIXED_NOW = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


@dataclass
class Workstation:
    data_dir: Path
    recovery_key: str
    sessions: list = field(default_factory=list)

    def passphrase(self, name: str) -> str:
        return PASSPHRASES[name]

    def session(self, name: str = "reviewer"):  # type: ignore[no-untyped-def]
        from app.services import workstation

        s = workstation.sign_in(self.data_dir, name, PASSPHRASES[name], clock=lambda: FIXED_NOW)
        self.sessions.append(s)
        return s


@contextlib.contextmanager
def tamper(session, foreign_keys: bool = True):  # type: ignore[no-untyped-def]
    """Write as someone holding the data key would, on a connection of their own: a session's own
    connections refuse every write outside `Session.transaction` (app/services/runtime.py), and an
    edit made to test detection must not be audited, broadcast or recorded as the head.
    `foreign_keys=False` for fixtures whose referenced rows are not what is tested."""
    db = session.runtime.writer.another()
    try:
        if not foreign_keys:
            db.conn.execute("PRAGMA foreign_keys = OFF")
        with db.transaction() as conn:
            yield conn
    finally:
        db.close()


def plant_null(session, table: str, column: str) -> None:  # type: ignore[no-untyped-def]
    """A NULL in `table.column` (NOT NULL), as an insider with the key could leave it."""
    db = session.runtime.writer.another()
    path, key, page_size = db.path, db._key, db.page_size
    conn = db.conn
    sql = conn.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0]
    loose = sql.replace(f"{column} TEXT NOT NULL", f"{column} TEXT", 1)
    assert loose != sql
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_schema SET sql = ? WHERE name = ?", (loose, table))
    db.close()
    from storage.db import Database

    db = Database.open(path, key, check=False, page_size=page_size)
    db.conn.execute("PRAGMA foreign_keys = OFF")
    db.conn.execute(f"UPDATE {table} SET {column} = NULL WHERE rowid = (SELECT min(rowid) FROM {table})")
    db.conn.execute("PRAGMA writable_schema = ON")
    db.conn.execute("UPDATE sqlite_schema SET sql = ? WHERE name = ?", (sql, table))
    db.close()


def as_schema_41(workstation: Workstation) -> None:
    """The workstation's database as the release before migration 0042 left it (its three indexes
    and migration 0043's column dropped, user_version 41), and every session closed: the next sign-in
    updates the schema."""
    insider = workstation.session("admin").runtime.writer.another()
    with insider.transaction() as conn:
        for index in ("eval_samples_run_time", "eval_samples_run_tokens", "eval_samples_run_natural_id"):
            conn.execute(f"DROP INDEX {index}")
        conn.execute("ALTER TABLE vulnerabilities DROP COLUMN more_products")  # 0043
        conn.execute("PRAGMA user_version = 41")
    insider.close()
    for s in workstation.sessions:
        s.close()
    workstation.sessions.clear()


def reviewer_with_submission(ws: Workstation) -> tuple[Any, int]:
    """The reviewer's session and the id of a submission she created (the ingest tests' start)."""
    from app.model.submissions import Submission
    from app.services import submissions

    s = ws.session("reviewer")
    sub = submissions.create(s, Submission(developer="Acme", model_name="Falcon", version="2",
                                           received=date(2026, 11, 1), planned_release=date(2026, 11, 25)))
    assert sub.id is not None
    return s, sub.id


def add_person(admin, data_dir: Path, username: str, display: str, role, passphrase: str) -> None:  # type: ignore[no-untyped-def]
    """An administrator creates the account; the person signs in, sets their own passphrase and
    so creates their signing key; the administrator's session issues the certificate."""
    from app.services import users

    users.create_and_enrol(admin, PASSPHRASES["admin"], username, display, role, passphrase)


def make_workstation(
    data_dir: Path, name: str = "Test workstation", system_high: str = "SECRET//NOFORN"
) -> Workstation:
    from app.model.accounts import Role
    from app.services import workstation

    result = workstation.initialize(
        data_dir, workstation_name=name, system_high=system_high, admin_username="admin",
        admin_display_name="Ada Admin", admin_passphrase=PASSPHRASES["admin"], clock=lambda: FIXED_NOW,
    )
    admin = result.session
    for username, display, role in [
        ("reviewer", "Rita Reviewer", Role.REVIEWER),
        ("reviewer2", "Rob Reviewer", Role.REVIEWER),
        ("lead", "Lee Lead", Role.LEAD),
        ("auditor", "Aud Auditor", Role.AUDITOR),
    ]:
        add_person(admin, data_dir, username, display, role, PASSPHRASES[username])
    admin.close()
    return Workstation(data_dir, result.recovery_key)


# -- template workstations ---------------------------------------------------------------------------
# Setting a workstation up (CA, five accounts, key header rewrites, ~22 fsyncs) costs 0.6-0.85 s; most
# tests only need one in its initial state. Each template is built once per test process and each test
# gets a private copy of its folder plus the keyring secret it needs (keyed by the database id).


@dataclass(frozen=True)
class WorkstationTemplate:
    data_dir: Path
    recovery_key: str
    keyring_store: dict[tuple[str, str], str]

    def copy_to(self, dest: Path, backend: MemoryKeyring) -> Workstation:
        shutil.copytree(self.data_dir, dest, symlinks=True)  # copy2 keeps the 0600/0700 modes
        backend.store.update(self.keyring_store)
        return Workstation(dest, self.recovery_key)


def build_template(root: Path, name: str = "Test workstation",
                   backend: keyring.backend.KeyringBackend | None = None) -> WorkstationTemplate:
    """make_workstation under the same conditions as a test (memory keyring, fast KDF), kept aside.
    `backend`: another keyring for the set-up, e.g. keyring.backends.fail.Keyring() for a
    passphrase-only workstation (what a subprocess, which cannot see the memory keyring, opens)."""
    import storage.keys

    backend, previous = backend or MemoryKeyring(), keyring.get_keyring()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(storage.keys, "DEFAULT_ITERATIONS", 1000)
        mp.setenv("FRW_STATE_DIR", str(root / "state"))  # never the real user's state folder
        keyring.set_keyring(backend)
        try:
            ws = make_workstation(root / "ws", name=name)
        finally:
            keyring.set_keyring(previous)
    store = dict(backend.store) if isinstance(backend, MemoryKeyring) else {}
    return WorkstationTemplate(ws.data_dir, ws.recovery_key, store)


@contextlib.contextmanager
def fixture_conditions(root: Path) -> Iterator[MemoryKeyring]:
    """For a module-scoped fixture, what the function-scoped autouse fixtures give a test: the fast
    KDF, a state folder of its own under `root` and an in-memory keyring (yielded), put back after."""
    import storage.keys

    backend, previous = MemoryKeyring(), keyring.get_keyring()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(storage.keys, "DEFAULT_ITERATIONS", 1000)
        mp.setenv("FRW_STATE_DIR", str(root / "state"))
        keyring.set_keyring(backend)
        try:
            yield backend
        finally:
            keyring.set_keyring(previous)


def derive_template[T](root: Path, base: WorkstationTemplate,
                       prepare: Callable[[Workstation], T]) -> tuple[WorkstationTemplate, T]:
    """A copy of `base` set up further by `prepare` (under a test's conditions: memory keyring, fast
    KDF, a state folder of its own), its sessions closed, kept aside as a template; with what
    `prepare` returned. For a module whose tests all start from the same prepared state."""
    with fixture_conditions(root) as backend:
        ws = base.copy_to(root / "ws", backend)
        try:
            value = prepare(ws)
        finally:
            for s in ws.sessions:
                s.close()
    return WorkstationTemplate(ws.data_dir, ws.recovery_key, dict(backend.store)), value


def restore_template(ws: Workstation, template: WorkstationTemplate, backend: MemoryKeyring) -> None:
    """Replace a test's fresh workstation (no session opened yet) by a copy of `template`."""
    assert not ws.sessions, "a workstation is replaced before anyone signs in"
    shutil.rmtree(ws.data_dir)
    template.copy_to(ws.data_dir, backend)


@pytest.fixture(scope="session")
def workstation_template(tmp_path_factory: pytest.TempPathFactory) -> WorkstationTemplate:
    return build_template(tmp_path_factory.mktemp("template-ws"))


@pytest.fixture(scope="session")
def second_workstation_template(tmp_path_factory: pytest.TempPathFactory) -> WorkstationTemplate:
    return build_template(tmp_path_factory.mktemp("template-ws2"), name="Receiving workstation")


@pytest.fixture
def workstation(tmp_path: Path, workstation_template: WorkstationTemplate,
                memory_keyring: MemoryKeyring) -> Iterator[Workstation]:
    ws = workstation_template.copy_to(tmp_path / "ws", memory_keyring)
    yield ws
    for s in ws.sessions:
        s.close()


@pytest.fixture
def second_workstation(tmp_path: Path, second_workstation_template: WorkstationTemplate,
                       memory_keyring: MemoryKeyring) -> Iterator[Workstation]:
    ws = second_workstation_template.copy_to(tmp_path / "ws2", memory_keyring)
    yield ws
    for s in ws.sessions:
        s.close()
