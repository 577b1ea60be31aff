"""A reviewer's journey through the CLI alone, as a script on the workstation would run it.

The journey runs in-process through app.cli.main (what the console script calls), with standard input
and output captured; the last test starts the real console entry point in a subprocess as a smoke test
of the installed interpreter path (and of a cold start at the real key-derivation cost).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.backends.null
import pytest

from app import cli as app_cli

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "granite-admin-phrase-81"
REVIEWER = "willow-reviewer-phrase-3"


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """cli(data_dir, *args, stdin=..., user=...) -> CliRun, through app.cli.main in this process."""
    keyring.set_keyring(keyring.backends.null.Keyring())  # as on a machine without a keyring daemon

    def run(data_dir: Path, *args: str, stdin: str = "", user: str | None = None) -> CliRun:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        argv = ["--data-dir", str(data_dir), *(["--user", user] if user else []), *args]
        code = app_cli.main(argv)
        out = capsys.readouterr()
        return CliRun(code, out.out, out.err)

    return run


def test_cli_journey(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = tmp_path / "ws"
    init = ["init", "--name", "Cell 3", "--system-high", "SECRET//NOFORN", "--admin", "ada"]
    authority = ["--classified-by", "Ada Admin, Cell 3", "--derived-from", "AI Cyber SCG",
                 "--declassify-on", "20511231", "--cui-controlled-by", "Cell 3", "--cui-category", "CTI"]
    # Standard output is a pipe here: the recovery key is never printed to it; nothing is created.
    r = cli(d, *init, *authority, stdin=ADMIN + "\n")
    assert r.returncode == 2 and "--recovery-key-file" in r.stderr and not d.exists()
    # A SECRET workstation asks the authority lines every report carries (as the setup wizard does).
    key_file = tmp_path / "recovery.txt"
    r = cli(d, *init, "--recovery-key-file", str(key_file), stdin=ADMIN + "\n")
    assert r.returncode == 2 and "--classified-by" in r.stderr and not d.exists()
    r = cli(d, *init, *authority, "--recovery-key-file", str(key_file), stdin=ADMIN + "\n")
    assert r.returncode == 0, r.stderr
    assert "passphrase-only" in r.stdout  # null keyring is never trusted
    recovery = key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o777 == 0o600 and recovery and recovery not in r.stdout + r.stderr
    assert ADMIN not in r.stdout + r.stderr
    r = cli(d, *init, *authority, "--recovery-key-file", str(key_file), stdin=ADMIN + "\n")
    assert r.returncode == 2 and "never overwritten" in r.stderr

    first = "given-by-ada-first-1"
    r = cli(d, "user", "add", "rita", "--role", "reviewer", "--name", "Rita R", user="ada",
            stdin=f"{ADMIN}\n{first}\n")
    assert r.returncode == 0, r.stderr

    # First sign-in: Rita replaces the first passphrase (stdin: first, new, new again), which
    # creates her own signing key; the command then runs as usual.
    r = cli(d, "submission", "add", "--developer", "Acme AI", "--model", "Falcon", "--version", "2.0",
            "--received", "2026-11-01", "--release", "2026-12-20", "--flop", "3e25", "--marking", "SECRET",
            "--contact", "Jo Bloggs <jo@acme.example>", user="rita", stdin=f"{first}\n{REVIEWER}\n{REVIEWER}\n")
    assert r.returncode == 0, r.stderr
    assert "choose your own" in r.stderr
    assert "Submission 1 registered" in r.stdout
    assert "49 days" in r.stdout  # window over 30 days: allowed, flagged

    card = tmp_path / "card.md"
    card.write_text("# Falcon model card\n")
    r = cli(d, "submission", "attach", "1", str(card), "--kind", "model card", user="rita", stdin=REVIEWER + "\n")
    assert r.returncode == 0, r.stderr

    r = cli(d, "submission", "show", "1", user="rita", stdin=REVIEWER + "\n")
    assert "Falcon" in r.stdout and "card.md" in r.stdout and "jo@acme.example" in r.stdout

    r = cli(d, "submission", "add", "--developer", "Acme AI", "--model", "Falcon", "--version", "3",
            "--received", "2026-11-10", "--release", "2026-11-01", user="rita", stdin=REVIEWER + "\n")
    assert r.returncode == 2 and "planned_release" in r.stderr

    r = cli(d, "submission", "list", user="rita", stdin="wrong passphrase here\n")
    assert r.returncode == 2 and "wrong passphrase" in r.stderr

    r = cli(d, "user", "add", "eve", "--role", "admin", user="rita", stdin=f"{REVIEWER}\nsome-other-phrase-9\n")
    assert r.returncode == 2 and "does not allow" in r.stderr

    r = cli(d, "pki", "identity", user="rita", stdin=REVIEWER + "\n")
    # Normal after a first sign-in: exit 0, and the output says what comes next and who does it.
    assert r.returncode == 0 and "your personal key" in r.stdout and "no signing certificate" in r.stdout
    assert "pki issue rita" in r.stdout
    r = cli(d, "pki", "issue", "rita", user="ada", stdin=ADMIN + "\n")  # proven by the first passphrase
    assert r.returncode == 0 and "issued to rita" in r.stdout, r.stdout + r.stderr
    r = cli(d, "pki", "identity", user="rita", stdin=REVIEWER + "\n")
    assert r.returncode == 0 and "Rita R (workstation)" in r.stdout, r.stdout + r.stderr

    r = cli(d, "user", "disable", "rita", user="ada", stdin=ADMIN + "\n")
    assert r.returncode == 0 and "rita disabled" in r.stdout, r.stderr
    r = cli(d, "submission", "list", user="rita", stdin=REVIEWER + "\n")
    assert r.returncode == 2 and "wrong passphrase" in r.stderr  # her key slot is gone
    again = "welcome-back-first-2"
    r = cli(d, "user", "enable", "rita", user="ada", stdin=f"{ADMIN}\n{again}\n")
    assert r.returncode == 0 and "rita enabled" in r.stdout, r.stderr
    r = cli(d, "submission", "list", user="rita", stdin=f"{again}\n{REVIEWER}x\n{REVIEWER}x\n")
    assert r.returncode == 0 and "Falcon" in r.stdout, r.stderr

    r = cli(d, "audit", "verify", "--events", user="ada", stdin=ADMIN + "\n")
    assert r.returncode == 0 and "Audit chain intact and signed" in r.stdout, r.stdout + r.stderr
    assert "rita" in r.stdout and "INVALID" not in r.stdout

    r = cli(d, "audit", "list", "--action", "auth.", user="ada", stdin=ADMIN + "\n")
    assert "auth.failures_reported" in r.stdout and "rita" in r.stdout


def test_console_entry_point_in_a_subprocess(tmp_path: Path) -> None:
    """Smoke test of the real process: `python -m app` starts, answers --version and --help, and a
    command that needs a workstation names the missing folder (no traceback)."""
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "PYTHONPATH": str(ROOT)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], input="x\n", capture_output=True, text=True,
                              env=env, timeout=120, cwd=ROOT)

    r = run("--version")
    assert r.returncode == 0 and "frontier-review" in r.stdout
    r = run("--help")
    assert r.returncode == 0 and "submission" in r.stdout and "report" in r.stdout, r.stderr
    missing = tmp_path / "nowhere"
    r = run("--data-dir", str(missing), "--user", "rita", "submission", "list")
    assert r.returncode == 2 and str(missing) in r.stderr and "Traceback" not in r.stderr, r.stderr
