"""The writer's WAL copied into the database file off the committing thread (issue 19).

SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold: a 10,000-sample
import paid 0.7-1.2 s there, copying ~80 MB of WAL into the database file and fsyncing it, after its
data was already durable (the WAL is fsynced at COMMIT: synchronous = FULL). The runtime turns that
off on its writer (`wal_autocheckpoint = 0`) and leaves the copy to this thread:

- after an outermost transaction, once the WAL file has reached `threshold` bytes (SQLite's own 1,000
  pages, so the WAL grows no larger between checkpoints than before), the thread wakes;
- it runs a PASSIVE checkpoint on a connection of its own, which takes no lock that the writer or the
  readers wait for, so the next transaction starts at once; then, if every frame was copied and no
  transaction holds the runtime's write gate, a TRUNCATE without waiting (SQLite's writer lock, for
  the moment it takes to empty the file; it gives up if a reader still needs the WAL);
- a transaction that starts while a checkpoint runs and the WAL is over `limit` waits for it, so the
  next transaction writes the WAL from its start again: a batch of imports does not grow it without
  bound;
- `checkpoint()` asks for one and waits (before a backup); `close()` stops the thread, and the
  runtime then checkpoints on its writer before closing it (sign-out, close);
- `flush()`, asked by a long transaction after each batch it stores, writes the WAL's pages to disk
  on this thread (fdatasync) while the transaction goes on, so that its COMMIT's fsync finds little
  left to write. It changes nothing SQLite relies on: the COMMIT still fsyncs the WAL itself.

Crash safety is SQLite's WAL design: committed frames are in the fsynced WAL, and the next open
replays them (tests/reliability/test_faults.py kills a process between commit and checkpoint).
"""

from __future__ import annotations

import os
import threading
import time

from storage.db import Database

# SQLite's default wal_autocheckpoint, in pages: the WAL size at which a checkpoint is started.
AUTOCHECKPOINT_PAGES = 1000
# Beyond this a new transaction waits for a running checkpoint instead of appending to the WAL.
WAL_LIMIT_BYTES = 256 << 20


class Checkpointer:
    def __init__(self, writer: Database, gate: threading.RLock, threshold: int | None = None,
                 limit: int = WAL_LIMIT_BYTES) -> None:
        self._writer = writer
        self._gate = gate
        self.threshold = AUTOCHECKPOINT_PAGES * writer.page_size if threshold is None else threshold
        self.limit = limit
        self._cond = threading.Condition()
        self._requested = 0  # tickets: a request's number, done once `_done` reaches it
        self._done = 0
        self._stopped = False
        self._flush = False  # a flush of the WAL asked for and not yet started
        self._thread: threading.Thread | None = None
        # What the last checkpoints did (tests, benchmarks): runs, TRUNCATEs that emptied the WAL,
        # (busy, frames, copied) of the last PASSIVE, its wall seconds, the last error.
        self.runs = 0
        self.flushes = 0
        self.truncated = 0
        self.last: tuple[int, int, int] | None = None
        self.last_seconds = 0.0
        self.error: str | None = None

    # -- called by the runtime --------------------------------------------------------------------
    def after_commit(self) -> None:
        """After an outermost transaction (gate released): start a checkpoint if the WAL is large."""
        if self._writer.wal_bytes() >= self.threshold:
            self.request()

    def before_write(self) -> None:
        """Before an outermost transaction (gate held): wait for a running checkpoint if the WAL is
        over the limit, so this transaction restarts the WAL instead of appending to it."""
        with self._cond:
            running = self._done < self._requested and not self._stopped
        if running and self._writer.wal_bytes() > self.limit:
            self.wait()

    def request(self) -> int:
        """Ask for a checkpoint; returns its ticket (for `wait`)."""
        with self._cond:
            if self._stopped:
                return self._done
            self._requested += 1
            self._wake()
            return self._requested

    def flush(self) -> None:
        """Write the WAL's pages to disk soon, on this thread (asked again while one runs: once more)."""
        with self._cond:
            if not self._stopped:
                self._flush = True
                self._wake()

    def _wake(self) -> None:  # with self._cond held
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def wait(self, ticket: int | None = None, timeout: float | None = None) -> bool:
        """Wait until checkpoint `ticket` (default: the last requested) has run; False on timeout."""
        with self._cond:
            target = self._requested if ticket is None else ticket
            return self._cond.wait_for(lambda: self._done >= target or self._stopped, timeout)

    def checkpoint(self, timeout: float | None = None) -> bool:
        """Checkpoint now and wait for it (e.g. before a backup)."""
        return self.wait(self.request(), timeout)

    def close(self) -> None:
        """Stop the thread (a checkpoint under way finishes first) and close its connection."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    # -- the thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        db: Database | None = None
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._stopped or self._flush or self._done < self._requested)
                    if self._stopped:
                        return
                    flush, self._flush = self._flush, False
                    target = self._requested
                if flush:
                    self._flush_wal()
                if target <= self._done:
                    continue
                try:
                    if db is None:
                        db = self._writer.reader()  # checkpoints are allowed on a query_only connection
                    self._once(db)
                    self.error = None
                except Exception as exc:  # the data is safe in the WAL; the next request or close retries
                    self.error = str(exc)
                with self._cond:
                    self._done = max(self._done, target)
                    self.runs += 1
                    self._cond.notify_all()
        finally:
            if db is not None:
                db.close()
            with self._cond:
                # Whatever ended the thread, nobody waits for it any longer; a later request starts
                # a new one (unless the runtime is closing).
                self._done = self._requested
                self._thread = None
                self._cond.notify_all()

    def _flush_wal(self) -> None:
        try:
            fd = os.open(f"{self._writer.path}-wal", os.O_RDONLY)
        except OSError:
            return  # no WAL (yet): nothing to write
        try:
            os.fdatasync(fd)
        except OSError:
            pass  # only a head start: the COMMIT's own fsync reports what matters
        finally:
            os.close(fd)
        with self._cond:
            self.flushes += 1
            self._cond.notify_all()

    def _once(self, db: Database) -> None:
        t0 = time.perf_counter()
        busy, frames, copied = self.last = db.checkpoint("PASSIVE")
        self.last_seconds = time.perf_counter() - t0
        # Empty the file only when idle: no transaction of ours runs meanwhile (the gate), and
        # readers that still need the WAL are not waited for (wait=False).
        if busy == 0 and frames == copied and self._gate.acquire(blocking=False):
            try:
                if db.checkpoint("TRUNCATE", wait=False)[0] == 0:
                    self.truncated += 1
            finally:
                self._gate.release()
