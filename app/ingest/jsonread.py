"""Bounded JSON reading for untrusted logs.

- bare NaN / Infinity / -Infinity are accepted (Inspect and lm-eval write them);
- numbers that overflow (1e999) become +/-inf instead of failing; integers too long for Python
  (beyond sys.int_info.str_digits_check_threshold digits) are rejected with a clear message;
- nesting deeper than the interpreter can recurse is rejected with a clear message;
- bytes that are not UTF-8 are rejected naming the byte offset;
- a lone surrogate escape ("\\ud800", which JSON allows) becomes U+FFFD in the parsed value: such a
  string cannot be encoded as UTF-8, so storing or sending it would fail later, far from the file;
- a streaming reader walks one top-level object key by key and an array element by element,
  so a multi-GB Inspect .json log is never held whole.
Every failure is an IngestError naming the file and the place.

Speed: msgspec (a C parser) parses first. It is stricter than the rules above (it rejects NaN,
1e999, lone surrogate escapes, a byte-order mark and very long integers), so whatever it refuses is
parsed again by the standard library's scanner, which accepts it or names the problem exactly as
before: msgspec only ever answers for documents on which both parsers agree. `ObjectFields` asks
msgspec for a few top-level keys and lets it skip the rest at C speed, after the cheap whole-text
checks (depth, UTF-8, integer length) that a skipped part must still pass.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
import threading
from collections.abc import Iterator
from typing import IO, Any

import msgspec

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
        if _opening_brackets(data) <= limit:  # brackets bound the depth
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


_NUMPY_FROM = 4096  # shorter texts are counted quicker by a byte method than through numpy
_CHUNK = 1 << 20  # numpy's temporaries stay this small whatever the text's size
_np: Any = None  # numpy once load_numpy has imported it; until then the byte method counts
_loading = threading.Lock()


def load_numpy() -> None:
    global _np
    import numpy  # not at module import: the command line starts without it

    _np = numpy


NUMPY_IMPORT_FROM = 32 << 20  # bytes of log: numpy saves 5-10 us per 25 KB sample, its import ~0.1 s


def use_numpy(expected_bytes: int) -> None:
    """Count brackets with numpy for a read of about `expected_bytes`: at once if numpy is loaded
    already (the desktop app loads it at start); on a thread of its own if the read is large enough
    to repay its import; otherwise not (the byte method gives the same count). Before this, the
    first text over _NUMPY_FROM bytes imported numpy on the import's critical path: a quarter of a
    1,000-sample import's time, to save about 1/100 s on it."""
    if _np is not None:
        return
    if "numpy" in sys.modules:
        load_numpy()
    elif expected_bytes >= NUMPY_IMPORT_FROM:
        load_numpy_in_background()


def load_numpy_in_background() -> None:
    """Import numpy (about 0.1 s of CPU) on a thread of its own; texts counted before it is loaded
    take the byte method."""
    if _np is None and _loading.acquire(blocking=False):
        def load() -> None:
            try:
                load_numpy()
            finally:
                _loading.release()

        threading.Thread(target=load, name="load-numpy", daemon=True).start()


def _opening_brackets(data: bytes) -> int:
    """How many '[' and '{' bytes `data` holds. numpy counts a long text vectorised, in chunks (about
    twice as fast as a byte method, and its loops leave the GIL to the importer's writer thread)."""
    np = _np
    if len(data) < _NUMPY_FROM or np is None:
        return len(data) - len(data.translate(None, b"[{"))
    a = np.frombuffer(data, np.uint8)
    # '[' is 0x5B and '{' 0x7B: the only two bytes that OR 0x20 turns into 0x7B
    if len(a) <= _CHUNK:
        return int(np.count_nonzero((a | 0x20) == 0x7B))
    return sum(int(np.count_nonzero((a[i:i + _CHUNK] | 0x20) == 0x7B)) for i in range(0, len(a), _CHUNK))


_DIGITS = re.compile(rb"[0-9]*")
_DIGIT_CHARS = b"0123456789"


def long_digit_run(data: bytes) -> bool:
    """True if `data` holds more consecutive digits than Python converts to int (a number the
    standard scanner rejects; inside a string it is harmless, and the standard path will say so).

    A run of limit+1 digits covers two consecutive multiples of step = (limit+1)//2, so only the
    bytes at those positions are looked at, and a run measured only where both are digits.
    """
    limit = sys.get_int_max_str_digits()
    if not limit or len(data) <= limit:
        return False
    step = (limit + 1) // 2
    for p in range(step, len(data), step):
        if 0x30 <= data[p] <= 0x39 and 0x30 <= data[p - step] <= 0x39:
            end = _DIGITS.match(data, p).end()  # type: ignore[union-attr]
            before = data[max(0, p - limit):p]
            if end - p + len(before) - len(before.rstrip(_DIGIT_CHARS)) > limit:
                return True
    return False


_FAST = msgspec.json.Decoder()
_SPAN = msgspec.json.Decoder(msgspec.Raw)  # validates one value and skips it without building it
_FAST_REFUSED = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
_FAST_GROWTH = 16 << 20  # a value still cut after this many bytes goes through the standard scanner
_TRAILING = re.compile(r"trailing characters \(byte (\d+)\)")


# Default hooks keep the C scanner on its fast path; an integer longer than Python's digit limit
# surfaces as ValueError("Exceeds the limit ...") and is reported as such.
_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
_WS_B = re.compile(rb"[ \t\n\r]*")
_DELIMITER = re.compile(r'[,:\]}"]')  # after a parse error at the end of a file: more JSON follows


# A surrogate escape in JSON text (\uD800 to \uDFFF): a pair becomes one character, a lone one
# stays a surrogate in the parsed str (an escaped backslash before "ud800" only costs a walk).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(value: Any, text: str) -> Any:
    """`value`, parsed from the JSON `text`, with every lone surrogate in a string or key replaced
    by U+FFFD; `value` itself when `text` holds no surrogate escape (the usual case: one C search)."""
    return _no_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


def _no_lone_surrogates(value: Any) -> Any:
    # recursion bounded by the parser's: the value was parsed without RecursionError
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_no_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_SURROGATE.sub("\ufffd", k): _no_lone_surrogates(v) for k, v in value.items()}
    return value


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
    if not too_deep(data):
        try:
            return _FAST.decode(data)
        except _FAST_REFUSED:
            pass  # NaN, 1e999, a BOM, bad UTF-8, bad syntax...: the standard path decides and names it
    return _loads_std(data, path, where)


def _loads_std(data: bytes | str, path: str, where: str) -> Any:
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
    return without_lone_surrogates(value, text)  # msgspec refuses lone surrogates: only this path meets them


def loads_object(data: bytes | str, path: str, where: str = "") -> dict[str, Any]:
    value = loads(data, path, where)
    if not isinstance(value, dict):
        place = f"{where}: " if where else ""
        raise IngestError(path, f"{place}expected a JSON object, found {type(value).__name__}")
    return value


class ObjectFields:
    """Decode only some top-level keys of a JSON object; msgspec validates and skips the rest.

    `decode` returns a dict holding the wanted keys that are present (or, when the document is not
    an object, the parsed value, for the caller to reject). Every bound of `loads` holds for the
    whole document, skipped parts included, so a transcript stored raw can always be parsed later.
    """

    def __init__(self, fields: tuple[str, ...] | type[msgspec.Struct]) -> None:
        """`fields`: the keys wanted, or a Struct naming them whose fields may be Structs in turn (so that
        msgspec also skips what is not wanted inside a wanted object); a document whose values do not
        fit the Struct is read whole by the standard path, and only its top-level keys picked."""
        if isinstance(fields, tuple):
            self.fields = fields
            struct = msgspec.defstruct("Fields", [(f, Any, msgspec.UNSET) for f in fields])
        else:
            self.fields, struct = fields.__struct_fields__, fields
        self._decoder = msgspec.json.Decoder(struct)

    def decode(self, data: bytes, path: str, where: str = "", checked: bool | None = None) -> Any:
        """`checked`: the caller's `cheap_checks_pass(data)` (None: not known), or False when msgspec
        already refused the document (the standard scanner decides at once)."""
        if checked or (checked is None and cheap_checks_pass(data)):
            try:
                obj = self._decoder.decode(data)
            except _FAST_REFUSED:
                pass
            else:
                return {f: _plain(v) for f in self.fields if (v := getattr(obj, f)) is not msgspec.UNSET}
        value = _loads_std(data, path, where)
        return {f: value[f] for f in self.fields if f in value} if isinstance(value, dict) else value


def _plain(value: Any) -> Any:
    """A decoded Struct (an ObjectFields part) as the dict the standard path gives, less what it skipped."""
    if isinstance(value, msgspec.Struct):
        return {f: _plain(v) for f in value.__struct_fields__ if (v := getattr(value, f)) is not msgspec.UNSET}
    return value


def cheap_checks_pass(data: bytes) -> bool:
    """True if `data` passes the whole-text checks before msgspec may answer for it: nesting depth,
    UTF-8 and digit runs (msgspec skips unknown fields without checking any of the three, and a part
    it skips must still pass them)."""
    return not (too_deep(data) or not (data.isascii() or _valid_utf8(data)) or long_digit_run(data))


FAST_REFUSED = _FAST_REFUSED  # what msgspec raises for a document the standard scanner must decide


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class StreamingObject:
    """Walk a top-level JSON object `{ "k": v, ... }` from a binary stream, key by key.

    `items()` yields (key, value) for ordinary keys; for a key named in `stream_arrays` it yields
    (key, ArrayStream) whose elements must be consumed before the walk continues. Memory is
    bounded by the largest single value (or array element), capped at `max_value_bytes`.

    The buffer holds bytes (UTF-8 is validated as they are read). A value lying whole in the
    buffer is delimited by msgspec at C speed; one that crosses the end of the buffer, or that
    msgspec refuses (NaN, lone surrogates...), goes through the standard scanner as before.
    """

    def __init__(self, raw: IO[bytes], path: str, max_value_bytes: int, chunk: int = 1 << 20) -> None:
        self._raw = raw
        self._path = path
        self._max = max_value_bytes
        self._chunk = chunk
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")  # validation only
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._consumed = 0  # bytes dropped from the front of the buffer
        self.bytes_read = 0

    # -- buffer ---------------------------------------------------------------------------------
    def _fill(self) -> bool:
        if self._eof:
            return False
        data = self._raw.read(self._chunk)
        start = self.bytes_read
        self.bytes_read += len(data)
        try:
            self._utf8.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise IngestError(self._path, f"invalid UTF-8 near byte {start + exc.start}") from None
        if not data:
            self._eof = True
        if self._pos > (1 << 20):
            self._consumed += self._pos
            self._buf = self._buf[self._pos:]
            self._pos = 0
        if start == 0 and data.startswith(b"\xef\xbb\xbf"):
            self._consumed += 3  # a byte-order mark is not part of the JSON text
            data = data[3:]
        self._buf += data
        return bool(data)

    def _skip_ws(self) -> None:
        while True:
            m = _WS_B.match(self._buf, self._pos)
            self._pos = m.end() if m else self._pos
            if self._pos < len(self._buf) or not self._fill():
                return

    def _peek(self) -> str:
        self._skip_ws()
        if self._pos >= len(self._buf):
            raise IngestError(self._path, f"file ends unexpectedly at byte {self._offset()} "
                              "(truncated JSON, or the media was removed)")
        return chr(self._buf[self._pos])

    def _expect(self, ch: str) -> None:
        got = self._peek()
        if got != ch:
            raise IngestError(self._path, f"invalid JSON at byte {self._offset()}: expected '{ch}', "
                              f"found '{got}'")
        self._pos += 1

    def _offset(self) -> int:
        return self._consumed + self._pos

    def _value(self, what: str) -> Any:
        return loads(self._span(what), self._path, what)

    def _span(self, what: str) -> bytes:
        """The bytes of the next JSON value (checked to be one whole value), consumed."""
        self._skip_ws()
        while True:
            try:
                _SPAN.decode(memoryview(self._buf)[self._pos:])
            except msgspec.DecodeError as exc:
                message = str(exc)
                m = _TRAILING.match(message.removeprefix("JSON is malformed: "))
                if m is None:
                    if message == "Input data was truncated" and not self._eof and \
                            len(self._buf) - self._pos <= min(_FAST_GROWTH, self._max):
                        # most likely cut by the end of the buffer: read on and try again at C speed
                        self._chunk = min(max(self._chunk, len(self._buf) - self._pos), 64 << 20)
                        self._fill()
                        continue
                    # refused (NaN, a lone surrogate...) or still cut after _FAST_GROWTH bytes (or the
                    # cap): the standard scanner decides, and enforces the cap
                    return self._span_std(what)
                # msgspec counts the offending byte from 1: `end` is the first non-blank byte after
                # the value. The span is parsed again by the caller, so a wrong cut cannot pass.
                end = self._pos + int(m.group(1)) - 1
            except RecursionError:
                raise IngestError(self._path, f"{what}: JSON nested more than {MAX_DEPTH} levels deep") from None
            else:
                end = len(self._buf)
                if not self._eof:  # a number at the very end of the buffer might go on
                    self._fill()
                    continue
            span = self._buf[self._pos:end]
            self._pos = end
            return span

    def _span_std(self, what: str) -> bytes:
        # The standard scanner on text; a value cut by the end of the buffer is read further
        # (doubling), unless it is already larger than allowed.
        while True:
            text, _ = codecs.utf_8_decode(self._buf[self._pos:], "strict", False)
            try:
                _, end = _DECODER.raw_decode(text, 0)
            except json.JSONDecodeError as exc:
                if not self._eof and self._incomplete(exc, len(text)):
                    if len(self._buf) - self._pos > self._max:
                        raise IngestError(self._path, f"{what} is larger than the {self._max >> 20} MiB limit "
                                          "for one JSON value") from None
                    self._chunk = min(max(self._chunk, (len(self._buf) - self._pos)), 64 << 20)
                    self._fill()
                    continue
                byte = self._offset() + len(text[:exc.pos].encode("utf-8", "surrogatepass"))
                if self._eof and self._cut_short(exc, text):
                    raise IngestError(self._path, f"{what}: file ends unexpectedly at byte {self.bytes_read} "
                                      "(truncated JSON, or the media was removed)") from None
                raise IngestError(self._path, f"{what}: invalid JSON at byte {byte}: {exc.msg}") from None
            except (ValueError, RecursionError) as exc:
                raise IngestError(self._path, f"{what}: {_describe(exc)}") from None
            if end >= len(text) and not self._eof:
                self._fill()
                continue
            n = len(text[:end].encode("utf-8", "surrogatepass"))
            span = self._buf[self._pos:self._pos + n]
            self._pos += n
            return span

    @staticmethod
    def _cut_short(exc: json.JSONDecodeError, text: str) -> bool:
        """At the end of the file: the value stops before it is whole (nothing but the start of a
        literal, a number or blanks after the error), rather than holding a wrong byte."""
        return exc.msg.startswith("Unterminated string") or _DELIMITER.search(text, exc.pos) is None

    @staticmethod
    def _incomplete(exc: json.JSONDecodeError, length: int) -> bool:
        # A value cut by the end of the buffer fails either near the end (partial literal,
        # number, escape or missing delimiter) or as an unterminated string reported at its start.
        return exc.pos >= length - 64 or exc.msg.startswith("Unterminated string")

    def items(self, stream_arrays: frozenset[str] = frozenset()) -> Iterator[tuple[str, Any]]:
        self._expect("{")
        if self._peek() == "}":
            self._pos += 1
            return
        while True:
            key = self._value("object key")
            if not isinstance(key, str):
                raise IngestError(self._path, f"invalid JSON at byte {self._offset()}: key is not a string")
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
                raise IngestError(self._path, f"invalid JSON at byte {self._offset() - 1}: expected ',' or "
                                  f"'}}', found '{sep}'")


class ArrayStream:
    """Elements of one JSON array inside a StreamingObject, one at a time: parsed values, or with
    `raw()` each element's bytes (a whole, syntactically valid JSON value) for the caller to parse."""

    def __init__(self, owner: StreamingObject, key: str) -> None:
        self._o = owner
        self._key = key
        self._started = False
        self._done = False
        self.index = 0

    def __iter__(self) -> Iterator[Any]:
        for span in self.raw():
            yield loads(span, self._o._path, f"{self._key}[{self.index - 1}]")

    def raw(self) -> Iterator[bytes]:
        o = self._o
        if not self._started:
            o._expect("[")
            self._started = True
            if o._peek() == "]":
                o._pos += 1
                self._done = True
        while not self._done:
            span = o._span(f"{self._key}[{self.index}]")
            self.index += 1
            yield span
            sep = o._peek()
            o._pos += 1
            if sep == "]":
                self._done = True
            elif sep != ",":
                raise IngestError(o._path, f"{self._key}[{self.index}]: expected ',' or ']', found '{sep}'")

    def drain(self) -> None:
        for _ in self.raw():
            pass
