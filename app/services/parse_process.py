"""Parse an Inspect .eval log in a child process while this process stores what it sends.

In one process the reader (decompression, msgspec, the per-sample Python) and the writer
(SQLCipher inserts, FTS5) share one GIL, so the import ran at about the sum of their speeds rather
than the slower one's. The child (app/services/parse_child.py) does all of the reading; this side
only decodes ready rows and hands them to the writer. docs/PERFORMANCE.md "Fifth pass" has the
figures, including the size under which a child does not pay for its start (PROCESS_MIN_BYTES).

The child is a fresh interpreter (no fork of this process's memory: it never holds the passphrase,
a key or the database), started with a minimal environment and given only the path and the limits.
Its messages are typed data (app/services/parse_wire.py), checked before anything is stored. Its
errors come back as the same IngestError the in-process reader raises; its death (killed, crashed)
becomes an IngestError naming the file. `close` kills and reaps it whatever happened.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from typing import IO

import msgspec

from app.ingest.logfile import Limits
from app.model.errors import FrontierError, IngestError
from app.services.parse_wire import DECODER, HEADER, Batch, Done, Failure
from storage import results_repo as repo
from storage import transcript_codec as codec

# Smaller .eval logs are read in-process: the child's start (interpreter and imports, about
# 0.15 s of CPU) costs more than it saves there. Measured in docs/PERFORMANCE.md "Fifth pass".
PROCESS_MIN_BYTES = 16 << 20
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _child_env() -> dict[str, str]:
    """Only what the interpreter needs to find this code: nothing of this process's environment
    (which may hold anything the reviewer's shell set) is passed on."""
    env = {"PYTHONPATH": _ROOT, "LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"}
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _command(request: str) -> list[str]:
    # -s: no user site-packages; the environment is _child_env's alone
    return [sys.executable, "-s", "-m", "app.services.parse_child", request]


def _describe(returncode: int | None) -> str:
    if returncode is None:
        return "it stopped answering"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class ParserProcess:
    """Prepared batches of one .eval log's samples, parsed in a child process.

    Iterate for repo.PreparedSamples (the same batches the in-process reader prepares); at most one
    batch waits in the pipe and one is being built in the child, so memory stays bounded;
    `bytes_done` is the child's progress through the file. Always `close` (kills and reaps).
    """

    def __init__(self, path: str, limits: Limits, batch: int, batch_bytes: int) -> None:
        self.path = path
        self._done = 0
        # A message holds at most one batch: batch_bytes plus one sample, whose member is bounded by
        # the limits; anything longer means the child is not the code we started.
        self._max_message = batch_bytes + 2 * limits.max_member_bytes + (64 << 20)
        request = json.dumps({"path": path, "limits": asdict(limits), "batch": batch, "batch_bytes": batch_bytes})
        self._proc = subprocess.Popen(
            _command(request),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=_child_env(), cwd="/", close_fds=True, bufsize=1 << 20)
        assert self._proc.stdout is not None
        self._out: IO[bytes] = self._proc.stdout

    @property
    def pid(self) -> int:
        return self._proc.pid

    def bytes_done(self) -> int:
        return self._done

    def __iter__(self) -> ParserProcess:
        return self

    def __next__(self) -> repo.PreparedSamples:
        message = self._receive()
        if isinstance(message, Done):
            self._done = message.bytes_done
            raise StopIteration
        if isinstance(message, Failure):
            self.close()
            if message.kind == "ingest":
                raise IngestError(self.path, message.problem)
            if message.kind == "frontier":
                raise FrontierError(message.problem)
            raise IngestError(self.path, f"the log could not be read ({message.problem}); nothing was stored")
        self._done = message.bytes_done
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

    def _receive(self) -> Batch | Done | Failure:
        length = int.from_bytes(self._read(HEADER), "little")
        if length > self._max_message:
            self.close()
            raise IngestError(self.path, f"the parser process sent {length:,} bytes at once, more than any "
                              "batch can hold; nothing was stored")
        try:
            return DECODER.decode(self._read(length))
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.close()
            raise IngestError(self.path, "the parser process sent malformed data; nothing was stored") from None

    def _read(self, n: int) -> bytes:
        data = self._out.read(n) if n else b""
        if len(data) < n:  # end of the pipe: the child is gone
            try:
                returncode: int | None = self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                returncode = None
            self.close()
            raise IngestError(self.path, f"the parser process stopped unexpectedly ({_describe(returncode)}); "
                              "nothing was stored")
        return data

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._out.close()
