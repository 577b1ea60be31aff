"""The one policy for untrusted text (files, logs, partners' documents, exception text) shown to a
person or written into a report: plain characters only, nothing that steers a terminal or the
reading direction, bounded length."""

from __future__ import annotations

import re
import unicodedata

# Bidirectional controls (Trojan Source, CVE-2021-42574): shown as a visible tag, never obeyed.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
_BIDI_TAGS = {c: f"⟨U+{ord(c):04X}⟩" for c in BIDI_CONTROLS}
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def untrusted_text(value: object, limit: int | None = None, *, single_line: bool = False) -> str:
    """`value` as safe plain text.

    Terminal escape sequences and control characters are removed (newline and tab kept, or turned
    into spaces with single_line), line endings normalised, bidirectional controls shown as
    ⟨U+202E⟩-style tags, and past `limit` characters the rest is named, not shown.
    """
    s = "" if value is None else value if isinstance(value, str) else str(value)
    # A printable string has nothing to remove or tag (no control: Cc includes ESC, CR, LF and tab;
    # no format character: the bidi controls are Cf; no separator but the space); a table cell's
    # usual text is checked in C instead of the loop (tens of microseconds per cell, per paint).
    if not s.isprintable():
        s = _cleaned(s, single_line)
    if limit is not None and len(s) > limit:
        s = s[:limit] + f"\n[… {len(s) - limit:,} more characters not shown]"
    return s


def _cleaned(s: str, single_line: bool) -> str:
    s = _ANSI.sub("", s.replace("\r\n", "\n").replace("\r", "\n"))
    out = []
    for ch in s:
        if ch in "\n\t\u2028\u2029":
            out.append(" " if single_line else "\n" if ch != "\t" else "\t")
        elif ch in _BIDI_TAGS:
            out.append(_BIDI_TAGS[ch])
        elif unicodedata.category(ch) not in ("Cc", "Cs"):  # controls and lone surrogates
            out.append(ch)
    return "".join(out)
