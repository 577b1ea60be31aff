"""The wrong try that starts a lockout is itself reported as wrong (CLI sign-in, re-authentication),
not only as "locked"; a try refused because the lockout was already running says only that."""

from __future__ import annotations

import io
import sys

import pytest

from app import cli
from app.model.errors import AuthError, LockedOutError


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ws, passphrase: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "stdin", io.StringIO(passphrase + "\n"))
    code = cli.main(["--data-dir", str(ws.data_dir), "--user", "reviewer", "review", "queue"])
    return code, capsys.readouterr().err.strip()


def test_cli_says_the_try_that_starts_the_lockout_was_wrong(workstation, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        assert _cli(monkeypatch, capsys, workstation, "not-the-passphrase") == (
            2, "error: Unknown account or wrong passphrase.")
    code, err = _cli(monkeypatch, capsys, workstation, "not-the-passphrase")
    assert code == 2
    assert err.startswith("error: Unknown account or wrong passphrase. Account 'reviewer' is locked after "
                          "repeated failed sign-ins; try again in "), err
    # The right passphrase during the delay is not tried: only the lockout is reported.
    code, err = _cli(monkeypatch, capsys, workstation, workstation.passphrase("reviewer"))
    assert code == 2
    assert err.startswith("error: Account 'reviewer' is locked after repeated failed sign-ins; try again in "), err


def test_reauthentication_says_wrong_passphrase_before_the_lockout(workstation) -> None:  # type: ignore[no-untyped-def]
    session = workstation.session("reviewer")
    try:
        for _ in range(2):
            with pytest.raises(AuthError, match=r"^Wrong passphrase\.$"):
                session.reauthenticate("not-the-passphrase")
        with pytest.raises(LockedOutError) as started:
            session.reauthenticate("not-the-passphrase")
        assert started.value.after_failure
        assert str(started.value).startswith("Wrong passphrase. Account 'reviewer' is locked")
        with pytest.raises(LockedOutError) as running:
            session.reauthenticate(workstation.passphrase("reviewer"))
        assert not running.value.after_failure
        assert str(running.value).startswith("Account 'reviewer' is locked")
    finally:
        session.close()
