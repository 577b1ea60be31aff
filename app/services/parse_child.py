"""The parser process: reads one Inspect .eval log by path and sends its parent ready rows.

    python -m app.services.parse_child '{"path": ..., "limits": {...}, "batch": 500, "batch_bytes": ...}'

Started by app/services/parse_process.py with a minimal environment: it is given a path and the
readers' limits, never the passphrase, a key or the database. It reads, checks CRC-32, decompresses,
runs every bound the in-process reader runs (it is the same code: app.ingest.inspect_log), builds
each sample's row and transcript frame (storage/sample_prep.py), and writes batches to its stdout
(app/services/parse_wire.py). An error becomes one Failure message, then the process exits. Before
it opens the log it refuses, for the rest of its life, sockets, starting programs and opening files
for writing (an audit hook): a parser that a hostile file got control of still cannot reach the
network or the disk through Python.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from app.ingest.inspect_log import open_eval
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
            bytes_done: Any) -> Iterator[Batch]:
    """The same cut as the in-process reader (app/services/results._Prefetch): `size` samples or
    `max_bytes` of transcript and text, whichever comes first."""
    zc = plain_compressor()
    rows: list[Any] = []
    transcripts: list[tuple[int, int, bytes]] = []
    held = 0
    for s in samples:
        raw = raw_transcript(s)
        if raw is not None:
            # an .eval member's own Zstandard frame is stored as it is; DEFLATE members are compressed
            transcripts.append((len(rows), len(raw), s.transcript_zstd if s.transcript_zstd is not None
                                else zc.compress(raw)))
        rows.append(sample_row(s))
        held += len(s.transcript_json or b"") + len(s.input_text) + len(s.answer)
        if len(rows) >= size or held >= max_bytes:
            yield Batch(rows, transcripts, bytes_done())
            rows, transcripts, held = [], [], 0
    if rows:
        yield Batch(rows, transcripts, bytes_done())


def run(request: dict[str, Any], fd: int) -> None:
    path = request["path"]
    try:
        log = open_eval(path, Limits(**request["limits"]))
        try:
            for run_ in log.runs:
                for b in batches(run_.samples(), request["batch"], request["batch_bytes"], log.bytes_done):
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
