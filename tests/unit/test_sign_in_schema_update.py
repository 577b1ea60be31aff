"""The first sign-in after an upgrade runs the new migrations, and says so: through
workstation.sign_in's progress (the GUI's "Signing in" window, tests/ui/test_sign_in.py) and on the
command line's stderr. Migration 0042's indexes took 5.5 s once on a 1,000,000-sample workstation."""

from __future__ import annotations

import io

from app import cli
from app.services import workstation as ws_service
from storage.db import latest_version
from tests.conftest import as_schema_41

INDEXES_0042 = ("eval_samples_run_time", "eval_samples_run_tokens", "eval_samples_run_natural_id")


def _indexes(session) -> set[str]:  # type: ignore[no-untyped-def]
    return {r[0] for r in session.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_sign_in_reports_each_update_and_runs_it(workstation) -> None:  # type: ignore[no-untyped-def]
    as_schema_41(workstation)
    heard: list[tuple[int, int, str]] = []
    session = ws_service.sign_in(workstation.data_dir, "reviewer", workstation.passphrase("reviewer"),
                                 progress=lambda d, t, text: heard.append((d, t, text)))
    try:
        assert set(INDEXES_0042) <= _indexes(session) and session.db.version == latest_version()
    finally:
        session.close()
    assert heard[0] == (0, latest_version() - 41,
                        f"Updating the database to schema 42 of {latest_version()}: sample sort indexes (once)")
    heard.clear()
    ws_service.sign_in(workstation.data_dir, "reviewer", workstation.passphrase("reviewer"),
                       progress=lambda d, t, text: heard.append((d, t, text))).close()
    assert heard == []  # updated once


def test_the_command_line_says_so_on_stderr(workstation, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    as_schema_41(workstation)
    monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase("reviewer") + "\n"))
    code = cli.main(["--data-dir", str(workstation.data_dir), "--user", "reviewer", "submission", "list"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert f"Updating the database to schema 42 of {latest_version()}: sample sort indexes (once)…" in out.err
    assert "Updating" not in out.out  # stdout keeps the command's own output
