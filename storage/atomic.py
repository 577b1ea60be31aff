"""Atomic, permission-first writes of the workstation's own files (app.foundation.files does the
work); a failure becomes a StorageError naming the file."""

from __future__ import annotations

from pathlib import Path

from app.foundation.files import fsync_dir, replace_durably
from app.model.errors import StorageError

__all__ = ["atomic_write", "fsync_dir"]


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half."""
    try:
        replace_durably(path, data, mode)
    except OSError as exc:
        raise StorageError(f"Cannot write {path}: {exc.strerror or exc}") from exc
