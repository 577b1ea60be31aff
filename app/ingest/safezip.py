"""A small, defensive ZIP reader for Inspect .eval archives.

Why not `zipfile`: Python 3.12/3.13's zipfile cannot read Zstandard members (method 93), which
current inspect-ai writes, and we want hard limits applied before any byte is inflated. This
reader parses the central directory itself (ZIP64 included), reads members straight from the
archive (never extracting to disk), and:

- rejects member names with `..` segments, absolute paths, drive letters or NUL;
- rejects encrypted members and unknown compression methods by name;
- refuses members whose declared uncompressed size exceeds `max_member_bytes` (zip bomb), and
  stops any member that inflates past its declared size or the cap;
- checks each member's CRC-32;
- resolves duplicate names the way inspect-ai does (an append-mode rewrite supersedes a member:
  the last central-directory entry wins);
- supports Stored (0), DEFLATE (8) and Zstandard (93, multi-frame) members.
"""

from __future__ import annotations

import os
import struct
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import IO, NamedTuple

import zstandard

from app.model.errors import IngestError

STORED, DEFLATED, ZSTANDARD = 0, 8, 93
METHOD_NAMES = {0: "stored", 8: "DEFLATE", 9: "DEFLATE64", 12: "BZIP2", 14: "LZMA", 93: "Zstandard",
                95: "XZ", 98: "PPMd", 99: "AES-encrypted"}
_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"
_EOCD64_LOC = b"PK\x06\x07"
_CDH = b"PK\x01\x02"
# a central directory entry's fixed part: flags, method, CRC-32, sizes, name/extra/comment lengths, offset
_CD_ENTRY = struct.Struct("<8xHH4xIIIHHH8xI")
_LFH = b"PK\x03\x04"
_READ = 1 << 20
_ONE_SHOT = 64 << 20  # members up to this size are decompressed in one call
_WINDOW = 1 << 20  # read-ahead for small members, which inspect-ai writes one after another
_DIRECTORY_PIECE = 1 << 20  # the central directory is read this much at a time (an entry is < 200 KB)


class Member(NamedTuple):
    """A central directory entry (a NamedTuple: an .eval holds one per sample, and a frozen
    dataclass cost more to build than the rest of the entry's parsing)."""

    name: str
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int


class PackedEntries:
    """Directory entries packed: one 32-byte row each (`ROW`), the names' UTF-8 bytes one after another,
    and each name's length. What SafeZip keeps of the members a caller reads in order (an .eval's
    samples: `select`) when this process reads them. 84 bytes an entry with the
    starts of the names (tests/unit/test_safezip_directory.py), where a Member with its name and numbers
    took 260 in a dict (53 MB at 160,000 samples); each Member is built when its entry is read."""

    ROW = struct.Struct("<HHIQQQ")  # method, flags, CRC-32, compressed size, size, local header offset

    def __init__(self, names: bytes | bytearray, lengths: array[int], table: bytes | bytearray) -> None:
        if len(table) != len(lengths) * self.ROW.size:
            raise ValueError(f"{len(lengths)} names but {len(table)} bytes of entries")
        self.starts = array("Q", accumulate(lengths, initial=0))
        if self.starts[-1] != len(names):
            raise ValueError(f"names of {self.starts[-1]} bytes listed, {len(names)} given")
        self.names, self.lengths, self.table = names, lengths, table

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> Member:
        if not 0 <= i < len(self.lengths):
            raise IndexError(i)
        name = self.names[self.starts[i]:self.starts[i + 1]].decode("utf-8")
        return Member(name, *self.ROW.unpack_from(self.table, i * self.ROW.size))

    def index(self, name: str) -> int | None:
        """Where `name` is listed, or None (a scan of the names: for the odd lookup, not per entry)."""
        want = name.encode("utf-8")
        at = self.names.find(want)
        while at >= 0:
            i = bisect_left(self.starts, at)
            if i < len(self) and self.starts[i] == at and self.lengths[i] == len(want):
                return i
            at = self.names.find(want, at + 1)
        return None


_NO_ENTRIES = PackedEntries(b"", array("I"), b"")

MARK = 25  # every MARK-th selected member's directory entry is marked: where a parser process's chunk begins


@dataclass(frozen=True)
class SampleDirectory:
    """What a parser process needs to find its share of the selected members in the central directory
    itself: their number, where the directory ends, the offset of every MARK-th one's entry, and the
    rare repeats (entries to skip; places that take a later entry's row). A few bytes per MARK members,
    whatever the log's size: nobody holds a list of them."""

    count: int
    end: int
    marks: array[int]
    skip: frozenset[int]
    replace: dict[int, bytes]


def _safe_name(name: str) -> bool:
    if not name or "\x00" in name or name.startswith(("/", "\\")):
        return False
    if len(name) > 1 and name[1] == ":":
        return False
    parts = name.replace("\\", "/").split("/")
    return ".." not in parts


class SafeZip:
    """Read-only view of a ZIP file on disk. Use as a context manager."""

    def __init__(self, path: str, max_member_bytes: int, max_members: int = 5_000_000,
                 read_directory: bool = True, select: Callable[[str], object] | None = None,
                 keep: bool = True) -> None:
        """`select`: the members the caller reads in order rather than by name (an .eval's samples). They
        are kept packed (`selected`, in directory order) instead of as Member objects in `members`, or, with
        `keep=False`, only counted and marked (`directory`): parser processes find their shares themselves.

        `read_directory=False`: members are read by entry only (`read_entry`), as another SafeZip of the
        same file listed them (a parser process is handed its share by its parent: PackedEntries). Every
        entry is still checked against the file and the limits as it is read."""
        self.path = path
        self.max_member_bytes = max_member_bytes
        try:
            self._f: IO[bytes] = open(path, "rb")
        except OSError as exc:
            raise IngestError(path, f"cannot be opened: {exc.strerror or exc}") from None
        self.members: dict[str, Member] = {}
        self.selected = _NO_ENTRIES
        self.directory = SampleDirectory(0, 0, array("Q"), frozenset(), {})
        try:
            self.size = os.fstat(self._f.fileno()).st_size
            if read_directory:
                self._read_directory(max_members, select, keep)
        except BaseException:
            self._f.close()
            raise
        self.compressed_read = 0  # bytes of member data read so far (for progress)
        self._zstd = zstandard.ZstdDecompressor()  # reused: creating a context per member costs more than a sample
        self._window = b""
        self._window_at = 0

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._f.close()
        self.members, self.selected = {}, _NO_ENTRIES  # the directory is not needed once closed
        self._window = b""

    @property
    def closed(self) -> bool:
        return self._f.closed

    def _fail(self, problem: str) -> IngestError:
        return IngestError(self.path, problem)

    def _read_at(self, offset: int, n: int) -> bytes:
        try:
            self._f.seek(offset)
            data = self._f.read(n)
        except OSError as exc:
            raise self._fail(f"read failed at byte {offset} ({exc.strerror or exc}); was the media removed?") \
                from None
        if len(data) != n:
            raise self._fail(f"file ends unexpectedly at byte {offset + len(data)} (truncated archive, or the "
                             "media was removed)")
        return data

    def _read_near(self, offset: int, n: int) -> bytes:
        """`_read_at` through a read-ahead window: one read serves the many small members that follow
        each other in an .eval, instead of two reads (local header, data) per member."""
        start = offset - self._window_at
        if 0 <= start and start + n <= len(self._window):
            return self._window[start:start + n]
        if n >= _WINDOW or offset + n > self.size:
            return self._read_at(offset, n)  # large, or past the end: read (and fail) as before
        self._window = self._read_at(offset, min(_WINDOW, self.size - offset))
        self._window_at = offset
        return self._window[:n]

    # -- central directory ------------------------------------------------------------------------
    def _read_directory(self, max_members: int, select: Callable[[str], object] | None, keep: bool) -> None:
        if self.size < 22:
            raise self._fail("not a ZIP archive (too short)")
        tail_len = min(self.size, 22 + 65535)
        tail = self._read_at(self.size - tail_len, tail_len)
        at = tail.rfind(_EOCD, 0, len(tail) - 18)  # the record is 22 bytes: ignore a cut-off one
        if at < 0:
            raise self._fail("ZIP end-of-central-directory record not found: the archive is truncated or "
                             "damaged (an interrupted copy?)")
        (_sig, _disk, _cd_disk, _n_disk, count, cd_size, cd_offset, _clen) = struct.unpack(
            "<4sHHHHIIH", tail[at:at + 22])
        eocd_pos = self.size - tail_len + at
        if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
            count, cd_size, cd_offset = self._zip64_eocd(eocd_pos)
        if count > max_members:
            raise self._fail(f"archive lists {count} members, more than the limit of {max_members}")
        if cd_offset + cd_size > eocd_pos:
            raise self._fail("ZIP central directory lies outside the file (truncated or damaged archive)")
        # A selected name listed twice is rare (an append-mode rewrite): the first pass tells names apart
        # by their hash alone, and only a repeated hash costs a second pass that keeps every name.
        if not self._select(count, cd_offset, cd_offset + cd_size, select, keep, exact=False):
            self._select(count, cd_offset, cd_offset + cd_size, select, keep, exact=True)

    def _select(self, count: int, start: int, end: int, select: Callable[[str], object] | None, keep: bool,
                exact: bool) -> bool:
        """One pass over the directory: `members` (looked up by name), the selected members packed (`keep`)
        and their `SampleDirectory`. Without `exact`, False when a selected name's hash repeats."""
        members: dict[str, Member] = {}
        names, lengths, table, marks = bytearray(), array("I"), bytearray(), array("Q")
        # the names' hashes, 8 bytes each in 256 arrays by their low byte, compared a bucket at a time at
        # the end: a set of them all took 80 bytes a member (a million-sample log: 80 MB)
        hashes = [array("q") for _ in range(256)]
        first: dict[bytes, int] = {}  # exact: each selected name's place
        unique = 0
        skip: set[int] = set()
        replace: dict[int, bytes] = {}
        pack, size = PackedEntries.ROW.pack, PackedEntries.ROW.size
        for at, name, encoded, method, flags, crc, csize, usize, offset in self._walk(start, end, count):
            if select is None or not select(name):
                members[name] = Member(name, method, flags, crc, csize, usize, offset)  # last entry wins
                continue
            if exact:
                place = first.get(encoded)
                if place is not None:  # it keeps its first place and takes this, its last entry
                    skip.add(at)
                    replace[place] = row = pack(method, flags, crc, csize, usize, offset)
                    if keep:
                        table[place * size:(place + 1) * size] = row
                    continue
                first[encoded] = unique
            else:
                key = hash(encoded)
                hashes[key & 255].append(key)
            if unique % MARK == 0:
                marks.append(at)
            unique += 1
            if keep:
                names += encoded
                lengths.append(len(encoded))
                table += pack(method, flags, crc, csize, usize, offset)
        if not exact and any(len(set(bucket)) != len(bucket) for bucket in hashes):
            return False
        self.members = members
        if keep:
            self.selected = PackedEntries(names, lengths, table)
        self.directory = SampleDirectory(unique, end, marks, frozenset(skip), replace)
        return True

    def _walk(self, at: int, end: int, count: int | None) -> Iterator[tuple[int, str, bytes, int, int, int, int, int,
                                                                             int]]:
        """The central directory's entries from offset `at`: `count` of them, or up to `end`, read in 1 MiB
        pieces (the directory of 160,000 samples is 16 MB) and checked; folders left out. Each is (its
        offset, name, name as UTF-8, method, flags, CRC-32, compressed size, size, local header offset)."""
        unpack = _CD_ENTRY.unpack_from  # one call per entry: one per sample
        buf, pos, next_at, index = b"", 0, at, 0
        while index < count if count is not None else next_at - len(buf) + pos < end:
            if pos + 46 > len(buf):
                buf, pos, next_at = self._more_directory(buf, pos, next_at, end)
            if pos + 46 > len(buf) or buf[pos:pos + 4] != _CDH:
                raise self._damaged(index, count, next_at - len(buf) + pos)
            (flags, method, crc, csize, usize, nlen, xlen, clen, offset) = unpack(buf, pos)
            if pos + 46 + nlen + xlen + clen > len(buf):
                buf, pos, next_at = self._more_directory(buf, pos, next_at, end)
                if pos + 46 + nlen + xlen > len(buf):
                    raise self._damaged(index, count, next_at - len(buf) + pos)
            entry_at = next_at - len(buf) + pos
            raw_name = buf[pos + 46:pos + 46 + nlen]
            if usize == 0xFFFFFFFF or csize == 0xFFFFFFFF or offset == 0xFFFFFFFF:
                usize, csize, offset = _zip64_extra(buf[pos + 46 + nlen:pos + 46 + nlen + xlen], usize, csize,
                                                    offset)
            pos += 46 + nlen + xlen + clen
            index += 1
            # ASCII reads the same in UTF-8 and CP437, and decodes in C (CP437 goes through a Python codec)
            if raw_name.isascii():
                name = raw_name.decode("ascii")
            else:
                name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
                raw_name = name.encode("utf-8")
            if not _safe_name(name):
                raise self._fail(f"unsafe member name {name!r} in the archive (absolute path or '..')")
            if flags & 0x1:
                raise self._fail(f"member {name} is encrypted; encrypted logs are not supported")
            if not name.endswith("/"):
                yield entry_at, name, raw_name, method, flags, crc, csize, usize, offset

    def _damaged(self, index: int, count: int | None, at: int) -> IngestError:
        # a parser process walks from a mark: it knows where the entry is, not its number
        return self._fail(f"ZIP central directory entry {index if count is not None else f'at byte {at:,}'} "
                          "is damaged")

    def _more_directory(self, buf: bytes, pos: int, at: int, end: int) -> tuple[bytes, int, int]:
        """What is left of `buf` from `pos`, and the directory's next piece."""
        n = min(_DIRECTORY_PIECE, end - at)
        return (buf[pos:] + self._read_at(at, n), 0, at + n) if n > 0 else (buf[pos:], 0, at)

    def read_selected(self, share: SampleDirectory, first: int, n: int, select: Callable[[str], object],
                      at: int) -> Iterator[Member]:
        """`n` selected members from the `first`-th, walking the directory from the mark at or before it
        (`at`, the entry of member `first - first % MARK`): what a parser process reads of its share,
        finding each entry as it goes instead of holding a list of them. The same entries `_select`
        counted: later entries of a name are skipped, and its first place takes its last entry."""
        index = first - first % MARK
        if n <= 0:
            return
        for _at, name, _enc, method, flags, crc, csize, usize, offset in self._walk(at, share.end, None):
            if not select(name) or _at in share.skip:
                continue
            if index >= first:
                row = share.replace.get(index)
                yield Member(name, *PackedEntries.ROW.unpack(row)) if row is not None else \
                    Member(name, method, flags, crc, csize, usize, offset)
            index += 1
            if index >= first + n:
                return
        raise self._fail(f"the central directory ends before sample member {index + 1} of {share.count} "
                         "(the archive changed while it was read?)")

    def _zip64_eocd(self, eocd_pos: int) -> tuple[int, int, int]:
        if eocd_pos < 20:
            raise self._fail("ZIP64 locator missing (damaged archive)")
        loc = self._read_at(eocd_pos - 20, 20)
        if loc[:4] != _EOCD64_LOC:
            raise self._fail("ZIP64 locator missing (damaged archive)")
        (eocd64_off,) = struct.unpack("<Q", loc[8:16])
        rec = self._read_at(eocd64_off, 56)
        if rec[:4] != _EOCD64:
            raise self._fail("ZIP64 end-of-central-directory record damaged")
        count, cd_size, cd_offset = struct.unpack("<QQQ", rec[32:56])
        return count, cd_size, cd_offset

    # -- members -----------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every member's name: the selected ones (in directory order), then the others."""
        e = self.selected
        return [e.names[e.starts[i]:e.starts[i + 1]].decode("utf-8") for i in range(len(e))] + list(self.members)

    def entry(self, name: str) -> Member | None:
        m = self.members.get(name)
        if m is None and (i := self.selected.index(name)) is not None:
            m = self.selected[i]
        return m

    def __contains__(self, name: str) -> bool:
        return self.entry(name) is not None

    def _check_member(self, m: Member) -> None:
        if m.method not in (STORED, DEFLATED, ZSTANDARD):
            label = METHOD_NAMES.get(m.method, "unknown")
            raise self._fail(f"member {m.name} uses compression method {m.method} ({label}); only stored, "
                             "DEFLATE and Zstandard are supported")
        if m.size > self.max_member_bytes:
            raise self._fail(f"member {m.name} declares {m.size:,} bytes uncompressed, more than the "
                             f"{self.max_member_bytes >> 20} MiB limit (possible zip bomb)")
        if m.header_offset + 30 + m.compressed_size > self.size:
            raise self._fail(f"member {m.name} extends past the end of the file (truncated archive)")

    def iter_chunks(self, name: str) -> Iterator[bytes]:
        """Uncompressed bytes of one member, in chunks, with size caps and CRC check."""
        m = self.entry(name)
        if m is None:
            raise self._fail(f"member {name} is missing from the archive")
        return self.iter_entry_chunks(m)

    def iter_entry_chunks(self, m: Member) -> Iterator[bytes]:
        self._check_member(m)
        header = self._read_at(m.header_offset, 30)
        if header[:4] != _LFH:
            raise self._fail(f"member {m.name}: local header damaged")
        nlen, xlen = struct.unpack("<HH", header[26:30])
        data_start = m.header_offset + 30 + nlen + xlen
        limit = min(m.size, self.max_member_bytes)
        source = _RangeReader(self, data_start, m.compressed_size)
        produced = 0
        crc = 0
        try:
            for out in _inflate(m.method, source):
                produced += len(out)
                if produced > limit:
                    raise self._fail(f"member {m.name} inflates beyond its declared size of {m.size:,} bytes "
                                     "(possible zip bomb)")
                crc = zlib.crc32(out, crc)
                yield out
        except (zlib.error, zstandard.ZstdError) as exc:
            raise self._fail(f"member {m.name} is corrupt ({exc})") from None
        if produced != m.size:
            raise self._fail(f"member {m.name} is {produced:,} bytes, the archive declares {m.size:,} "
                             "(damaged archive)")
        if crc != m.crc:
            raise self._fail(f"member {m.name} fails its CRC-32 check (damaged archive)")

    def read(self, name: str) -> bytes:
        return self.read_member(name)[0]

    def read_member(self, name: str) -> tuple[bytes, bytes | None]:
        """(uncompressed bytes, the member's compressed bytes when they are exactly one Zstandard
        frame, else None). The frame is what an importer may store as is instead of compressing again.

        A member of up to _ONE_SHOT bytes is read and decompressed in one call (the Python loop of
        `iter_chunks` cost more than the decompression); the output is still bounded by the declared
        size, and the size and CRC-32 still checked. Anything unusual (several frames, a size or
        CRC mismatch, a damaged stream) is read again by `iter_chunks`, which names the problem.
        """
        m = self.entry(name)
        if m is None:
            return b"".join(self.iter_chunks(name)), None  # names the missing member
        return self.read_entry(m)

    def read_entry(self, m: Member) -> tuple[bytes, bytes | None]:
        """`read_member` of a directory entry (what the reader was handed, or found by name)."""
        if m.size > _ONE_SHOT or m.method not in (STORED, DEFLATED, ZSTANDARD):
            return b"".join(self.iter_entry_chunks(m)), None
        self._check_member(m)
        header = self._read_near(m.header_offset, 30)
        if header[:4] != _LFH:
            raise self._fail(f"member {m.name}: local header damaged")
        nlen, xlen = struct.unpack("<HH", header[26:30])
        raw = self._read_near(m.header_offset + 30 + nlen + xlen, m.compressed_size)
        self.compressed_read += m.compressed_size
        out = _inflate_once(m, raw, self._zstd)
        if out is None or len(out) != m.size or zlib.crc32(out) != m.crc:
            self.compressed_read -= m.compressed_size
            return b"".join(self.iter_entry_chunks(m)), None  # the careful path says what is wrong
        return out, raw if m.method == ZSTANDARD else None


class _RangeReader:
    """File-like view of one member's compressed bytes (what zstandard's stream_reader reads)."""

    def __init__(self, z: SafeZip, start: int, length: int) -> None:
        self._z = z
        self._pos = start
        self._left = length

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self._left:
            n = self._left
        if n == 0:
            return b""
        data = self._z._read_at(self._pos, n)
        self._pos += n
        self._left -= n
        self._z.compressed_read += n
        return data


def _inflate(method: int, source: _RangeReader) -> Iterator[bytes]:
    """Decompress in pieces of at most _READ bytes: output is bounded per step (zip-bomb safe)."""
    if method == STORED:
        while data := source.read(_READ):
            yield data
    elif method == DEFLATED:
        z = zlib.decompressobj(-15)
        pending = b""
        while not z.eof:
            if not pending:
                pending = source.read(_READ)
                if not pending:
                    # input exhausted: what zlib still holds is at most one window
                    if tail := z.flush():
                        yield tail
                    break
            out = z.decompress(pending, _READ)
            pending = z.unconsumed_tail
            if out:
                yield out
    else:
        # read_across_frames: inspect-ai writes one Zstandard frame per 200 MiB of input
        reader = zstandard.ZstdDecompressor().stream_reader(
            source, read_size=_READ, read_across_frames=True)  # type: ignore[arg-type]
        while data := reader.read(_READ):
            yield data


def _inflate_once(m: Member, raw: bytes, dctx: zstandard.ZstdDecompressor) -> bytes | None:
    """One member's bytes in one call, never more than its declared size; None when that fails."""
    try:
        if m.method == STORED:
            return raw
        if m.method == DEFLATED:
            z = zlib.decompressobj(-15)
            out = z.decompress(raw, m.size + 1)
            return out if z.eof and not z.unconsumed_tail else None
        declared = zstandard.frame_content_size(raw)
        if declared not in (-1, m.size) or m.size == 0:
            return None
        # one frame only (allow_extra_data=False): the compressed bytes are then a complete transcript
        return dctx.decompress(raw, max_output_size=m.size, allow_extra_data=False)
    except (zlib.error, zstandard.ZstdError):
        return None


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack("<HH", extra[pos:pos + 4])
        body = extra[pos + 4:pos + 4 + size]
        if tag == 0x0001:
            fields = []
            i = 0
            while i + 8 <= len(body):
                fields.append(struct.unpack("<Q", body[i:i + 8])[0])
                i += 8
            it = iter(fields)
            if usize == 0xFFFFFFFF:
                usize = next(it, usize)
            if csize == 0xFFFFFFFF:
                csize = next(it, csize)
            if offset == 0xFFFFFFFF:
                offset = next(it, offset)
            break
        pos += 4 + size
    return usize, csize, offset
