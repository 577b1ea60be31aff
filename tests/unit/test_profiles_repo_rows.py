"""profiles_repo reads imported report profiles by column name: a renamed or missing column fails
loudly instead of shifting the signature, signer or content into the wrong fields (issue 18 point 3)."""

from __future__ import annotations

import pytest

from app.model.report_profile import StoredProfile
from storage import profiles_repo


@pytest.fixture
def stored(workstation):  # type: ignore[no-untyped-def]
    # A connection of its own: these tests write rows straight through the repository, and a
    # session's connections refuse writes outside Session.transaction.
    db = workstation.session("admin").runtime.writer.another()
    conn = db.conn
    pk = profiles_repo.insert(conn, "agency-x", 2, "Agency X layout", "ab" * 32, b'{"format": 1}', b"\x30sig",
                              "CN=Authority", "admin", "2026-01-01T00:00:00+00:00")
    profiles_repo.set_active(conn, pk)
    yield conn, pk
    db.close()


def test_profiles_map_by_name(stored) -> None:  # type: ignore[no-untyped-def]
    conn, pk = stored
    want = StoredProfile(pk, "agency-x", 2, "Agency X layout", "ab" * 32, b'{"format": 1}', b"\x30sig",
                         "CN=Authority", "admin", "2026-01-01T00:00:00+00:00", True)
    assert profiles_repo.get(conn, pk) == want
    assert profiles_repo.find(conn, "agency-x", 2) == want and profiles_repo.active(conn) == want
    assert profiles_repo.all_profiles(conn) == [want]
    assert profiles_repo.find(conn, "agency-x", 3) is None


def test_a_renamed_or_missing_column_fails_loudly(stored, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conn, pk = stored
    cols = profiles_repo._COLS
    monkeypatch.setattr(profiles_repo, "_COLS", cols.replace("signer,", "signer AS authority,"))
    with pytest.raises(TypeError, match="no field for column.*authority"):
        profiles_repo.get(conn, pk)
    monkeypatch.setattr(profiles_repo, "_COLS", cols.replace(" signature,", ""))
    with pytest.raises(TypeError, match="signature"):
        profiles_repo.all_profiles(conn)
