"""Small typed accessors for versioned JSON documents; every error names the file and the field path."""

from __future__ import annotations

import re
from typing import Any

from app.model.errors import IngestError
from app.model.results import INT64_MAX, finite_float

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Fields:
    """Reads fields of one JSON object found at `where` in file `path`."""

    def __init__(self, obj: Any, path: str, where: str) -> None:
        if not isinstance(obj, dict):
            raise IngestError(path, f"{where or 'document'}: expected a JSON object, found {type(obj).__name__}")
        self.obj: dict[str, Any] = obj
        self.path = path
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> IngestError:
        return IngestError(self.path, f"{self.at(key)}: {problem}")

    def only(self, allowed: set[str]) -> None:
        extra = sorted(set(self.obj) - allowed)
        if extra:
            raise self.fail(extra[0], "unknown field (check the spelling against the documented format)")

    def text(self, key: str, required: bool = True, max_len: int = 20_000, default: str = "") -> str:
        if key not in self.obj:
            if required:
                raise self.fail(key, "missing required field")
            return default
        value = self.obj[key]
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, found {type(value).__name__}")
        if required and not value.strip():
            raise self.fail(key, "must not be empty")
        if len(value) > max_len:
            raise self.fail(key, f"is longer than {max_len:,} characters")
        # Untrusted text: drop control characters except newline and tab.
        return "".join(ch for ch in value if ch in "\n\t" or ord(ch) >= 32)

    def ident(self, key: str) -> str:
        value = self.text(key)
        if not ID_RE.match(value):
            raise self.fail(key, f"{value!r} is not a valid id (letters, digits, '.', '_', '-'; at most 64)")
        return value

    def integer(self, key: str, minimum: int = 1) -> int:
        value = self.obj.get(key)
        if key not in self.obj:
            raise self.fail(key, "missing required field")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, found {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}")
        if value > INT64_MAX:  # versions and counts are stored: SQLite raised OverflowError beyond 64 bits
            raise self.fail(key, f"must be at most {INT64_MAX}")
        return value

    def number(self, key: str, positive: bool = False) -> float:
        if key not in self.obj:
            raise self.fail(key, "missing required field")
        value = self.obj[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, found {value!r}")
        f = finite_float(value)
        if f is None:
            raise self.fail(key, "must be a finite number")
        if positive and f <= 0:
            raise self.fail(key, "must be greater than zero")
        return f

    def boolean(self, key: str, default: bool) -> bool:
        value = self.obj.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, found {value!r}")
        return value

    def array(self, key: str, required: bool = True) -> list[Any]:
        if key not in self.obj:
            if required:
                raise self.fail(key, "missing required field")
            return []
        value = self.obj[key]
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, found {type(value).__name__}")
        return value

    def format_header(self, expected: str, supported: int) -> None:
        fmt = self.text("format")
        if fmt != expected:
            raise self.fail("format", f"is {fmt!r}; expected {expected!r}")
        version = self.integer("format_version")
        if version > supported:
            raise self.fail("format_version", f"{version} is newer than this workstation reads ({supported})")
