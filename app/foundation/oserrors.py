"""OSError (errno) to a sentence for the person at the workstation, naming the path."""

from __future__ import annotations

import errno
import os
from pathlib import Path

_FULL = (errno.ENOSPC, errno.EDQUOT)
_GONE = (errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EIO, errno.ESTALE)
_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


def os_error_problem(exc: OSError, path: Path | str) -> str:
    """What went wrong with `path`, without a trailing full stop so callers can add what it means."""
    if exc.errno in _FULL:
        return f"the medium holding {path} is full"
    if exc.errno in _GONE:
        return f"{path} disappeared or failed during the write (medium removed?)"
    if exc.errno in _READ_ONLY:
        return f"{path} is not writable (read-only media or no permission)"
    return f"{path}: {exc.strerror or exc}"


def folder_problem(folder: Path | str) -> str | None:
    """Why files cannot be written into `folder`, in the words of `os_error_problem` (no trailing
    full stop), or None. Every writer to media asks before it starts: a folder that does not exist,
    a file, and a folder it may not write into are three different things to fix. (A write can
    still fail later, e.g. as root on a read-only pseudo file system: put that OSError into words
    with `os_error_problem`.)"""
    if not os.path.exists(folder):
        return f"{folder} does not exist (or the media is not mounted)"
    if not os.path.isdir(folder):
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder} is not writable (read-only media or no permission)"
    return None


def capitalised(problem: str) -> str:
    return problem[:1].upper() + problem[1:]


def is_full(exc: OSError) -> bool:
    return exc.errno in _FULL
