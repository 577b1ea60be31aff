"""tests/progress.py: `pytest -q` prints one line per finished file and names failures as they happen."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFTEST = '''
import pytest

@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    from tests import progress
    progress.register(config)
'''
FILE_A = '''
import pytest

def test_ok(): pass
def test_broken(): assert 1 == 2
@pytest.mark.skip("not here")
def test_skipped(): pass
'''
FILE_B = "def test_one(): pass\ndef test_two(): pass\n"


def _run(tmp_path: Path, *args: str) -> str:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_a.py").write_text(FILE_A)
    (tmp_path / "test_b.py").write_text(FILE_B)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Qt's and Hypothesis's plugins have no part in these files' runs: not loading them (PySide6 among
    # them) saves ~0.4 s of CPU in each child.
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly",
                           "-p", "no:pytest-qt", "-p", "no:hypothesispytest", "--rootdir", str(tmp_path), *args,
                           str(tmp_path)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    return done.stdout


@pytest.mark.parametrize("verbosity", ["-q", "--color=no"])
def test_run_prints_a_line_per_file_and_failures_as_they_happen(tmp_path: Path, verbosity: str) -> None:
    out = _run(tmp_path, verbosity)
    lines = out.splitlines()
    assert "FAILED test_a.py::test_broken (call)" in lines
    a = next(line for line in lines if line.endswith(" s") and "test_a.py" in line)
    b = next(line for line in lines if line.endswith(" s") and "test_b.py" in line)
    assert re.fullmatch(r"\[ 60%  0:\d\d\] test_a\.py  1 passed, 1 failed, 1 skipped  \d+\.\d s", a), a
    assert re.fullmatch(r"\[100%  0:\d\d\] test_b\.py  2 passed  \d+\.\d s", b), b
    assert not any(set(line) <= set(".Fs") and line for line in lines), "per-test dots are not printed"
    assert "1 failed, 3 passed, 1 skipped" in out  # pytest's own summary still counts every outcome


def test_other_verbosities_keep_pytests_own_output(tmp_path: Path) -> None:
    out = _run(tmp_path, "-v")
    assert "test_a.py::test_ok PASSED" in out
    assert not re.search(r"^\[\s*\d+%", out, re.MULTILINE)
