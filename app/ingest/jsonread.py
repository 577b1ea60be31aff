"""Bounded JSON reading for untrusted logs.

- bare NaN / Infinity / -Infinity are accepted (Inspect and lm-eval write them);
- numbers that overflow (1e999) become +/-inf instead of failing; integers too long for Python
  (beyond sys.int_info.str_digits_check_threshold digits) are rejected with a clear message;
- nesting deeper than the interpreter can recurse is rejected with a clear message;
- bytes that are not UTF-8 are rejected naming the byte offset;
- a streaming reader walks one top-level object key by key and an array element by element,
  so a multi-GB Inspect .json log is never held whole.
Every failure is an IngestError naming the file and the place.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from app.model.errors import IngestError

MAX_DEPTH = 512  # nesting levels accepted; deeper input is rejected before any Python code recurses into it
_STRING_B = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_STRING_T = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET_B = bytes(range(256)).translate(None, b"[]{}")
_NOT_BRACKET_T = re.compile(r"[^\[\]{}]+")


def too_deep(data: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """True if the JSON text nests deeper than `limit`, checked at C speed on the raw text.

    Python's C JSON scanner accepts thousands of levels, but anything that later walks the value
    in Python (attachment resolution, re-encoding) would hit the recursion limit; so depth is
    bounded here. Strings are removed first (brackets inside text do not count), then innermost
    bracket pairs are stripped once per level.
    """
    if isinstance(data, bytes):
        if data.count(b"[") + data.count(b"{") <= limit:
            return False
        brackets = _STRING_B.sub(b"", data).translate(None, _NOT_BRACKET_B).decode("ascii")
    else:
        if data.count("[") + data.count("{") <= limit:
            return False
        brackets = _NOT_BRACKET_T.sub("", _STRING_T.sub("", data))
    for _ in range(limit):
        before = len(brackets)
        brackets = brackets.replace("[]", "").replace("{}", "")
        if not brackets or len(brackets) == before:
            return False  # fully matched within the limit, or unbalanced (the parser will say so)
    return bool(brackets)


# Default hooks keep the C scanner on its fast path; an integer longer than Python's digit limit
# surfaces as ValueError("Exceeds the limit ...") and is reported as such.
_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply (more levels than this reader accepts)"
    if "Exceeds the limit" in str(exc):
        return "integer with too many digits (over Python's limit for converting text to int)"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
    return f"invalid JSON: {exc}"


def decode_utf8(data: bytes, path: str, where: str = "") -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        place = f"{where}: " if where else ""
        raise IngestError(path, f"{place}invalid UTF-8 at byte {exc.start}") from None
    return text.removeprefix("\ufeff")


def loads(data: bytes | str, path: str, where: str = "") -> Any:
    """Parse one JSON document (bytes are decoded as strict UTF-8)."""
    text = decode_utf8(data, path, where) if isinstance(data, bytes) else data
    place = f"{where}: " if where else ""
    if not text.strip():
        raise IngestError(path, f"{place}empty JSON document")
    if too_deep(data):
        raise IngestError(path, f"{place}JSON nested more than {MAX_DEPTH} levels deep")
    try:
        value, end = _DECODER.raw_decode(text, _WS.match(text, 0).end())  # type: ignore[union-attr]
    except (ValueError, RecursionError) as exc:
        raise IngestError(path, place + _describe(exc)) from None
    if text[_WS.match(text, end).end():]:  # type: ignore[union-attr]
        raise IngestError(path, f"{place}extra data after the JSON document (offset {end})")
    return value


def loads_object(data: bytes | str, path: str, where: str = "") -> dict[str, Any]:
    value = loads(data, path, where)
    if not isinstance(value, dict):
        place = f"{where}: " if where else ""
        raise IngestError(path, f"{place}expected a JSON object, found {type(value).__name__}")
    return value


class StreamingObject:
    """Walk a top-level JSON object `{ "k": v, ... }` from a binary stream, key by key.

    `items()` yields (key, value) for ordinary keys; for a key named in `stream_arrays` it yields
    (key, ArrayStream) whose elements must be consumed before the walk continues. Memory is
    bounded by the largest single value (or array element), capped at `max_value_bytes`.
    """

    def __init__(self, raw: IO[bytes], path: str, max_value_bytes: int, chunk: int = 1 << 20) -> None:
        self._raw = raw
        self._path = path
        self._max = max_value_bytes
        self._chunk = chunk
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._consumed_chars = 0  # characters dropped from the front of the buffer
        self.bytes_read = 0

    # -- buffer ---------------------------------------------------------------------------------
    def _fill(self, need_more: bool = True) -> bool:
        if self._eof:
            return False
        data = self._raw.read(self._chunk)
        self.bytes_read += len(data)
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise IngestError(self._path, f"invalid UTF-8 near byte {self.bytes_read - len(data) + exc.start}") \
                from None
        if not data:
            self._eof = True
        if self._pos > (1 << 20):
            self._consumed_chars += self._pos
            self._buf = self._buf[self._pos:]
            self._pos = 0
        self._buf += text
        return bool(data) or bool(text)

    def _skip_ws(self) -> None:
        while True:
            m = _WS.match(self._buf, self._pos)
            self._pos = m.end() if m else self._pos
            if self._pos < len(self._buf) or not self._fill():
                return

    def _peek(self) -> str:
        self._skip_ws()
        if self._pos >= len(self._buf):
            raise IngestError(self._path, f"file ends unexpectedly at character {self._offset()} "
                              "(truncated JSON, or the media was removed)")
        return self._buf[self._pos]

    def _expect(self, ch: str) -> None:
        got = self._peek()
        if got != ch:
            raise IngestError(self._path, f"invalid JSON at character {self._offset()}: expected '{ch}', "
                              f"found '{got}'")
        self._pos += 1

    def _offset(self) -> int:
        return self._consumed_chars + self._pos

    def _value(self, what: str) -> Any:
        self._skip_ws()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                # Incomplete value at the end of the buffer: read more and retry (doubling),
                # unless the value is already larger than allowed.
                if not self._eof and self._incomplete(exc):
                    if len(self._buf) - self._pos > self._max:
                        raise IngestError(self._path, f"{what} is larger than the {self._max >> 20} MiB limit "
                                          "for one JSON value") from None
                    self._chunk = min(max(self._chunk, (len(self._buf) - self._pos)), 64 << 20)
                    self._fill()
                    continue
                raise IngestError(self._path, f"{what}: invalid JSON at character "
                                  f"{self._consumed_chars + exc.pos}: {exc.msg}") from None
            except (ValueError, RecursionError) as exc:
                raise IngestError(self._path, f"{what}: {_describe(exc)}") from None
            # A number at the very end of the buffer might continue in the next chunk.
            if end >= len(self._buf) and not self._eof:
                self._fill()
                continue
            if isinstance(value, dict | list) and too_deep(self._buf[self._pos:end]):
                raise IngestError(self._path, f"{what}: JSON nested more than {MAX_DEPTH} levels deep")
            self._pos = end
            return value

    def _incomplete(self, exc: json.JSONDecodeError) -> bool:
        # A value cut by the end of the buffer fails either near the end (partial literal,
        # number, escape or missing delimiter) or as an unterminated string reported at its start.
        return exc.pos >= len(self._buf) - 64 or exc.msg.startswith("Unterminated string")

    def items(self, stream_arrays: frozenset[str] = frozenset()) -> Iterator[tuple[str, Any]]:
        self._expect("{")
        if self._peek() == "}":
            self._pos += 1
            return
        while True:
            key = self._value("object key")
            if not isinstance(key, str):
                raise IngestError(self._path, f"invalid JSON at character {self._offset()}: key is not a string")
            self._expect(":")
            if key in stream_arrays and self._peek() == "[":
                arr = ArrayStream(self, key)
                yield key, arr
                arr.drain()
            else:
                yield key, self._value(f"value of '{key}'")
            sep = self._peek()
            self._pos += 1
            if sep == "}":
                return
            if sep != ",":
                raise IngestError(self._path, f"invalid JSON at character {self._offset() - 1}: expected ',' or "
                                  f"'}}', found '{sep}'")


class ArrayStream:
    """Elements of one JSON array inside a StreamingObject, parsed one at a time."""

    def __init__(self, owner: StreamingObject, key: str) -> None:
        self._o = owner
        self._key = key
        self._started = False
        self._done = False
        self.index = 0

    def __iter__(self) -> Iterator[Any]:
        o = self._o
        if not self._started:
            o._expect("[")
            self._started = True
            if o._peek() == "]":
                o._pos += 1
                self._done = True
        while not self._done:
            value = o._value(f"{self._key}[{self.index}]")
            self.index += 1
            yield value
            sep = o._peek()
            o._pos += 1
            if sep == "]":
                self._done = True
            elif sep != ",":
                raise IngestError(o._path, f"{self._key}[{self.index}]: expected ',' or ']', found '{sep}'")

    def drain(self) -> None:
        for _ in self:
            pass
