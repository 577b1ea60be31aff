"""Hostile input for the files the storage layer reads: the key header and backup folders."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.model.errors import FrontierError
from app.services import backup
from storage import backup as store
from storage.keys import PASSPHRASE_MODE, KeyHeader
from tests.conftest import PASSPHRASES, WorkstationTemplate, fixture_conditions
from tests.reliability.hostile import HOSTILE, json_mutated, mutated, refuses_cleanly

PASS = "a-good-long-passphrase-1"


def _header() -> tuple[KeyHeader, bytes]:
    header = KeyHeader.new(PASSPHRASE_MODE, "2026-11-20T00:00:00+00:00")
    key = bytes(range(32))
    header.set_passphrase_slot("admin", PASS, key, None, iterations=1000)
    header.set_recovery_slot(key)
    header.audit_head = {"seq": 3, "hash": "ab" * 32}
    return header, key


BASE_HEADER, DATA_KEY = _header()
BASE_HEADER_BYTES = BASE_HEADER.to_json()


def _backup_header_and_unwrap(data: bytes) -> None:
    """A backup's key header (storage.backup.parse_header) is what restore unwraps."""

    def attempt() -> None:
        header = store.parse_header(data, "backup/workstation.keys.json")
        try:
            key = header.unwrap_passphrase("admin", PASS, None)
        except FrontierError:
            return
        assert key == DATA_KEY, "a damaged slot unwrapped to a different key"

    refuses_cleanly(attempt, "workstation.keys.json")



def _load_and_unwrap(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "workstation.keys.json"
        path.write_bytes(data)

        def attempt() -> None:
            header = KeyHeader.load(path)
            try:
                key = header.unwrap_passphrase("admin", PASS, None)
            except FrontierError:
                return
            assert key == DATA_KEY, "a damaged slot unwrapped to a different key"

        refuses_cleanly(attempt, "workstation.keys.json")


@HOSTILE
@given(mutated(BASE_HEADER_BYTES))
def test_key_header_bytes(data: bytes) -> None:
    _load_and_unwrap(data)


@HOSTILE
@given(json_mutated(json.loads(BASE_HEADER_BYTES)))
def test_key_header_structure(data: bytes) -> None:
    _load_and_unwrap(data)


@HOSTILE
@given(st.one_of(json_mutated(json.loads(BASE_HEADER_BYTES)), mutated(BASE_HEADER_BYTES), st.binary(max_size=512)))
def test_backup_key_header(data: bytes) -> None:
    _backup_header_and_unwrap(data)


@HOSTILE
@given(st.binary(max_size=2048))
def test_key_header_random_bytes(data: bytes) -> None:
    _load_and_unwrap(data)


# -- backups: the attacker controls every byte and can re-hash the manifest, not re-sign it -------


@pytest.fixture(scope="module")
def real_backup(tmp_path_factory: pytest.TempPathFactory, workstation_template: WorkstationTemplate) -> Path:
    """A backup of a copy of the session's template workstation (not one set up again: ~0.7 s)."""
    root = tmp_path_factory.mktemp("hostile-backup")
    with fixture_conditions(root) as backend:
        ws = workstation_template.copy_to(root / "ws", backend)
        admin = ws.session("admin")
        (root / "media").mkdir()
        folder = backup.create(admin, root / "media", PASSPHRASES["admin"], media_label="SECRET//NOFORN").folder
        admin.close()
    return folder


def _inspect_copy(src: Path, name: str, content: bytes, rehash: bool) -> backup.VerifyReport:
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / src.name
        shutil.copytree(src, copy)
        (copy / name).write_bytes(content)
        if rehash and name in store.CONTENT_FILES:
            (copy / store.MANIFEST_FILE).write_bytes(store.manifest_bytes(copy))
        meta = json.loads((src / store.META_FILE).read_bytes())
        report = backup.inspect(copy, [meta["ca_fingerprint"]])  # must never raise
        if not report.ok:
            assert str(copy) in report.problems[0], report.problems
        else:
            assert (copy / name).read_bytes() == (src / name).read_bytes() or name == store.SIGNATURE_FILE
        return report


@HOSTILE
@given(data=st.data(), name=st.sampled_from([store.MANIFEST_FILE, store.SIGNATURE_FILE, store.CA_FILE]))
def test_backup_signed_files_mutated(real_backup: Path, data: st.DataObject, name: str) -> None:
    content = data.draw(mutated((real_backup / name).read_bytes()))
    report = _inspect_copy(real_backup, name, content, rehash=False)
    if content != (real_backup / name).read_bytes():
        assert not report.ok


@HOSTILE
@given(data=st.data(), name=st.sampled_from([store.META_FILE, store.HEADER_FILE]))
def test_backup_json_files_mutated_and_rehashed(real_backup: Path, data: st.DataObject, name: str) -> None:
    base = json.loads((real_backup / name).read_bytes())
    content = data.draw(st.one_of(json_mutated(base), mutated((real_backup / name).read_bytes())))
    report = _inspect_copy(real_backup, name, content, rehash=True)
    if content != (real_backup / name).read_bytes():
        assert not report.ok  # the signature over the re-hashed manifest no longer matches


@HOSTILE
@given(st.binary(max_size=4096))
def test_backup_manifest_parser_random(data: bytes) -> None:
    refuses_cleanly(lambda: store.parse_manifest(data, "x/SHA256SUMS"), "SHA256SUMS")
