"""`make run` without a display says so before installing anything; `make test` shows progress by file
and its expected duration (issue 15, point 7)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-C", str(ROOT), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("target", ["run", "demo"])
def test_run_without_a_display_says_so_in_one_line_and_installs_nothing(target: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    venv = tmp_path / "venv"
    done = _make(target, f"VENV={venv}", env=env)
    assert done.returncode != 0
    ours = [line for line in done.stderr.splitlines() if not line.startswith(("make:", "make["))]
    assert len(ours) == 1, done.stderr
    assert "no display" in ours[0] and "desktop session" in ours[0] and "xvfb-run make run" in ours[0]
    assert not venv.exists()  # nothing was installed first
    assert "pip" not in done.stdout


def test_run_with_a_display_goes_on_to_install_and_start(tmp_path: Path) -> None:
    done = _make("-n", "run", f"VENV={tmp_path / 'venv'}", env=dict(os.environ, DISPLAY=":0"))
    assert done.returncode == 0, done.stderr
    assert "pip install" in done.stdout and "frontier-review gui" in done.stdout


def test_make_test_announces_its_duration_and_reports_progress_by_file() -> None:
    done = _make("-n", "test", env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    announce = next(line for line in lines if "Running the test suite" in line)
    assert "minutes" in announce
    pytest_line = next(line for line in lines if "-m pytest" in line)
    assert " -q" not in pytest_line  # pytest's default output: one line per file with the running percentage
