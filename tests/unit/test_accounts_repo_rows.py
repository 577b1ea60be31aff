"""storage/accounts.py reads accounts by column name: a renamed or missing column fails loudly instead
of shifting a role or the disabled flag into the wrong field (issue 18 point 3). Account has no field
defaults, so a dropped column cannot quietly read every account as enabled."""

from __future__ import annotations

import pytest

from app.model.accounts import Account, Role
from storage import accounts


@pytest.fixture
def conn(workstation):  # type: ignore[no-untyped-def]
    # A connection of its own: these tests write rows straight through the repository, and a
    # session's connections refuse writes outside Session.transaction.
    db = workstation.session("admin").runtime.writer.another()
    yield db.conn
    db.close()


def test_accounts_map_by_name(conn) -> None:  # type: ignore[no-untyped-def]
    accounts.set_disabled(conn, "auditor", True)
    got = accounts.get(conn, "auditor")
    assert got == Account(got.id, "auditor", "Aud Auditor", Role.AUDITOR, True, got.created_at)
    assert got.id > 0 and got.created_at.startswith("20") and type(got.disabled) is bool
    listed = accounts.list_all(conn)
    assert [a.username for a in listed] == sorted(a.username for a in listed) and got in listed
    assert accounts.get(conn, "lead").role is Role.LEAD and not accounts.get(conn, "lead").disabled


@pytest.mark.parametrize("reader", [lambda c: accounts.get(c, "lead"), accounts.list_all])
def test_a_renamed_or_missing_column_fails_loudly(conn, monkeypatch, reader) -> None:  # type: ignore[no-untyped-def]
    cols = accounts._COLS
    monkeypatch.setattr(accounts, "_COLS", cols.replace("display_name", "display_name AS full_name"))
    with pytest.raises(TypeError, match="no field for column.*full_name"):
        reader(conn)
    monkeypatch.setattr(accounts, "_COLS", cols.replace(" disabled,", ""))
    with pytest.raises(TypeError, match="disabled"):
        reader(conn)
