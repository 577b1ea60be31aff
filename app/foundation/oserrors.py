"""OSError (errno) to a sentence for the person at the workstation, naming the path."""

from __future__ import annotations

import errno
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


def is_full(exc: OSError) -> bool:
    return exc.errno in _FULL
