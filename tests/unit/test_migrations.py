import shutil
from pathlib import Path

import pytest

from app.model.errors import StorageError
from storage import audit
from storage.db import Database, latest_version

FIXTURE = Path(__file__).parents[1] / "fixtures" / "db_v1" / "workstation.db"
TEST_KEY = bytes.fromhex("00112233445566778899aabbccddeeff" * 2)


def test_upgrade_from_first_schema_keeps_data(tmp_path):
    path = tmp_path / "workstation.db"
    shutil.copy(FIXTURE, path)
    db = Database.open(path, TEST_KEY)
    try:
        assert db.version == latest_version()
        row = db.query_one("SELECT developer, model_name, notes FROM submissions WHERE id = 1")
        assert tuple(row) == ("Acme AI", "Falcon", "v1 notes")
        assert audit.verify(db.conn).ok
        assert db.integrity_check() == []
    finally:
        db.close()


def test_database_from_newer_version_is_refused(tmp_path):
    path = tmp_path / "workstation.db"
    shutil.copy(FIXTURE, path)
    db = Database.open(path, TEST_KEY)
    db.conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    db.close()
    with pytest.raises(StorageError, match="newer version"):
        Database.open(path, TEST_KEY)


def test_wrong_key_does_not_modify_the_file(tmp_path):
    path = tmp_path / "workstation.db"
    shutil.copy(FIXTURE, path)
    before = path.read_bytes()
    with pytest.raises(StorageError, match="cannot be decrypted"):
        Database.open(path, b"\x01" * 32)
    assert path.read_bytes() == before


def test_plain_sqlite_cannot_read_the_file():
    import sqlite3

    conn = sqlite3.connect(FIXTURE)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.close()
    assert b"Acme AI" not in FIXTURE.read_bytes()


def test_migration_numbers_are_increasing_and_unique():
    from storage.db import migrations

    # Gaps are allowed (numbers are reserved per feature); order and uniqueness are not optional.
    numbers = [v for v, _, _ in migrations()]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1, numbers


def test_each_schema_update_is_announced_before_it_runs(tmp_path):
    """A sign-in that updates the schema says what it is doing (0042's indexes took 5.5 s once on a
    1,000,000-sample workstation, in silence): one call per pending migration, in order, each before
    its transaction, with the migration's title."""
    from storage.db import migration_title, migrations

    path = tmp_path / "workstation.db"
    shutil.copy(FIXTURE, path)
    heard: list[tuple[int, int, str, int]] = []
    probe = Database.open(path, TEST_KEY, migrate_to=1)
    probe.close()

    def step(done: int, total: int, text: str) -> None:
        heard.append((done, total, text, db_version()))

    def db_version() -> int:  # what the file says while the step is announced: the update has not run yet
        import sqlcipher3

        from storage.db import apply_key

        c = sqlcipher3.connect(str(path))
        try:
            apply_key(c, TEST_KEY, probe.page_size)
            return int(c.execute("PRAGMA user_version").fetchone()[0])
        finally:
            c.close()

    db = Database.open(path, TEST_KEY, on_migration=step)
    db.close()
    pending = [(v, name) for v, name, _ in migrations() if v > 1]
    assert [(d, t) for d, t, _, _ in heard] == [(i, len(pending)) for i in range(len(pending))]
    assert [v for _, _, _, v in heard] == [1] + [v for v, _ in pending[:-1]]
    last = heard[-1][2]
    assert last == (f"Updating the database to schema {latest_version()} of {latest_version()}: "
                    f"{migration_title(pending[-1][1])} (once)")
    assert migration_title("0042_sample_sort_indexes.sql") == "sample sort indexes"
    assert all(f"schema {v} of" in text for (v, _), (_, _, text, _) in zip(pending, heard, strict=True))

    heard.clear()
    Database.open(path, TEST_KEY, on_migration=step).close()  # up to date: nothing to announce
    new = tmp_path / "new.db"
    Database.open(new, TEST_KEY, create=True, on_migration=step).close()  # a new database is no update
    assert heard == []
