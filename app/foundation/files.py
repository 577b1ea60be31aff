"""Durable writes (permission first, write, fsync, then the directory), SHA-256 of a file and
bounded reads: one implementation each, raising OSError for the caller to put into words
(app.foundation.oserrors) or IngestError where the file came from outside."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from app.model.errors import IngestError

BLOCK = 1 << 20


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable (best effort: some filesystems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new_file(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Create `path` (never overwriting) with `mode` before any byte is written, write all, fsync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Readers see the old file or the new one, never half: temp file, write, fsync, rename,
    fsync the directory. The temp file is removed when anything fails."""
    # A name of its own per call: two threads or processes writing the same file at once never
    # share (and tear) a temporary file.
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}")
    try:
        write_new_file(tmp, data, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def sha256_file(path: Path | str, cancel: Callable[[], bool] | None = None,
                progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """(hex SHA-256, size) of a file read in 1 MiB blocks; `progress(bytes hashed)` is called every
    8 MiB (from removable media a large file takes seconds: 8 s for 250 MB at 30 MB/s); `cancel()`
    is asked every 64 MiB and returning True stops early (the caller raises its own Cancelled)."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
            size += len(block)
            if progress is not None and size % (8 * BLOCK) < BLOCK:
                progress(size)
            if cancel is not None and size % (64 * BLOCK) < BLOCK and cancel():
                break
    return digest.hexdigest(), size


def shown_name(text: str) -> str:
    """`text` (a path, or a message naming one) as text that every encoder takes. A file name that is
    not UTF-8 (a Latin-1 name on media written elsewhere) comes from the OS with each such byte as a
    lone surrogate (surrogateescape), which UTF-8 refuses: stored or audited as it was, it raised
    UnicodeEncodeError. Those bytes are shown as \\xe9, any other lone surrogate as \\ud800."""
    if text.isascii():
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def regular_file(path: Path, what: str) -> None:
    """IngestError unless `path` is a regular file (OSError is the caller's): a named pipe picked
    as a file blocked the read until a writer came, and the import hung."""
    if not stat.S_ISREG(path.stat().st_mode):
        raise IngestError(str(path), f"is not a regular file; not a {what}")


def read_bounded(path: Path, max_bytes: int, what: str) -> bytes:
    """The whole file, refusing one over `max_bytes` (also one that grows while being read);
    IngestError names the file and says what it was expected to be."""
    limit = f"{max_bytes >> 20} MB" if max_bytes >= 1 << 20 else f"{max_bytes:,} bytes"
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO blocked open() until a writer came (a hang); a device...
            raise IngestError(str(path), f"is not a regular file; not a {what}")
        if st.st_size > max_bytes:
            raise IngestError(str(path), f"is larger than {limit}; not a {what}")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise IngestError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise IngestError(str(path), f"grew beyond {limit} while being read; not a {what}")
    return data
