"""identity_repo reads personal keys, the CA key's wraps, enrolments and certificate requests by column
name: a renamed or missing column fails loudly instead of handing a nonce over as the wrapped key or a
salt as a fingerprint (issue 18 point 3)."""

from __future__ import annotations

import pytest

from storage import identity_repo
from storage.identity_repo import Wrapped


@pytest.fixture
def conn(workstation):  # type: ignore[no-untyped-def]
    # A connection of its own: these tests write rows straight through the repository, and a
    # session's connections refuse writes outside Session.transaction.
    db = workstation.session("admin").runtime.writer.another()
    conn = db.conn
    identity_repo.set_enrolment(conn, "newcomer", Wrapped("s4lt", b"n" * 12, b"w" * 48), "2026-01-01", "admin")
    identity_repo.add_request(conn, "lead", "ab" * 32, b"\x30csr", "proof", "2026-01-02")
    yield conn
    db.close()


def test_keys_wraps_enrolments_and_requests_map_by_name(conn) -> None:  # type: ignore[no-untyped-def]
    key = identity_repo.active_personal_key(conn, "reviewer")
    assert key is not None and key.username == "reviewer" and key.retired_at is None and key.id > 0
    assert key.public_der[:1] == b"\x30" and len(key.nonce) == 12 and len(key.wrapped) > len(key.nonce)
    assert isinstance(key.wrap_salt, str) and len(key.fingerprint) == 64
    assert identity_repo.personal_key_by_fingerprint(conn, key.fingerprint) == key
    assert key in identity_repo.all_personal_keys(conn)
    wrap = identity_repo.ca_wrap(conn, "admin")
    assert wrap is not None and isinstance(wrap.salt, str) and len(wrap.nonce) == 12 and len(wrap.wrapped) > 12
    assert identity_repo.ca_wrap(conn, "reviewer") is None
    assert identity_repo.enrolment(conn, "newcomer") == Wrapped("s4lt", b"n" * 12, b"w" * 48)
    [request] = [r for r in identity_repo.pending_requests(conn) if r.username == "lead"]
    assert (request.key_fingerprint, request.csr_der, request.proof, request.requested_at) == \
        ("ab" * 32, b"\x30csr", "proof", "2026-01-02")
    assert request.issued_at is None and request.certificate_fingerprint is None
    assert request in identity_repo.requests_for(conn, "lead")


@pytest.mark.parametrize(("constant", "column", "reader"), [
    ("_PK", "fingerprint", lambda c: identity_repo.all_personal_keys(c)),
    ("_CR", "key_fingerprint", lambda c: identity_repo.requests_for(c, "lead")),
    ("_WRAP_COLS", "nonce", lambda c: identity_repo.ca_wrap(c, "admin")),
    ("_WRAP_COLS", "wrapped", lambda c: identity_repo.enrolment(c, "newcomer")),
])
def test_a_renamed_or_missing_column_fails_loudly(conn, monkeypatch, constant, column, reader) -> None:  # type: ignore[no-untyped-def]
    cols = getattr(identity_repo, constant)
    monkeypatch.setattr(identity_repo, constant, cols.replace(column, f"{column} AS other", 1))
    with pytest.raises(TypeError, match="no field for column.*other"):
        reader(conn)
    monkeypatch.setattr(identity_repo, constant, ", ".join(c for c in cols.split(", ") if c != column))
    with pytest.raises(TypeError, match=column):
        reader(conn)
