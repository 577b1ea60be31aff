"""Regression tests for the smaller defects of issue 11 point 7, each tried as an insider would."""

from __future__ import annotations

import stat
from pathlib import Path

import keyring
import keyring.backend
import pytest
from keyring.backends.chainer import ChainerBackend

from app.model.errors import StorageError
from app.services import backup
from app.services import workstation as ws_service
from storage import keyring_secret
from tests.conftest import PASSPHRASES, MemoryKeyring


class PlaintextFileKeyring(keyring.backend.KeyringBackend):
    """Stands in for keyrings.alt's file backends (a plaintext or weakly encrypted file)."""

    priority = 0.5  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        pass

    def delete_password(self, service: str, username: str) -> None:
        pass


PlaintextFileKeyring.__module__ = "keyrings.alt.file"


class FixedChainer(ChainerBackend):
    """keyring's own ChainerBackend over a chosen list (the real one lists installed backends)."""

    def __init__(self, chained: list[keyring.backend.KeyringBackend]) -> None:
        super().__init__()
        self._chained = chained

    @property
    def backends(self) -> list[keyring.backend.KeyringBackend]:  # type: ignore[override]
        return self._chained


def test_keyrings_alt_reached_through_the_chainer_is_refused(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    try:
        keyring.set_keyring(FixedChainer([MemoryKeyring()]))
        assert keyring_secret.status().trusted  # a chain of trusted stores only is fine
        keyring.set_keyring(FixedChainer([MemoryKeyring(), PlaintextFileKeyring()]))
        status = keyring_secret.status()
        assert not status.trusted
        assert "keyrings.alt.file.PlaintextFileKeyring" in status.reason and "ChainerBackend" in status.reason
        with pytest.raises(StorageError, match="keyrings.alt"):
            ws_service.initialize(tmp_path / "ws", workstation_name="W", system_high="SECRET",
                                  admin_username="admin", admin_display_name="A",
                                  admin_passphrase=PASSPHRASES["admin"], use_keyring=True)
        keyring.set_keyring(FixedChainer([]))
        assert not keyring_secret.status().trusted
        keyring.set_keyring(PlaintextFileKeyring())
        assert not keyring_secret.status().trusted
    finally:
        keyring.set_keyring(previous)


def test_init_refused_for_the_keyring_leaves_no_data_directory(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    try:
        keyring.set_keyring(PlaintextFileKeyring())
        target = tmp_path / "new" / "workstation"
        with pytest.raises(StorageError, match="No secure OS keyring"):
            ws_service.initialize(target, workstation_name="W", system_high="SECRET", admin_username="admin",
                                  admin_display_name="A", admin_passphrase=PASSPHRASES["admin"], use_keyring=True)
        assert not target.exists()
    finally:
        keyring.set_keyring(previous)


def test_init_whose_keyring_write_fails_leaves_no_data_directory(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(db_id: str) -> bytes:
        raise StorageError("The OS keyring refused to store the workstation secret: locked")

    monkeypatch.setattr(keyring_secret, "create", refuse)
    target = tmp_path / "ws"
    with pytest.raises(StorageError, match="refused to store"):
        ws_service.initialize(target, workstation_name="W", system_high="SECRET", admin_username="admin",
                              admin_display_name="A", admin_passphrase=PASSPHRASES["admin"], use_keyring=True)
    assert not target.exists()


def test_backup_files_are_written_0600(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dest = tmp_path / "media"
    dest.mkdir()
    result = backup.create(workstation.session("admin"), dest, PASSPHRASES["admin"])
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in result.folder.iterdir()}
    assert modes and all(mode == 0o600 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}
