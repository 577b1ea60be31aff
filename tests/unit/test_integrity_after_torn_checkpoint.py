"""A crash during a checkpoint leaves the database file with a torn last page that the WAL still
holds: the full integrity check looks at the database SQLite sees, not at the torn file alone.
(test_faults' SIGKILL during an artifact attach met this at random: "page N has an invalid size".)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlcipher3

from storage.db import Database

KEY = bytes(range(32))
PAGE = 32768


_CHILD = """
import os, sys
from pathlib import Path
from storage.db import Database
db = Database.open(Path(sys.argv[1]), bytes(range(32)), create=True, page_size=32768)
db.conn.execute("PRAGMA wal_autocheckpoint = 0")
db.conn.execute("CREATE TABLE t(x BLOB)")
for _ in range(8):
    db.conn.execute("INSERT INTO t VALUES (randomblob(20000))")
db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
os._exit(0)  # no close: the WAL stays, as after a SIGKILL
"""


def _crash_after_checkpoint(path: Path) -> None:
    """In a child process: commit rows into the WAL, copy them into the file (PASSIVE checkpoint,
    WAL kept), then end without closing, as a SIGKILL would leave it."""
    subprocess.run([sys.executable, "-c", _CHILD, str(path)], check=True, timeout=120,
                   cwd=Path(__file__).resolve().parents[2])


def test_a_torn_last_page_that_the_wal_holds_is_not_damage(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _crash_after_checkpoint(path)
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 0  # the committed frames are still in the WAL
    size = path.stat().st_size
    assert size % PAGE == 0 and size >= 2 * PAGE
    os.truncate(path, size - PAGE // 2)  # the checkpoint's last page write cut in half
    db = Database.open(path, KEY, page_size=PAGE)
    try:
        assert db.integrity_check() == []
        assert db.conn.execute("SELECT count(*) FROM t").fetchone()[0] == 8
    finally:
        db.close()
    assert path.stat().st_size % PAGE == 0  # the checkpoint rewrote the page whole


def test_a_damaged_page_in_the_file_is_still_reported(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _crash_after_checkpoint(path)
    db = Database.open(path, KEY, page_size=PAGE)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    db.close()
    with open(path, "r+b") as f:  # a byte of page 2's ciphertext changed: not in any WAL
        f.seek(PAGE + 100)
        b = f.read(1)
        f.seek(PAGE + 100)
        f.write(bytes([b[0] ^ 0xFF]))
    db = Database.open(path, KEY, page_size=PAGE, check=False)
    try:
        try:
            problems = db.integrity_check()
        except sqlcipher3.DatabaseError as exc:  # SQLite's own check stops at a page it cannot decrypt
            problems = [str(exc)]
        assert problems  # the checkpoint before the checks hides nothing
    finally:
        db.close()
