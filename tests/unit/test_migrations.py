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
