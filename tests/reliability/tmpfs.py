"""Real, tiny filesystems for the full-disk tests (tmpfs; needs root or CAP_SYS_ADMIN)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def mounted_tmpfs(root: Path) -> Iterator[Callable[[str, str], Path]]:
    """make("name", "2m") -> a real, tiny filesystem under `root`, unmounted on the way out. Needs root
    or CAP_SYS_ADMIN: skipped elsewhere; the injected-ENOSPC tests cover the same code paths without
    privileges."""
    mounted: list[Path] = []

    def make(name: str, size: str) -> Path:
        mnt = root / name
        mnt.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mnt)],
                              capture_output=True)
        if done.returncode != 0:
            pytest.skip("cannot mount a small tmpfs here (not root)")
        mounted.append(mnt)
        return mnt

    try:
        yield make
    finally:
        for mnt in reversed(mounted):
            subprocess.run(["umount", "-l", str(mnt)], check=False)
