"""`frontier-review selftest`: the network guard, the steps, PASS/FAIL lines and the exit code."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app import cli
from app.services import selftest


def test_guard_refuses_internet_sockets_and_restores_afterwards() -> None:
    before = (socket.socket, socket.create_connection, socket.getaddrinfo)
    with selftest.network_blocked():
        for family in (socket.AF_INET, socket.AF_INET6):
            with pytest.raises(selftest.NetworkBlocked):
                socket.socket(family, socket.SOCK_STREAM)
        with pytest.raises(selftest.NetworkBlocked):
            socket.socket()  # default family is AF_INET
        with pytest.raises(selftest.NetworkBlocked):
            socket.create_connection(("127.0.0.1", 9))
        with pytest.raises(selftest.NetworkBlocked):
            socket.getaddrinfo("localhost", 9)
        a, b = socket.socketpair(socket.AF_UNIX)  # local IPC (asyncio self-pipe, D-Bus) still works
        a.close()
        b.close()
    assert (socket.socket, socket.create_connection, socket.getaddrinfo) == before


def test_network_step_fails_when_the_guard_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the self-test's guard the conftest guard raises a plain PermissionError: not good enough.
    state = selftest._State(Path("/nonexistent"), Path("/nonexistent"))
    with pytest.raises(PermissionError) as err:
        selftest._step_network(state)
    assert not isinstance(err.value, selftest.NetworkBlocked)


def test_all_steps_pass_and_leave_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a temporary folder of its own: a self-test running at the same time elsewhere (the smoke install on
    # the other xdist worker, another checkout's suite) must not look like one left behind by this run
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(selftest.tempfile, "tempdir", str(tmp))
    before = set(tmp.glob("frontier-review-selftest-*"))
    seen: list[selftest.StepResult] = []
    results = selftest.run(seen.append, keep=tmp_path / "kept")
    assert [r.status for r in results] == ["PASS"] * len(selftest.STEPS), [r.line() for r in results]
    assert seen == results
    names = [r.name for r in results]
    assert names[:3] == ["network blocked", "setup", "sign-in"] and names[-1] == "audit verify"
    for step in ("import fixture log", "assessment", "report build/sign/verify", "export package + verify"):
        assert step in names
    imported = next(r for r in results if r.name == "import fixture log")
    assert "task wmdp_cyber, 4 samples" in imported.detail
    assert (tmp_path / "kept" / "workstation" / "workstation.db").is_file()
    assert set(tmp.glob("frontier-review-selftest-*")) == before  # the temporary workstation is gone


def test_a_failing_step_fails_the_run_and_skips_the_rest(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    def broken(state: selftest._State) -> str:
        raise RuntimeError("submission table missing")

    steps = list(selftest.STEPS)
    index = [n for n, _ in steps].index("submission create")
    steps[index] = ("submission create", broken)
    monkeypatch.setattr(selftest, "STEPS", steps)
    assert cli.main(["selftest"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  submission create" in out and "RuntimeError: submission table missing" in out
    assert "SKIP  audit verify" in out and "not run: 'submission create' failed" in out
    assert "PASS  sign-in" in out
    assert "SELF-TEST FAILED" in out


def test_cli_prints_one_line_per_step_and_exits_zero(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(selftest, "STEPS", selftest.STEPS[:4])  # the full run is covered above
    assert cli.main(["selftest"]) == 0
    lines = capsys.readouterr().out.splitlines()
    step_lines = [line for line in lines if line[:4] in ("PASS", "FAIL", "SKIP")]
    assert [line.split()[1] for line in step_lines] == ["network", "setup", "sign-in", "submission"]
    assert all(line.startswith("PASS") and " s  " in line for line in step_lines)
    assert lines[-1].startswith("self-test passed: 4 steps")
