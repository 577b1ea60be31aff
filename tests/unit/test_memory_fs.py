"""`make test` and the UI tests put their folders in memory only where there is room."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests import memory_fs


def test_a_folder_with_room_is_usable(tmp_path: Path) -> None:
    assert memory_fs.usable(tmp_path, min_free=0)


def test_a_file_system_short_of_room_is_not_used(tmp_path: Path) -> None:
    assert not memory_fs.usable(tmp_path, min_free=1 << 62)  # more than any machine has free


def test_a_missing_folder_is_not_used(tmp_path: Path) -> None:
    assert not memory_fs.usable(tmp_path / "absent", min_free=0)


def test_the_make_probe_prints_the_folder_or_nothing() -> None:
    done = subprocess.run([sys.executable, "-m", "tests.memory_fs"], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    expected = f"{memory_fs.MEMORY_FS}\n" if memory_fs.usable() else ""
    assert done.stdout == expected
