"""SQLCipher page size: given before the first read, recorded in the key header (4096 when absent)."""

import json
import shutil
from pathlib import Path

import pytest

from app.model.errors import StorageError
from storage.db import LEGACY_PAGE_SIZE, Database
from storage.keys import NEW_PAGE_SIZE, PASSPHRASE_MODE, KeyHeader

KEY = bytes(range(32))
FIXTURE_V1 = Path(__file__).parents[1] / "fixtures" / "db_v1" / "workstation.db"


def _files(folder: Path) -> dict[str, bytes]:
    """The database and its WAL (the -shm index changes with every reader's read mark)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.endswith("-shm")}


def _page_size(db: Database) -> int:
    return int(db.conn.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_database_has_the_page_size_it_was_created_with(tmp_path):
    db = Database.open(tmp_path / "w.db", KEY, create=True, page_size=65536)
    assert _page_size(db) == 65536
    other = db.another()  # a worker's connection carries it
    assert other.page_size == 65536 == _page_size(other)
    other.close()
    db.close()
    again = Database.open(tmp_path / "w.db", KEY, page_size=65536)
    assert again.integrity_check() == []
    again.close()
    assert (tmp_path / "w.db").stat().st_size % 65536 == 0


def test_a_database_made_before_the_field_opens_at_4096(tmp_path):
    path = tmp_path / "workstation.db"
    shutil.copy(FIXTURE_V1, path)  # written by the first schema's code, 4 KiB pages
    db = Database.open(path, KEY.fromhex("00112233445566778899aabbccddeeff" * 2))
    assert db.page_size == LEGACY_PAGE_SIZE == _page_size(db)
    db.close()


def test_wrong_page_size_is_a_clear_error_and_changes_nothing(tmp_path):
    db = Database.open(tmp_path / "w.db", KEY, create=True, page_size=65536)
    with db.transaction() as conn:  # left in the WAL: the refused opens must not replay or drop it
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.execute("INSERT INTO t VALUES ('kept')")
    before = _files(tmp_path)
    assert set(before) == {"w.db", "w.db-wal"}
    for wrong in (4096, 16384):
        with pytest.raises(StorageError, match="has pages of 65536 bytes, but its key header records") as info:
            Database.open(tmp_path / "w.db", KEY, page_size=wrong)
        assert "Nothing was modified" in str(info.value)
        assert _files(tmp_path) == before
    db.close()
    good = Database.open(tmp_path / "w.db", KEY, page_size=65536)
    assert good.query_one("SELECT x FROM t")[0] == "kept" and good.integrity_check() == []
    good.close()


def test_wrong_key_is_still_reported_as_undecryptable(tmp_path):
    Database.open(tmp_path / "w.db", KEY, create=True, page_size=65536).close()
    with pytest.raises(StorageError, match="cannot be decrypted"):
        Database.open(tmp_path / "w.db", b"\x01" * 32, page_size=65536)


def test_only_sqlcipher_page_sizes_are_accepted(tmp_path):
    with pytest.raises(StorageError, match="page size 1000"):
        Database.open(tmp_path / "w.db", KEY, create=True, page_size=1000)
    assert not (tmp_path / "w.db").exists()


def test_key_header_records_the_page_size_of_new_workstations(tmp_path):
    header = KeyHeader.new(PASSPHRASE_MODE, "2026-12-02")
    assert header.page_size == NEW_PAGE_SIZE != LEGACY_PAGE_SIZE
    header.save(tmp_path / "h.json")
    assert json.loads((tmp_path / "h.json").read_bytes())["page_size"] == NEW_PAGE_SIZE
    assert KeyHeader.load(tmp_path / "h.json").page_size == NEW_PAGE_SIZE


def test_a_header_without_the_field_means_4096_and_keeps_its_shape(tmp_path):
    header = KeyHeader.new(PASSPHRASE_MODE, "2026-12-02")
    data = json.loads(header.to_json())
    del data["page_size"]  # as every header written before the field existed
    old = json.dumps(data, indent=1, sort_keys=True).encode()
    parsed = KeyHeader.parse(old, "old header")
    assert parsed.page_size == LEGACY_PAGE_SIZE
    assert parsed.to_json() == old  # written back unchanged: an earlier version still reads it


@pytest.mark.parametrize("bad", [3000, 131072, "65536", True, None])
def test_a_damaged_page_size_fails_as_a_damaged_header(bad):
    data = json.loads(KeyHeader.new(PASSPHRASE_MODE, "2026-12-02").to_json())
    data["page_size"] = bad
    with pytest.raises(StorageError, match="damaged"):
        KeyHeader.parse(json.dumps(data).encode(), "header")
