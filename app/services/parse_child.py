"""The parser process: reads one Inspect .eval log by path and sends its parent ready rows.

    python -m app.services.parse_child '{"path": ..., "limits": {...}, "batch": 500, "batch_bytes": ...,
                                          "chunk": 500, "part": 0, "parts": 2}'

Started by app/services/parse_process.py with a minimal environment: it is given a path and the
readers' limits, never the passphrase, a key or the database. It reads, checks CRC-32, decompresses,
runs every bound the in-process reader runs (it is the same code: app.ingest.inspect_log), builds
each sample's row and transcript frame (storage/sample_prep.py), and writes batches to its stdout
(app/services/parse_wire.py). With `parts` processes, this one reads chunks part, part + parts, ...
of `chunk` samples each; the parent takes the processes' chunks in turn, so rows arrive in log
order. An error becomes one Failure message, then the process exits. Before it opens the log it
refuses, for the rest of its life, sockets, starting programs and opening files
for writing (an audit hook): a parser that a hostile file got control of still cannot reach the
network or the disk through Python.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from app.ingest.inspect_log import open_eval_samples
from app.ingest.logfile import Limits
from app.model.errors import FrontierError, IngestError
from app.model.results import SampleResult
from app.services.parse_wire import Batch, Done, Failure, Message, frame
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


def batches(samples: Iterator[SampleResult], size: int, max_bytes: int,
            bytes_done: Callable[[], int]) -> Iterator[Batch]:
    """The same cut as the in-process reader (app/services/results._Prefetch): `size` samples or
    `max_bytes` of transcript and text, whichever comes first. The last one has `last` set."""
    zc = plain_compressor()
    rows: list[Any] = []
    transcripts: list[tuple[int, int, bytes]] = []
    held = 0
    ready: Batch | None = None  # held back one step, so the chunk's last batch can say so
    for s in samples:
        raw = raw_transcript(s)
        if raw is not None:
            # an .eval member's own Zstandard frame is stored as it is; DEFLATE members are compressed
            transcripts.append((len(rows), len(raw), s.transcript_zstd if s.transcript_zstd is not None
                                else zc.compress(raw)))
        rows.append(sample_row(s))
        held += len(s.transcript_json or b"") + len(s.input_text) + len(s.answer)
        if len(rows) >= size or held >= max_bytes:
            if ready is not None:
                yield ready
            ready = Batch(rows, transcripts, bytes_done(), last=False)
            rows, transcripts, held = [], [], 0
    if rows:
        if ready is not None:
            yield ready
        ready = Batch(rows, transcripts, bytes_done())
    if ready is not None:
        ready.last = True
        yield ready


def chunks(count: int, chunk: int, part: int, parts: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of the chunks of `count` samples that process `part` of `parts` reads: every
    parts-th chunk of `chunk` samples, so the parent reads the processes in turn, in log order."""
    for start in range(part * chunk, count, parts * chunk):
        yield start, min(count, start + chunk)


def run(request: dict[str, Any], fd: int) -> None:
    path = request["path"]
    # Brackets are counted by the byte method, not numpy: numpy would save about 7 us of a 25 KB
    # sample's 60 (5-10 % of this process's CPU) for 13 MB more in each parser process.
    try:
        log = open_eval_samples(path, Limits(**request["limits"]))  # the parent has read the header
        try:
            for start, stop in chunks(log.count, request["chunk"], request["part"], request["parts"]):
                for b in batches(log.sample_range(start, stop), request["batch"], request["batch_bytes"],
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


def main(argv: list[str]) -> int:
    request = json.loads(argv[1])
    # The channel is a private copy of stdout; fd 1 itself goes to /dev/null, so nothing else
    # printed in this process (a warning, a library's message) can corrupt the message stream.
    fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sandbox()
    try:
        run(request, fd)
    except BrokenPipeError:  # the parent stopped reading (cancel, or it went away)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
