"""Parse an Inspect .eval log in a child process while this process stores what it sends.

In one process the reader (decompression, msgspec, the per-sample Python) and the writer
(SQLCipher inserts, FTS5) share one GIL, so the import ran at about the sum of their speeds rather
than the slower one's. The child (app/services/parse_child.py) does all of the reading; this side
only decodes ready rows and hands them to the writer. docs/PERFORMANCE.md "Fifth pass" has the
figures, including the size under which a child does not pay for its start (PROCESS_MIN_BYTES).

The child is a fresh interpreter (no fork of this process's memory: it never holds the passphrase,
a key or the database), started with a minimal environment, often ahead of the import (`warm`), and
given only a request on its stdin: the path, the limits and its share of the sample members.
Its messages are typed data (app/services/parse_wire.py), checked before anything is stored. Its
errors come back as the same IngestError the in-process reader raises; its death (killed, crashed)
becomes an IngestError naming the file. `close` kills and reaps it whatever happened.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from typing import IO

import msgspec

from app.ingest.logfile import Limits
from app.ingest.safezip import MARK, SampleDirectory
from app.model.errors import FrontierError, IngestError
from app.services.parse_wire import DECODER, HEADER, READY, Batch, Done, Failure, Request, frame
from storage import results_repo as repo
from storage import transcript_codec as codec

# Smaller .eval logs are read in-process: each child pays about 0.5 s of CPU before its first
# sample (interpreter and imports, the central directory again), and at 10,000 samples (63 MB) the
# children were no faster than the reader thread; at 40,000 (250 MB) they were in 8 of 10 runs.
# docs/PERFORMANCE.md "Fifth pass".
PROCESS_MIN_BYTES = 128 << 20
# With processes started ahead (warm), only their share of the directory and their pipes are left to
# pay for: from this size they are quicker than the reader thread. docs/PERFORMANCE.md "Eighth pass".
WARM_MIN_BYTES = 0
# Two parsers: reading costs about twice storing, so two processes reading alternate chunks and
# the importing thread storing can keep both cores busy; one child alone was slower than the
# reader thread (it runs the same reading, plus its start).
PARSER_PROCESSES = 2
_CHUNKS, _MIN_CHUNK = 16, 25
MESSAGE_SAMPLES = 500  # samples per message at most: about 4 MB of rows and frames (25 KB samples)
_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged process (/proc/sys/fs/pipe-max-size)
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _child_env() -> dict[str, str]:
    """Only what the interpreter needs to find this code: nothing of this process's environment
    (which may hold anything the reviewer's shell set) is passed on."""
    env = {"PYTHONPATH": _ROOT, "LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"}
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _command() -> list[str]:
    # -s: no user site-packages; the environment is _child_env's alone
    return [sys.executable, "-s", "-m", "app.services.parse_child"]


def _describe(returncode: int | None) -> str:
    if returncode is None:
        return "it stopped answering"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class _Child:
    """One parser process: its request pipe and the reading end of its answers' pipe. It starts
    (interpreter, imports, numpy) before it is given anything to read."""

    def __init__(self) -> None:
        self.path, self.max_message, self.done = "", 0, 0
        self.started = False  # its READY byte read: started up and waiting
        self.proc = subprocess.Popen(
            _command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=_child_env(), cwd="/", close_fds=True, bufsize=1 << 20)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.out: IO[bytes] = self.proc.stdout
        with contextlib.suppress(OSError):  # a batch in a few writes, not one wake-up per 64 KiB
            fcntl.fcntl(self.out.fileno(), _SETPIPE_SZ, _PIPE_BYTES)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ready(self) -> bool:
        """Alive and started up (its READY byte has arrived), without waiting for it."""
        if not self.started and self.alive() and select.select([self.out], [], [], 0)[0]:
            with contextlib.suppress(IngestError):  # it ended instead: not ready (`alive` says so)
                self._expect_ready()
        return self.started and self.alive()

    def _expect_ready(self) -> None:
        if self._read(len(READY)) != READY:
            raise IngestError(self.path, "the parser process sent malformed data; nothing was stored")
        self.started = True

    def send(self, request: Request, max_message: int) -> None:
        """Hand the child its request (the only one it takes)."""
        self.path, self.max_message = request.path, max_message
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            for part in frame(request):
                stdin.write(part)
            stdin.close()
        except OSError:  # it is gone: its first answer says how (`_read`)
            with contextlib.suppress(OSError):
                stdin.close()

    def receive(self) -> Batch | Done | Failure:
        if not self.started:
            self._expect_ready()
        length = int.from_bytes(self._read(HEADER), "little")
        if length > self.max_message:
            raise IngestError(self.path, f"the parser process sent {length:,} bytes at once, more than any "
                              "batch can hold; nothing was stored")
        try:
            return DECODER.decode(self._read(length))
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise IngestError(self.path, "the parser process sent malformed data; nothing was stored") from None

    def _read(self, n: int) -> bytes:
        data = self.out.read(n) if n else b""
        if len(data) < n:  # end of the pipe: the child is gone
            try:
                returncode: int | None = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                returncode = None
            raise IngestError(self.path, f"the parser process stopped unexpectedly ({_describe(returncode)}); "
                              "nothing was stored")
        return data

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.out.close()
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()


# Parser processes started ahead of an import (warm): the import dialog and the command line's
# import start them while the reviewer picks files or types the passphrase, so an import does not
# wait for an interpreter, its imports and numpy (about 0.17 s of CPU each). They hold nothing: a
# fresh interpreter, sandboxed, waiting on its stdin; each serves one log and exits.
_idle: list[_Child] = []
_idle_lock = threading.Lock()


def warm(count: int = 0) -> int:
    """Have `count` (default PARSER_PROCESSES) parser processes started and waiting; returns how many
    are (0 if none can start)."""
    count = count or PARSER_PROCESSES
    with _idle_lock:
        for child in [c for c in _idle if not c.alive()]:
            _idle.remove(child)
            child.close()
        try:
            while len(_idle) < count:
                _idle.append(_Child())
        except OSError:
            pass
        return len(_idle)


def ready() -> int:
    """How many parser processes are started up and waiting for an import (one still starting does
    not count: a small log is read sooner on the reader thread than after its start)."""
    with _idle_lock:
        return sum(1 for c in _idle if c.ready())


def wait_ready(count: int = 0, timeout: float = 30.0) -> int:
    """Wait (at most `timeout` seconds) until `count` (default PARSER_PROCESSES) waiting processes have
    started up; returns how many have. For benchmarks and tests: an import never waits for them."""
    count = count or PARSER_PROCESSES
    deadline = time.monotonic() + timeout
    while (n := ready()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return n


def stop_idle() -> None:
    """Stop the waiting parser processes (at exit; they would also end when this process does)."""
    with _idle_lock:
        children, _idle[:] = list(_idle), []
    for child in children:
        child.close()


atexit.register(stop_idle)


def _take(count: int) -> list[_Child]:
    """`count` parser processes: the waiting ones first, new ones for the rest."""
    taken: list[_Child] = []
    with _idle_lock:
        _idle.sort(key=lambda c: not c.ready())  # those started up first
        while _idle and len(taken) < count:
            child = _idle.pop(0)
            if child.alive():
                taken.append(child)
            else:
                child.close()
    try:
        while len(taken) < count:
            taken.append(_Child())
    except BaseException:
        for child in taken:
            child.close()
        raise
    return taken


class ParserProcess:
    """Prepared batches of one .eval log's samples, parsed by `parts` child processes.

    Child k reads chunks k, k + parts, ... of `batch` samples; iterating takes the children's
    chunks in turn, so the batches are the log's samples in order (repo.PreparedSamples, as the
    in-process reader prepares them) and the first error met is the first in log order, as in-process.
    Each child holds at most the batch it builds and the one in its pipe, so memory stays bounded.
    `bytes_done` adds up the children's progress through the file. Always `close` (kills and reaps).
    """

    def __init__(self, path: str, limits: Limits, batch: int, batch_bytes: int, parts: int = 0) -> None:
        """Takes (or starts) the processes; `start` tells them what to read."""
        self.path, self.limits, self.batch, self.batch_bytes = path, limits, batch, batch_bytes
        self._children = _take(parts or PARSER_PROCESSES)
        self._chunk = 0
        self._finished = False
        self._started = False

    def start(self, directory: SampleDirectory) -> None:
        """Tell each process its share of the sample members (`ParsedRun.sample_entries`): chunks part,
        part + parts, ... of `chunk` samples, which it reads one after another, finding their directory
        entries from the mark at or before each chunk's first."""
        # A message holds at most one batch: batch_bytes plus one sample, whose member is bounded by
        # the limits; anything longer means the child is not the code we started.
        max_message = self.batch_bytes + 2 * self.limits.max_member_bytes + (64 << 20)
        parts = len(self._children)
        # Chunks of `batch` samples, but at least _CHUNKS of them in a small log: its first rows then
        # arrive after milliseconds instead of after half the log. A message holds at most
        # MESSAGE_SAMPLES of them, so what each process holds at once stays small.
        chunk = min(self.batch, max(_MIN_CHUNK, directory.count // _CHUNKS))
        batch = min(chunk, MESSAGE_SAMPLES)
        self._started = True
        skip, replace = sorted(directory.skip), dict(directory.replace)
        for part, child in enumerate(self._children):
            firsts = list(range(part * chunk, directory.count, parts * chunk))
            starts = [directory.marks[f // MARK] for f in firsts]
            child.send(Request(self.path, asdict(self.limits), batch, self.batch_bytes, chunk, directory.count,
                               directory.end, starts, firsts, skip, replace), max_message)

    @property
    def pids(self) -> list[int]:
        return [c.proc.pid for c in self._children]

    def bytes_done(self) -> int:
        return sum(c.done for c in self._children)

    def __iter__(self) -> ParserProcess:
        return self

    def __next__(self) -> repo.PreparedSamples:
        if self._finished:
            raise StopIteration
        if not self._started:
            raise RuntimeError("ParserProcess.start was not called: the processes have nothing to read")
        child = self._children[self._chunk % len(self._children)]
        try:
            message = child.receive()
        except IngestError:
            self.close()
            raise
        if isinstance(message, Done):  # the log ends before this chunk
            child.done = message.bytes_done
            self._finished = True
            raise StopIteration
        if isinstance(message, Failure):
            self.close()
            if message.kind == "ingest":
                raise IngestError(self.path, message.problem)
            if message.kind == "frontier":
                raise FrontierError(message.problem)
            raise IngestError(self.path, f"the log could not be read ({message.problem}); nothing was stored")
        child.done = message.bytes_done
        if message.last:
            self._chunk += 1
        return self._prepared(message)

    def _prepared(self, batch: Batch) -> repo.PreparedSamples:
        n = len(batch.rows)
        last = -1
        transcripts = []
        for i, size, data in batch.transcripts:
            if not last < i < n or not 0 <= size <= codec.MAX_RAW:
                self.close()
                raise IngestError(self.path, "the parser process sent an inconsistent batch; nothing was stored")
            last = i
            transcripts.append((i, codec.CODEC, size, data))
        return repo.PreparedSamples(batch.rows, transcripts, sum(r[3] for r in batch.rows))

    def close(self) -> None:
        for child in self._children:
            child.close()
