"""vulns_repo reads records, history and exchange state by column name: a renamed or missing column
fails loudly instead of shifting values into the wrong fields (issue 18 point 3)."""

from __future__ import annotations

import pytest

from app.model.vulnerabilities import DiscoveryContext, ExchangeState, HistoryEntry, Tlp, Vulnerability
from app.services import vulnerabilities as vs
from storage import vulns_repo
from storage.rows import fetch_all


@pytest.fixture
def stored(workstation):  # type: ignore[no-untyped-def]
    session = workstation.session("reviewer")
    v = vs.create(session, Vulnerability(title="Prompt leak", vendor="Acme", tlp=Tlp.GREEN,
                                         context=DiscoveryContext(run_id="r1")))
    return session.db.conn, v


def test_records_history_and_exchange_state_map_by_name(stored) -> None:  # type: ignore[no-untyped-def]
    conn, v = stored
    got = vulns_repo.get(conn, v.id)
    assert got == v and got.context == DiscoveryContext(run_id="r1") and got.vendor == "Acme"
    assert [type(h) for h in vulns_repo.history(conn, v.id)] == [HistoryEntry]
    assert isinstance(vulns_repo.exchange_state(conn, v.id), ExchangeState)


def test_a_renamed_or_missing_column_fails_loudly(stored) -> None:  # type: ignore[no-untyped-def]
    conn, v = stored
    renamed = vulns_repo._COLS.replace("vendor,", "vendor AS maker,")
    with pytest.raises(TypeError, match="no column for field.*vendor"):
        vulns_repo._one(conn, f"SELECT {renamed} FROM vulnerabilities WHERE id = ?", (v.id,))
    missing = vulns_repo._COLS.replace(" run_id,", "")
    with pytest.raises(TypeError, match="no column for field.*run_id"):
        vulns_repo._all(conn, f"SELECT {missing} FROM vulnerabilities", ())
    with pytest.raises(TypeError, match="no field for column.*exchange_version"):
        fetch_all(conn, ExchangeState, "SELECT exchange_baseline AS baseline, exchange_version, "
                  "exchange_history AS history, tracking_id, tracking_key FROM vulnerabilities")
