"""Transcript codecs: zstd of the JSON alone (`zstd-json`), or with a dictionary trained on the
first transcripts of the run (`zstd-dict-json`, lm-eval samples lines: migration 0027).

A dictionary is stored once per database (transcript_dictionaries, deduplicated by SHA-256) and
named by each transcript compressed with it. Reading checks the dictionary's bytes against its
SHA-256 and the frame against its checksum, so a damaged or wrong dictionary is an error naming the
sample, never garbage text. docs/PERFORMANCE.md "Zstandard dictionary for lm-eval transcripts"
gives the measurements behind the sizes below.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import zstandard

from app.model.errors import StorageError
from storage.db import Connection
from storage.sample_prep import CODEC, ZSTD_LEVEL

DICT_CODEC = "zstd-dict-json"
DICT_SIZE = 32 << 10
# Training reads the run's first transcripts: on distinct 3 KB lines the ratio is flat from 256 lines
# on (9.1-9.2 for 256 to 2,000) while training time grows with them (about 60 ms of CPU for 256,
# 110 for 500, 200 for 1,000, 320 for 2,000); 500 leaves room for files less alike than that.
TRAIN_MAX_SAMPLES = 500
TRAIN_MAX_BYTES = 2 << 20
# Fewer or smaller transcripts than this keep the plain codec: the 32 KiB dictionary would not pay
# for itself (it saves about 0.4 KB per 3 KB line) and zstd's trainer needs enough samples.
TRAIN_MIN_SAMPLES = 256
TRAIN_MIN_BYTES = 256 << 10
MAX_RAW = 1 << 30  # no transcript over 1 GiB is imported: bounds decompression whatever raw_size says


@dataclass(frozen=True)
class Dictionary:
    sha256: str
    data: bytes


def train(raws: Sequence[bytes]) -> Dictionary | None:
    """A dictionary for these transcripts, or None when there are too few to train one that pays.
    Deterministic: the same first transcripts give the same bytes (so dedup by hash works)."""
    if len(raws) < TRAIN_MIN_SAMPLES or sum(map(len, raws)) < TRAIN_MIN_BYTES:
        return None
    try:
        data = zstandard.train_dictionary(DICT_SIZE, list(raws)).as_bytes()
    except zstandard.ZstdError:  # e.g. samples too alike or too small to learn from
        return None
    return Dictionary(hashlib.sha256(data).hexdigest(), data)


_LOCAL = threading.local()  # zstd contexts are not safe to share between threads


def compressor(dictionary: Dictionary | None) -> zstandard.ZstdCompressor:
    """This thread's compressor, plain or for `dictionary` (the last one built is kept)."""
    if dictionary is None:
        zc = getattr(_LOCAL, "plain", None)
        if zc is None:
            zc = _LOCAL.plain = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        return zc
    held = getattr(_LOCAL, "dict_zc", None)
    if held is None or held[0] != dictionary.sha256:
        # The checksum lets a read tell a wrong dictionary from the right one.
        zc = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True,
                                      dict_data=zstandard.ZstdCompressionDict(dictionary.data))
        held = _LOCAL.dict_zc = (dictionary.sha256, zc)
    return held[1]


def store_dictionary(conn: Connection, dictionary: Dictionary, now: str | None = None) -> int:
    """The id of this dictionary in the database, stored now if it is not there yet."""
    r = conn.execute("SELECT id FROM transcript_dictionaries WHERE sha256 = ?", (dictionary.sha256,)).fetchone()
    if r is not None:
        return int(r[0])
    cur = conn.execute("INSERT INTO transcript_dictionaries (sha256, data, created) VALUES (?, ?, ?)",
                       (dictionary.sha256, dictionary.data,
                        now or datetime.now(UTC).isoformat(timespec="seconds")))
    return int(cur.lastrowid or 0)


def decompress(conn: Connection, sample_pk: int, codec: str, raw_size: int, data: bytes,
               dict_id: int | None) -> bytes:
    """The stored transcript's JSON bytes. raw_size bounds the output (a frame kept from an .eval
    member may not declare its size); every failure is a StorageError naming the sample."""
    bound = min(max(int(raw_size), 1), MAX_RAW)
    if codec == CODEC:
        dctx = zstandard.ZstdDecompressor()
    elif codec == DICT_CODEC:
        dctx = _dict_decompressor(conn, sample_pk, dict_id)
    else:
        raise StorageError(f"The stored transcript of sample {sample_pk} uses an unknown codec {codec!r}.")
    try:
        out = dctx.decompress(data, max_output_size=bound)
    except zstandard.ZstdError as exc:
        raise StorageError(f"The stored transcript of sample {sample_pk} is damaged ({exc}).") from None
    if codec == DICT_CODEC and len(out) != raw_size:
        raise StorageError(f"The stored transcript of sample {sample_pk} is damaged (it decompresses to "
                           f"{len(out):,} bytes, {raw_size:,} were stored).")
    return out


def _dict_decompressor(conn: Connection, sample_pk: int, dict_id: int | None) -> zstandard.ZstdDecompressor:
    r = conn.execute("SELECT sha256, data FROM transcript_dictionaries WHERE id = ?", (dict_id,)).fetchone()
    if r is None:
        raise StorageError(f"The stored transcript of sample {sample_pk} cannot be read: its compression "
                           f"dictionary ({dict_id}) is missing from the database.")
    sha, data = str(r[0]), bytes(r[1])
    cache: dict[str, tuple[bytes, zstandard.ZstdDecompressor]] = _LOCAL.__dict__.setdefault("dctx", {})
    held = cache.get(sha)
    if held is not None and held[0] == data:  # same bytes as the ones verified before
        return held[1]
    if hashlib.sha256(data).hexdigest() != sha:
        raise StorageError(f"The stored transcript of sample {sample_pk} cannot be read: its compression "
                           f"dictionary ({dict_id}) is damaged (its SHA-256 does not match).")
    dctx = zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(data))
    if len(cache) >= 8:
        cache.clear()
    cache[sha] = (data, dctx)
    return dctx
