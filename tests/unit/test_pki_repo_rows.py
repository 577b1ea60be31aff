"""pki_repo reads the CA, signing identities, trusted roots and revocations by column name: a renamed
or missing column fails loudly instead of shifting certificates and keys into the wrong fields
(issue 18 point 3)."""

from __future__ import annotations

import pytest

from app.model.trusted_root import StoredRoot
from storage import pki_repo


@pytest.fixture
def conn(workstation):  # type: ignore[no-untyped-def]
    # A connection of its own: these tests write rows straight through the repository, and a
    # session's connections refuse writes outside Session.transaction.
    db = workstation.session("admin").runtime.writer.another()
    yield db.conn
    db.close()


def test_ca_identities_roots_and_revocations_map_by_name(conn) -> None:  # type: ignore[no-untyped-def]
    ca = pki_repo.get_ca(conn)
    assert ca is not None and ca.subject.startswith("CN=") and len(ca.fingerprint) == 64
    assert isinstance(ca.cert_der, bytes) and ca.cert_der[:1] == b"\x30" and isinstance(ca.key_der, bytes)
    ident = pki_repo.active_identity(conn, "reviewer")
    assert ident is not None and ident.username == "reviewer" and ident.source == "workstation"
    assert ident.active is True and ident.legacy_key is False and ident.key_der is None
    assert ident.cert_der[:1] == b"\x30" and ident.created_by == "admin" and ident.not_after
    assert ident in pki_repo.identities(conn, "reviewer")
    assert {i.username for i in pki_repo.identities(conn)} >= {"admin", "reviewer", "lead"}
    [root] = pki_repo.roots(conn)
    assert isinstance(root, StoredRoot) and root.origin == "workstation" and root.fingerprint == ca.fingerprint
    assert root.removed_at is None and root.cert_der == ca.cert_der
    rev = pki_repo.Revocation(ident.fingerprint, "1f", "reviewer", "2026-01-01T00:00:00+00:00", "left", "admin")
    pki_repo.add_revocation(conn, rev)
    assert pki_repo.revocations(conn) == [rev]


@pytest.mark.parametrize(("constant", "reader"), [
    ("_ID_COLS", lambda c: pki_repo.identities(c)),
    ("_ROOT_COLS", lambda c: pki_repo.roots(c)),
    ("_CA_COLS", lambda c: pki_repo.get_ca(c)),
])
def test_a_renamed_or_missing_column_fails_loudly(conn, monkeypatch, constant, reader) -> None:  # type: ignore[no-untyped-def]
    cols = getattr(pki_repo, constant)
    monkeypatch.setattr(pki_repo, constant, cols.replace("fingerprint", "fingerprint AS thumbprint"))
    with pytest.raises(TypeError, match="no field for column.*thumbprint"):
        reader(conn)
    monkeypatch.setattr(pki_repo, constant, cols.replace("fingerprint, ", ""))
    with pytest.raises(TypeError, match="fingerprint"):
        reader(conn)


def test_a_missing_flag_column_is_not_defaulted(conn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """legacy_key once had a default: a query that drops it must fail, not read every key as current."""
    monkeypatch.setattr(pki_repo, "_ID_COLS", pki_repo._ID_COLS.replace(", legacy_key", ""))
    with pytest.raises(TypeError, match="legacy_key"):
        pki_repo.identities(conn)


def test_revocations_map_by_name(conn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pki_repo.add_revocation(conn, pki_repo.Revocation("ab" * 32, "1f", "reviewer", "2026-01-01", "left", "admin"))
    monkeypatch.setattr(pki_repo, "_REVOCATION_COLS", "serial, fingerprint, username, revoked_at, revoked_by, reason")
    assert pki_repo.revocations(conn)[0].fingerprint == "ab" * 32  # any column order
    monkeypatch.setattr(pki_repo, "_REVOCATION_COLS", "fingerprint, serial AS number, username, revoked_at, reason, "
                        "revoked_by")
    with pytest.raises(TypeError, match="no field for column.*number"):
        pki_repo.revocations(conn)
