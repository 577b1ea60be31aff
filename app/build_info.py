"""Which build is running: the version and the source commit it was built from (Help > About, CLI).

A release wheel carries app/BUILD.txt, written by build_installer.py from `git rev-parse HEAD` when
the wheel is built. A source checkout answers from git itself. Anything else says so plainly instead
of guessing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from app import __version__

BUILD_FILE = Path(__file__).with_name("BUILD.txt")
UNKNOWN = "not recorded (not a release build and not a git checkout)"


def build_hash() -> str:
    """The full commit hash this code was built from, or a sentence saying why it is unknown."""
    if BUILD_FILE.is_file():
        recorded = BUILD_FILE.read_text(encoding="utf-8").strip()
        if recorded:
            return recorded
    return git_commit(Path(__file__).resolve().parent.parent) or UNKNOWN


def git_commit(project_dir: Path) -> str | None:
    """`git rev-parse HEAD` (+ "-modified" when the tree has local changes), or None outside git."""
    if not (project_dir / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(project_dir), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(project_dir), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-modified" if head and dirty else head or None


def version_line() -> str:
    return f"frontier-review {__version__} (build {build_hash()})"
