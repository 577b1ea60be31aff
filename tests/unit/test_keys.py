import json

import pytest

from app.model.errors import AuthError, StorageError
from storage.keys import KEYRING_MODE, PASSPHRASE_MODE, KeyHeader, new_data_key, parse_recovery_key


def test_passphrase_slot_round_trip_and_wrong_passphrase(tmp_path):
    header = KeyHeader.new(PASSPHRASE_MODE, "2026-11-01")
    key = new_data_key()
    header.set_passphrase_slot("rita", "correct horse battery", key, None, iterations=1000)
    assert header.unwrap_passphrase("rita", "correct horse battery", None) == key
    with pytest.raises(AuthError):
        header.unwrap_passphrase("rita", "wrong horse battery", None)
    with pytest.raises(AuthError):
        header.unwrap_passphrase("nobody", "correct horse battery", None)


def test_slot_is_bound_to_database_id_and_slot_name():
    header = KeyHeader.new(PASSPHRASE_MODE, "2026-11-01")
    key = new_data_key()
    header.set_passphrase_slot("rita", "pass phrase one", key, None, iterations=1000)
    other = KeyHeader.new(PASSPHRASE_MODE, "2026-11-01")
    other.slots["rita"] = header.slots["rita"]  # copied slot, different database id
    with pytest.raises(AuthError):
        other.unwrap_passphrase("rita", "pass phrase one", None)
    header.slots["bob"] = header.slots["rita"]  # slot renamed
    with pytest.raises(AuthError):
        header.unwrap_passphrase("bob", "pass phrase one", None)


def test_keyring_secret_is_mixed_in():
    header = KeyHeader.new(KEYRING_MODE, "2026-11-01")
    key = new_data_key()
    header.set_passphrase_slot("rita", "pass phrase one", key, b"s" * 32, iterations=1000)
    assert header.unwrap_passphrase("rita", "pass phrase one", b"s" * 32) == key
    with pytest.raises(AuthError):
        header.unwrap_passphrase("rita", "pass phrase one", b"t" * 32)
    with pytest.raises(StorageError):
        header.unwrap_passphrase("rita", "pass phrase one", None)


def test_recovery_key_round_trip_and_format():
    header = KeyHeader.new(KEYRING_MODE, "2026-11-01")
    key = new_data_key()
    text = header.set_recovery_slot(key)
    groups = text.split("-")
    assert len(groups) == 13 and all(len(g) == 4 for g in groups)
    assert header.unwrap_recovery(text.lower().replace("-", " ")) == key
    with pytest.raises(AuthError):
        header.unwrap_recovery("AAAA-" * 12 + "AAAA")
    with pytest.raises(AuthError):
        parse_recovery_key("short")


def test_parameters_are_stored_so_they_can_be_raised(tmp_path):
    header = KeyHeader.new(PASSPHRASE_MODE, "2026-11-01")
    header.set_passphrase_slot("rita", "pass phrase one", new_data_key(), None, iterations=1234)
    path = tmp_path / "h.json"
    header.save(path)
    data = json.loads(path.read_text())
    assert data["slots"]["rita"]["iterations"] == 1234
    assert data["slots"]["rita"]["kdf"] == "pbkdf2-hmac-sha512"
    assert KeyHeader.load(path).slots["rita"].iterations == 1234
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_damaged_header_message_names_the_file(tmp_path):
    path = tmp_path / "workstation.keys.json"
    path.write_text('{"db_id": "x", "slots": ')
    with pytest.raises(StorageError, match="workstation.keys.json is damaged"):
        KeyHeader.load(path)
    with pytest.raises(StorageError, match="missing"):
        KeyHeader.load(tmp_path / "absent.json")


def test_production_minimum_is_600k():
    import storage.keys

    assert storage.keys.MIN_ITERATIONS >= 600_000
