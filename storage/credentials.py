"""The one owner of the key header file (workstation.keys.json).

Every read-modify-write of the header happens inside `Credentials.update()`: an in-process lock
(threads) plus an OS lock (flock) on the data directory itself (other processes; the header file
is replaced on each write, so it cannot carry the lock), the header re-read under
the lock, written to a unique temporary file, fsynced and renamed. Slow work (PBKDF2) is done
before taking the lock, against a plain `read()`; only the short bookkeeping runs under it, so two
sign-ins, a failed sign-in and a passphrase reset never undo each other's changes.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from app.model.accounts import lockout_delay
from app.model.errors import AuthError, LockedOutError, StorageError
from storage import keyring_secret
from storage.keys import KEYRING_MODE, MAX_HEADER_BYTES, KeyHeader, Unlocked

HEADER_NAME = "workstation.keys.json"

_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()
# flock is per open file: a nested locked() in the same thread must not take it a second time.
_held = threading.local()


def _thread_lock(path: Path) -> threading.RLock:
    key = os.path.realpath(path)
    with _locks_guard:
        return _locks.setdefault(key, threading.RLock())


class Credentials:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / HEADER_NAME

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> KeyHeader:
        """A snapshot for slow work (key derivation); never write it back: use update()."""
        return KeyHeader.load(self.path)

    @contextmanager
    def locked(self) -> Iterator[None]:
        key = os.path.realpath(self.path)
        with _thread_lock(self.path):
            depth: dict[str, int] = getattr(_held, "depth", None) or {}
            _held.depth = depth
            if depth.get(key):
                depth[key] += 1
                try:
                    yield
                finally:
                    depth[key] -= 1
                return
            try:
                fd = os.open(self.data_dir, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as exc:
                raise StorageError(f"Cannot lock the key header in {self.data_dir}: {exc.strerror}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                depth[key] = 1
                yield
            finally:
                depth[key] = 0
                os.close(fd)  # closing releases the flock

    @contextmanager
    def update(self) -> Iterator[KeyHeader]:
        """Read under both locks, let the caller change it, write it back atomically.
        An exception inside the block leaves the file untouched."""
        with self.locked():
            header = KeyHeader.load(self.path)
            before = header.to_json()
            yield header
            if header.to_json() != before:  # nothing changed: no write, no fsync
                self._write(header)

    def create(self, header: KeyHeader) -> None:
        with self.locked():
            if self.path.exists():
                raise StorageError(f"{self.path} already exists; refusing to overwrite it.")
            self._write(header)

    def replace(self, header: KeyHeader) -> None:
        """Write a whole header (setup, restore); callers hold no snapshot of an older one."""
        with self.locked():
            self._write(header)

    def _write(self, header: KeyHeader) -> None:
        data = header.to_json()
        if len(data) > MAX_HEADER_BYTES:
            # Refuse rather than write a header that every later sign-in would reject.
            raise StorageError(f"Key header {self.path} would exceed {MAX_HEADER_BYTES} bytes; not written.")
        header.save(self.path)

    def unlock(self, username: str, passphrase: str, now: datetime) -> tuple[KeyHeader, Unlocked]:
        """Open `username`'s key slot. Derives (slow, outside the lock) against a snapshot; a failure
        is counted under the lock and the lockout delay applies before and after it."""
        header = self.read()
        check_lockout(header, username, now)
        try:
            return header, header.unlock(username, passphrase, keyring_secret_for(header))
        except AuthError:
            with self.update() as fresh:
                fresh.record_failure(username, now.isoformat())
            check_lockout(self.read(), username, now, after_failure=True)
            raise


def keyring_secret_for(header: KeyHeader) -> bytes | None:
    """The per-workstation secret mixed into every wrapping key, where the header says one is used."""
    return keyring_secret.load(header.db_id) if header.keyring_mode == KEYRING_MODE else None


def check_lockout(header: KeyHeader, username: str, now: datetime, after_failure: bool = False) -> None:
    """LockedOutError while the delay after `username`'s recorded failures has not passed
    (`after_failure`: checked right after a wrong passphrase, which the error then says)."""
    entry = header.failures.get(username)
    if not entry:
        return
    delay = lockout_delay(int(entry.get("count", 0)))
    last = datetime.fromisoformat(entry["last"])
    remaining = (last + timedelta(seconds=delay) - now).total_seconds()
    if remaining > 0:
        raise LockedOutError(username, remaining, after_failure)
