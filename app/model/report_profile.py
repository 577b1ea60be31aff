"""Report profiles: an agency's mandated layout choices for the findings report.

A profile fixes the cover text, the order of the sections and which optional ones appear, the
header and footer text and a logo. It is a JSON document signed by a trusted authority and
imported like checklist templates; it never changes what a portion says or how it is marked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from app.model.errors import IngestError
from app.model.results import INT64_MAX

FORMAT = "frontier-review/report-profile@1"
SECTIONS: dict[str, str] = {
    "summary": "Executive summary",
    "submission": "Submission",
    "findings": "Findings",
    "coverage": "Coverage determination",
    "results": "Benchmark results",
    "benchmark_evidence": "Benchmark evidence",
    "checklist": "Checklist results",
    "integrity": "Integrity",
    "signatures": "Signatures",
}
ANNEXES: dict[str, str] = {"vulnerabilities": "Vulnerabilities", "checklist_appendix": "Full checklist"}
REQUIRED = ("summary", "findings", "integrity", "signatures")  # a report without these is not a report
DEFAULT_ORDER = ("summary", "submission", "findings", "coverage", "results", "benchmark_evidence", "checklist",
                 "integrity", "signatures")
MAX_LOGO = 256 * 1024
MAX_LINE = 200
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_JPEG = b"\xff\xd8\xff"


@dataclass(frozen=True)
class ReportProfile:
    profile_id: str = "default"
    version: int = 1
    name: str = "Default layout"
    cover_text: str = "Findings report of a voluntary pre-release model review"
    sections: tuple[str, ...] = DEFAULT_ORDER
    annexes: tuple[str, ...] = tuple(ANNEXES)
    header_text: str = ""
    footer_text: str = ""
    logo_jpeg: bytes = field(default=b"", repr=False)
    sha256: str = ""  # of the imported document ("" for the built-in default)

    @property
    def label(self) -> str:
        return f"{self.profile_id} v{self.version}"

    def describe(self) -> dict[str, Any]:
        """What the findings JSON records about the layout (not the logo bytes)."""
        return {"id": self.profile_id, "version": self.version, "name": self.name, "sha256": self.sha256,
                "sections": list(self.sections), "annexes": list(self.annexes)}


DEFAULT_PROFILE = ReportProfile()

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker; ValueError when it has none."""
    if not data.startswith(_JPEG):
        raise ValueError("not a JPEG image")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("damaged JPEG marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker in _SOF and pos + 9 <= len(data):
            height = int.from_bytes(data[pos + 5:pos + 7], "big")
            width = int.from_bytes(data[pos + 7:pos + 9], "big")
            if width and height:
                return width, height
            break
        if length < 2:
            break
        pos += 2 + length
    raise ValueError("no image size found in the JPEG")


def _text(doc: dict[str, Any], key: str, source: str, default: str = "", limit: int = MAX_LINE) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        raise IngestError(source, f"'{key}' must be text")
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise IngestError(source, f"'{key}' must be one line of at most {limit} characters")
    if _LONE_SURROGATE.search(value):  # "\ud800" is valid JSON, but no text: storing it raised UnicodeEncodeError
        raise IngestError(source, f"'{key}' holds a lone surrogate escape (\\ud800-\\udfff), which is not text")
    return value.strip()


def _names(doc: dict[str, Any], key: str, allowed: dict[str, str], source: str, default: tuple[str, ...]
           ) -> tuple[str, ...]:
    value = doc.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise IngestError(source, f"'{key}' must be a list of names")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise IngestError(source, f"unknown {key[:-1]} {unknown[0]!r} (known: {', '.join(allowed)})")
    if len(set(value)) != len(value):
        raise IngestError(source, f"'{key}' names a section twice")
    return tuple(value)


def parse(data: bytes, source: str) -> ReportProfile:
    """A profile document -> ReportProfile; every problem names the file and the field."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: bad JSON, or an integer of 5,000 digits
        raise IngestError(source, f"not a JSON report profile ({exc})") from None
    except RecursionError:
        raise IngestError(source, "not a JSON report profile (nested too deeply)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise IngestError(source, f"'format' must be {FORMAT!r}")
    pid = _text(doc, "id", source)
    if not pid or not all(c.isalnum() or c in "-_." for c in pid):
        raise IngestError(source, "'id' must be a non-empty name of letters, digits, '-', '_' or '.'")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= INT64_MAX:
        # beyond 64 bits it reached SQLite, which raised OverflowError
        raise IngestError(source, "'version' must be a positive integer (at most 64 bits)")
    sections = _names(doc, "sections", SECTIONS, source, DEFAULT_ORDER)
    missing = [s for s in REQUIRED if s not in sections]
    if missing:
        raise IngestError(source, f"'sections' must include {', '.join(missing)} (required in every report)")
    if sections.index("signatures") != len(sections) - 1:
        raise IngestError(source, "'signatures' must be the last section (signatures close the report)")
    logo = b""
    if doc.get("logo_jpeg"):
        try:
            logo = base64.b64decode(str(doc["logo_jpeg"]), validate=True)
        except (binascii.Error, ValueError):
            raise IngestError(source, "'logo_jpeg' is not base64") from None
        try:
            jpeg_size(logo)
        except ValueError as exc:
            raise IngestError(source, f"'logo_jpeg' is not a usable JPEG image ({exc})") from None
        if len(logo) > MAX_LOGO:
            raise IngestError(source, f"'logo_jpeg' is larger than {MAX_LOGO // 1024} KB")
    return ReportProfile(
        profile_id=pid, version=version, name=_text(doc, "name", source, pid),
        cover_text=_text(doc, "cover_text", source, DEFAULT_PROFILE.cover_text, 400),
        sections=sections, annexes=_names(doc, "annexes", ANNEXES, source, tuple(ANNEXES)),
        header_text=_text(doc, "header_text", source), footer_text=_text(doc, "footer_text", source),
        logo_jpeg=logo, sha256=hashlib.sha256(data).hexdigest(),
    )


@dataclass(frozen=True)
class StoredProfile:
    pk: int
    profile_id: str
    version: int
    name: str
    sha256: str
    content: bytes
    signature: bytes
    signer: str
    imported_by: str
    imported_at: str
    active: bool
