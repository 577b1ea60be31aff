"""The page size end to end: new workstations, workstations from before the field, backup and restore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import storage.keys
from app.model.errors import StorageError
from app.services import backup, submissions
from app.services import workstation as ws_service
from storage import backup as store
from storage.db import LEGACY_PAGE_SIZE
from storage.keys import NEW_PAGE_SIZE, KeyHeader
from tests.conftest import FIXED_NOW, PASSPHRASES
from tests.reliability.conftest import ca_fingerprint
from tests.reliability.helpers import add_submission

ADMIN = PASSPHRASES["admin"]


def _page_size(session) -> int:  # type: ignore[no-untyped-def]
    return int(session.db.conn.execute("PRAGMA page_size").fetchone()[0])


def _init(data_dir: Path):  # type: ignore[no-untyped-def]
    return ws_service.initialize(data_dir, workstation_name="Pages", system_high="SECRET", admin_username="admin",
                                 admin_display_name="Ada Admin", admin_passphrase=ADMIN, use_keyring=False,
                                 clock=lambda: FIXED_NOW)


def test_a_new_workstation_uses_the_new_page_size(workstation):
    header = json.loads(ws_service.header_path(workstation.data_dir).read_bytes())
    assert header["page_size"] == NEW_PAGE_SIZE
    s = workstation.session("reviewer")
    assert s.db.page_size == NEW_PAGE_SIZE == _page_size(s)
    assert ws_service.db_path(workstation.data_dir).stat().st_size % NEW_PAGE_SIZE == 0


def test_a_workstation_created_the_old_way_opens_at_4096(tmp_path, monkeypatch):
    with monkeypatch.context() as mp:
        mp.setattr(storage.keys, "NEW_PAGE_SIZE", LEGACY_PAGE_SIZE)  # what setup did before the field
        _init(tmp_path / "old").session.close()
    header_file = ws_service.header_path(tmp_path / "old")
    assert "page_size" not in json.loads(header_file.read_bytes())  # the old header's shape
    s = ws_service.sign_in(tmp_path / "old", "admin", ADMIN, clock=lambda: FIXED_NOW)
    try:
        assert s.db.page_size == LEGACY_PAGE_SIZE == _page_size(s)
        ws_service.update_settings(s, {"backup_reminder_days": 9})  # a write, as before
        assert s.db.integrity_check() == []
    finally:
        s.close()
    assert "page_size" not in json.loads(header_file.read_bytes())  # header rewrites keep it so


def test_backup_of_a_new_workstation_restores_and_opens(workstation, tmp_path):
    reviewer = workstation.session("reviewer")
    sub = add_submission(reviewer)
    admin = workstation.session("admin")
    dest = tmp_path / "media"
    dest.mkdir()
    result = backup.create(admin, dest, ADMIN, media_label="SECRET//NOFORN")
    assert result.verified, result.problems
    assert KeyHeader.parse((result.folder / store.HEADER_FILE).read_bytes(), "h").page_size == NEW_PAGE_SIZE
    assert (result.folder / store.DB_FILE).stat().st_size % NEW_PAGE_SIZE == 0
    target = tmp_path / "restored"
    backup.restore(result.folder, target, admin_username="admin", passphrase=ADMIN, known_cas=[ca_fingerprint(admin)])
    s = ws_service.sign_in(target, "reviewer", PASSPHRASES["reviewer"], clock=lambda: FIXED_NOW)
    try:
        assert _page_size(s) == NEW_PAGE_SIZE
        assert submissions.get(s, sub.id).model_name == sub.model_name
        assert s.db.integrity_check() == []
    finally:
        s.close()


@pytest.mark.parametrize("page_size", [LEGACY_PAGE_SIZE, 65536])
def test_backup_keeps_the_page_size_through_restore(tmp_path, monkeypatch, page_size):
    with monkeypatch.context() as mp:
        mp.setattr(storage.keys, "NEW_PAGE_SIZE", page_size)
        admin = _init(tmp_path / "ws").session
    dest = tmp_path / "media"
    dest.mkdir()
    try:
        result = backup.create(admin, dest, ADMIN, media_label="SECRET")
        assert result.verified, result.problems
        fp = ca_fingerprint(admin)
    finally:
        admin.close()
    recorded = json.loads((result.folder / store.HEADER_FILE).read_bytes()).get("page_size")
    assert recorded == (None if page_size == LEGACY_PAGE_SIZE else page_size)  # 4096: the old header's shape
    backup.restore(result.folder, tmp_path / "restored", admin_username="admin", passphrase=ADMIN, known_cas=[fp])
    s = ws_service.sign_in(tmp_path / "restored", "admin", ADMIN, clock=lambda: FIXED_NOW)
    try:
        assert _page_size(s) == page_size
        assert s.db.integrity_check() == []
    finally:
        s.close()


def test_a_header_with_the_wrong_page_size_is_refused_clearly(workstation):
    path = ws_service.header_path(workstation.data_dir)
    data = json.loads(path.read_bytes())
    data["page_size"] = 16384
    path.write_text(json.dumps(data))
    dbp = ws_service.db_path(workstation.data_dir)
    before = dbp.read_bytes()
    with pytest.raises(StorageError, match=f"has pages of {NEW_PAGE_SIZE} bytes, but its key header records 16384"):
        workstation.session("admin")
    assert dbp.read_bytes() == before
