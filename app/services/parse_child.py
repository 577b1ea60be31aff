"""The parser process: reads its share of one Inspect .eval log and sends its parent ready rows.

    python -m app.services.parse_child      (then one parse_wire.Request on stdin)

Started by app/services/parse_process.py with a minimal environment, usually before the import it
serves (parse_process.warm): it sandboxes itself, loads its code and numpy, then waits for one
request on stdin, naming a path, the readers' limits and the sample members it is to read (its
parent has read the archive's directory and header). It is never given the passphrase, a key or the
database. It reads, checks CRC-32, decompresses, runs every bound the in-process reader runs (it is
the same code: app.ingest.inspect_log), builds each sample's row and transcript frame
(storage/sample_prep.py), and writes batches to its stdout (app/services/parse_wire.py). With
`parts` processes, the parent gives this one chunks part, part + parts, ... of `chunk` samples each
and takes the processes' chunks in turn, so rows arrive in log order. An error becomes one Failure
message, then the process exits. Before it reads any request it refuses, for the rest of its life,
sockets, starting programs and opening files for writing (an audit hook): a parser that a hostile
file got control of still cannot reach the network or the disk through Python.
"""

from __future__ import annotations

import os
import sys
from array import array
from collections.abc import Callable, Iterator
from typing import Any

from app.ingest import jsonread
from app.ingest.inspect_log import SampleShare, open_eval_samples
from app.ingest.logfile import Limits
from app.ingest.safezip import SampleDirectory
from app.model.errors import FrontierError, IngestError
from app.model.results import SampleResult
from app.services.parse_wire import (
    HEADER,
    MAX_REQUEST,
    READY,
    REQUEST_DECODER,
    Batch,
    Done,
    Failure,
    Message,
    Request,
    frame,
)
from storage.sample_prep import plain_compressor, raw_transcript, sample_row

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_REFUSED = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
            "pty.spawn")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event.startswith("socket.") or event in _REFUSED:
        raise PermissionError(f"the parser process may not use {event}")
    if event == "open" and len(args) >= 3:
        mode, flags = args[1], args[2]
        writes = isinstance(mode, str) and any(c in mode for c in "wax+")
        if writes or (isinstance(flags, int) and flags & _WRITE_FLAGS):
            raise PermissionError("the parser process may not open files for writing")


def sandbox() -> None:
    """No network, no programs, no file written, from now on (audit hooks cannot be removed)."""
    sys.addaudithook(_audit)


def _send(fd: int, message: Message) -> None:
    for part in frame(message):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view):]


def batches(samples: Iterator[SampleResult], count: int, size: int, max_bytes: int,
            bytes_done: Callable[[], int]) -> Iterator[Batch]:
    """The `count` samples of one chunk cut as the in-process reader cuts (app/services/results._Prefetch):
    `size` samples or `max_bytes` of transcript and text, whichever comes first. The chunk's last
    batch has `last` set (known from `count`: no finished batch is held back waiting for the next)."""
    zc = plain_compressor()
    rows: list[Any] = []
    transcripts: list[tuple[int, int, bytes]] = []
    held = seen = 0
    for s in samples:
        seen += 1
        raw = raw_transcript(s)
        if raw is not None:
            # an .eval member's own Zstandard frame is stored as it is; DEFLATE members are compressed
            transcripts.append((len(rows), len(raw), s.transcript_zstd if s.transcript_zstd is not None
                                else zc.compress(raw)))
        rows.append(sample_row(s))
        held += len(s.transcript_json or b"") + len(s.input_text) + len(s.answer)
        if len(rows) >= size or held >= max_bytes or seen == count:
            yield Batch(rows, transcripts, bytes_done(), last=seen >= count)
            rows, transcripts, held = [], [], 0
    if rows:  # fewer samples than `count` (not met: sample_range yields each member or raises)
        yield Batch(rows, transcripts, bytes_done())


def run(request: Request, fd: int) -> None:
    """Read this process's share of the log (its chunks of `request.chunk` samples, one after another,
    found in the directory from `request.starts`) and send it as batches, each chunk's last one marked,
    then Done."""
    try:
        directory = SampleDirectory(request.count, request.end, array("Q", request.starts),
                                    frozenset(request.skip), request.replace)
        share = SampleShare(directory, request.chunk, request.starts, request.firsts)
        log = open_eval_samples(request.path, Limits(**request.limits), share)
        try:
            for start in range(0, log.count, request.chunk):
                stop = min(log.count, start + request.chunk)
                for b in batches(log.sample_range(start, stop), stop - start, request.batch, request.batch_bytes,
                                 log.bytes_done):
                    _send(fd, b)
            _send(fd, Done(log.bytes_done()))
        finally:
            log.close()
    except IngestError as exc:
        _send(fd, Failure("ingest", exc.problem))
    except FrontierError as exc:
        _send(fd, Failure("frontier", str(exc)))
    except Exception as exc:
        _send(fd, Failure("other", f"{type(exc).__name__}: {exc}"[:2000]))


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts, left = [], n
    while left:
        part = os.read(fd, min(left, 1 << 20))
        if not part:
            return None
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def read_request(fd: int) -> Request | None:
    """The parent's one request, or None when it closed the pipe without sending one (a process
    started ahead of an import that did not come)."""
    head = _read_exactly(fd, HEADER)
    if head is None:
        return None
    length = int.from_bytes(head, "little")
    body = _read_exactly(fd, length) if length <= MAX_REQUEST else None
    return None if body is None else REQUEST_DECODER.decode(body)


def main(argv: list[str]) -> int:
    # The channel is a private copy of stdout; fd 1 itself goes to /dev/null, so nothing else
    # printed in this process (a warning, a library's message) can corrupt the message stream.
    fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sandbox()
    # Started before it is needed (parse_process.warm), so numpy's import is paid ahead of the
    # import too: it counts a 25 KB sample's brackets in 4.5 us instead of the byte method's 17.
    jsonread.load_numpy()
    try:
        os.write(fd, READY)  # the parent counts this process as ready to take a log at once
    except BrokenPipeError:
        return 0
    request = read_request(0)
    if request is None:
        return 0
    try:
        run(request, fd)
    except BrokenPipeError:  # the parent stopped reading (cancel, or it went away)
        return 1
    return 0


if __name__ == "__main__":
    # Everything it sends is written (os.write, unbuffered) before main returns, and it holds no file
    # open for writing, so it ends at once: the interpreter's clean-up (modules, numpy, the heap) cost
    # each process 15-30 ms of CPU while its parent committed the import. docs/PERFORMANCE.md "Tenth pass".
    os._exit(main(sys.argv))
