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


def test_sigterm_ends_the_demo_and_removes_its_folder(tmp_path: Path) -> None:
    env = dict(os.environ, TMPDIR=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "app", "gui", "--demo"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
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
