"""A reviewer's journey through the CLI alone, as a script on the workstation would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "granite-admin-phrase-81"
REVIEWER = "willow-reviewer-phrase-3"


def cli(data_dir: Path, *args: str, stdin: str = "", user: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "app", "--data-dir", str(data_dir)]
    if user:
        cmd += ["--user", user]
    return subprocess.run([*cmd, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120,
                          cwd=ROOT)


def test_cli_journey(tmp_path: Path) -> None:
    d = tmp_path / "ws"
    r = cli(d, "init", "--name", "Cell 3", "--system-high", "SECRET//NOFORN", "--admin", "ada", stdin=ADMIN + "\n")
    assert r.returncode == 0, r.stderr
    assert "RECOVERY KEY" in r.stdout and "passphrase-only" in r.stdout  # null keyring is never trusted
    assert ADMIN not in r.stdout + r.stderr

    r = cli(d, "user", "add", "rita", "--role", "reviewer", "--name", "Rita R", user="ada",
            stdin=f"{ADMIN}\n{REVIEWER}\n")
    assert r.returncode == 0, r.stderr

    r = cli(d, "submission", "add", "--developer", "Acme AI", "--model", "Falcon", "--version", "2.0",
            "--received", "2026-11-01", "--release", "2026-12-20", "--flop", "3e25", "--marking", "SECRET",
            "--contact", "Jo Bloggs <jo@acme.example>", user="rita", stdin=REVIEWER + "\n")
    assert r.returncode == 0, r.stderr
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

    r = cli(d, "user", "disable", "rita", user="ada", stdin=ADMIN + "\n")
    assert r.returncode == 0 and "rita disabled" in r.stdout, r.stderr
    r = cli(d, "submission", "list", user="rita", stdin=REVIEWER + "\n")
    assert r.returncode == 2 and "disabled" in r.stderr
    r = cli(d, "user", "enable", "rita", user="ada", stdin=ADMIN + "\n")
    assert r.returncode == 0 and "rita enabled" in r.stdout, r.stderr
    r = cli(d, "submission", "list", user="rita", stdin=REVIEWER + "\n")
    assert r.returncode == 0 and "Falcon" in r.stdout, r.stderr

    r = cli(d, "audit", "verify", user="ada", stdin=ADMIN + "\n")
    assert r.returncode == 0 and "Audit chain intact" in r.stdout, r.stdout + r.stderr

    r = cli(d, "audit", "list", "--action", "auth.", user="ada", stdin=ADMIN + "\n")
    assert "auth.failed" in r.stdout and "rita" in r.stdout


def test_version_and_help() -> None:
    r = cli(Path("/nonexistent"), "--version")
    assert r.returncode == 0 and "frontier-review" in r.stdout
