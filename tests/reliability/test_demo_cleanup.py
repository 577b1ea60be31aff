"""The demo folder never outlives the demo: removed on a normal exit and on SIGTERM; what a SIGKILL
leaves behind is removed at the next start (issue 15, point 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.services.demo import DEMO_PREFIX, OWNER_FILE, clean_stale_demo_folders


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def test_stale_demo_folders_are_removed_live_ones_and_others_kept(tmp_path: Path) -> None:
    stale = tmp_path / f"{DEMO_PREFIX}abc"
    (stale / "workstation").mkdir(parents=True)
    (stale / OWNER_FILE).write_text(f"{_dead_pid()}\n")
    (stale / "workstation" / "frontier.db").write_bytes(b"x" * 100)
    live = tmp_path / f"{DEMO_PREFIX}live"
    live.mkdir()
    (live / OWNER_FILE).write_text(f"{os.getppid()}\n")  # the test runner's parent: alive
    unrelated = tmp_path / "someone-elses-folder"
    unrelated.mkdir()
    assert clean_stale_demo_folders(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and unrelated.exists()


# `python -m app gui --demo` with the tests' low KDF count (as conftest.fast_kdf): the demo's accounts
# cost ~20 derivations at 600,000 iterations, which is not what this test is about.
DEMO_LOW_KDF = ("import runpy, storage.keys; storage.keys.DEFAULT_ITERATIONS = 1000; "
                "runpy.run_module('app', run_name='__main__', alter_sys=True)")


def test_sigterm_ends_the_demo_and_removes_its_folder(tmp_path: Path) -> None:
    env = dict(os.environ, TMPDIR=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-c", DEMO_LOW_KDF, "gui", "--demo"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        folders: list[Path] = []
        while time.monotonic() < deadline and not folders:
            folders = [f for f in tmp_path.glob(f"{DEMO_PREFIX}*") if (f / OWNER_FILE).exists()]
            time.sleep(0.2)
        assert folders, "the demo did not create its folder"
        assert (folders[0] / OWNER_FILE).read_text().strip() == str(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert not folders[0].exists()
