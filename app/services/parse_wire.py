"""What the parser process and its parent send each other: length-prefixed msgpack messages of
plain, typed values. The child says READY (one byte) on its stdout once started; the parent sends
one Request on its stdin; the child answers with Batch, Done and Failure messages on its stdout.

Never pickle: the child parses hostile files, so what it sends is data the parent decodes into
these exact types (msgspec validates them), not objects the parent would construct on its word.
"""

from __future__ import annotations

import msgspec

from storage.sample_prep import Row

HEADER = 8  # bytes of the little-endian length in front of each message
READY = b"R"  # the child's first byte: started, imports and numpy loaded, waiting for its request


class Batch(msgspec.Struct, tag="batch", array_like=True):
    rows: list[Row]
    transcripts: list[tuple[int, int, bytes]]  # (index in rows, raw JSON size, one zstd frame)
    bytes_done: int  # compressed bytes of the log this process has read so far (progress)
    last: bool = True  # the last batch of its chunk: the parent turns to the next process


class Done(msgspec.Struct, tag="done", array_like=True):
    """No chunk is left for this process: the log ends before the chunk the parent asks it for."""

    bytes_done: int


class Failure(msgspec.Struct, tag="failure", array_like=True):
    kind: str  # "ingest": IngestError(path, problem); "frontier": FrontierError(problem); "other"
    problem: str


Message = Batch | Done | Failure


class Request(msgspec.Struct, tag="request", array_like=True):
    """What to read: this process's share of the log's sample members, its chunks of `chunk` samples one
    after another, the i-th from sample `firsts[i]` of `count`; `starts[i]` is the central directory
    mark at or before that sample's entry (app.ingest.safezip.MARK); the directory ends at `end`;
    `skip` and `replace` are the rare repeated names (app.ingest.safezip.SampleDirectory). The process
    reads the entries of its chunks as it goes."""

    path: str
    limits: dict[str, int]
    batch: int
    batch_bytes: int
    chunk: int
    count: int
    end: int
    starts: list[int]
    firsts: list[int]
    skip: list[int]
    replace: dict[int, bytes]


MAX_REQUEST = 1 << 30  # a request lists at most a chunk's start per chunk, and the repeats

ENCODER = msgspec.msgpack.Encoder()
DECODER = msgspec.msgpack.Decoder(Message)
REQUEST_DECODER = msgspec.msgpack.Decoder(Request)


def frame(message: Message | Request) -> tuple[bytes, bytes]:
    body = ENCODER.encode(message)
    return len(body).to_bytes(HEADER, "little"), body
